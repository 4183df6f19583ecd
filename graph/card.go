package graph

import "strings"

// Field is one address-book property with vCard 4.0 semantics. Name is the
// lower-case vCard property name ("email", "tel", "adr"); Value is its text
// value (structured values such as N and ADR keep vCard's ';'-separated
// components); Types holds TYPE parameters ("home", "work", "cell").
type Field struct {
	Name  string   `cbor:"n" json:"name"`
	Value string   `cbor:"v" json:"value"`
	Types []string `cbor:"t,omitempty" json:"types,omitempty"`
}

// Card is a set of fields: a contact's card, or the part of my own profile
// one circle sees. Field order is kept as written.
type Card struct {
	Fields []Field `cbor:"f" json:"fields"`
}

// Values returns the values of every field called name, in order.
func (c Card) Values(name string) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Name == name {
			out = append(out, f.Value)
		}
	}
	return out
}

// First returns the first value of the field called name, or "".
func (c Card) First(name string) string {
	for _, f := range c.Fields {
		if f.Name == name {
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
