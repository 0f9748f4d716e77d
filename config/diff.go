package config

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Flatten returns the configuration as key = value pairs, keys in the file's
// dotted form with interfaces by name (interfaces[eth0].mld.robustness).
func (c *Config) Flatten() map[string]string {
	m := map[string]string{
		"log_level":             strings.ToLower(c.LogLevel.String()),
		"control_socket":        c.ControlSocket,
		"ssm_range":             prefixList(c.SSMRange),
		"all_interfaces":        fmt.Sprint(c.AllInterfaces),
		"pim.join_prune_period": c.PIM.JoinPrunePeriod.String(),
		"pim.keepalive":         c.PIM.Keepalive.String(),
	}
	for _, ifc := range c.Interfaces {
		k := "interfaces[" + ifc.Name + "]."
		m[k+"enable"] = fmt.Sprint(ifc.Enable)
		m[k+"mld.version"] = ifc.MLD.Version.String()
		m[k+"mld.robustness"] = fmt.Sprint(ifc.MLD.Robustness)
		m[k+"mld.query_interval"] = ifc.MLD.QueryInterval.String()
		m[k+"mld.query_response_interval"] = ifc.MLD.QueryResponseInterval.String()
		m[k+"mld.last_listener_query_interval"] = ifc.MLD.LastListenerQueryInterval.String()
		m[k+"mld.max_groups"] = fmt.Sprint(ifc.MLD.MaxGroups)
		m[k+"mld.max_sources"] = fmt.Sprint(ifc.MLD.MaxSources)
		m[k+"pim.enable"] = fmt.Sprint(ifc.PIM.Enable)
		m[k+"pim.dr_priority"] = fmt.Sprint(ifc.PIM.DRPriority)
		m[k+"pim.hello_period"] = ifc.PIM.HelloPeriod.String()
		m[k+"pim.propagation_delay"] = ifc.PIM.PropagationDelay.String()
		m[k+"pim.override_interval"] = ifc.PIM.OverrideInterval.String()
	}
	for _, rp := range c.StaticRP {
		m["static_rp["+rp.Address.String()+"].groups"] = prefixList(rp.Groups)
	}
	return m
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Change is one setting that differs between two configurations. Old or New is
// empty when the key exists on one side only (an interface added or removed).
type Change struct {
	Key, Old, New string
}

func (ch Change) String() string {
	switch {
	case ch.Old == "":
		return fmt.Sprintf("%s: added %s", ch.Key, ch.New)
	case ch.New == "":
		return fmt.Sprintf("%s: removed (was %s)", ch.Key, ch.Old)
	}
	return fmt.Sprintf("%s: %s -> %s", ch.Key, ch.Old, ch.New)
}

// Diff lists the settings that differ from old to c, sorted by key.
func (c *Config) Diff(old *Config) []Change {
	a, b := old.Flatten(), c.Flatten()
	union := maps.Clone(a)
	maps.Copy(union, b)
	var out []Change
	for _, k := range slices.Sorted(maps.Keys(union)) {
		if a[k] != b[k] {
			out = append(out, Change{Key: k, Old: a[k], New: b[k]})
		}
	}
	return out
}
