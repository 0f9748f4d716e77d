// Package api is pim6d's control interface: the snapshot schema that pim6stat,
// the web UI and scripts read, and the unix-socket protocol that carries it.
//
// # Snapshot
//
// A Snapshot is a consistent copy of the daemon's state, taken inside its event
// loop: interfaces (mifs), PIM neighbours, MLD queriers, MLD groups, routing
// entries, the RP-set, the BSR and the pending timers. Its JSON encoding is a
// documented, stable interface (docs/pim6stat-json.md): snake_case keys,
// addresses as strings, durations in seconds (JSON numbers, millisecond
// precision). A change that renames or removes a key is a new protocol Version.
//
// # Protocol
//
// The daemon listens on a unix stream socket (default DefaultSocketPath, mode
// 0600). A client writes one request per line, as JSON:
//
//	{"version":1,"op":"snapshot","sections":["routes","groups"]}
//
// and reads one response per line:
//
//	{"version":1,"ok":true,"snapshot":{...}}
//	{"version":1,"ok":false,"error":{"code":"bad_request","message":"..."}}
//
// Several requests may follow each other on one connection. Ops: "hello"
// (version check, answers the daemon's name) and "snapshot" (sections empty
// means all of them).
//
// # Server and client
//
// Listen claims the socket (replacing a stale one left by a crashed daemon,
// refusing a live one) and Server.Serve answers requests with snapshots from a
// Provider; Serve does both. Dial connects and checks the protocol version;
// its errors wrap ErrNotRunning, ErrPermission or ErrVersionMismatch so a CLI
// can tell the operator what is wrong.
package api
