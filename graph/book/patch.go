package book

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kith-p2p/kith/graph"
)

// PatchContact applies a patch to the contact ref names. It holds b.mu from resolving ref to
// writing, as EditContact does, so that the card it patches is the card it
// replaces.
func (b *Book) PatchContact(ctx context.Context, ref string, p ContactPatch) (*Contact, error) {
	if err := checkPatch(&p); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if t.linked() {
		return b.patchNotesLocked(ctx, t, p)
	}
	old := *t.rec.Body.Card
	card, err := applyPatch(t.contact, t.contact.Card, graph.Card{}, p)
	if err != nil {
		return nil, err
	}
	if len(WithoutUID(card).Fields) == 0 {
		return nil, graph.Invalidf("that would leave %s (%s) with an empty card; to delete it: kith contacts rm %s", t.contact.ID, t.contact.Name, t.contact.ID)
	}
	nc, err := graph.NormalizeCard(card)
	if err != nil {
		return nil, err
	}
	if Same(nc, old) {
		return &t.contact, nil
	}
	es, err := b.append(ctx, selfDraft(graph.KindContact, t.rec.Key, &nc))
	if err != nil {
		return nil, err
	}
	c := contactOf(&graph.Record{Identity: es[0].Identity, Kind: graph.KindContact, Key: t.rec.Key, Version: graph.VersionOf(es[0]), CID: es[0].CID, Body: es[0].Body})
	return &c, nil
}

// patchNotesLocked applies p to a linked contact's combined card; what the
// result holds beyond their shared card becomes my notes. b.mu must be
// held.
func (b *Book) patchNotesLocked(ctx context.Context, t *target, p ContactPatch) (*Contact, error) {
	shared, err := b.sharedCard(ctx, t.peer)
	if err != nil {
		return nil, err
	}
	card, err := applyPatch(t.contact, Combine(shared, t.notes), shared, p)
	if err != nil {
		return nil, err
	}
	return b.keepAsNotes(ctx, t, card, shared)
}

// checkPatch normalises p's field names (lower case, trimmed) and refuses
// an empty patch, a field named twice, a blank name and the UID.
func checkPatch(p *ContactPatch) error {
	if p.Empty() {
		return graph.Invalidf("nothing to change: the patch sets, adds and removes no field")
	}
	named := map[string]string{} // field → the part of p that names it
	name := func(part, s string) (string, error) {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
			return "", graph.Invalidf("%s: a field without a name", part)
		case s == UIDField:
			return "", graph.Invalidf("%s uid: a contact's UID is what finds it on import, and cannot be changed", part)
		}
		if other, ok := named[s]; ok && (other != part || part != "remove") {
			return "", graph.Invalidf("%s is named in both %s and %s of one patch; name it once", s, other, part)
		}
		named[s] = part
		return s, nil
	}
	var err error
	for i := range p.Remove {
		if p.Remove[i].Name, err = name("remove", p.Remove[i].Name); err != nil {
			return err
		}
	}
	for _, part := range []struct {
		name string
		fvs  []FieldValues
	}{{"set", p.Set}, {"add", p.Add}} {
		for i := range part.fvs {
			if part.fvs[i].Name, err = name(part.name, part.fvs[i].Name); err != nil {
				return err
			}
		}
	}
	for _, fv := range p.Add {
		if !slices.ContainsFunc(fv.Values, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			return graph.Invalidf("add %s: no value to add", fv.Name)
		}
	}
	return nil
}

// applyPatch returns card with p applied. c is the contact (for messages);
// theirs, for a linked contact, is their shared card, whose fields the
// patch cannot remove.
func applyPatch(c Contact, card, theirs graph.Card, p ContactPatch) (graph.Card, error) {
	card = graph.Card{Fields: slices.Clone(card.Fields)}
	for _, r := range p.Remove {
		match := func(f graph.Field) bool { return f.Name == r.Name && (r.Value == "" || f.Value == r.Value) }
		what := r.Name
		if r.Value != "" {
			what = fmt.Sprintf("%s %q", r.Name, r.Value)
		}
		var removed []graph.Field
		card.Fields = slices.DeleteFunc(card.Fields, func(f graph.Field) bool {
			if match(f) {
				removed = append(removed, f)
				return true
			}
			return false
		})
		switch {
		case len(removed) == 0:
			return graph.Card{}, fmt.Errorf("%w: %s (%s) has no %s to remove", graph.ErrNotFound, c.ID, c.Name, what)
		case len(Subtract(graph.Card{Fields: removed}, theirs).Fields) == 0 && len(theirs.Fields) > 0:
			// Every value removed is on their card: it would come back.
			return graph.Card{}, graph.Invalidf("the %s of %s (%s) is on their own card, which only they can change; edit changes your notes on them", what, c.ID, c.Name)
		}
	}
	for _, s := range p.Set {
		vs := nonBlank(s.Values)
		if len(vs) == 0 {
			card.Fields = slices.DeleteFunc(card.Fields, func(f graph.Field) bool { return f.Name == s.Name })
			continue
		}
		card.Set(s.Name, vs...)
	}
	for _, a := range p.Add {
		for _, v := range nonBlank(a.Values) {
			if !slices.ContainsFunc(card.Fields, func(f graph.Field) bool { return f.Name == a.Name && f.Value == v }) {
				card.Fields = append(card.Fields, graph.Field{Name: a.Name, Value: v})
			}
		}
	}
	return card, nil
}

func nonBlank(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}
