package book

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

var circleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// CheckCircleName reports whether name may name a new circle.
func CheckCircleName(name string) error {
	if name == PrivateCircle {
		return graph.Invalidf("%q is reserved for private fields", name)
	}
	if !circleName.MatchString(name) {
		return graph.Invalidf("circle name %q: use 1-32 lower-case letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// noCircle is the error for a circle that does not exist.
func noCircle(err error, name string) error {
	if errors.Is(err, graph.ErrNotFound) {
		return graph.NotFoundf("no circle %q; create it with `kith circles add %s`", name, name)
	}
	return err
}

func (b *Book) circleRecords(ctx context.Context) ([]*graph.Record, error) {
	return b.store.Records(ctx, b.self.ID, graph.KindCircle)
}

// CheckCircles defaults to friends and checks that each circle exists.
// It returns them sorted, once each.
func (b *Book) CheckCircles(ctx context.Context, circles []string) ([]string, error) {
	if len(circles) == 0 {
		circles = []string{"friends"}
	}
	circles = dedupe(circles)
	for _, c := range circles {
		if _, err := b.liveRecord(ctx, graph.KindCircle, c); err != nil {
			return nil, noCircle(err, c)
		}
	}
	return circles, nil
}

// Circles lists my circles.
func (b *Book) Circles(ctx context.Context) ([]Circle, error) {
	rs, err := b.circleRecords(ctx)
	if err != nil {
		return nil, err
	}
	cards, err := b.cards(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Circle, 0, len(rs))
	for _, r := range rs {
		c := Circle{Name: r.Key, Members: members(r.Body.Members)}
		if card, ok := cards[r.Key]; ok {
			c.Fields = len(card.Fields)
		}
		out = append(out, c)
	}
	return out, nil
}

// members parses a circle's members (as my log holds them, as text); one
// that is not a peer ID (never written by Kith) is left out.
func members(ms []string) []peer.ID {
	out := make([]peer.ID, 0, len(ms))
	for _, m := range ms {
		if p, err := peer.Decode(m); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// CirclesOf returns the names of my circles p is in.
func (b *Book) CirclesOf(ctx context.Context, p peer.ID) ([]string, error) {
	rs, err := b.circleRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range rs {
		if slices.Contains(c.Body.Members, p.String()) {
			out = append(out, c.Key)
		}
	}
	return out, nil
}

// AddCircle creates a circle.
func (b *Book) AddCircle(ctx context.Context, name string) (*Circle, error) {
	if err := b.w.CanWrite(); err != nil {
		return nil, err
	}
	if err := CheckCircleName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.liveRecord(ctx, graph.KindCircle, name); err == nil {
		return nil, fmt.Errorf("%w: circle %q", graph.ErrExists, name)
	} else if !errors.Is(err, graph.ErrNotFound) {
		return nil, err
	}
	if _, err := b.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: name}, To: graph.Audience{Self: true}}); err != nil {
		return nil, err
	}
	return &Circle{Name: name, Members: []peer.ID{}}, nil
}

// CircleDrafts returns the entries that create the circles names (the
// default circles of a new identity).
func CircleDrafts(names []string) []graph.Draft {
	out := make([]graph.Draft, 0, len(names))
	for _, c := range names {
		out = append(out, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: c}, To: graph.Audience{Self: true}})
	}
	return out
}

