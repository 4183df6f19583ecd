package book_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// The address book runs on a store and a writer alone: no host, no
// network. These tests drive it as the node does.

type bookStore struct{ *store.Store }

func (s bookStore) LastSync(ctx context.Context, p peer.ID) (time.Time, error) {
	pi, err := s.PeerInfo(ctx, p)
	return pi.LastSync, err
}

// writer counts appends and can refuse them, as the node's does while its
// log is being restored.
type writer struct {
	w       *graph.Writer
	appends int
	refuse  error
}

func (w *writer) CanWrite() error { return w.refuse }

func (w *writer) Fits(d graph.Draft) error { return w.w.Fits(d) }

func (w *writer) Append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error) {
	if w.refuse != nil {
		return nil, w.refuse
	}
	w.appends++
	return w.w.Append(ctx, drafts...)
}

type fixture struct {
	book  *book.Book
	w     *writer
	st    *store.Store
	id    *identity.Identity
	clock time.Time
}

func newBook(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{st: store.NewTest(t, book.Index{}), id: identity.NewTest(t, "alice"), clock: time.UnixMilli(1_700_000_000_000)}
	gw, err := graph.NewWriter(ctx, f.id, f.st, func() time.Time { f.clock = f.clock.Add(time.Millisecond); return f.clock })
	require.NoError(t, err)
	_, err = gw.Append(ctx, append([]graph.Draft{
		{Body: graph.Body{Kind: graph.KindGenesis, Recovery: make([]byte, 32)}, To: graph.Audience{Public: true}},
		{Body: graph.Body{Kind: graph.KindKeys, Enc: f.id.EncryptionKey()}, To: graph.Audience{Public: true}},
	}, book.CircleDrafts(book.DefaultCircles)...)...)
	require.NoError(t, err)
	f.w = &writer{w: gw}
	f.book = book.New(graph.Reader{ID: f.id.PeerID(), EncKey: f.id.EncryptionKey()}, bookStore{f.st}, f.w, nil)
	return f
}

func TestBookProfile(t *testing.T) {
	ctx := t.Context()
	f := newBook(t)
	p, err := f.book.SetMe(ctx, book.SetMeRequest{Field: "FN", Values: []string{"Alice Liddell"}})
	require.NoError(t, err)
	require.Len(t, p.Fields, 1)
	require.Equal(t, []string{"family", "friends", "work"}, p.Fields[0].Circles, "the name goes to every circle")
	_, err = f.book.SetMe(ctx, book.SetMeRequest{Field: "email", Values: []string{"alice@example.org"}, Circles: []string{"friends"}})
	require.NoError(t, err)

	_, err = f.book.SetMe(ctx, book.SetMeRequest{Field: "email", Values: []string{"not an address"}})
	require.ErrorIs(t, err, graph.ErrInvalid)
	_, err = f.book.SetMe(ctx, book.SetMeRequest{Field: "email", Values: []string{"a@example.org"}, Circles: []string{"nope"}})
	require.ErrorIs(t, err, graph.ErrNotFound)
	_, err = f.book.AddCircle(ctx, "Bad Name")
	require.ErrorIs(t, err, graph.ErrInvalid)
	_, err = f.book.AddCircle(ctx, "friends")
	require.ErrorIs(t, err, graph.ErrExists)
	_, err = f.book.RemoveCircle(ctx, "friends", false)
	require.ErrorIs(t, err, graph.ErrNotEmpty, "friends alone sees the email")
	c, err := f.book.RemoveCircle(ctx, "work", false)
	require.NoError(t, err, "work sees only the name, which other circles hold too")
	require.Equal(t, []string{"fn"}, c.FieldNames)

	me, err := f.book.Me(ctx, "friends")
	require.NoError(t, err)
	require.Len(t, me.Fields, 2)
}

// A write while the log cannot be written says why before anything else.
func TestBookAsksWriterFirst(t *testing.T) {
	ctx := t.Context()
	f := newBook(t)
	noLog := errors.New("no log yet")
	f.w.refuse = noLog
	_, err := f.book.AddCircle(ctx, "Bad Name")
	require.ErrorIs(t, err, noLog)
	_, err = f.book.SetMe(ctx, book.SetMeRequest{Field: "bogus"})
	require.ErrorIs(t, err, noLog)
	require.Zero(t, f.w.appends)
}

