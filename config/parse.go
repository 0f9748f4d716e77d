package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a configuration file: where it is, which key, which
// value, and what is wrong.
type Error struct {
	File   string
	Line   int
	Column int
	Key    string // dotted path: interfaces[eth0].mld.query_interval
	Value  string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("config")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Load reads the configuration file at path and checks it against links, the
// names of the system's interfaces (nil: do not check names). An empty path
// returns Default(). Every problem found is reported (errors.Join of *Error).
func Load(path string, links []string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, links)
}

// Parse decodes a YAML configuration; name is the file name used in errors.
func Parse(name string, data []byte, links []string) (*Config, error) {
	p := &parser{file: name, cfg: Default()}
	p.cfg.Source = name
	if links != nil {
		p.links = map[string]bool{}
		for _, l := range links {
			p.links[l] = true
		}
		p.linkNames = slices.Sorted(slices.Values(links))
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return p.cfg, nil // an empty file is the default configuration
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if len(doc.Content) == 1 {
		p.top(doc.Content[0])
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b error) int { return a.(*Error).Line - b.(*Error).Line })
		return nil, errors.Join(p.errs...)
	}
	return p.cfg, nil
}

type parser struct {
	file      string
	links     map[string]bool // nil: names are not checked
	linkNames []string
	cfg       *Config
	errs      []error
}

func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) {
	e := &Error{File: p.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
		e.Value = valueText(n)
	}
	p.errs = append(p.errs, e)
}

// valueText is the value as the user wrote it, for error messages.
func valueText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.MappingNode:
		return "(a mapping)"
	case yaml.SequenceNode:
		return "(a list)"
	case yaml.AliasNode:
		return "*" + n.Value
	}
	return ""
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// fields walks a mapping, calling the handler of each known key; unknown and
// repeated keys are errors.
func (p *parser) fields(n *yaml.Node, path string, handlers map[string]func(key string, v *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of keys to values")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if path != "" {
			key = path + "." + k.Value
		}
		h, ok := handlers[k.Value]
		if !ok {
			known := slices.Sorted(maps.Keys(handlers))
			p.errorf(k, key, "unknown key (known here: %s)", strings.Join(known, ", "))
			continue
		}
		if seen[k.Value] {
			p.errorf(k, key, "key given twice")
			continue
		}
		seen[k.Value] = true
		h(key, v)
	}
}

// list walks a sequence (null is an empty list).
func (p *parser) list(n *yaml.Node, key string, each func(i int, v *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, key, "want a list")
		return
	}
	for i, v := range n.Content {
		each(i, v)
	}
}

func (p *parser) scalar(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, key, "want a value")
		return "", false
	}
	return n.Value, true
}

func (p *parser) str(dst *string) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		if s, ok := p.scalar(n, key); ok {
			if s == "" {
				p.errorf(n, key, "must not be empty")
				return
			}
			*dst = s
		}
	}
}

func (p *parser) boolean(dst *bool) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		switch strings.ToLower(s) {
		case "true", "yes", "on":
			*dst = true
		case "false", "no", "off":
			*dst = false
		default:
			p.errorf(n, key, "want true or false")
		}
	}
}

func (p *parser) integer(dst *int, lo, hi int) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			p.errorf(n, key, "want a whole number")
			return
		}
		if v < lo || v > hi {
			p.errorf(n, key, "out of range [%d, %d]", lo, hi)
			return
		}
		*dst = v
	}
}

func (p *parser) uint32(dst *uint32) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v := int(*dst)
		p.integer(&v, 0, math.MaxUint32)(key, n)
		*dst = uint32(v)
	}
}

func (p *parser) duration(dst *time.Duration, lo, hi time.Duration) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			if _, nerr := strconv.ParseFloat(s, 64); nerr == nil && s != "0" {
				p.errorf(n, key, "a duration needs a unit (like 125s or 500ms)")
			} else {
				p.errorf(n, key, "want a duration (like 125s or 500ms)")
			}
			return
		}
		if d < lo || d > hi {
			p.errorf(n, key, "out of range [%v, %v]", lo, hi)
			return
		}
		*dst = d
	}
}

