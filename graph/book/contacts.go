package book

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// MaxAddBatch bounds the cards of one AddContacts call.
const MaxAddBatch = 5000

// maxAmbiguousShown bounds the contacts an ambiguous reference lists.
const maxAmbiguousShown = 10

// contactOf is a local contact's record as an address-book entry. A
// contact made before contacts had UIDs shows the UID it is found by.
func contactOf(r *graph.Record) Contact {
	card := *r.Body.Card
	uid := ContactUID(r.Key, card)
	if UID(card) == "" {
		card = WithUID(card, uid)
	}
	return Contact{ID: r.Key, UID: uid, Name: BestName(card), Card: card,
		Updated: time.UnixMilli(r.Version.Time).UTC(), CID: r.CID.String()}
}

// linkedContact is a connection as an address-book entry: the card they
// share with me combined with my private notes on them.
func (b *Book) linkedContact(ctx context.Context, p peer.ID, notes graph.Card) (Contact, error) {
	shared, err := b.sharedCard(ctx, p)
	if err != nil {
		return Contact{}, err
	}
	uid := PeerUID(p)
	card := WithUID(Combine(shared, notes), uid)
	mine := graph.Card{Fields: slices.Clone(notes.Fields)}
	if mine.Fields == nil {
		mine.Fields = []graph.Field{}
	}
	c := Contact{ID: p.String(), Peer: p, UID: uid, Name: BestName(card), Card: card, Notes: &mine}
	t, err := b.store.LastSync(ctx, p)
	if err != nil {
		return Contact{}, err
	}
	if !t.IsZero() {
		c.Updated = t.UTC()
	}
	return c, nil
}

// sharedCard is what p shares with me, without a UID of theirs.
func (b *Book) sharedCard(ctx context.Context, p peer.ID) (graph.Card, error) {
	c, err := b.PeerCard(ctx, p)
	return WithoutUID(c), err
}

// notesOn returns my live notes on p and whether there are any.
func (b *Book) notesOn(ctx context.Context, p peer.ID) (graph.Card, bool, error) {
	r, err := b.liveRecord(ctx, graph.KindContact, p.String())
	if errors.Is(err, graph.ErrNotFound) {
		return graph.Card{}, false, nil
	}
	if err != nil {
		return graph.Card{}, false, err
	}
	return *r.Body.Card, true, nil
}

// Contacts lists my address book, local and linked contacts, by name. A
// contact whose record does not read (a damaged store) is listed last,
// with only its ID and Damaged saying why: the others are all there.
func (b *Book) Contacts(ctx context.Context) ([]Contact, error) {
	all, err := b.allContacts(ctx)
	var damaged *graph.DamagedError
	if err != nil && !errors.As(err, &damaged) {
		return nil, err
	}
	out := make([]Contact, 0, len(all))
	for _, t := range all {
		out = append(out, t.contact)
	}
	if damaged != nil {
		b.log.Warn("contacts that do not read", "count", len(damaged.Keys), "err", damaged.Err)
		for _, k := range damaged.Keys {
			out = append(out, Contact{ID: k, Damaged: damaged.Error()})
		}
	}
	return out, nil
}

// target is a contact a reference resolved to: a local contact's record,
// or a connection.
type target struct {
	contact Contact
	rec     *graph.Record // local contacts only
	peer    peer.ID       // linked contacts only
	notes   graph.Card    // linked contacts: my notes
	hasNote bool          // linked contacts: a live notes record exists
}

func (t *target) linked() bool { return t.peer != "" }

