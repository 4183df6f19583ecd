package node

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// DefaultCircles are created by Init.
var DefaultCircles = []string{"friends", "family", "work"}

var circleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{api.ErrInvalid}, args...)...)
}

// ID implements api.API.
func (n *Node) ID(ctx context.Context) (*api.Identity, error) {
	id := &api.Identity{PeerID: n.id.PeerID().String(), Addrs: []string{}}
	p2p, err := multiaddr.NewMultiaddr("/p2p/" + n.id.PeerID().String())
	if err != nil {
		return nil, err
	}
	for _, a := range n.host.Addrs() {
		id.Addrs = append(id.Addrs, a.Encapsulate(p2p).String())
	}
	return id, nil
}

// Status implements api.API.
func (n *Node) Status(ctx context.Context) (*api.Status, error) {
	id, err := n.ID(ctx)
	if err != nil {
		return nil, err
	}
	st, err := n.store.Stats(ctx)
	if err != nil {
		return nil, err
	}
	contacts, err := n.store.LocalContacts(ctx, n.id.PeerID())
	if err != nil {
		return nil, err
	}
	forked, err := n.store.Forks(ctx)
	if err != nil {
		return nil, err
	}
	s := &api.Status{
		Identity: *id, Home: n.home, Started: n.started.UTC(), Version: Version,
		Entries: st.Entries, Logs: st.Logs, Forks: st.Forks, StoreBytes: st.Bytes, Contacts: contacts,
		Forked: []string{},
	}
	for _, p := range forked {
		s.Forked = append(s.Forked, p.String())
	}
	return s, nil
}

// Log implements api.API.
func (n *Node) Log(ctx context.Context, after uint64, limit int) ([]api.LogEntry, error) {
	les, err := n.store.Log(ctx, n.id.PeerID(), after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.LogEntry, 0, len(les))
	for _, le := range les {
		out = append(out, api.LogEntry{Seq: le.Seq, CID: le.CID.String(), Kind: le.Kind, Key: le.Key,
			Time: time.UnixMilli(le.Time).UTC(), Size: len(le.Raw)})
	}
	return out, nil
}

// ---- circles ----

func (n *Node) circleRecords(ctx context.Context) ([]*graph.Record, error) {
	return n.store.Records(ctx, n.id.PeerID(), graph.KindCircle)
}

func (n *Node) liveRecord(ctx context.Context, kind, key string) (*graph.Record, error) {
	r, err := n.store.Record(ctx, n.id.PeerID(), kind, key)
	if err != nil {
		return nil, err
	}
	if r.Body.Del {
		return nil, fmt.Errorf("%w: %s %q", graph.ErrNotFound, kind, key)
	}
	return r, nil
}

// Circles implements api.API.
func (n *Node) Circles(ctx context.Context) ([]api.Circle, error) {
	rs, err := n.circleRecords(ctx)
	if err != nil {
		return nil, err
	}
	cards, err := n.cards(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Circle, 0, len(rs))
	for _, r := range rs {
		c := api.Circle{Name: r.Key, Members: append([]string{}, r.Body.Members...)}
		if card, ok := cards[r.Key]; ok {
			c.Fields = len(card.Fields)
		}
		out = append(out, c)
	}
	return out, nil
}

func checkCircleName(name string) error {
	if name == api.PrivateCircle {
		return invalid("%q is reserved for private fields", name)
	}
	if !circleName.MatchString(name) {
		return invalid("circle name %q: use 1-32 lower-case letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// AddCircle implements api.API.
func (n *Node) AddCircle(ctx context.Context, name string) (*api.Circle, error) {
	if n.restoring() {
		return nil, errNoLog
	}
	if err := checkCircleName(name); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.liveRecord(ctx, graph.KindCircle, name); err == nil {
		return nil, fmt.Errorf("%w: circle %q", api.ErrExists, name)
	} else if !errors.Is(err, graph.ErrNotFound) {
		return nil, err
	}
	if _, err := n.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: name}, To: graph.Audience{Self: true}}); err != nil {
		return nil, err
	}
	return &api.Circle{Name: name, Members: []string{}}, nil
}

