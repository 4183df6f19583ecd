package graph

import "strings"

// Field is one address-book property with vCard 4.0 semantics. Name is the
// lower-case vCard property name ("email", "tel", "adr"); Value is its text
// value (structured values such as N and ADR keep vCard's ';'-separated
// components); Types holds TYPE parameters ("home", "work", "cell").
//
// A field read from a vCard keeps what the property had beyond that, so
// that export gives it back: its preference, its group and every other
// parameter. A property without a registry field (X-ABLABEL, KEY, RELATED,
// MEMBER, ...), or whose value fails its field's check, is kept Raw: its
// value as written in vCard text (still escaped), never used as if valid.
type Field struct {
	Name  string   `cbor:"n" json:"name"`
	Value string   `cbor:"v" json:"value"`
	Types []string `cbor:"t,omitempty" json:"types,omitempty"`
	// Pref ranks fields of one name, 1 (most preferred) to 100; 0 is none.
	// vCard 4.0 writes it as PREF=n, 3.0 as TYPE=pref.
	Pref int `cbor:"p,omitempty" json:"pref,omitempty"`
	// Group is the vCard property group ("item1") that ties, say, an
	// X-ABLABEL to the field it labels.
	Group string `cbor:"g,omitempty" json:"group,omitempty"`
	// Params are the other vCard parameters (LABEL, SORT-AS, ALTID,
	// X-SERVICE-TYPE, VALUE, ...) with upper-case names, kept verbatim.
	Params []Param `cbor:"a,omitempty" json:"params,omitempty"`
	// Raw marks a value kept as written (see above); [NormalizeField]
	// checks only its size and characters.
	Raw bool `cbor:"r,omitempty" json:"raw,omitempty"`
	// Invalid says why a field someone else wrote (a friend's card) fails
	// the checks local input passes ([CheckReceived]); such a field is
	// also Raw, so nothing uses it as if valid. It is never stored in an
	// entry: it is worked out whenever the card is read.
	Invalid string `cbor:"-" json:"invalid,omitempty"`
}

// Param is one vCard parameter: an upper-case name and its values.
type Param struct {
	Name   string   `cbor:"n" json:"name"`
	Values []string `cbor:"v" json:"values"`
}

// Param returns the values of the parameter called name (upper-case).
func (f Field) Param(name string) []string {
	for _, p := range f.Params {
		if p.Name == name {
			return p.Values
		}
	}
	return nil
}

// Card is a set of fields: a contact's card, or the part of my own profile
// one circle sees. Field order is kept as written.
type Card struct {
	Fields []Field `cbor:"f" json:"fields"`
}

// Values returns the values of every field called name, in order, but for
// Raw ones: a value kept as written is not known to be valid.
func (c Card) Values(name string) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Name == name && !f.Raw {
			out = append(out, f.Value)
		}
	}
	return out
}

// First returns the first value of the field called name, or "", but for
// Raw ones.
func (c Card) First(name string) string {
	for _, f := range c.Fields {
		if f.Name == name && !f.Raw {
			return f.Value
		}
	}
	return ""
}

// DisplayName is the card's FN, or its N rendered, or its first email.
func (c Card) DisplayName() string {
	if fn := c.First("fn"); fn != "" {
		return fn
	}
	if n := c.First("n"); n != "" {
		parts := strings.Split(n, ";")
		var given, family string
		if len(parts) > 0 {
			family = parts[0]
		}
		if len(parts) > 1 {
			given = parts[1]
		}
		return strings.TrimSpace(given + " " + family)
	}
	return c.First("email")
}

// Set replaces every field called name with one field per value.
func (c *Card) Set(name string, values ...string) {
	out := c.Fields[:0:0]
	inserted := false
	for _, f := range c.Fields {
		if f.Name != name {
			out = append(out, f)
			continue
		}
		if !inserted {
			for _, v := range values {
				out = append(out, Field{Name: name, Value: v})
			}
			inserted = true
		}
	}
	if !inserted {
		for _, v := range values {
			out = append(out, Field{Name: name, Value: v})
		}
	}
	c.Fields = out
}
