package node

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// DefaultCircles are created by Init.
var DefaultCircles = []string{"friends", "family", "work"}

// MaxAddBatch bounds the cards of one AddContacts call.
const MaxAddBatch = 5000

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
	contacts, err := n.store.Count(ctx, n.id.PeerID(), graph.KindContact)
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

// Check implements api.API.
func (n *Node) Check(ctx context.Context) (*store.CheckReport, error) {
	return n.store.Check(ctx, graph.Opener(n.id))
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
	if card, err := n.liveRecord(ctx, graph.KindCard, name); err == nil {
		c.Fields = len(card.Body.Card.Fields)
		for _, f := range card.Body.Card.Fields {
			c.FieldNames = append(c.FieldNames, f.Name)
		}
		c.FieldNames = dedupe(c.FieldNames)
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: name, Del: true}, To: graph.Audience{Self: true}})
	}
	if !force && (len(c.Members) > 0 || c.Fields > 0) {
		return nil, fmt.Errorf("%w: circle %q has %s and sees %s of your card%s", api.ErrNotEmpty, name,
			countOf(len(c.Members), "member", "members"), countOf(c.Fields, "field", "fields"), listed(c.FieldNames))
	}
	if _, err := n.append(ctx, drafts...); err != nil {
		return nil, err
	}
	return c, nil
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

// ---- contacts ----

func contactOf(r *graph.Record) api.Contact {
	return api.Contact{ID: r.Key, Name: r.Body.Card.DisplayName(), Card: *r.Body.Card,
		Updated: time.UnixMilli(r.Version.Time).UTC(), CID: r.CID.String()}
}

// Contacts implements api.API.
func (n *Node) Contacts(ctx context.Context) ([]api.Contact, error) {
	rs, err := n.store.Records(ctx, n.id.PeerID(), graph.KindContact)
	if err != nil {
		return nil, err
	}
	conns, err := n.connections(ctx)
	if err != nil {
		return nil, err
	}
	notes := map[string]graph.Card{}
	out := make([]api.Contact, 0, len(rs)+len(conns))
	for _, r := range rs {
		if _, err := peer.Decode(r.Key); err == nil {
			notes[r.Key] = *r.Body.Card // my private notes on a linked contact
			continue
		}
		out = append(out, contactOf(r))
	}
	for _, p := range conns {
		out = append(out, n.linkedContact(ctx, p, notes[p.String()]))
	}
	slices.SortStableFunc(out, func(a, b api.Contact) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Contact implements api.API: ref is an id, a unique id prefix, or a name
// (case-insensitive, exact).
func (n *Node) Contact(ctx context.Context, ref string) (*api.Contact, error) {
	if p, err := peer.Decode(strings.TrimSpace(ref)); err == nil && n.isConnection(ctx, p) {
		var notes graph.Card
		if r, err := n.liveRecord(ctx, graph.KindContact, p.String()); err == nil {
			notes = *r.Body.Card
		}
		c := n.linkedContact(ctx, p, notes)
		return &c, nil
	}
	r, err := n.findContact(ctx, ref)
	if err != nil {
		return nil, err
	}
	c := contactOf(r)
	return &c, nil
}

func (n *Node) findContact(ctx context.Context, ref string) (*graph.Record, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, invalid("empty contact reference")
	}
	if r, err := n.liveRecord(ctx, graph.KindContact, strings.ToLower(ref)); err == nil {
		return r, nil
	} else if !errors.Is(err, graph.ErrNotFound) {
		return nil, err
	}
	rs, err := n.store.Records(ctx, n.id.PeerID(), graph.KindContact)
	if err != nil {
		return nil, err
	}
	var byPrefix, byName []*graph.Record
	for _, r := range rs {
		if len(ref) >= 3 && strings.HasPrefix(r.Key, strings.ToLower(ref)) {
			byPrefix = append(byPrefix, r)
		}
		if strings.EqualFold(r.Body.Card.DisplayName(), ref) {
			byName = append(byName, r)
		}
	}
	for _, m := range [][]*graph.Record{byPrefix, byName} {
		switch len(m) {
		case 0:
			continue
		case 1:
			return m[0], nil
		default:
			ids := make([]string, 0, len(m))
			for _, r := range m {
				ids = append(ids, r.Key+" ("+r.Body.Card.DisplayName()+")")
			}
			return nil, fmt.Errorf("%w: %q matches %d contacts: %s; use the id", api.ErrAmbiguous, ref, len(m), strings.Join(ids, ", "))
		}
	}
	return nil, fmt.Errorf("%w: no contact %q (try `kith contacts search %s`)", api.ErrNotFound, ref, ref)
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newContactID returns a random 10-character id (50 bits).
func newContactID() string {
	var b [7]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("bug: crypto/rand: " + err.Error())
	}
	return idEncoding.EncodeToString(b[:])[:10]
}

// AddContacts implements api.API.
func (n *Node) AddContacts(ctx context.Context, cards []graph.Card) ([]api.ContactRef, error) {
	if len(cards) == 0 {
		return nil, invalid("no cards to add")
	}
	if len(cards) > MaxAddBatch {
		return nil, fmt.Errorf("%w: %d cards in one request, limit %d", api.ErrTooLarge, len(cards), MaxAddBatch)
	}
	drafts := make([]graph.Draft, 0, len(cards))
	for i, c := range cards {
		nc, err := graph.NormalizeCard(c)
		if err != nil {
			return nil, fmt.Errorf("%w: card %d: %w", api.ErrInvalid, i+1, err)
		}
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: newContactID(), Card: &nc}, To: graph.Audience{Self: true}})
	}
	es, err := n.append(ctx, drafts...)
	if err != nil {
		return nil, err
	}
	out := make([]api.ContactRef, 0, len(es))
	for _, e := range es {
		out = append(out, api.ContactRef{ID: e.Body.Key, Name: e.Body.Card.DisplayName(), CID: e.CID.String()})
	}
	return out, nil
}

