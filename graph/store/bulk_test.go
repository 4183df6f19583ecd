package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// loadedEntries writes a log with contacts (with and without UIDs), edits
// that move a UID, a tombstone and a card through a normal store, and
// returns the store and its entries, verified and opened.
func loadedEntries(t *testing.T) (*identity.Identity, *store.Store, []*graph.Entry) {
	t.Helper()
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	contact := func(key string, del bool, fields ...string) graph.Draft {
		d := graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Del: del}, To: graph.Audience{Self: true}}
		if !del {
			d.Body.Card = card(fields...)
		}
		return d
	}
	// More contacts than a bulk Put inserts with one statement, in one
	// batch, two of them changed afterwards.
	var fillers []graph.Draft
	for i := range 400 {
		k := fmt.Sprintf("filler-%d", i)
		fillers = append(fillers, contact(k, false, "uid", "urn:uuid:"+k, "fn", "Filler "+k))
	}
	for _, batch := range [][]graph.Draft{
		{
			contact("rao", false, "uid", "urn:uuid:rao", "fn", "Dr. Rao", "tel", "+1-555-0100", "org", "Clinic"),
			contact("ann", false, "uid", "urn:uuid:ann", "fn", "Ann Müller", "email", "ann@example.org"),
			contact("old", false, "fn", "Made before UIDs"),
			contact("bob", false, "uid", "urn:uuid:bob-1", "fn", "Bob", "org", "Acme Clinic Supplies"),
			{Body: graph.Body{Kind: graph.KindCard, Key: "self", Card: card("fn", "Me", "email", "me@example.org")}, To: graph.Audience{Self: true}},
		},
		{contact("bob", false, "uid", "urn:uuid:bob-2", "fn", "Bob", "org", "Acme")},
		{contact("ann", true), contact("rao", false, "uid", "urn:uuid:rao", "fn", "Dr. Rao", "org", "Hospital")},
		fillers,
		{contact("filler-7", true), contact("filler-300", false, "uid", "urn:uuid:filler-300", "fn", "Filler Edited")},
	} {
		_, err := w.Append(ctx, batch...)
		require.NoError(t, err)
	}
	log, err := st.Log(ctx, me.PeerID(), 0, 0)
	require.NoError(t, err)
	var entries []*graph.Entry
	for _, le := range log {
		e, err := graph.Verify(le.Raw, graph.Opener(me))
		require.NoError(t, err)
		entries = append(entries, e)
	}
	return me, st, entries
}

