package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// localState is what a node keeps besides the logs, as every schema
// version can hold it.
type localState struct {
	requests      []store.Request
	invites       []invite
	peers         []store.PeerInfo
	declined      []peer.ID
	dropped       map[peer.ID]time.Time
	readerVersion int
}

type invite struct {
	secret  []byte
	expires time.Time
	circles []string
	used    bool
}

// fixture is representative local state: lists of none, one and several
// items, requests both ways, used and unused invites, peers known by
// address only, by sync only, and by both.
func fixture(t *testing.T) localState {
	p := func(label string) peer.ID { return identity.NewTest(t, label).PeerID() }
	ms := func(n int64) time.Time { return time.UnixMilli(1_700_000_000_000 + n) }
	future := time.Unix(time.Now().Add(24*time.Hour).Unix(), 0)
	return localState{
		requests: []store.Request{
			{Peer: p("alice"), Note: "hi, it's Alice", Time: ms(1)},
			{Peer: p("carol"), Outgoing: true, Note: "", Circles: []string{"family", "friends"}, Time: ms(2)},
			{Peer: p("dave"), Outgoing: true, Note: "from the choir", Circles: []string{"work"}, Time: ms(3)},
		},
		invites: []invite{
			{secret: []byte("secret-1"), expires: future, circles: []string{"friends", "family", "book club"}},
			{secret: []byte("secret-2"), expires: future},
			{secret: []byte("secret-3"), expires: future, circles: []string{"friends"}, used: true},
		},
		peers: []store.PeerInfo{
			{Peer: p("bob"), Addrs: []string{"/ip4/192.0.2.1/tcp/4001", "/ip6/2001:db8::1/udp/4001/quic-v1"}, LastSync: ms(10)},
			{Peer: p("carol"), Addrs: []string{"/dns4/carol.example/tcp/4001"}},
			{Peer: p("dave"), LastSync: ms(11)},
		},
		declined:      []peer.ID{p("erin")},
		dropped:       map[peer.ID]time.Time{p("frank"): ms(20)},
		readerVersion: 7,
	}
}

// filler puts logs (copied from the store at src) and local state into a
// store at one schema version, the way that version stored them, and
// returns the local state it could store.
type filler func(t *testing.T, db *sql.Conn, src string, local localState) localState

// fillers are by the schema version whose layout they write: a store at
// version k is filled by the one with the largest version ≤ k. A
// migration that changes how something is stored adds one.
var fillers = map[int]filler{
	1: func(t *testing.T, db *sql.Conn, src string, local localState) localState {
		copyLogs(t, db, src, false)
		local.dropped = nil // version 1 did not record it
		putLocalJoined(t, db, local)
		return local
	},
	2: func(t *testing.T, db *sql.Conn, src string, local localState) localState {
		copyLogs(t, db, src, true)
		putLocalJoined(t, db, local)
		return local
	},
	3: func(t *testing.T, db *sql.Conn, src string, local localState) localState {
		copyLogs(t, db, src, true)
		putLocalTyped(t, db, local)
		return local
	},
}

func exec(t *testing.T, db *sql.Conn, q string, args ...any) {
	t.Helper()
	_, err := db.ExecContext(t.Context(), q, args...)
	require.NoError(t, err, "%s", q)
}