// linkedContact is a connection as an address-book entry: the card they
// share with me, then my private notes on them.
func (n *Node) linkedContact(ctx context.Context, p peer.ID, notes graph.Card) api.Contact {
	card := n.peerCard(ctx, p)
	card.Fields = append(card.Fields, notes.Fields...)
	name := card.DisplayName()
	if name == "" {
		name = p.String()
	}
	c := api.Contact{ID: p.String(), Peer: p.String(), Name: name, Card: card}
	if pi, err := n.store.PeerInfo(ctx, p); err == nil && !pi.LastSync.IsZero() {
		c.Updated = pi.LastSync.UTC()
	}
	return c
}

// EditContact implements api.API. For a linked contact (a connection's
// peer ID) the card is my private notes on them, kept beside what they
// share.
func (n *Node) EditContact(ctx context.Context, ref string, card graph.Card) (*api.Contact, error) {
	if p, err := peer.Decode(strings.TrimSpace(ref)); err == nil && n.isConnection(ctx, p) {
		for i, f := range card.Fields {
			nf, err := graph.NormalizeField(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
			}
			card.Fields[i] = nf
		}
		if _, err := n.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: p.String(), Card: &card}, To: graph.Audience{Self: true}}); err != nil {
			return nil, err
		}
		c := n.linkedContact(ctx, p, card)
		return &c, nil
	}
	nc, err := graph.NormalizeCard(card)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	r, err := n.findContact(ctx, ref)
	if err != nil {
		return nil, err
	}
	es, err := n.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: r.Key, Card: &nc}, To: graph.Audience{Self: true}})
	if err != nil {
		return nil, err
	}
	c := contactOf(&graph.Record{Identity: es[0].Identity, Kind: graph.KindContact, Key: r.Key, Version: graph.VersionOf(es[0]), CID: es[0].CID, Body: es[0].Body})
	return &c, nil
}

// RemoveContact implements api.API.
func (n *Node) RemoveContact(ctx context.Context, ref string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, err := n.findContact(ctx, ref)
	if err != nil {
		return err
	}
	_, err = n.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: r.Key, Del: true}, To: graph.Audience{Self: true}})
	return err
}

// SearchContacts implements api.API.
func (n *Node) SearchContacts(ctx context.Context, query string) ([]api.Contact, error) {
	if strings.TrimSpace(query) == "" {
		return nil, invalid("empty search query")
	}
	const limit = 200
	rs, err := n.store.Search(ctx, n.id.PeerID(), graph.KindContact, query, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.Contact, 0, len(rs))
	linked := map[peer.ID]bool{}
	for _, r := range rs {
		if p, err := peer.Decode(r.Key); err == nil {
			// My notes on a linked contact matched: show the whole contact.
			if n.isConnection(ctx, p) && !linked[p] {
				linked[p] = true
				out = append(out, n.linkedContact(ctx, p, *r.Body.Card))
			}
			continue
		}
		out = append(out, contactOf(r))
	}
	// Linked contacts whose shared cards match (connections are few: one
	// indexed query each).
	conns, err := n.connections(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range conns {
		if linked[p] || len(out) >= limit {
			continue
		}
		hits, err := n.store.Search(ctx, p, graph.KindCard, query, 1)
		if err != nil {
			return nil, err
		}
		if len(hits) == 0 {
			continue
		}
		var notes graph.Card
		if r, err := n.liveRecord(ctx, graph.KindContact, p.String()); err == nil {
			notes = *r.Body.Card
		}
		linked[p] = true
		out = append(out, n.linkedContact(ctx, p, notes))
	}
	return out, nil
}