// TestBulkLoadMatchesNormal: a store loaded in bulk (OpenBulk, Put in
// batches, FinishBulk) is the store Put makes one batch at a time: Check
// clean, same heads, records, search results and UIDs.
func TestBulkLoadMatchesNormal(t *testing.T) {
	ctx := t.Context()
	me, normal, entries := loadedEntries(t)
	path := filepath.Join(t.TempDir(), "bulk.db")
	bulk, err := store.OpenBulk(ctx, path, book.Index{})
	require.NoError(t, err)
	t.Cleanup(func() { bulk.Close() })
	bulk.ExpectRecords(10) // fewer than it holds: the fold grows past it
	// Batches of 3, then of 300: a record changed in the batch that
	// created it, and in a later one.
	for i := 0; i < len(entries); {
		n := 3
		if i >= 6 {
			n = 300
		}
		require.NoError(t, bulk.Put(ctx, entries[i:min(i+n, len(entries))]))
		i += n
	}
	// Before FinishBulk, Record reads the records folded in memory (an
	// import's rotation checks read genesis and rotate records so).
	for _, key := range []string{"rao", "ann", "bob", "filler-7", "filler-300"} {
		want, err := normal.Record(ctx, me.PeerID(), graph.KindContact, key)
		require.NoError(t, err)
		got, err := bulk.Record(ctx, me.PeerID(), graph.KindContact, key)
		require.NoError(t, err)
		require.Equal(t, want.Version, got.Version, key)
		require.Equal(t, want.CID, got.CID, key)
		require.Equal(t, want.Body.Del, got.Body.Del, key)
		require.Equal(t, want.Body.Card, got.Body.Card, key)
	}
	_, err = bulk.Record(ctx, me.PeerID(), graph.KindContact, "nobody")
	require.ErrorIs(t, err, graph.ErrNotFound)
	rep, err := bulk.Check(ctx, graph.Opener(me))
	require.NoError(t, err)
	require.False(t, rep.OK(), "Check before FinishBulk = OK, want the missing records and indexes reported")
	live, err := bulk.FinishBulk(ctx)
	require.NoError(t, err)
	for _, kind := range []string{graph.KindContact, graph.KindCard} {
		n, err := normal.Count(ctx, me.PeerID(), kind)
		require.NoError(t, err)
		require.Equal(t, n, live[me.PeerID()][kind], "FinishBulk's count of live %s records", kind)
	}
	// FinishBulk dropped contact_uids_record and built it again: the
	// schema is the one migrations give.
	require.Equal(t, schemaOf(t, normal), schemaOf(t, bulk))
	rep, err = bulk.Check(ctx, graph.Opener(me))
	require.NoError(t, err)
	require.True(t, rep.OK(), "Check after FinishBulk: %v", rep.Problems)
	want, err := normal.Check(ctx, graph.Opener(me))
	require.NoError(t, err)
	require.Equal(t, want, rep)

	heads, err := bulk.Heads(ctx)
	require.NoError(t, err)
	wantHeads, err := normal.Heads(ctx)
	require.NoError(t, err)
	require.Equal(t, wantHeads, heads)
	for _, kind := range []string{graph.KindContact, graph.KindCard} {
		got, err := bulk.Records(ctx, me.PeerID(), kind)
		require.NoError(t, err)
		want, err := normal.Records(ctx, me.PeerID(), kind)
		require.NoError(t, err)
		require.Equal(t, want, got, "Records(%s)", kind)
	}
	for _, q := range []string{"rao", "clinic", "hospital", "muller", "acme", "bob", "me", "nobody"} {
		for _, kind := range []string{graph.KindContact, graph.KindCard} {
			got, err := bulk.Search(ctx, me.PeerID(), kind, q, 0)
			require.NoError(t, err)
			want, err := normal.Search(ctx, me.PeerID(), kind, q, 0)
			require.NoError(t, err)
			require.Equal(t, want, got, "Search(%s, %q)", kind, q)
		}
	}
	uids := []string{"urn:uuid:rao", "urn:uuid:ann", "urn:uuid:bob-1", "urn:uuid:bob-2", book.LegacyUID("old")}
	require.Equal(t, keysByUID(t, normal, me, uids...), keysByUID(t, bulk, me, uids...))
	n, err := bulk.LocalContacts(ctx, me.PeerID())
	require.NoError(t, err)
	wantN, err := normal.LocalContacts(ctx, me.PeerID())
	require.NoError(t, err)
	require.Equal(t, wantN, n)

	// After FinishBulk, Put indexes as usual; and the store opens normally.
	w, err := graph.NewWriter(ctx, me, bulk, nil)
	require.NoError(t, err)
	_, err = w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: "cy", Card: card("uid", "urn:uuid:cy", "fn", "Cyrus")}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	require.NoError(t, bulk.Close())
	again, err := store.Open(ctx, path, book.Index{})
	require.NoError(t, err)
	defer again.Close()
	rep, err = again.Check(ctx, graph.Opener(me))
	require.NoError(t, err)
	require.True(t, rep.OK(), "Check after reopening: %v", rep.Problems)
	rs, err := again.Search(ctx, me.PeerID(), graph.KindContact, "cyrus", 0)
	require.NoError(t, err)
	require.Len(t, rs, 1)
}