// copyLogs copies entries, heads and records from the store at src, and
// writes the search index (and contact_uids, if the version has it) as
// the address book's index gives them.
func copyLogs(t *testing.T, db *sql.Conn, src string, uids bool) {
	t.Helper()
	exec(t, db, "ATTACH DATABASE ? AS src", src)
	for _, table := range []string{"entries", "heads", "records", "forks"} {
		exec(t, db, fmt.Sprintf("INSERT INTO main.%s SELECT * FROM src.%s", table, table))
	}
	if uids {
		exec(t, db, "INSERT INTO main.contact_uids SELECT * FROM src.contact_uids")
	}
	exec(t, db, "DETACH DATABASE src")
	rows, err := db.QueryContext(t.Context(), "SELECT id, kind, key, body FROM records WHERE del = 0")
	require.NoError(t, err)
	type doc struct {
		id   int64
		text []string
	}
	var docs []doc
	for rows.Next() {
		var (
			id        int64
			kind, key string
			bb        []byte
		)
		require.NoError(t, rows.Scan(&id, &kind, &key, &bb))
		b, err := graph.DecodeBody(bb)
		require.NoError(t, err)
		if text := (book.Index{}).SearchText(kind, key, b); text != nil {
			docs = append(docs, doc{id, text})
		}
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.NotEmpty(t, docs, "the fixture has searchable records")
	for _, d := range docs {
		exec(t, db, "INSERT INTO cards_fts (rowid, name, emails, phones, orgs, notes) VALUES (?, ?, ?, ?, ?, ?)",
			d.id, d.text[0], d.text[1], d.text[2], d.text[3], d.text[4])
	}
}

// putLocalJoined stores local state as versions 1 and 2 did: lists joined
// in one text column.
func putLocalJoined(t *testing.T, db *sql.Conn, l localState) {
	t.Helper()
	for _, r := range l.requests {
		exec(t, db, "INSERT INTO requests (peer, outgoing, note, circles, time) VALUES (?, ?, ?, ?, ?)",
			[]byte(r.Peer), r.Outgoing, r.Note, strings.Join(r.Circles, ","), r.Time.UnixMilli())
	}
	for _, i := range l.invites {
		exec(t, db, "INSERT INTO invites (secret, expires, circles, used) VALUES (?, ?, ?, ?)",
			i.secret, i.expires.Unix(), strings.Join(i.circles, ","), i.used)
	}
	for _, p := range l.peers {
		exec(t, db, "INSERT INTO peers (peer, addrs, last_sync) VALUES (?, ?, ?)",
			[]byte(p.Peer), strings.Join(p.Addrs, "\n"), unixMilli(p.LastSync))
	}
	putLocalFlat(t, db, l)
}

// putLocalTyped stores local state as version 3 does: a row per list item.
func putLocalTyped(t *testing.T, db *sql.Conn, l localState) {
	t.Helper()
	for _, r := range l.requests {
		exec(t, db, "INSERT INTO requests (peer, outgoing, note, time) VALUES (?, ?, ?, ?)",
			[]byte(r.Peer), r.Outgoing, r.Note, r.Time.UnixMilli())
		for i, c := range r.Circles {
			exec(t, db, "INSERT INTO request_circles (peer, pos, circle) VALUES (?, ?, ?)", []byte(r.Peer), i, c)
		}
	}
	for _, inv := range l.invites {
		exec(t, db, "INSERT INTO invites (secret, expires, used) VALUES (?, ?, ?)", inv.secret, inv.expires.Unix(), inv.used)
		for i, c := range inv.circles {
			exec(t, db, "INSERT INTO invite_circles (secret, pos, circle) VALUES (?, ?, ?)", inv.secret, i, c)
		}
	}
	for _, p := range l.peers {
		exec(t, db, "INSERT INTO peers (peer, last_sync) VALUES (?, ?)", []byte(p.Peer), unixMilli(p.LastSync))
		for i, a := range p.Addrs {
			exec(t, db, "INSERT INTO peer_addrs (peer, pos, addr) VALUES (?, ?, ?)", []byte(p.Peer), i, a)
		}
	}
	putLocalFlat(t, db, l)
}

// putLocalFlat stores what every version stored the same way.
func putLocalFlat(t *testing.T, db *sql.Conn, l localState) {
	t.Helper()
	for _, p := range l.declined {
		exec(t, db, "INSERT INTO declined (peer, time) VALUES (?, ?)", []byte(p), int64(1_700_000_000_000))
	}
	for p, tm := range l.dropped {
		exec(t, db, "INSERT INTO dropped_by (peer, time) VALUES (?, ?)", []byte(p), tm.UnixMilli())
	}
	exec(t, db, "INSERT INTO meta (key, value) VALUES ('reader_version', ?)", l.readerVersion)
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// logsFixture writes representative logs into a store: my contacts (with
// a UID, from before UIDs, edited, deleted), notes on a connection, a
// card, a circle, and another author's entries this node cannot read.
func logsFixture(t *testing.T, st *store.Store) *identity.Identity {
	ctx := t.Context()
	me, bob := identity.NewTest(t, "me"), identity.NewTest(t, "bob")
	clock := time.UnixMilli(1_700_000_000_000)
	w, err := graph.NewWriter(ctx, me, st, func() time.Time { clock = clock.Add(time.Second); return clock })
	require.NoError(t, err)
	self := graph.Audience{Self: true}
	set := func(kind, key string, fields ...string) graph.Draft {
		return graph.Draft{Body: graph.Body{Kind: kind, Key: key, Card: card(fields...)}, To: self}
	}
	_, err = w.Append(ctx,
		set(graph.KindContact, "ann", "uid", "urn:uuid:ann", "fn", "Ann Lee", "email", "ann@example.org", "tel", "+44 20 7946 0958"),
		set(graph.KindContact, "old", "fn", "Old Friend", "org", "Acme"),
		set(graph.KindContact, "cy", "fn", "Cy Draft"),
		set(graph.KindContact, "gone", "fn", "Gone Away"),
		set(graph.KindContact, bob.PeerID().String(), "note", "met at FOSDEM"),
		set(graph.KindCard, "friends", "fn", "Me", "tel", "+1 555 0100"),
		graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "friends", Members: []string{bob.PeerID().String()}}, To: self},
	)
	require.NoError(t, err)
	_, err = w.Append(ctx,
		set(graph.KindContact, "cy", "fn", "Cy Final", "uid", "urn:uuid:cy"),
		graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: "gone", Del: true}, To: self},
	)
	require.NoError(t, err)
	bw, err := graph.NewWriter(ctx, bob, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	es, err := bw.Append(ctx, set(graph.KindCard, "friends", "fn", "Bob"), set(graph.KindCard, "work", "fn", "Robert"))
	require.NoError(t, err)
	for _, e := range es {
		c := *e
		c.Body = nil // kept unread
		require.NoError(t, st.Put(ctx, []*graph.Entry{&c}))
	}
	return me
}

