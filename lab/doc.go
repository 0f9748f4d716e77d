// Package lab builds small IPv6 networks out of Linux network namespaces for
// end-to-end tests and demos: nodes (one namespace each), point-to-point veth
// links, and shared LAN segments (a bridge in a hidden "switch" namespace), with
// addresses, static routes and sysctls. Processes started in a node are killed
// and reaped when the lab is torn down.
//
// # Use in tests
//
//	l := lab.New(t) // skips unless root with iproute2; torn down by t.Cleanup
//	a, r, b := l.Node("a"), l.Node("r"), l.Node("b")
//	r.Sysctl("net.ipv6.conf.all.forwarding", "1")
//	l.Link(a, "eth0", r, "eth0")
//	l.Link(r, "eth1", b, "eth0")
//	a.Addr("eth0", "2001:db8:1::2/64")
//	...
//	p := r.Start("pim6d", "--log-level", "debug")
//	...
//	p.Stop()
//
// A topology can also be described in YAML (configs/labs/*.yaml) and built with
// Load and (*Lab).Build.
//
// # Names and cleanup
//
// Namespace names are "p6-" + the creating process's pid + a per-process lab
// sequence + "-" + the node name, so labs in parallel tests and parallel test
// binaries never collide. Teardown stops every process (SIGTERM, then SIGKILL)
// and deletes every namespace, also when a test fails; SIGINT or SIGTERM to the
// process tears every open lab down before the signal takes its usual effect.
// Sweep (called by New and Open) deletes namespaces left by dead processes, for
// example after a test binary was killed by a timeout.
//
// Duplicate address detection is disabled in every namespace, so addresses are
// usable as soon as they are added.
package lab