// RemoveCircle implements api.API.
func (n *Node) RemoveCircle(ctx context.Context, name string, force bool) (*api.Circle, error) {
	if n.restoring() {
		return nil, errNoLog
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	r, err := n.liveRecord(ctx, graph.KindCircle, name)
	if err != nil {
		return nil, notFound(err, "no circle %q (see `kith circles list`)", name)
	}
	c := &api.Circle{Name: name, Members: append([]string{}, r.Body.Members...)}
	drafts := []graph.Draft{{Body: graph.Body{Kind: graph.KindCircle, Key: name, Del: true}, To: graph.Audience{Self: true}}}
	only := 0 // fields no other circle (nor the private card) holds: lost with it
	if card, err := n.liveRecord(ctx, graph.KindCard, name); err == nil {
		others, err := n.cards(ctx)
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
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: name, Del: true}, To: graph.Audience{Self: true}})
	}
	// A field other circles see too (the name, shared with every circle)
	// is not lost with this one: only members and fields of its own ask
	// for --force.
	if !force && (len(c.Members) > 0 || only > 0) {
		return nil, fmt.Errorf("%w: circle %q has %s and sees %s of your card%s", api.ErrNotEmpty, name,
			countOf(len(c.Members), "member", "members"), countOf(c.Fields, "field", "fields"), listed(c.FieldNames))
	}
	if _, err := n.append(ctx, drafts...); err != nil {
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

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, graph.ErrNotFound) {
		return fmt.Errorf("%w: "+format, append([]any{api.ErrNotFound}, args...)...)
	}
	return err
}

// ---- my profile ----

// cards returns my live card records by circle ("self" included).
func (n *Node) cards(ctx context.Context) (map[string]graph.Card, error) {
	rs, err := n.store.Records(ctx, n.id.PeerID(), graph.KindCard)
	if err != nil {
		return nil, err
	}
	out := make(map[string]graph.Card, len(rs))
	for _, r := range rs {
		out[r.Key] = *r.Body.Card
	}
	return out, nil
}

// Me implements api.API.
func (n *Node) Me(ctx context.Context, circle string) (*api.Profile, error) {
	if circle != "" && circle != api.PrivateCircle {
		if _, err := n.liveRecord(ctx, graph.KindCircle, circle); err != nil {
			return nil, notFound(err, "no circle %q (see `kith circles list`)", circle)
		}
	}
	cards, err := n.cards(ctx)
	if err != nil {
		return nil, err
	}
	return profileOf(cards, circle), nil
}

// profileOf merges circle cards into one profile; identical fields in
// several circles become one field with several circles.
func profileOf(cards map[string]graph.Card, only string) *api.Profile {
	p := &api.Profile{Fields: []api.ProfileField{}}
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
			p.Fields = append(p.Fields, api.ProfileField{Field: f, Circles: []string{c}})
		}
	}
	slices.SortStableFunc(p.Fields, func(a, b api.ProfileField) int { return fieldOrder(a.Name) - fieldOrder(b.Name) })
	return p
}

var displayOrder = []string{"fn", "n", "nickname", "email", "tel", "adr", "org", "title", "role", "bday", "anniversary", "url", "impp", "note"}

func fieldOrder(name string) int {
	if i := slices.Index(displayOrder, name); i >= 0 {
		return i
	}
	return len(displayOrder)
}

// cardDraft returns the entry that re-issues circle's card, sealed to the
// circle's members and me.
func (n *Node) cardDraft(ctx context.Context, circle string, card graph.Card) (graph.Draft, error) {
	d := graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: circle}}
	if len(card.Fields) == 0 {
		d.Body.Del = true
	} else {
		d.Body.Card = &card
	}
	if circle == api.PrivateCircle {
		d.To = graph.Audience{Self: true}
		return d, nil
	}
	r, err := n.liveRecord(ctx, graph.KindCircle, circle)
	if err != nil {
		return d, notFound(err, "no circle %q; create it with `kith circles add %s`", circle, circle)
	}
	return n.cardDraftFor(ctx, circle, card, r.Body.Members)
}

// cardDraftFor is cardDraft for a circle with the given members.
func (n *Node) cardDraftFor(ctx context.Context, circle string, card graph.Card, members []string) (graph.Draft, error) {
	d := graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: circle}}
	if len(card.Fields) == 0 {
		d.Body.Del = true
	} else {
		d.Body.Card = &card
	}
	d.To = graph.Audience{Readers: n.readers(ctx, circle, members)}
	return d, nil
}

