package node

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/node/api"
)

// PatchContact implements api.API. It holds n.mu from resolving ref to
// writing, as EditContact does, so that the card it patches is the card it
// replaces.
func (n *Node) PatchContact(ctx context.Context, ref string, p api.ContactPatch) (*api.Contact, error) {
	if err := checkPatch(&p); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if t.linked() {
		return n.patchNotesLocked(ctx, t, p)
	}
	old := *t.rec.Body.Card
	card, err := applyPatch(t.contact, t.contact.Card, graph.Card{}, p)
	if err != nil {
		return nil, err
	}
	if len(book.WithoutUID(card).Fields) == 0 {
		return nil, invalid("that would leave %s (%s) with an empty card; to delete it: kith contacts rm %s", t.contact.ID, t.contact.Name, t.contact.ID)
	}
	nc, err := graph.NormalizeCard(card)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if book.Same(nc, old) {
		return &t.contact, nil
	}
	es, err := n.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: t.rec.Key, Card: &nc}, To: graph.Audience{Self: true}})
	if err != nil {
		return nil, err
	}
	c := contactOf(&graph.Record{Identity: es[0].Identity, Kind: graph.KindContact, Key: t.rec.Key, Version: graph.VersionOf(es[0]), CID: es[0].CID, Body: es[0].Body})
	return &c, nil
}

// patchNotesLocked applies p to a linked contact's combined card; what the
// result holds beyond their shared card becomes my notes. n.mu must be
// held.
func (n *Node) patchNotesLocked(ctx context.Context, t *target, p api.ContactPatch) (*api.Contact, error) {
	shared := book.WithoutUID(n.peerCard(ctx, t.peer))
	card, err := applyPatch(t.contact, book.Combine(shared, t.notes), shared, p)
	if err != nil {
		return nil, err
	}
	notes, err := normalizeNotes(book.Subtract(book.WithoutUID(card), shared))
	if err != nil {
		return nil, err
	}
	if err := n.setNotes(ctx, t, notes); err != nil {
		return nil, err
	}
	c := n.linkedContact(ctx, t.peer, notes)
	return &c, nil
}

// checkPatch normalises p's field names (lower case, trimmed) and refuses
// an empty patch, a field named twice, a blank name and the UID.
func checkPatch(p *api.ContactPatch) error {
	if p.Empty() {
		return invalid("nothing to change: the patch sets, adds and removes no field")
	}
	named := map[string]string{} // field → the part of p that names it
	name := func(part, s string) (string, error) {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
			return "", invalid("%s: a field without a name", part)
		case s == book.UIDField:
			return "", invalid("%s uid: a contact's UID is what finds it on import, and cannot be changed", part)
		}
		if other, ok := named[s]; ok && (other != part || part != "remove") {
			return "", invalid("%s is named in both %s and %s of one patch; name it once", s, other, part)
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
		fvs  []api.FieldValues
	}{{"set", p.Set}, {"add", p.Add}} {
		for i := range part.fvs {
			if part.fvs[i].Name, err = name(part.name, part.fvs[i].Name); err != nil {
				return err
			}
		}
	}
	for _, fv := range p.Add {
		if !slices.ContainsFunc(fv.Values, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			return invalid("add %s: no value to add", fv.Name)
		}
	}
	return nil
}

// applyPatch returns card with p applied. c is the contact (for messages);
// theirs, for a linked contact, is their shared card, whose fields the
// patch cannot remove.
func applyPatch(c api.Contact, card, theirs graph.Card, p api.ContactPatch) (graph.Card, error) {
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
			return graph.Card{}, fmt.Errorf("%w: %s (%s) has no %s to remove", api.ErrNotFound, c.ID, c.Name, what)
		case len(book.Subtract(graph.Card{Fields: removed}, theirs).Fields) == 0 && len(theirs.Fields) > 0:
			// Every value removed is on their card: it would come back.
			return graph.Card{}, invalid("the %s of %s (%s) is on their own card, which only they can change; edit changes your notes on them", what, c.ID, c.Name)
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