// allContacts returns every local and linked contact, by name. If some
// records do not read, it returns the others with a graph.DamagedError.
func (b *Book) allContacts(ctx context.Context) ([]*target, error) {
	rs, err := b.store.Records(ctx, b.self.ID, graph.KindContact)
	var damaged *graph.DamagedError
	if err != nil && !errors.As(err, &damaged) {
		return nil, err
	}
	conns, err := b.Connections(ctx)
	if err != nil {
		return nil, err
	}
	notes := map[string]graph.Card{}
	out := make([]*target, 0, len(rs)+len(conns))
	for _, r := range rs {
		if IsNotesKey(r.Key) {
			notes[r.Key] = *r.Body.Card
			continue
		}
		out = append(out, &target{contact: contactOf(r), rec: r})
	}
	for _, p := range conns {
		nc, ok := notes[p.String()]
		c, err := b.linkedContact(ctx, p, nc)
		if err != nil {
			return nil, err
		}
		out = append(out, &target{contact: c, peer: p, notes: nc, hasNote: ok})
	}
	slices.SortStableFunc(out, func(a, b *target) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.contact.Name), strings.ToLower(b.contact.Name)), strings.Compare(a.contact.ID, b.contact.ID))
	})
	if damaged != nil {
		return out, damaged
	}
	return out, nil
}

// Contact finds the one contact ref names (see node/api.API.Contact).
func (b *Book) Contact(ctx context.Context, ref string) (*Contact, error) {
	t, err := b.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &t.contact, nil
}

// refWords are the words a reference's words are prefixes of: those of
// the contact's names, emails and phones, and each phone's digits.
func refWords(c graph.Card) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Raw {
			continue
		}
		switch f.Name {
		case "fn", "n", "nickname", "email":
			out = append(out, Words(f.Value)...)
		case "tel":
			out = append(out, Words(f.Value)...)
			out = append(out, Digits(f.Value))
		}
	}
	return out
}

// matchesWords reports whether every word of ref is a prefix of a word of
// the contact.
func matchesWords(ref []string, words []string) bool {
	for _, r := range ref {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, r) }) {
			return false
		}
	}
	return true
}

// resolve finds the one contact ref names (see Contact). The
// first rule that matches anything decides: exact id or peer ID, then id
// or peer ID prefix, then exact name, then word prefixes.
func (b *Book) resolve(ctx context.Context, ref string) (*target, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, graph.Invalidf("empty contact reference")
	}
	if p, err := peer.Decode(ref); err == nil {
		if ok, err := b.IsConnection(ctx, p); err != nil {
			return nil, err
		} else if ok {
			notes, ok, err := b.notesOn(ctx, p)
			if err != nil {
				return nil, err
			}
			c, err := b.linkedContact(ctx, p, notes)
			if err != nil {
				return nil, err
			}
			return &target{contact: c, peer: p, notes: notes, hasNote: ok}, nil
		}
	}
	if !IsNotesKey(ref) {
		if r, err := b.liveRecord(ctx, graph.KindContact, strings.ToLower(ref)); err == nil {
			return &target{contact: contactOf(r), rec: r}, nil
		} else if !errors.Is(err, graph.ErrNotFound) {
			return nil, err
		}
	}
	all, err := b.allContacts(ctx)
	if err != nil {
		return nil, err
	}
	lower, folded, words := strings.ToLower(ref), strings.Join(strings.Fields(Fold(ref)), " "), Words(ref)
	rules := []func(t *target) bool{
		func(t *target) bool {
			if len(ref) < 3 {
				return false
			}
			if t.linked() {
				return strings.HasPrefix(t.contact.ID, ref)
			}
			return strings.HasPrefix(t.contact.ID, lower)
		},
		func(t *target) bool {
			return t.contact.Name != "" && strings.Join(strings.Fields(Fold(t.contact.Name)), " ") == folded
		},
		func(t *target) bool { return len(words) > 0 && matchesWords(words, refWords(t.contact.Card)) },
	}
	for _, rule := range rules {
		var found []*target
		for _, t := range all {
			if rule(t) {
				found = append(found, t)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		return nil, ambiguous(ref, found)
	}
	return nil, fmt.Errorf("%w: no contact %q (try `kith contacts search %s`)", graph.ErrNotFound, ref, ref)
}

func ambiguous(ref string, found []*target) error {
	names := make([]string, 0, min(len(found), maxAmbiguousShown))
	for i, t := range found {
		if i == maxAmbiguousShown {
			names = append(names, fmt.Sprintf("and %d more", len(found)-maxAmbiguousShown))
			break
		}
		names = append(names, fmt.Sprintf("%s (%s)", t.contact.ID, cmp.Or(t.contact.Name, "no name")))
	}
	return fmt.Errorf("%w: %q matches %d contacts: %s; name one by its id (e.g. %s) or by more of its name",
		graph.ErrAmbiguous, ref, len(found), strings.Join(names, ", "), found[0].contact.ID)
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// contactIDLen is the length of a local contact's id.
const contactIDLen = 10

// newContactID returns a random 10-character id (50 bits).
func newContactID() string {
	var b [7]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("bug: crypto/rand: " + err.Error())
	}
	return idEncoding.EncodeToString(b[:])[:contactIDLen]
}

// normalizeNotes normalises my notes on a connection: each field as any
// field, at most one of a single-valued field; unlike a local card they
// need no name.
func normalizeNotes(c graph.Card) (graph.Card, error) {
	out := graph.Card{Fields: make([]graph.Field, 0, len(c.Fields))}
	for _, f := range c.Fields {
		nf, err := graph.NormalizeField(f)
		if err != nil {
			return graph.Card{}, err
		}
		if nf.Name == UIDField {
			continue
		}
		if spec, ok := graph.LookupField(nf.Name); ok && !nf.Raw && !spec.Multi && len(out.Values(nf.Name)) > 0 {
			return graph.Card{}, graph.Invalidf("%s %q: a card has at most one %s", nf.Name, nf.Value, nf.Name)
		}
		out.Fields = append(out.Fields, nf)
	}
	return out, nil
}

// uidClaims keeps two AddContacts batches that name one UID apart: the
// second looks its UIDs up only once the first is stored, so that both
// cannot add a contact for it. Batches with different UIDs (an import's
// batches) still overlap: one is signed while the one before is stored.
type uidClaims struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the batch holding the UID is done
}