// prefixes parses a list of group prefixes (a single string is a list of one).
// A prefix with one "x" in its first group stands for the 16 prefixes with
// each hex digit in its place: "ff3x::/32" is ff30::/32 … ff3f::/32.
func (p *parser) groupPrefixes(dst *[]netip.Prefix) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		var out []netip.Prefix
		one := func(key string, v *yaml.Node) {
			s, ok := p.scalar(v, key)
			if !ok {
				return
			}
			ps, err := expandPrefix(s)
			if err != nil {
				p.errorf(v, key, "%v", err)
				return
			}
			out = append(out, ps...)
		}
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			one(key, n)
		} else {
			p.list(n, key, func(i int, v *yaml.Node) { one(fmt.Sprintf("%s[%d]", key, i), v) })
		}
		*dst = out
	}
}

func expandPrefix(s string) ([]netip.Prefix, error) {
	head, _, _ := strings.Cut(strings.ToLower(s), ":")
	if strings.Count(head, "x") == 1 {
		var out []netip.Prefix
		for d := range 16 {
			ps, err := expandPrefix(strings.Replace(strings.ToLower(s), "x", strconv.FormatInt(int64(d), 16), 1))
			if err != nil {
				return nil, err
			}
			out = append(out, ps...)
		}
		return out, nil
	}
	pr, err := netip.ParsePrefix(s)
	if err != nil {
		return nil, fmt.Errorf("want an IPv6 prefix like ff3e::/32")
	}
	if !pr.Addr().Is6() || pr.Addr().Is4In6() || !pr.Addr().IsMulticast() {
		return nil, fmt.Errorf("not an IPv6 multicast prefix (ff00::/8)")
	}
	if pr.Masked() != pr {
		return nil, fmt.Errorf("host bits set (did you mean %v?)", pr.Masked())
	}
	return []netip.Prefix{pr}, nil
}

func (p *parser) top(n *yaml.Node) {
	c := p.cfg
	p.fields(n, "", map[string]func(string, *yaml.Node){
		"log_level":      p.logLevel(&c.LogLevel),
		"control_socket": p.str(&c.ControlSocket),
		"ssm_range":      p.groupPrefixes(&c.SSMRange),
		"all_interfaces": p.boolean(&c.AllInterfaces),
		"interfaces": func(key string, v *yaml.Node) {
			names := map[string]bool{}
			p.list(v, key, func(i int, v *yaml.Node) {
				ifc, ok := p.iface(fmt.Sprintf("%s[%d]", key, i), v)
				if !ok {
					return
				}
				if names[ifc.Name] {
					p.errorf(v, fmt.Sprintf("%s[%d].name", key, i), "interface %s listed twice", ifc.Name)
					return
				}
				names[ifc.Name] = true
				c.Interfaces = append(c.Interfaces, ifc)
			})
		},
		"pim": func(key string, v *yaml.Node) {
			p.fields(v, key, map[string]func(string, *yaml.Node){
				// RFC 7761 §4.5: J/P Holdtime = 3.5 × t_periodic must fit 16 bits of seconds.
				"join_prune_period": p.duration(&c.PIM.JoinPrunePeriod, time.Second, 18724*time.Second),
				"keepalive":         p.duration(&c.PIM.Keepalive, time.Second, 65535*time.Second),
			})
		},
		"static_rp": func(key string, v *yaml.Node) {
			p.list(v, key, func(i int, v *yaml.Node) {
				if rp, ok := p.staticRP(fmt.Sprintf("%s[%d]", key, i), v); ok {
					c.StaticRP = append(c.StaticRP, rp)
				}
			})
		},
	})
}

// LevelNames are the accepted log levels.
var LevelNames = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// ParseLevel parses a log level name (debug, info, warn, error).
func ParseLevel(s string) (slog.Level, error) {
	if l, ok := LevelNames[strings.ToLower(s)]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

func (p *parser) logLevel(dst *slog.Level) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		l, err := ParseLevel(s)
		if err != nil {
			p.errorf(n, key, "want debug, info, warn or error")
			return
		}
		*dst = l
	}
}

// nameOf finds the "name" value of an interface mapping before walking it, so
// every error in the entry can say which interface it is about.
func nameOf(n *yaml.Node) (string, *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return "", nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value, n.Content[i+1]
		}
	}
	return "", nil
}