// readBack is everything a store holds, read through its public API.
type readBack struct {
	Heads       map[peer.ID]graph.Head
	Logs        map[peer.ID][]store.LogEntry
	Records     map[string][]*graph.Record
	Tombstone   *graph.Record
	Searches    map[string][]string
	ByUID       map[string]string
	Contacts    int
	Requests    []store.Request
	Incoming    int
	Invites     map[string][]string
	InviteErrs  map[string]error
	Peers       []store.PeerInfo
	Declined    map[peer.ID]bool
	Dropped     map[peer.ID]time.Time
	ReaderFound int
}

func readAll(t *testing.T, st *store.Store, me *identity.Identity, local localState) readBack {
	ctx := t.Context()
	id := me.PeerID()
	var r readBack
	var err error
	r.Heads, err = st.Heads(ctx)
	require.NoError(t, err)
	r.Logs = map[peer.ID][]store.LogEntry{}
	for a := range r.Heads {
		r.Logs[a], err = st.Log(ctx, a, 0, 0)
		require.NoError(t, err)
	}
	r.Records = map[string][]*graph.Record{}
	for _, kind := range []string{graph.KindGenesis, graph.KindKeys, graph.KindContact, graph.KindCard, graph.KindCircle} {
		r.Records[kind], err = st.Records(ctx, id, kind)
		require.NoError(t, err)
	}
	r.Tombstone, err = st.Record(ctx, id, graph.KindContact, "gone")
	require.NoError(t, err)
	r.Searches = map[string][]string{}
	for _, q := range []struct{ kind, query string }{
		{graph.KindContact, "ann"}, {graph.KindContact, "7946"}, {graph.KindContact, "acme"}, {graph.KindContact, "fosdem"},
		{graph.KindContact, "final"}, {graph.KindContact, "draft"}, {graph.KindContact, "gone"}, {graph.KindCard, "0100"},
	} {
		recs, err := st.Search(ctx, id, q.kind, q.query, 0)
		require.NoError(t, err)
		keys := []string{}
		for _, rec := range recs {
			keys = append(keys, rec.Key)
		}
		r.Searches[q.kind+":"+q.query] = keys
	}
	byUID, err := st.ContactsByUID(ctx, id, []string{"urn:uuid:ann", "urn:uuid:cy", book.LegacyUID("old"), book.LegacyUID("gone"), book.LegacyUID("cy")})
	require.NoError(t, err)
	r.ByUID = map[string]string{}
	for uid, rec := range byUID {
		r.ByUID[uid] = rec.Key
	}
	r.Contacts, err = st.LocalContacts(ctx, id)
	require.NoError(t, err)
	r.Requests, err = st.Requests(ctx)
	require.NoError(t, err)
	for _, want := range r.Requests {
		got, err := st.GetRequest(ctx, want.Peer)
		require.NoError(t, err)
		require.Equal(t, want, *got, "GetRequest(%s)", want.Peer)
	}
	r.Incoming, err = st.CountRequests(ctx)
	require.NoError(t, err)
	r.Invites, r.InviteErrs = map[string][]string{}, map[string]error{}
	for _, inv := range local.invites {
		r.Invites[string(inv.secret)], r.InviteErrs[string(inv.secret)] = st.UseInvite(ctx, inv.secret, time.Now())
	}
	for _, p := range local.peers {
		pi, err := st.PeerInfo(ctx, p.Peer)
		require.NoError(t, err)
		r.Peers = append(r.Peers, pi)
	}
	r.Declined = map[peer.ID]bool{}
	for _, p := range local.declined {
		r.Declined[p], err = st.Declined(ctx, p)
		require.NoError(t, err)
	}
	r.Dropped, err = st.DroppedPeers(ctx)
	require.NoError(t, err)
	// The recorded reader version is kept: rereading at it does nothing.
	r.ReaderFound, err = st.Reread(ctx, func(*spec.Entry) (*graph.Body, error) {
		t.Error("Reread read again at the recorded reader version")
		return nil, graph.ErrNotForMe
	}, local.readerVersion)
	require.NoError(t, err)
	return r
}

