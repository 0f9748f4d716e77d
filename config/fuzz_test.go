package config

import (
	"errors"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every error it
// reports is an *Error, and that an accepted configuration keeps its
// invariants.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"log_level: debug\n",
		"ssm_range: [ff3x::/32, ff0e::/16]\n",
		"interfaces:\n  - name: eth0\n    mld: {version: 1, query_interval: 60s, query_response_interval: 5s}\n    pim: {dr_priority: 9}\n",
		"static_rp:\n  - address: 2001:db8::1\n    groups: [ff0e::/16]\n",
		"pim: {join_prune_period: 60s, keepalive: 210s}\n",
		"interfaces: [{name: eth0}, {name: eth0}]\n",
		"a: &x [1]\nb: *x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, []string{"eth0", "lo"})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error %v (%T) holds no *Error", err, err)
			}
			return
		}
		for _, p := range cfg.SSMRange {
			if !p.Addr().IsMulticast() || p.Masked() != p {
				t.Fatalf("accepted SSM prefix %v is not a masked multicast prefix", p)
			}
		}
		for _, ifc := range cfg.Interfaces {
			if ifc.Name != "eth0" && ifc.Name != "lo" {
				t.Fatalf("accepted interface %q not on the system", ifc.Name)
			}
			if ifc.MLD.QueryResponseInterval >= ifc.MLD.QueryInterval {
				t.Fatalf("accepted query_response_interval %v >= query_interval %v", ifc.MLD.QueryResponseInterval, ifc.MLD.QueryInterval)
			}
		}
		cfg.Flatten()
	})
}