func (p *parser) iface(path string, n *yaml.Node) (Interface, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping with at least a name")
		return Interface{}, false
	}
	nerr := len(p.errs)
	name, nameNode := nameOf(n)
	if name != "" {
		path = strings.TrimSuffix(path, "]")
		path = path[:strings.LastIndex(path, "[")] + "[" + name + "]"
	}
	ifc := DefaultInterface(name)
	var qri *yaml.Node
	p.fields(n, path, map[string]func(string, *yaml.Node){
		"name":   func(string, *yaml.Node) {},
		"enable": p.boolean(&ifc.Enable),
		"mld": func(key string, v *yaml.Node) {
			m := &ifc.MLD
			p.fields(v, key, map[string]func(string, *yaml.Node){
				"version":    p.mldVersion(&m.Version),
				"robustness": p.integer(&m.Robustness, 1, 255), // RFC 3810 §9.1: MUST NOT be zero
				// RFC 3810 §5.1.9: QQIC encodes up to 31744 s.
				"query_interval": p.duration(&m.QueryInterval, time.Second, 31744*time.Second),
				// RFC 3810 §5.1.3: Maximum Response Code encodes up to 8387584 ms.
				"query_response_interval": func(key string, v *yaml.Node) {
					qri = v
					p.duration(&m.QueryResponseInterval, time.Millisecond, 8387584*time.Millisecond)(key, v)
				},
				"last_listener_query_interval": p.duration(&m.LastListenerQueryInterval, time.Millisecond, 8387584*time.Millisecond),
				"max_groups":                   p.integer(&m.MaxGroups, 0, 1<<24),
				"max_sources":                  p.integer(&m.MaxSources, 0, 1<<24),
			})
		},
		"pim": func(key string, v *yaml.Node) {
			q := &ifc.PIM
			p.fields(v, key, map[string]func(string, *yaml.Node){
				"enable":      p.boolean(&q.Enable),
				"dr_priority": p.uint32(&q.DRPriority),
				// RFC 7761 §4.11: Hello Holdtime = 3.5 × Hello_Period must fit 16 bits of seconds.
				"hello_period": p.duration(&q.HelloPeriod, time.Second, 18724*time.Second),
				// RFC 7761 §4.9.2: LAN Prune Delay carries 15 bits and 16 bits of milliseconds.
				"propagation_delay": p.duration(&q.PropagationDelay, 0, 32767*time.Millisecond),
				"override_interval": p.duration(&q.OverrideInterval, 0, 65535*time.Millisecond),
			})
		},
	})
	switch {
	case nameNode == nil:
		p.errorf(n, path+".name", "every interface needs a name")
	case nameNode != nil && name == "":
		p.errorf(nameNode, path+".name", "must not be empty")
	case nameNode != nil && len(name) > 15:
		p.errorf(nameNode, path+".name", "longer than an interface name can be (15)")
	case nameNode != nil && p.links != nil && !p.links[name]:
		p.errorf(nameNode, path+".name", "no such interface on this system (have %s)", strings.Join(p.linkNames, ", "))
	}
	m := ifc.MLD
	if qri != nil && m.QueryResponseInterval >= m.QueryInterval {
		// RFC 3810 §9.3: the Query Response Interval must be less than the Query Interval.
		p.errorf(qri, path+".mld.query_response_interval", "must be less than query_interval (%v)", m.QueryInterval)
	}
	if qri != nil && m.Version == MLDv1 && m.QueryResponseInterval > 65535*time.Millisecond {
		// RFC 2710 §3.4: MLDv1's Maximum Response Delay is 16 bits of milliseconds.
		p.errorf(qri, path+".mld.query_response_interval", "MLDv1 allows at most 65.535s")
	}
	return ifc, len(p.errs) == nerr
}

func (p *parser) mldVersion(dst *MLDVersion) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		switch strings.ToLower(s) {
		case "1":
			*dst = MLDv1
		case "2":
			*dst = MLDv2
		case "any":
			*dst = MLDAny
		default:
			p.errorf(n, key, "want 1, 2 or any")
		}
	}
}

func (p *parser) staticRP(path string, n *yaml.Node) (StaticRP, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping with at least an address")
		return StaticRP{}, false
	}
	nerr := len(p.errs)
	rp := StaticRP{Groups: []netip.Prefix{netip.MustParsePrefix("ff00::/8")}}
	var addrNode *yaml.Node
	p.fields(n, path, map[string]func(string, *yaml.Node){
		"address": func(key string, v *yaml.Node) {
			addrNode = v
			s, ok := p.scalar(v, key)
			if !ok {
				return
			}
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
				p.errorf(v, key, "want an IPv6 address")
				return
			}
			if !a.IsGlobalUnicast() {
				p.errorf(v, key, "an RP address must be a global unicast address")
				return
			}
			rp.Address = a
		},
		"groups": p.groupPrefixes(&rp.Groups),
	})
	if addrNode == nil {
		p.errorf(n, path+".address", "every static RP needs an address")
	}
	return rp, len(p.errs) == nerr
}