// TestBulkPutFailureIsFinal: without a journal a failed Put cannot be
// rolled back, so the bulk load refuses to go on.
func TestBulkPutFailureIsFinal(t *testing.T) {
	ctx := t.Context()
	_, _, entries := loadedEntries(t)
	bulk, err := store.OpenBulk(ctx, filepath.Join(t.TempDir(), "bulk.db"), book.Index{})
	require.NoError(t, err)
	defer bulk.Close()
	require.NoError(t, bulk.Put(ctx, entries[:1]))
	require.Error(t, bulk.Put(ctx, entries[2:3]), "Put past a gap")
	require.ErrorIs(t, bulk.Put(ctx, entries[1:2]), store.ErrBulkFailed)
	_, err = bulk.FinishBulk(ctx)
	require.ErrorIs(t, err, store.ErrBulkFailed)
}

func TestOpenBulkNeedsNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kith.db")
	require.NoError(t, os.WriteFile(path, []byte("something"), 0o600))
	_, err := store.OpenBulk(t.Context(), path, book.Index{})
	require.ErrorIs(t, err, store.ErrNotEmpty)
}

// TestCheckWithVerified: Check skips the signatures of a log only up to a
// head the caller verified, and reports a log that does not reach it or
// ends at another entry; damaged bytes are found all the same.
func TestCheckWithVerified(t *testing.T) {
	ctx := t.Context()
	me, st, entries := loadedEntries(t)
	head := entries[len(entries)-1]
	other := entries[len(entries)-2]
	tests := []struct {
		name   string
		heads  map[peer.ID]graph.Head
		wantOK bool
	}{
		{"none", nil, true},
		{"the head", map[peer.ID]graph.Head{me.PeerID(): {Seq: head.Seq, CID: head.CID}}, true},
		{"an earlier entry", map[peer.ID]graph.Head{me.PeerID(): {Seq: other.Seq, CID: other.CID}}, true},
		{"another entry at the head's seq", map[peer.ID]graph.Head{me.PeerID(): {Seq: head.Seq, CID: other.CID}}, false},
		{"past the head", map[peer.ID]graph.Head{me.PeerID(): {Seq: head.Seq + 1, CID: head.CID}}, false},
		{"a log not held", map[peer.ID]graph.Head{identity.NewTest(t, "nobody").PeerID(): {Seq: 1, CID: head.CID}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := st.CheckWith(ctx, store.CheckOptions{Open: graph.Opener(me), Verified: tc.heads})
			require.NoError(t, err)
			if rep.OK() != tc.wantOK {
				t.Errorf("CheckWith(%s).OK() = %v, want %v: %v", tc.name, rep.OK(), tc.wantOK, rep.Problems)
			}
		})
	}

	// A flipped byte inside a skipped signature changes the entry's
	// CID: found though the signature is not verified.
	_, err := st.DB().ExecContext(ctx, "UPDATE entries SET raw = CAST(substr(raw, 1, length(raw) - 1) || x'00' AS BLOB) WHERE seq = 2")
	require.NoError(t, err)
	rep, err := st.CheckWith(ctx, store.CheckOptions{Verified: map[peer.ID]graph.Head{me.PeerID(): {Seq: head.Seq, CID: head.CID}}})
	require.NoError(t, err)
	require.False(t, rep.OK(), "CheckWith after damage = OK")
	_, err = st.DB().ExecContext(ctx, "UPDATE entries SET raw = ? WHERE seq = 2", entries[1].Raw) // for the cleanup's Check
	require.NoError(t, err)
}

// schemaOf returns st's schema: each table's and index's name and SQL.
func schemaOf(t *testing.T, st *store.Store) []string {
	rows, err := st.DB().QueryContext(t.Context(), "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name, sql string
		require.NoError(t, rows.Scan(&typ, &name, &sql))
		out = append(out, typ+" "+name+": "+sql)
	}
	require.NoError(t, rows.Err())
	return out
}
