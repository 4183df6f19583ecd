package vcard

import (
	"fmt"
	"strings"

	"github.com/kith-p2p/kith/graph"
)

// contentLine is one unfolded property line: group.NAME;params:value.
type contentLine struct {
	no     int    // input line it starts on, from 1
	group  string // as written, "" if none
	name   string // upper-case
	params []param
	value  string // as written, still encoded and escaped
}

// param is one parameter as written: an upper-case name (for vCard 2.1's
// bare parameters, the name they stand for) and its comma-separated values
// without their quotes.
type param struct {
	name   string
	values []string
}

// get returns the first value of the parameter called name, or "".
func (l *contentLine) get(name string) string {
	for _, p := range l.params {
		if p.name == name && len(p.values) > 0 {
			return p.values[0]
		}
	}
	return ""
}

// parseLine splits a content line into its parts. It is liberal: vCard
// 2.1's bare parameters (TEL;WORK;PREF:) become TYPE, ENCODING or CHARSET
// parameters, empty parameters (ADR;HOME;:) are skipped, and quoted
// parameter values may hold ':' and ';'. It reports false for a line that
// is no property at all: no ':' or a name that is not a vCard name.
func parseLine(s string, no int) (contentLine, bool) {
	l, why := parseLineWhy(s, no)
	return l, why == ""
}

// Bounds on one content line, against hostile input: more than any writer
// needs.
const (
	maxLineParams = 64 // parameters on a line
	maxParamVals  = 64 // values of one parameter
)

// parseLineWhy is parseLine that says why a line is no property.
func parseLineWhy(s string, no int) (contentLine, string) {
	l, ok := parseLineBounded(s, no)
	switch {
	case !ok:
		return l, "not a property"
	case len(l.params) > maxLineParams:
		return l, fmt.Sprintf("%d parameters is over the limit of %d", len(l.params), maxLineParams)
	}
	for _, p := range l.params {
		if len(p.values) > maxParamVals {
			return l, fmt.Sprintf("parameter %s: %d values is over the limit of %d", quote(p.name), len(p.values), maxParamVals)
		}
	}
	return l, ""
}

func parseLineBounded(s string, no int) (contentLine, bool) {
	l := contentLine{no: no}
	i := strings.IndexAny(s, ";:")
	if i < 0 {
		return l, false
	}
	name := s[:i]
	if g, n, ok := strings.Cut(name, "."); ok {
		l.group, name = g, n
		if !isName(l.group) {
			return l, false
		}
	}
	if !isPropertyName(name) {
		return l, false
	}
	l.name = strings.ToUpper(name)
	rest := s[i:]
	for strings.HasPrefix(rest, ";") {
		rest = rest[1:]
		end := paramEnd(rest)
		if end < 0 {
			return l, false
		}
		if p, ok := parseParam(rest[:end]); ok {
			if len(l.params) > maxLineParams || len(p.values) > maxParamVals {
				return l, true // parseLineWhy refuses it; stop before holding more
			}
			l.params = append(l.params, p)
		}
		rest = rest[end:]
	}
	if !strings.HasPrefix(rest, ":") {
		return l, false
	}
	l.value = rest[1:]
	return l, true
}

// paramEnd returns where the parameter at the start of s ends: the next ';'
// or ':' outside double quotes, or -1 if there is none.
func paramEnd(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ';', ':':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// encodings are vCard 2.1's values of ENCODING, which 2.1 allows bare.
var encodings = map[string]bool{"QUOTED-PRINTABLE": true, "BASE64": true, "B": true, "8BIT": true, "7BIT": true}

func parseParam(s string) (param, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return param{}, false
	}
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		// vCard 2.1: TEL;WORK;PREF, NOTE;QUOTED-PRINTABLE.
		up := strings.ToUpper(s)
		if encodings[up] {
			return param{name: "ENCODING", values: []string{up}}, true
		}
		return param{name: "TYPE", values: []string{s}}, true
	}
	p := param{name: strings.ToUpper(strings.TrimSpace(name))}
	for _, v := range splitParamValues(value) {
		p.values = append(p.values, unescapeParam(v))
	}
	return p, true
}

// splitParamValues splits at the commas outside double quotes and drops the
// quotes.
func splitParamValues(s string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
}

// unescapeParam undoes RFC 6868's escaping in a parameter value: ^n is a
// newline, ^' a double quote, ^^ a caret. The newline is kept as \n, as in
// a text value, so that the value stays on one line.
func unescapeParam(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	return strings.NewReplacer("^n", `\n`, "^N", `\n`, "^'", "'", "^^", "^").Replace(s)
}

// isName reports whether s is a vCard group or parameter name;
// isPropertyName, a property name (graph.ValidName says which).
func isName(s string) bool { return graph.ValidName(s, false) }

func isPropertyName(s string) bool { return graph.ValidName(s, true) }