// claim waits until no other batch holds any of uids, then holds them
// until release is called.
func (u *uidClaims) claim(ctx context.Context, uids []string) (release func(), err error) {
	for {
		u.mu.Lock()
		var busy chan struct{}
		for _, uid := range uids {
			if ch, ok := u.held[uid]; ok {
				busy = ch
				break
			}
		}
		if busy == nil {
			done := make(chan struct{})
			if u.held == nil {
				u.held = map[string]chan struct{}{}
			}
			for _, uid := range uids {
				u.held[uid] = done
			}
			u.mu.Unlock()
			return func() {
				u.mu.Lock()
				for _, uid := range uids {
					delete(u.held, uid)
				}
				u.mu.Unlock()
				close(done)
			}, nil
		}
		u.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// importCard is one card of an AddContacts batch, normalised.
type importCard struct {
	card  graph.Card
	uid   string
	fresh bool    // the UID was made here: no contact can have it yet
	peer  peer.ID // set when the UID names a connection (urn:kith:peer:)
}

// AddContacts validates and imports cards, all in one append (see
// node/api.API.AddContacts).
func (b *Book) AddContacts(ctx context.Context, cards []graph.Card) ([]ContactRef, error) {
	if len(cards) == 0 {
		return nil, graph.Invalidf("no cards to add")
	}
	if len(cards) > MaxAddBatch {
		return nil, fmt.Errorf("%w: %d cards in one request, limit %d", graph.ErrTooLarge, len(cards), MaxAddBatch)
	}
	items := make([]importCard, len(cards))
	var claimed, lookup []string
	for i, c := range cards {
		// Every card is checked, its entry's size included, before any is
		// stored: one bad card refuses the batch, named.
		it, err := b.checkCard(c)
		if err != nil {
			return nil, fmt.Errorf("card %d: %w", i+1, err)
		}
		switch {
		case it.peer != "":
			claimed = append(claimed, it.uid)
		case !it.fresh:
			claimed = append(claimed, it.uid)
			lookup = append(lookup, it.uid)
		}
		items[i] = it
	}
	release, err := b.imports.claim(ctx, claimed)
	if err != nil {
		return nil, err
	}
	defer release()
	found, err := b.store.ContactsByUID(ctx, b.self.ID, lookup)
	if err != nil {
		return nil, err
	}
	if len(found) > 0 || len(claimed) > len(lookup) {
		// The batch changes records that exist (a contact found by its
		// UID, my notes on a connection): a read-modify-write, under the
		// lock that edits and merges take, looked up again under it. A
		// batch of new contacts needs only its UIDs claimed, so that
		// imports overlap (one is signed while the one before is stored).
		b.mu.Lock()
		defer b.mu.Unlock()
		if found, err = b.store.ContactsByUID(ctx, b.self.ID, lookup); err != nil {
			return nil, err
		}
	}

	batch := &importBatch{book: b, found: found, byKey: map[string]int{}, current: map[string]graph.Card{}, keyOf: map[string]string{}}
	out := make([]ContactRef, len(items))
	for i, it := range items {
		if it.peer != "" {
			out[i], err = batch.linked(ctx, it)
		} else {
			out[i] = batch.local(it)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(batch.drafts) == 0 {
		return out, nil
	}
	es, err := b.append(ctx, batch.drafts...)
	if err != nil {
		return nil, err
	}
	cids := make(map[string]string, len(es))
	for _, e := range es {
		cids[e.Body.Key] = e.CID.String()
	}
	for i := range out {
		if c, ok := cids[out[i].ID]; ok {
			out[i].CID = c
		}
	}
	return out, nil
}

// checkCard normalises one card of an AddContacts batch and checks that
// its entry fits (as a new contact, or as my notes on a connection).
func (b *Book) checkCard(c graph.Card) (importCard, error) {
	var it importCard
	uid := strings.TrimSpace(UID(c))
	if p, ok := ParsePeerUID(uid); ok {
		notes, err := normalizeNotes(c)
		if err != nil {
			return it, err
		}
		it = importCard{card: notes, uid: uid, peer: p}
	} else {
		nc, err := graph.NormalizeCard(c)
		if err != nil {
			return it, err
		}
		it = importCard{card: nc, uid: UID(nc)}
		if it.uid == "" {
			it.uid, it.fresh = NewUID(), true
			it.card = WithUID(nc, it.uid)
		}
	}
	key := strings.Repeat("k", contactIDLen)
	if it.peer != "" {
		key = it.peer.String()
	}
	card := it.card
	if err := b.w.Fits(graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Card: &card}, To: graph.Audience{Self: true}}); err != nil {
		if errors.Is(err, graph.ErrTooLarge) {
			return it, fmt.Errorf("%w: the card is too large for an entry (%d KiB at most, sealed and signed); make it smaller (a smaller photo, fewer or shorter fields)", graph.ErrTooLarge, spec.MaxEntrySize>>10)
		}
		return it, err
	}
	return it, nil
}

// CardProblem is a card of a batch that AddContacts would refuse, and why.
type CardProblem struct {
	Card  int    `json:"card"`  // its number in the batch, from 1
	Code  string `json:"code"`  // "invalid" or "too_large"
	Error string `json:"error"` // what is wrong, for people
}

// CheckContacts checks every card as AddContacts would, each on its own,
// storing nothing, and lists the ones it would refuse (see
// node/api.API.CheckContacts).
func (b *Book) CheckContacts(ctx context.Context, cards []graph.Card) ([]CardProblem, error) {
	if len(cards) > MaxAddBatch {
		return nil, fmt.Errorf("%w: %d cards in one request, limit %d", graph.ErrTooLarge, len(cards), MaxAddBatch)
	}
	var out []CardProblem
	for i, c := range cards {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := b.checkCard(c); err != nil {
			code := "invalid"
			if errors.Is(err, graph.ErrTooLarge) {
				code = "too_large"
			} else if !errors.Is(err, graph.ErrInvalid) {
				return nil, fmt.Errorf("checking card %d: %w", i+1, err)
			}
			out = append(out, CardProblem{Card: i + 1, Code: code, Error: err.Error()})
		}
	}
	return out, nil
}

// importBatch builds the entries of one AddContacts call.
type importBatch struct {
	book  *Book
	found map[string]*graph.Record // by UID, as stored before the batch

	drafts  []graph.Draft
	byKey   map[string]int        // record key → its draft
	current map[string]graph.Card // record key → its card as the batch leaves it
	keyOf   map[string]string     // UID → key of a contact the batch adds
	conns   map[peer.ID]bool      // my connections, read once
}

// put sets key's card (nil: a tombstone), replacing an earlier draft of
// the batch for key.
func (b *importBatch) put(key string, card *graph.Card) {
	d := graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Card: card, Del: card == nil}, To: graph.Audience{Self: true}}
	if i, ok := b.byKey[key]; ok {
		b.drafts[i] = d
	} else {
		b.byKey[key] = len(b.drafts)
		b.drafts = append(b.drafts, d)
	}
	if card == nil {
		b.current[key] = graph.Card{}
	} else {
		b.current[key] = *card
	}
}

