// Package wire is the PIMv2 codec for IPv6 (RFC 7761 §4.9, RFC 5059 §4): the
// message structs, Parse for what we receive and Marshal for what we send, with
// checksums over the IPv6 pseudo-header.
package wire
