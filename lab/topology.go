package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Desc describes a lab topology; configs/labs/*.yaml hold it in YAML:
//
//	nodes:
//	  - name: r1
//	    forwarding: true
//	    sysctls: {net.ipv6.conf.all.mc_forwarding: "0"}
//	    addresses: [{if: eth0, addr: 2001:db8:1::1/64}]
//	    routes: ["2001:db8:3::/64 via 2001:db8:2::2"]
//	links:
//	  - {a: src:eth0, b: r1:eth0}
//	lans:
//	  - {name: lan1, members: [r2:eth1, rcv1:eth0, rcv2:eth0]}
type Desc struct {
	Nodes []NodeDesc `yaml:"nodes"`
	Links []LinkDesc `yaml:"links"`
	LANs  []LANDesc  `yaml:"lans"`
}

// NodeDesc is one node: a host or (with forwarding) a router.
type NodeDesc struct {
	Name       string            `yaml:"name"`
	Forwarding bool              `yaml:"forwarding"` // net.ipv6.conf.all.forwarding=1
	Sysctls    map[string]string `yaml:"sysctls"`
	Addresses  []AddrDesc        `yaml:"addresses"`
	// Routes are argument strings for "ip -6 route add", e.g. "default via 2001:db8:1::1".
	Routes []string `yaml:"routes"`
}

// AddrDesc is an address on one of a node's interfaces.
type AddrDesc struct {
	If   string `yaml:"if"`
	Addr string `yaml:"addr"` // with prefix length
}

// LinkDesc is a point-to-point link between two "node:interface" ends.
type LinkDesc struct {
	A string `yaml:"a"`
	B string `yaml:"b"`
}

// LANDesc is a shared segment with "node:interface" members.
type LANDesc struct {
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"`
}

// Load reads a topology description from a YAML file. Unknown keys are errors.
func Load(path string) (*Desc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse decodes and checks a topology description.
func Parse(data []byte) (*Desc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var d Desc
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Check verifies that names are unique, ends name known nodes, and addresses parse.
func (d *Desc) Check() error {
	nodes := map[string]bool{}
	var errs []error
	for _, n := range d.Nodes {
		if n.Name == "" {
			errs = append(errs, errors.New("node without a name"))
		}
		if nodes[n.Name] {
			errs = append(errs, fmt.Errorf("node %q defined twice", n.Name))
		}
		nodes[n.Name] = true
		for _, a := range n.Addresses {
			if _, err := netip.ParsePrefix(a.Addr); err != nil {
				errs = append(errs, fmt.Errorf("node %s: address %q: %v", n.Name, a.Addr, err))
			}
			if a.If == "" {
				errs = append(errs, fmt.Errorf("node %s: address %q without an interface", n.Name, a.Addr))
			}
		}
	}
	end := func(where, s string) {
		node, ifname, ok := splitEnd(s)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: end %q is not node:interface", where, s))
		case !nodes[node]:
			errs = append(errs, fmt.Errorf("%s: end %q: no node %q", where, s, node))
		case len(ifname) > 15:
			errs = append(errs, fmt.Errorf("%s: end %q: interface name longer than 15 characters", where, s))
		}
	}
	for i, l := range d.Links {
		end(fmt.Sprintf("link %d", i+1), l.A)
		end(fmt.Sprintf("link %d", i+1), l.B)
	}
	lans := map[string]bool{}
	for _, l := range d.LANs {
		if l.Name == "" || lans[l.Name] {
			errs = append(errs, fmt.Errorf("LAN name %q empty or used twice", l.Name))
		}
		lans[l.Name] = true
		for _, m := range l.Members {
			end("LAN "+l.Name, m)
		}
	}
	return errors.Join(errs...)
}

func splitEnd(s string) (node, ifname string, ok bool) {
	node, ifname, ok = strings.Cut(s, ":")
	return node, ifname, ok && node != "" && ifname != ""
}

// Build creates the topology in the lab: nodes and their sysctls, links, LANs,
// addresses, then routes. It returns the lab's first error (labs from Open);
// labs from New fail the test instead.
func (l *Lab) Build(d *Desc) error {
	if l.tb != nil {
		l.tb.Helper()
	}
	if err := d.Check(); err != nil {
		l.fail(err)
		return err
	}
	for _, nd := range d.Nodes {
		n := l.Node(nd.Name)
		if nd.Forwarding {
			n.Sysctl("net.ipv6.conf.all.forwarding", "1")
		}
		for k, v := range nd.Sysctls {
			n.Sysctl(k, v)
		}
	}
	end := func(s string) End {
		node, ifname, _ := splitEnd(s)
		return End{Node: l.Node(node), IfName: ifname}
	}
	for _, ld := range d.Links {
		a, b := end(ld.A), end(ld.B)
		l.Link(a.Node, a.IfName, b.Node, b.IfName)
	}
	for _, ld := range d.LANs {
		var ends []End
		for _, m := range ld.Members {
			ends = append(ends, end(m))
		}
		l.LAN(ld.Name, ends...)
	}
	for _, nd := range d.Nodes {
		for _, a := range nd.Addresses {
			l.Node(nd.Name).Addr(a.If, a.Addr)
		}
	}
	for _, nd := range d.Nodes {
		for _, r := range nd.Routes {
			l.Node(nd.Name).Route(strings.Fields(r)...)
		}
	}
	return l.Err()
}
