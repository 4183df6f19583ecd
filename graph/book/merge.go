package book

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kith-p2p/kith/graph"
)

// valueKey returns a field's value as compared when merging: an email
// case-insensitively, a phone by its digits, other text case- and
// whitespace-insensitively; a raw field exactly.
func valueKey(f graph.Field) string {
	if f.Raw {
		return f.Name + "\x00raw\x00" + f.Value
	}
	switch f.Name {
	case "email":
		return f.Name + "\x00" + EmailKey(f.Value)
	case "tel":
		return f.Name + "\x00" + Digits(f.Value)
	}
	return f.Name + "\x00" + strings.Join(strings.Fields(strings.ToLower(f.Value)), " ")
}

func single(f graph.Field) bool {
	if f.Raw {
		return false
	}
	spec, ok := graph.LookupField(f.Name)
	return ok && !spec.Multi
}

func indexOf(fields []graph.Field, f graph.Field) int {
	k := valueKey(f)
	return slices.IndexFunc(fields, func(g graph.Field) bool { return valueKey(g) == k })
}

func hasName(fields []graph.Field, name string) bool {
	return slices.ContainsFunc(fields, func(g graph.Field) bool { return g.Name == name && !g.Raw })
}

// Merge returns a's fields followed by b's, every value once: a field of b
// with the same name and value as one of a's (see [valueKey]) only adds
// its types to that field. A single-valued field a already has keeps a's
// value; b's is returned in dropped, except b's full name, which becomes a
// nickname. b's UID is dropped silently: the merged contact is a.
func Merge(a, b graph.Card) (merged graph.Card, dropped []graph.Field) {
	out := make([]graph.Field, 0, len(a.Fields)+len(b.Fields))
	for _, f := range a.Fields {
		f.Types = slices.Clone(f.Types)
		out = append(out, f)
	}
	for _, f := range b.Fields {
		if f.Name == UIDField {
			continue
		}
		if i := indexOf(out, f); i >= 0 {
			g := &out[i]
			for _, t := range f.Types {
				if !slices.Contains(g.Types, t) {
					g.Types = append(g.Types, t)
				}
			}
			if f.Pref != 0 && (g.Pref == 0 || f.Pref < g.Pref) {
				g.Pref = f.Pref
			}
			continue
		}
		if single(f) && hasName(out, f.Name) {
			if f.Name != "fn" {
				dropped = append(dropped, f)
				continue
			}
			f = graph.Field{Name: "nickname", Value: f.Value}
			if indexOf(out, f) >= 0 {
				continue
			}
		}
		out = append(out, f)
	}
	return graph.Card{Fields: out}, dropped
}

// Subtract returns the fields of c that shared does not have (by name and
// value, see [valueKey]): what I wrote about a connection beyond what they
// share.
func Subtract(c, shared graph.Card) graph.Card {
	out := graph.Card{Fields: []graph.Field{}}
	for _, f := range c.Fields {
		if indexOf(shared.Fields, f) < 0 {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

// Combine returns a linked contact's card: my notes on them, then what
// they share. A single-valued field in my notes (the name I know them by)
// hides theirs, and a value in both is shown once, so the result is a
// valid card whenever its parts are.
func Combine(shared, notes graph.Card) graph.Card {
	out := graph.Card{Fields: make([]graph.Field, 0, len(shared.Fields)+len(notes.Fields))}
	for _, part := range []graph.Card{notes, shared} {
		for _, f := range part.Fields {
			if f.Name == UIDField || indexOf(out.Fields, f) >= 0 || single(f) && hasName(out.Fields, f.Name) {
				continue
			}
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

// fieldKey is a field in full, as compared by [Same].
func fieldKey(f graph.Field) string {
	types := slices.Clone(f.Types)
	slices.Sort(types)
	var b strings.Builder
	b.WriteString(f.Name + "\x00" + f.Value + "\x00" + strings.Join(types, ",") + "\x00" + f.Group)
	if f.Pref != 0 {
		b.WriteString("\x00pref=" + strconv.Itoa(f.Pref))
	}
	if f.Raw {
		b.WriteString("\x00raw")
	}
	for _, p := range f.Params {
		b.WriteString("\x00" + p.Name + "=" + strings.Join(p.Values, ","))
	}
	return b.String()
}

// Same reports whether two normalised cards hold the same fields, in any
// order, their UIDs aside: re-importing an unchanged card changes nothing.
func Same(a, b graph.Card) bool {
	ka, kb := cardKeys(a), cardKeys(b)
	return slices.Equal(ka, kb)
}

func cardKeys(c graph.Card) []string {
	out := make([]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		if f.Name != UIDField {
			out = append(out, fieldKey(f))
		}
	}
	slices.Sort(out)
	return out
}

// DropExportedFN returns imported without its fn when stored has none and
// that fn is one an export would have made up for it (vCard 4.0 requires an
// FN: the encoder writes the card's name, n, org or phone), so that
// re-importing a card exported without a name changes nothing.
func DropExportedFN(imported, stored graph.Card) graph.Card {
	if hasName(stored.Fields, "fn") {
		return imported
	}
	fn := imported.First("fn")
	if fn == "" {
		return imported
	}
	candidates := []string{stored.DisplayName(), BestName(stored)}
	for _, name := range []string{"n", "org", "tel"} {
		candidates = append(candidates, strings.Join(strings.Fields(strings.ReplaceAll(stored.First(name), ";", " ")), " "))
	}
	if !slices.Contains(candidates, fn) {
		return imported
	}
	out := graph.Card{Fields: slices.DeleteFunc(slices.Clone(imported.Fields), func(f graph.Field) bool { return f.Name == "fn" && !f.Raw })}
	return out
}