// wantLocal is what the read-back of local state must be.
func wantLocal(r readBack, l localState) readBack {
	r.Requests = l.requests
	r.Incoming = 1
	r.Invites, r.InviteErrs = map[string][]string{}, map[string]error{}
	for _, inv := range l.invites {
		if inv.used {
			r.Invites[string(inv.secret)], r.InviteErrs[string(inv.secret)] = nil, store.ErrInviteInvalid
		} else {
			r.Invites[string(inv.secret)], r.InviteErrs[string(inv.secret)] = inv.circles, nil
		}
	}
	r.Peers = l.peers
	r.Declined = map[peer.ID]bool{}
	for _, p := range l.declined {
		r.Declined[p] = true
	}
	r.Dropped = maps.Clone(l.dropped)
	if r.Dropped == nil {
		r.Dropped = map[peer.ID]time.Time{}
	}
	r.ReaderFound = 0
	return r
}

// TestUpgradeFromEveryVersion builds a store at each schema version (the
// latest included, which checks the fillers against the code), fills it
// the way that version stored things, opens it with this code, and checks
// that it reaches the latest version, passes Check, and reads back the
// same as a store written by this code. A new migration is covered by
// adding its file (and, if it changes how something is stored, a filler).
func TestUpgradeFromEveryVersion(t *testing.T) {
	require.GreaterOrEqual(t, store.SchemaVersion, 3)
	src := store.NewTest(t, book.Index{})
	me := logsFixture(t, src)
	local := fixture(t)
	wantLogs := readAll(t, src, me, localState{})
	srcPath := src.Path()

	for k := 1; k <= store.SchemaVersion; k++ {
		t.Run(fmt.Sprintf("from version %d", k), func(t *testing.T) {
			ctx := t.Context()
			layout := slices.Max(slices.Collect(func(yield func(int) bool) {
				for v := range fillers {
					if v <= k && !yield(v) {
						return
					}
				}
			}))
			path := filepath.Join(t.TempDir(), "kith.db")
			old, err := store.OpenAt(ctx, path, book.Index{}, k)
			require.NoError(t, err)
			conn, err := old.DB().Conn(ctx)
			require.NoError(t, err)
			var v int
			require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
			require.Equal(t, k, v, "OpenAt(%d) made version %d", k, v)
			stored := fillers[layout](t, conn, srcPath, local)
			require.NoError(t, conn.Close())
			require.NoError(t, old.Close())

			st, err := store.Open(ctx, path, book.Index{})
			require.NoError(t, err, "opening a version %d store", k)
			defer st.Close()
			require.NoError(t, st.DB().QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
			require.Equal(t, store.SchemaVersion, v, "schema version after opening a version %d store", k)
			rep, err := st.Check(ctx, graph.Opener(me))
			require.NoError(t, err)
			require.True(t, rep.OK(), "Check after upgrading from version %d: %v", k, rep.Problems)
			require.Equal(t, wantLocal(wantLogs, stored), readAll(t, st, me, stored))
		})
	}
}

// TestNewerSchemaRefused: a store a newer kith migrated is not opened,
// and the error names both versions and what to do.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kith.db")
	st, err := store.Open(ctx, path, book.Index{})
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion+1))
	require.NoError(t, err)
	require.NoError(t, st.Close())
	_, err = store.Open(ctx, path, book.Index{})
	require.ErrorIs(t, err, store.ErrNewerSchema)
	for _, want := range []string{
		fmt.Sprintf("version %d", store.SchemaVersion+1),
		fmt.Sprintf("up to %d", store.SchemaVersion),
		"run the newer kith",
	} {
		require.Contains(t, err.Error(), want)
	}
}

