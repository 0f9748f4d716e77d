// Package stack is pim6d's boundary with the operating system and its data
// plane: links and addresses, the routing table that holds unicast and
// multicast routes keyed by (destination prefix, source prefix), control-packet
// I/O, and the forwarder. It knows nothing of PIM or MLD rules.
//
// Two implementations of Stack exist: the Linux one (netlink, raw sockets,
// AF_PACKET) and an in-memory one (Mem) whose virtual links connect virtual
// routers and hosts in one process for tests and simulation.
package stack
