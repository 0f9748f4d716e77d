// Package config reads, checks and compares pim6d's configuration.
//
// pim6d runs without a file on the embedded default (Default): every up,
// multicast-capable, non-loopback interface runs an MLD querier (MLDv2 with
// MLDv1 compatibility) and PIM, the SSM range is ff3x::/32, and every timer has
// its RFC default. A YAML file (Load, Parse) overrides any of it; flags and
// environment variables override the log level and control socket (Settings,
// through viper). configs/pim6d.yaml is a commented example.
//
// # Schema
//
//	log_level: info                  # debug | info | warn | error
//	control_socket: /run/pim6d/pim6d.sock
//	ssm_range: [ff3x::/32]           # group prefixes; "x" in the first group
//	                                 # stands for each hex digit: 16 prefixes
//	all_interfaces: true             # false: only the interfaces listed below
//	interfaces:                      # per-interface settings (by name)
//	  - name: eth0
//	    enable: true
//	    mld:                         # RFC 3810 §9 defaults
//	      version: any               # 1 | 2 | any (v2 with v1 compatibility)
//	      robustness: 2
//	      query_interval: 125s
//	      query_response_interval: 10s
//	      last_listener_query_interval: 1s
//	      max_groups: 0              # 0: no limit
//	      max_sources: 0             # per group; 0: no limit
//	    pim:                         # RFC 7761 §4.11 defaults
//	      enable: true
//	      dr_priority: 1
//	      hello_period: 30s
//	      propagation_delay: 500ms
//	      override_interval: 2500ms
//	pim:
//	  join_prune_period: 60s
//	  keepalive: 210s
//	static_rp:
//	  - address: 2001:db8::1
//	    groups: [ff0e::/16]          # default ff00::/8
//
// Durations take a unit (125s, 500ms, 2m). Values are range-checked against
// what the protocol fields can carry (for example query_interval up to 31744s,
// the largest QQIC, and query_response_interval below query_interval, RFC 3810
// §9.3).
//
// # Errors
//
// Every problem in a file is reported, each as an *Error naming the file, line,
// key and value: an unknown key, a bad address or prefix, a bad duration or
// number, an interface the system does not have (Load takes the system's link
// names so this is testable), a setting out of range.
//
//	pim6d.yaml:7: interfaces[eth9].name: "eth9": no such interface on this system (have eth0, lo)
//
// # Reload
//
// Diff lists what changed between two configurations, for the log on SIGHUP.
// Interface applies the configuration to one link as the system reports it.
package config
