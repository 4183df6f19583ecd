package vcard

import (
	"testing"

	"github.com/kith-p2p/kith/graph"
)

// TestPropertiesCoverRegistry keeps the vCard mapping in step with the
// graph field registry: a field without a property could not be exported.
func TestPropertiesCoverRegistry(t *testing.T) {
	names := graph.FieldNames()
	for _, name := range names {
		if _, ok := byField[name]; !ok {
			t.Errorf("graph field %q has no vCard property", name)
		}
	}
	for _, p := range properties {
		if _, ok := graph.LookupField(p.field); !ok {
			t.Errorf("vCard property %s maps to %q, which is not a graph field", p.name, p.field)
		}
		if byName[p.name] != p {
			t.Errorf("vCard property %s is listed twice", p.name)
		}
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct{ raw, text, uri string }{
		{`plain`, "plain", "plain"},
		{`a\,b\;c\:d\\e`, `a,b;c:d\e`, `a,b;c:d\e`},
		{`line\nbreak\N`, "line\nbreak\n", `line\nbreak\N`},
		{`keep \x and trailing \`, `keep \x and trailing \`, `keep \x and trailing \`},
	}
	for _, tc := range tests {
		if got := unescapeText(tc.raw); got != tc.text {
			t.Errorf("unescapeText(%q) = %q, want %q", tc.raw, got, tc.text)
		}
		if got := unescapeURI(tc.raw); got != tc.uri {
			t.Errorf("unescapeURI(%q) = %q, want %q", tc.raw, got, tc.uri)
		}
		if got := unescapeText(escapeText(tc.text)); got != tc.text {
			t.Errorf("unescapeText(escapeText(%q)) = %q", tc.text, got)
		}
	}
	for raw, want := range map[string][]string{
		"":          {""},
		"a;b":       {"a", "b"},
		`a\;b;c`:    {`a\;b`, "c"},
		`a\\;b`:     {`a\\`, "b"},
		";;x;":      {"", "", "x", ""},
		`trailing\`: {`trailing\`},
	} {
		got := splitStructured(raw)
		if len(got) != len(want) {
			t.Errorf("splitStructured(%q) = %q, want %q", raw, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("splitStructured(%q) = %q, want %q", raw, got, want)
			}
		}
	}
}