// A connection's cards are sealed to it once its key is known: until then
// it is left out, and Reissue seals them again when the key arrives.
func TestBookConnectionAndReissue(t *testing.T) {
	ctx := t.Context()
	f := newBook(t)
	_, err := f.book.SetMe(ctx, book.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
	require.NoError(t, err)
	bob := identity.NewTest(t, "bob")
	require.NoError(t, f.book.Establish(ctx, bob.PeerID(), []string{"friends"}))
	ok, err := f.book.IsConnection(ctx, bob.PeerID())
	require.NoError(t, err)
	require.True(t, ok)
	got, err := f.book.CirclesOf(ctx, bob.PeerID())
	require.NoError(t, err)
	require.Equal(t, []string{"friends"}, got)
	p, err := f.book.Connection(ctx, bob.PeerID().String())
	require.NoError(t, err)
	require.Equal(t, bob.PeerID(), p)

	friendsCard := func() *graph.Body { // as bob opens it; nil if he cannot
		t.Helper()
		r, err := f.st.Record(ctx, f.id.PeerID(), graph.KindCard, "friends")
		require.NoError(t, err)
		les, err := f.st.Log(ctx, f.id.PeerID(), r.Version.Seq-1, 1)
		require.NoError(t, err)
		e, err := graph.Verify(les[0].Raw, graph.Opener(bob))
		require.NoError(t, err)
		return e.Body
	}
	require.Nil(t, friendsCard(), "bob's key is unknown: the card is not sealed to him yet")

	// Bob's keys entry arrives (as a pull would store it).
	bw, err := graph.NewWriter(ctx, bob, f.st, time.Now)
	require.NoError(t, err)
	_, err = bw.Append(ctx,
		graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: make([]byte, 32)}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: bob.EncryptionKey()}, To: graph.Audience{Public: true}})
	require.NoError(t, err)
	require.NoError(t, f.book.Reissue(ctx, bob.PeerID()))
	b := friendsCard()
	require.NotNil(t, b, "after Reissue bob can open the friends card")
	require.Equal(t, "Alice", b.Card.DisplayName())

	require.NoError(t, f.book.Disconnect(ctx, bob.PeerID()))
	gone, err := f.book.Disconnected(ctx, bob.PeerID())
	require.NoError(t, err)
	require.True(t, gone)
	_, err = f.book.Connection(ctx, bob.PeerID().String())
	require.ErrorIs(t, err, graph.ErrNotFound)
}

func TestBookContacts(t *testing.T) {
	ctx := t.Context()
	f := newBook(t)
	refs, err := f.book.AddContacts(ctx, []graph.Card{card("fn", "Grace Hopper", "email", "grace@example.org"), card("fn", "Grace H.", "email", "GRACE@example.org")})
	require.NoError(t, err)
	require.Len(t, refs, 2)
	_, err = f.book.Contact(ctx, "grace")
	require.ErrorIs(t, err, graph.ErrAmbiguous)
	g, err := f.book.Contact(ctx, "hopper")
	require.NoError(t, err)
	dups, err := f.book.Duplicates(ctx)
	require.NoError(t, err)
	require.Len(t, dups, 1)
	require.Contains(t, dups[0].Reasons, "email grace@example.org")
	m, err := f.book.MergeContacts(ctx, g.ID, refs[1].ID)
	require.NoError(t, err)
	require.Equal(t, g.ID, m.Contact.ID)
	all, err := f.book.Contacts(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	_, err = f.book.EditContact(ctx, "hopper", card("fn", "Grace Hopper", "email", "bad"))
	require.ErrorIs(t, err, graph.ErrInvalid)
	require.NoError(t, f.book.RemoveContact(ctx, g.ID))
	_, err = f.book.Contact(ctx, g.ID)
	require.ErrorIs(t, err, graph.ErrNotFound)
}

// failingKeys is a store that cannot read keys records.
type failingKeys struct{ bookStore }

var errDisk = errors.New("disk I/O error")

func (s failingKeys) Record(ctx context.Context, id peer.ID, kind, key string) (*graph.Record, error) {
	if kind == graph.KindKeys {
		return nil, errDisk
	}
	return s.bookStore.Record(ctx, id, kind, key)
}

// A store failure while finding a member's key is an error, never taken
// for "no key" (which would seal the card without them, silently).
func TestBookReadersStoreError(t *testing.T) {
	ctx := t.Context()
	f := newBook(t)
	bob := identity.NewTest(t, "bob")
	require.NoError(t, f.book.Establish(ctx, bob.PeerID(), []string{"friends"}))
	b := book.New(graph.Reader{ID: f.id.PeerID(), EncKey: f.id.EncryptionKey()}, failingKeys{bookStore{f.st}}, f.w, nil)
	before := f.w.appends
	_, err := b.SetMe(ctx, book.SetMeRequest{Field: "email", Values: []string{"a@example.org"}, Circles: []string{"friends"}})
	require.ErrorIs(t, err, errDisk)
	require.Equal(t, before, f.w.appends, "nothing written")
}

// TestAddContactsTooLarge: a card whose entry would be over
// spec.MaxEntrySize refuses its batch, named and as too large (not an
// internal error), before anything is stored; CheckContacts lists it.
func TestAddContactsTooLarge(t *testing.T) {
	ctx := t.Context()
	f := newBook(t)
	big := graph.Card{Fields: []graph.Field{{Name: "fn", Value: "Too Big"}}}
	for i := range 16 {
		big.Fields = append(big.Fields, graph.Field{Name: "note", Value: strings.Repeat(string(rune('a'+i)), 4096)})
	}
	cards := []graph.Card{{Fields: []graph.Field{{Name: "fn", Value: "Fine"}}}, big}
	appends := f.w.appends
	_, err := f.book.AddContacts(ctx, cards)
	if !errors.Is(err, graph.ErrTooLarge) || !strings.Contains(err.Error(), "card 2") {
		t.Fatalf("AddContacts with a too large card = %v, want ErrTooLarge naming card 2", err)
	}
	require.Equal(t, appends, f.w.appends, "something was appended")
	problems, err := f.book.CheckContacts(ctx, cards)
	require.NoError(t, err)
	if len(problems) != 1 || problems[0].Card != 2 || problems[0].Code != "too_large" {
		t.Errorf("CheckContacts = %+v, want card 2 too_large", problems)
	}
	cs, err := f.book.Contacts(ctx)
	require.NoError(t, err)
	require.Empty(t, cs)
}