// readers returns me plus every member whose encryption key is known.
func (n *Node) readers(ctx context.Context, circle string, members []string) []graph.Reader {
	readers := []graph.Reader{{ID: n.id.PeerID(), EncKey: n.id.EncryptionKey()}}
	for _, m := range members {
		pid, err := peerIDOf(m)
		if err != nil {
			continue
		}
		k, err := n.store.Record(ctx, pid, graph.KindKeys, "")
		if err != nil || k.Body.Del || identity.CheckEncryptionKey(k.Body.Enc) != nil {
			n.log.Warn("circle member without a usable key", "circle", circle, "peer", m)
			continue
		}
		readers = append(readers, graph.Reader{ID: pid, EncKey: k.Body.Enc})
	}
	return readers
}

// SetMe implements api.API.
func (n *Node) SetMe(ctx context.Context, req api.SetMeRequest) (*api.Profile, error) {
	if n.restoring() {
		return nil, errNoLog
	}
	spec, ok := graph.LookupField(strings.ToLower(req.Field))
	if !ok {
		_, err := graph.NormalizeField(graph.Field{Name: req.Field})
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if len(req.Values) == 0 {
		return nil, invalid("no value given for %s", spec.Name)
	}
	if !spec.Multi && len(req.Values) > 1 {
		return nil, invalid("%s takes one value, got %d", spec.Name, len(req.Values))
	}
	fields := make([]graph.Field, 0, len(req.Values))
	for _, v := range req.Values {
		f, err := graph.NormalizeField(graph.Field{Name: spec.Name, Value: v, Types: req.Types})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
		}
		fields = append(fields, f)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	cards, err := n.cards(ctx)
	if err != nil {
		return nil, err
	}
	circles := req.Circles
	var drafts []graph.Draft
	switch {
	case len(circles) > 0:
	case spec.Name == api.SharedField:
		// Your name is what a connection sees you as: every circle's.
		rs, err := n.circleRecords(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			circles = append(circles, r.Key)
		}
		// A private name set before is replaced, not kept beside.
		if self, ok := cards[api.PrivateCircle]; ok && len(self.Values(spec.Name)) > 0 {
			self.Fields = slices.DeleteFunc(slices.Clone(self.Fields), func(f graph.Field) bool { return f.Name == spec.Name })
			d, err := n.cardDraft(ctx, api.PrivateCircle, self)
			if err != nil {
				return nil, err
			}
			drafts = append(drafts, d)
			cards[api.PrivateCircle] = self
		}
		if len(circles) == 0 {
			circles = []string{api.PrivateCircle}
		}
	default:
		circles = []string{api.PrivateCircle}
	}
	for _, c := range dedupe(circles) {
		card := cards[c]
		card.Fields = slices.DeleteFunc(slices.Clone(card.Fields), func(f graph.Field) bool { return f.Name == spec.Name })
		card.Fields = append(card.Fields, fields...)
		d, err := n.cardDraft(ctx, c, card)
		if err != nil {
			return nil, err
		}
		drafts = append(drafts, d)
		cards[c] = card
	}
	if _, err := n.append(ctx, drafts...); err != nil {
		return nil, err
	}
	for c, card := range cards {
		if len(card.Fields) == 0 {
			delete(cards, c)
		}
	}
	return profileOf(cards, ""), nil
}

// UnsetMe implements api.API.
func (n *Node) UnsetMe(ctx context.Context, req api.UnsetMeRequest) (*api.Profile, error) {
	if n.restoring() {
		return nil, errNoLog
	}
	name := strings.ToLower(req.Field)
	if _, ok := graph.LookupField(name); !ok {
		_, err := graph.NormalizeField(graph.Field{Name: req.Field})
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	cards, err := n.cards(ctx)
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
		card.Fields = slices.DeleteFunc(slices.Clone(card.Fields), func(f graph.Field) bool { return f.Name == name })
		d, err := n.cardDraft(ctx, c, card)
		if err != nil {
			return nil, err
		}
		drafts = append(drafts, d)
		cards[c] = card
	}
	if len(drafts) == 0 {
		return nil, fmt.Errorf("%w: field %s is not set in %s", api.ErrNotFound, name, strings.Join(circles, ", "))
	}
	if _, err := n.append(ctx, drafts...); err != nil {
		return nil, err
	}
	for c, card := range cards {
		if len(card.Fields) == 0 {
			delete(cards, c)
		}
	}
	return profileOf(cards, ""), nil
}

func dedupe(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