// TestFailedMigrationRollsBack: a migration that fails leaves the store
// at the version before it, unchanged, and says which migration failed.
func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kith.db")
	st, err := store.OpenAt(ctx, path, book.Index{}, 2)
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, "INSERT INTO requests (peer, outgoing, note, circles, time) VALUES (x'01', 1, '', 'a,b', 1)")
	require.NoError(t, err)
	// Something in the way of migration 3, half way through it.
	_, err = st.DB().ExecContext(ctx, "CREATE TABLE peer_addrs (x)")
	require.NoError(t, err)
	require.NoError(t, st.Close())

	_, err = store.Open(ctx, path, book.Index{})
	require.ErrorContains(t, err, "schema version 3 (0003_")
	st, err = store.OpenAt(ctx, path, book.Index{}, 2)
	require.NoError(t, err)
	defer st.Close()
	var (
		v       int
		circles string
	)
	require.NoError(t, st.DB().QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	require.Equal(t, 2, v)
	require.NoError(t, st.DB().QueryRowContext(ctx, "SELECT circles FROM requests").Scan(&circles), "the request's column is back")
	require.Equal(t, "a,b", circles)
	var n int
	require.NoError(t, st.DB().QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'request_circles'").Scan(&n))
	require.Zero(t, n, "a table migration 3 made before failing is still there")
}

// TestOpenNeedsIndex: a store without an Index would find nothing; Open
// refuses and says what to pass.
func TestOpenNeedsIndex(t *testing.T) {
	_, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kith.db"), nil)
	require.ErrorContains(t, err, "book.Index")
}
