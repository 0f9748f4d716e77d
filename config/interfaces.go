package config

import "github.com/pim6d/pim6d/stack"

// Interface returns the settings pim6d uses on link and whether pim6d runs
// there now. A listed interface gets its listed settings and runs while it is
// up, unless enable: false; an unlisted one gets the defaults and runs when
// AllInterfaces is set and the link is up, multicast-capable and not loopback.
// The router asks again when a link changes.
func (c *Config) Interface(link stack.Link) (Interface, bool) {
	for _, ifc := range c.Interfaces {
		if ifc.Name == link.Name {
			return ifc, ifc.Enable && link.Up && !link.Loopback
		}
	}
	ifc := DefaultInterface(link.Name)
	return ifc, c.AllInterfaces && link.Up && link.Multicast && !link.Loopback
}

// Enabled returns the settings of every link pim6d runs on, in the order given.
func (c *Config) Enabled(links []stack.Link) []Interface {
	var out []Interface
	for _, l := range links {
		if ifc, ok := c.Interface(l); ok {
			out = append(out, ifc)
		}
	}
	return out
}