// local imports a card as a local contact: new, or updating the contact
// that has its UID.
func (b *importBatch) local(it importCard) ContactRef {
	key, old, cid := "", graph.Card{}, ""
	if k, ok := b.keyOf[it.uid]; ok {
		key, old = k, b.current[k]
	} else if r, ok := b.found[it.uid]; ok {
		key, old, cid = r.Key, *r.Body.Card, r.CID.String()
		if c, ok := b.current[key]; ok {
			old = c
		}
	}
	if key == "" {
		key = newContactID()
		b.keyOf[it.uid] = key
		card := it.card
		b.put(key, &card)
		return ContactRef{ID: key, Name: BestName(card), Status: StatusNew}
	}
	card := DropExportedFN(it.card, old)
	if primary := ContactUID(key, old); primary != "" && primary != it.uid {
		// Found by the UID of a contact merged into this one: what its
		// card adds goes into this contact, which keeps its own UID.
		card, _ = Merge(old, card)
	}
	if Same(card, old) {
		return ContactRef{ID: key, Name: BestName(old), CID: cid, Status: StatusUnchanged}
	}
	b.put(key, &card)
	return ContactRef{ID: key, Name: BestName(card), Status: StatusUpdated}
}

// linked imports a linked contact's card: the fields their own card lacks
// become my notes on them. A card for a peer that is not a connection is
// skipped: it never becomes a local copy.
func (b *importBatch) linked(ctx context.Context, it importCard) (ContactRef, error) {
	ref := ContactRef{ID: it.peer.String(), Name: BestName(it.card), Status: StatusSkipped}
	if b.conns == nil {
		conns, err := b.book.Connections(ctx)
		if err != nil {
			return ref, err
		}
		b.conns = map[peer.ID]bool{}
		for _, p := range conns {
			b.conns[p] = true
		}
	}
	if !b.conns[it.peer] {
		return ref, nil
	}
	key := it.peer.String()
	old, inBatch := b.current[key]
	if !inBatch {
		var err error
		if old, _, err = b.book.notesOn(ctx, it.peer); err != nil {
			return ref, err
		}
	}
	shared, err := b.book.sharedCard(ctx, it.peer)
	if err != nil {
		return ref, err
	}
	notes := Subtract(DropExportedFN(it.card, Combine(shared, old)), shared)
	ref.Name = BestName(Combine(shared, notes))
	if Same(notes, old) {
		ref.Status = StatusUnchanged
		return ref, nil
	}
	ref.Status = StatusUpdated
	if len(notes.Fields) == 0 {
		b.put(key, nil)
	} else {
		b.put(key, &notes)
	}
	return ref, nil
}