// RemoveCircle deletes a circle and the card it saw, and returns what it
// held. A circle with members, or that sees a field no other circle (nor
// the private card) holds, is removed only with force: without, the error
// wraps graph.ErrNotEmpty.
func (b *Book) RemoveCircle(ctx context.Context, name string, force bool) (*Circle, error) {
	if err := b.w.CanWrite(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.liveRecord(ctx, graph.KindCircle, name)
	if err != nil {
		if errors.Is(err, graph.ErrNotFound) {
			return nil, graph.NotFoundf("no circle %q (see `kith circles list`)", name)
		}
		return nil, err
	}
	c := &Circle{Name: name, Members: members(r.Body.Members)}
	drafts := []graph.Draft{{Body: graph.Body{Kind: graph.KindCircle, Key: name, Del: true}, To: graph.Audience{Self: true}}}
	only := 0 // fields no other circle (nor the private card) holds: lost with it
	if card, err := b.liveRecord(ctx, graph.KindCard, name); err == nil {
		others, err := b.cards(ctx)
		if err != nil {
			return nil, err
		}
		c.Fields = len(card.Body.Card.Fields)
		for _, f := range card.Body.Card.Fields {
			c.FieldNames = append(c.FieldNames, f.Name)
			if !heldElsewhere(others, name, f) {
				only++
			}
		}
		c.FieldNames = dedupe(c.FieldNames)
		drafts = append(drafts, selfDraft(graph.KindCard, name, nil))
	}
	// A field other circles see too (the name, shared with every circle)
	// is not lost with this one: only members and fields of its own ask
	// for force.
	if !force && (len(c.Members) > 0 || only > 0) {
		return nil, fmt.Errorf("%w: circle %q has %s and sees %s of your card%s", graph.ErrNotEmpty, name,
			countOf(len(c.Members), "member", "members"), countOf(c.Fields, "field", "fields"), listed(c.FieldNames))
	}
	if _, err := b.append(ctx, drafts...); err != nil {
		return nil, err
	}
	return c, nil
}

// heldElsewhere reports whether a card other than circle's holds f (by
// name and value).
func heldElsewhere(cards map[string]graph.Card, circle string, f graph.Field) bool {
	for k, c := range cards {
		if k != circle && slices.ContainsFunc(c.Fields, func(g graph.Field) bool { return g.Name == f.Name && g.Value == f.Value }) {
			return true
		}
	}
	return false
}

// countOf writes n with the singular or plural noun: "1 member", "0 fields".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// listed is " (a, b)" for names, or "" for none.
func listed(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// ---- my profile ----

// cards returns my live card records by circle ("self" included).
func (b *Book) cards(ctx context.Context) (map[string]graph.Card, error) {
	rs, err := b.store.Records(ctx, b.self.ID, graph.KindCard)
	if err != nil {
		return nil, err
	}
	out := make(map[string]graph.Card, len(rs))
	for _, r := range rs {
		out[r.Key] = *r.Body.Card
	}
	return out, nil
}

// Me returns my profile: every field and the circles that see it, or only
// the fields circle sees when circle is not "".
func (b *Book) Me(ctx context.Context, circle string) (*Profile, error) {
	if circle != "" && circle != PrivateCircle {
		if _, err := b.liveRecord(ctx, graph.KindCircle, circle); err != nil {
			if errors.Is(err, graph.ErrNotFound) {
				return nil, graph.NotFoundf("no circle %q (see `kith circles list`)", circle)
			}
			return nil, err
		}
	}
	cards, err := b.cards(ctx)
	if err != nil {
		return nil, err
	}
	return profileOf(cards, circle), nil
}

// profileOf merges circle cards into one profile; identical fields in
// several circles become one field with several circles.
func profileOf(cards map[string]graph.Card, only string) *Profile {
	p := &Profile{Fields: []ProfileField{}}
	circles := make([]string, 0, len(cards))
	for c := range cards {
		circles = append(circles, c)
	}
	slices.Sort(circles)
	index := map[string]int{}
	for _, c := range circles {
		if only != "" && c != only {
			continue
		}
		for _, f := range cards[c].Fields {
			k := f.Name + "\x00" + f.Value + "\x00" + strings.Join(f.Types, ",")
			if i, ok := index[k]; ok {
				p.Fields[i].Circles = append(p.Fields[i].Circles, c)
				continue
			}
			index[k] = len(p.Fields)
			p.Fields = append(p.Fields, ProfileField{Field: f, Circles: []string{c}})
		}
	}
	slices.SortStableFunc(p.Fields, func(a, b ProfileField) int { return fieldOrder(a.Name) - fieldOrder(b.Name) })
	return p
}

var displayOrder = []string{"fn", "n", "nickname", "email", "tel", "adr", "org", "title", "role", "bday", "anniversary", "url", "impp", "note"}

func fieldOrder(name string) int {
	if i := slices.Index(displayOrder, name); i >= 0 {
		return i
	}
	return len(displayOrder)
}

// cardDraft returns the entry that re-issues circle's card, sealed to
// members and me (to me alone for the private card); an empty card
// becomes a tombstone. It is the one place a card's audience is decided.
func (b *Book) cardDraft(ctx context.Context, circle string, card graph.Card, members []string) (graph.Draft, error) {
	d := graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: circle}}
	if len(card.Fields) == 0 {
		d.Body.Del = true
	} else {
		d.Body.Card = &card
	}
	if circle == PrivateCircle {
		d.To = graph.Audience{Self: true}
		return d, nil
	}
	readers, err := b.readers(ctx, circle, members)
	d.To = graph.Audience{Readers: readers}
	return d, err
}

// cardDraftOf is cardDraft for a circle as stored: with its members now.
func (b *Book) cardDraftOf(ctx context.Context, circle string, card graph.Card) (graph.Draft, error) {
	var members []string
	if circle != PrivateCircle {
		r, err := b.liveRecord(ctx, graph.KindCircle, circle)
		if err != nil {
			return graph.Draft{}, noCircle(err, circle)
		}
		members = r.Body.Members
	}
	return b.cardDraft(ctx, circle, card, members)
}

// readers returns me plus every member whose encryption key is known. A
// member without one is left out (and reissue seals to them once it
// arrives); a store failure is an error, not a missing key.
func (b *Book) readers(ctx context.Context, circle string, members []string) ([]graph.Reader, error) {
	readers := []graph.Reader{b.self}
	for _, m := range members {
		pid, err := peer.Decode(m)
		if err != nil {
			continue
		}
		r, ok, err := graph.ReaderOf(ctx, b.store, pid)
		if err != nil {
			return nil, fmt.Errorf("a member of %s: %w", circle, err)
		}
		if ok {
			readers = append(readers, r)
			continue
		}
		b.log.Warn("circle member without a usable key", "circle", circle, "peer", m)
	}
	return readers, nil
}

// SetMe sets a field of my profile in circles, re-issuing each circle's
// card. Without circles, SharedField (fn, my name) goes to every circle
// and any other field is private.
func (b *Book) SetMe(ctx context.Context, req SetMeRequest) (*Profile, error) {
	if err := b.w.CanWrite(); err != nil {
		return nil, err
	}
	spec, ok := graph.LookupField(strings.ToLower(req.Field))
	if !ok {
		_, err := graph.NormalizeField(graph.Field{Name: req.Field})
		return nil, err
	}
	if len(req.Values) == 0 {
		return nil, graph.Invalidf("no value given for %s", spec.Name)
	}
	if !spec.Multi && len(req.Values) > 1 {
		return nil, graph.Invalidf("%s takes one value, got %d", spec.Name, len(req.Values))
	}
	fields := make([]graph.Field, 0, len(req.Values))
	for _, v := range req.Values {
		f, err := graph.NormalizeField(graph.Field{Name: spec.Name, Value: v, Types: req.Types})
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cards, err := b.cards(ctx)
	if err != nil {
		return nil, err
	}
	circles := req.Circles
	var drafts []graph.Draft
	switch {
	case len(circles) > 0:
	case spec.Name == SharedField:
		// Your name is what a connection sees you as: every circle's.
		rs, err := b.circleRecords(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			circles = append(circles, r.Key)
		}
		// A private name set before is replaced, not kept beside.
		if self, ok := cards[PrivateCircle]; ok && len(self.Values(spec.Name)) > 0 {
			self.Fields = withoutField(self.Fields, spec.Name)
			d, err := b.cardDraftOf(ctx, PrivateCircle, self)
			if err != nil {
				return nil, err
			}
			drafts = append(drafts, d)
			cards[PrivateCircle] = self
		}
		if len(circles) == 0 {
			circles = []string{PrivateCircle}
		}
	default:
		circles = []string{PrivateCircle}
	}
	for _, c := range dedupe(circles) {
		card := cards[c]
		card.Fields = append(withoutField(card.Fields, spec.Name), fields...)
		d, err := b.cardDraftOf(ctx, c, card)
		if err != nil {
			return nil, err
		}
		drafts = append(drafts, d)
		cards[c] = card
	}
	if _, err := b.append(ctx, drafts...); err != nil {
		return nil, err
	}
	return profileOf(nonEmpty(cards), ""), nil
}

// UnsetMe removes a field from circles (all when none).
func (b *Book) UnsetMe(ctx context.Context, req UnsetMeRequest) (*Profile, error) {
	if err := b.w.CanWrite(); err != nil {
		return nil, err
	}
	name := strings.ToLower(req.Field)
	if _, ok := graph.LookupField(name); !ok {
		_, err := graph.NormalizeField(graph.Field{Name: req.Field})
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cards, err := b.cards(ctx)
	if err != nil {
		return nil, err
	}
	circles := req.Circles
	if len(circles) == 0 {
		for c := range cards {
			circles = append(circles, c)
		}
		slices.Sort(circles)
	}
	var drafts []graph.Draft
	for _, c := range dedupe(circles) {
		card, ok := cards[c]
		if !ok || len(card.Values(name)) == 0 {
			continue
		}
		card.Fields = withoutField(card.Fields, name)
		d, err := b.cardDraftOf(ctx, c, card)
		if err != nil {
			return nil, err
		}
		drafts = append(drafts, d)
		cards[c] = card
	}
	if len(drafts) == 0 {
		return nil, graph.NotFoundf("field %s is not set in %s", name, strings.Join(circles, ", "))
	}
	if _, err := b.append(ctx, drafts...); err != nil {
		return nil, err
	}
	return profileOf(nonEmpty(cards), ""), nil
}

// withoutField returns a copy of fields without those named name.
func withoutField(fields []graph.Field, name string) []graph.Field {
	return slices.DeleteFunc(slices.Clone(fields), func(f graph.Field) bool { return f.Name == name })
}

// nonEmpty drops the cards without fields (tombstoned by the write).
func nonEmpty(cards map[string]graph.Card) map[string]graph.Card {
	for c, card := range cards {
		if len(card.Fields) == 0 {
			delete(cards, c)
		}
	}
	return cards
}

func dedupe(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