// EditContact replaces a contact's card; for a linked contact it sets my
// notes: the fields of card that their own card lacks.
func (b *Book) EditContact(ctx context.Context, ref string, card graph.Card) (*Contact, error) {
	// A UID the edit sets is claimed first, as imports claim theirs (and
	// in the same order: claim, then lock), so that an import cannot add
	// a second contact with it meanwhile.
	if uid := strings.TrimSpace(UID(card)); uid != "" {
		release, err := b.imports.claim(ctx, []string{uid})
		if err != nil {
			return nil, err
		}
		defer release()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if t.linked() {
		shared, err := b.sharedCard(ctx, t.peer)
		if err != nil {
			return nil, err
		}
		return b.keepAsNotes(ctx, t, card, shared)
	}
	nc, err := graph.NormalizeCard(card)
	if err != nil {
		return nil, err
	}
	switch uid := UID(nc); {
	case uid == "":
		if old := UID(*t.rec.Body.Card); old != "" {
			nc = WithUID(nc, old) // an edit keeps the UID
		}
	case uid != t.contact.UID:
		held, err := b.store.ContactsByUID(ctx, b.self.ID, []string{uid})
		if err != nil {
			return nil, err
		}
		if r, ok := held[uid]; ok && r.Key != t.rec.Key {
			return nil, fmt.Errorf("%w: contact %s has the UID %s", graph.ErrExists, r.Key, uid)
		}
	}
	es, err := b.append(ctx, selfDraft(graph.KindContact, t.rec.Key, &nc))
	if err != nil {
		return nil, err
	}
	c := contactOf(&graph.Record{Identity: es[0].Identity, Kind: graph.KindContact, Key: t.rec.Key, Version: graph.VersionOf(es[0]), CID: es[0].CID, Body: es[0].Body})
	return &c, nil
}

// keepAsNotes makes what card holds beyond the card the connection shares
// (shared) my notes on them, and returns the linked contact as it is then.
func (b *Book) keepAsNotes(ctx context.Context, t *target, card, shared graph.Card) (*Contact, error) {
	notes, err := normalizeNotes(Subtract(WithoutUID(card), shared))
	if err != nil {
		return nil, err
	}
	if err := b.setNotes(ctx, t, notes); err != nil {
		return nil, err
	}
	c, err := b.linkedContact(ctx, t.peer, notes)
	return &c, err
}

// setNotes writes my notes on a linked contact: a tombstone when there
// are none left, nothing when they are unchanged.
func (b *Book) setNotes(ctx context.Context, t *target, notes graph.Card) error {
	switch {
	case Same(notes, t.notes):
		return nil
	case len(notes.Fields) == 0:
		if !t.hasNote {
			return nil
		}
		_, err := b.append(ctx, selfDraft(graph.KindContact, t.peer.String(), nil))
		return err
	}
	_, err := b.append(ctx, selfDraft(graph.KindContact, t.peer.String(), &notes))
	return err
}

// RemoveContact deletes a local contact, or my notes on a linked one.
func (b *Book) RemoveContact(ctx context.Context, ref string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.resolve(ctx, ref)
	if err != nil {
		return err
	}
	if t.linked() {
		return b.setNotes(ctx, t, graph.Card{})
	}
	_, err = b.append(ctx, selfDraft(graph.KindContact, t.rec.Key, nil))
	return err
}

// SearchContacts full-text searches my contacts and my connections' cards.
func (b *Book) SearchContacts(ctx context.Context, query string) ([]Contact, error) {
	if strings.TrimSpace(query) == "" {
		return nil, graph.Invalidf("empty search query")
	}
	const limit = 200
	rs, err := b.store.Search(ctx, b.self.ID, graph.KindContact, query, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Contact, 0, len(rs))
	linked := map[peer.ID]bool{}
	for _, r := range rs {
		if p, err := peer.Decode(r.Key); err == nil {
			// My notes on a linked contact matched: show the whole contact.
			if ok, err := b.IsConnection(ctx, p); err != nil {
				return nil, err
			} else if ok && !linked[p] {
				linked[p] = true
				c, err := b.linkedContact(ctx, p, *r.Body.Card)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			continue
		}
		out = append(out, contactOf(r))
	}
	// Linked contacts whose shared cards match (connections are few: one
	// indexed query each).
	conns, err := b.Connections(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range conns {
		if linked[p] || len(out) >= limit {
			continue
		}
		hits, err := b.store.Search(ctx, p, graph.KindCard, query, 1)
		if err != nil {
			return nil, err
		}
		if len(hits) == 0 {
			continue
		}
		notes, _, err := b.notesOn(ctx, p)
		if err != nil {
			return nil, err
		}
		linked[p] = true
		c, err := b.linkedContact(ctx, p, notes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Duplicates groups contacts that are likely one person.
func (b *Book) Duplicates(ctx context.Context) ([]DuplicateGroup, error) {
	all, err := b.allContacts(ctx)
	if err != nil {
		return nil, err
	}
	// Union-find over the contacts, joined by every key they share.
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	holders := map[string][]int{} // key → contacts with it
	for i, t := range all {
		for _, k := range duplicateKeys(t.contact.Card) {
			if hs := holders[k]; len(hs) == 0 || hs[len(hs)-1] != i {
				holders[k] = append(hs, i)
			}
		}
	}
	keys := make([]string, 0, len(holders))
	for k, hs := range holders {
		if len(hs) < 2 {
			continue
		}
		keys = append(keys, k)
		for _, h := range hs[1:] {
			parent[find(h)] = find(hs[0])
		}
	}
	slices.Sort(keys)
	member := make([]bool, len(all))
	for _, k := range keys {
		for _, h := range holders[k] {
			member[h] = true
		}
	}
	groups := map[int]*DuplicateGroup{}
	var order []int
	for i, t := range all { // by name: groups and their members come out sorted
		if !member[i] {
			continue
		}
		root := find(i)
		g, ok := groups[root]
		if !ok {
			g = &DuplicateGroup{Reasons: []string{}}
			groups[root] = g
			order = append(order, root)
		}
		g.Contacts = append(g.Contacts, t.contact)
	}
	for _, k := range keys {
		g := groups[find(holders[k][0])]
		g.Reasons = append(g.Reasons, k)
	}
	out := make([]DuplicateGroup, 0, len(order))
	for _, root := range order {
		out = append(out, *groups[root])
	}
	return out, nil
}

// duplicateKeys returns what makes two cards likely one person: "email
// <address>", "phone <digits>", "name <words>" (see graph/book).
func duplicateKeys(c graph.Card) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Raw {
			continue
		}
		switch f.Name {
		case "email":
			out = append(out, "email "+EmailKey(f.Value))
		case "tel":
			if k := TelKey(f.Value); k != "" {
				out = append(out, "phone "+k)
			}
		}
	}
	for _, k := range NameKeys(c) {
		out = append(out, "name "+k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MergeContacts merges the contact from into into and deletes from.
func (b *Book) MergeContacts(ctx context.Context, into, from string) (*MergeResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep, err := b.resolve(ctx, into)
	if err != nil {
		return nil, err
	}
	gone, err := b.resolve(ctx, from)
	if err != nil {
		return nil, err
	}
	switch {
	case keep.contact.ID == gone.contact.ID:
		return nil, graph.Invalidf("%q and %q are the same contact, %s", into, from, keep.contact.ID)
	case gone.linked():
		return nil, graph.Invalidf("%s (%s) is a connection: their card is theirs, so it cannot be merged into another contact; merge the other way round, with it first", gone.contact.ID, gone.contact.Name)
	}
	del := selfDraft(graph.KindContact, gone.rec.Key, nil)
	if keep.linked() {
		// What the local contact adds to the connection's card becomes
		// my notes on them.
		shared, err := b.sharedCard(ctx, keep.peer)
		if err != nil {
			return nil, err
		}
		merged, dropped := Merge(Combine(shared, keep.notes), gone.contact.Card)
		notes, err := normalizeNotes(Subtract(merged, shared))
		if err != nil {
			return nil, err
		}
		drafts := []graph.Draft{del}
		switch {
		case len(notes.Fields) > 0:
			drafts = append(drafts, selfDraft(graph.KindContact, keep.peer.String(), &notes))
		case keep.hasNote:
			drafts = append(drafts, selfDraft(graph.KindContact, keep.peer.String(), nil))
		}
		if _, err := b.append(ctx, drafts...); err != nil {
			return nil, err
		}
		c, err := b.linkedContact(ctx, keep.peer, notes)
		if err != nil {
			return nil, err
		}
		return &MergeResult{Contact: c, Dropped: dropped}, nil
	}
	merged, dropped := Merge(keep.contact.Card, gone.contact.Card)
	// Keep OTHER's UIDs as aliases, so that its old vCard imported again
	// finds this contact instead of bringing OTHER back.
	for _, f := range MergedUIDs(gone.rec.Key, gone.contact.Card) {
		if !slices.ContainsFunc(merged.Fields, func(g graph.Field) bool { return g.Name == f.Name && g.Value == f.Value }) {
			merged.Fields = append(merged.Fields, f)
		}
	}
	nc, err := graph.NormalizeCard(merged)
	if err != nil {
		return nil, fmt.Errorf("merging %s into %s: %w", gone.contact.ID, keep.contact.ID, err)
	}
	es, err := b.append(ctx, selfDraft(graph.KindContact, keep.rec.Key, &nc), del)
	if err != nil {
		return nil, err
	}
	c := contactOf(&graph.Record{Identity: es[0].Identity, Kind: graph.KindContact, Key: keep.rec.Key, Version: graph.VersionOf(es[0]), CID: es[0].CID, Body: es[0].Body})
	return &MergeResult{Contact: c, Dropped: dropped}, nil
}

// MaxLookup bounds the ids and the UIDs of one LookupContacts call.
const MaxLookup = 1000

// LookupContacts returns the contacts named exactly by one of ids (a
// local contact's id or a connection's peer ID) or one of uids (a UID a
// local contact is found by: its own or one merged into it; a
// connection's urn:kith:peer: UID), each once, in no set order. A name
// that matches nothing is left out: unlike [Book.Contact] it never
// searches, so it costs a few index lookups however big the book is
// (the CardDAV server finds a card's resource this way).
func (b *Book) LookupContacts(ctx context.Context, ids, uids []string) ([]Contact, error) {
	if len(ids) > MaxLookup || len(uids) > MaxLookup {
		return nil, fmt.Errorf("%w: %d ids and %d UIDs in one lookup, limit %d each", graph.ErrTooLarge, len(ids), len(uids), MaxLookup)
	}
	var out []Contact
	seen := map[string]bool{}
	add := func(c Contact) {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	var local []string
	for _, uid := range uids {
		if p, ok := ParsePeerUID(uid); ok {
			ids = append(ids, p.String())
		} else {
			local = append(local, uid)
		}
	}
	for _, id := range ids {
		if p, err := peer.Decode(id); err == nil && len(id) >= minPeerIDLen {
			ok, err := b.IsConnection(ctx, p)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			notes, _, err := b.notesOn(ctx, p)
			if err != nil {
				return nil, err
			}
			c, err := b.linkedContact(ctx, p, notes)
			if err != nil {
				return nil, err
			}
			add(c)
			continue
		}
		if id == "" || IsNotesKey(id) {
			continue
		}
		r, err := b.liveRecord(ctx, graph.KindContact, strings.ToLower(id))
		if errors.Is(err, graph.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		add(contactOf(r))
	}
	if len(local) > 0 {
		found, err := b.store.ContactsByUID(ctx, b.self.ID, local)
		if err != nil {
			return nil, err
		}
		for _, uid := range local {
			if r, ok := found[uid]; ok {
				add(contactOf(r))
			}
		}
	}
	return out, nil
}
