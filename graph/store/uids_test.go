package store_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// keysByUID returns uid → record key for the uids that name a contact.
func keysByUID(t *testing.T, st *store.Store, me *identity.Identity, uids ...string) map[string]string {
	t.Helper()
	rs, err := st.ContactsByUID(t.Context(), me.PeerID(), uids)
	require.NoError(t, err)
	out := map[string]string{}
	for uid, r := range rs {
		out[uid] = r.Key
	}
	return out
}

func TestContactsByUID(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	put := func(drafts ...graph.Draft) {
		t.Helper()
		_, err := w.Append(ctx, drafts...)
		require.NoError(t, err)
	}
	contact := func(key string, del bool, fields ...string) graph.Draft {
		d := graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Del: del}, To: graph.Audience{Self: true}}
		if !del {
			d.Body.Card = card(fields...)
		}
		return d
	}
	friend := identity.NewTest(t, "friend").PeerID().String()
	put(
		contact("ann", false, "uid", "urn:uuid:ann", "fn", "Ann"),
		contact("old", false, "fn", "Made before UIDs"),
		contact(friend, false, "note", "notes on a connection have no UID"),
		// Two versions of one record in one batch: only the last one's UID.
		contact("bob", false, "uid", "urn:uuid:bob-1", "fn", "Bob"),
		contact("bob", false, "uid", "urn:uuid:bob-2", "fn", "Bob"),
	)
	legacy := book.LegacyUID("old")
	require.Equal(t, map[string]string{"urn:uuid:ann": "ann", legacy: "old", "urn:uuid:bob-2": "bob"},
		keysByUID(t, st, me, "urn:uuid:ann", legacy, "urn:uuid:bob-1", "urn:uuid:bob-2", "urn:uuid:nobody", book.LegacyUID(friend)))

	// An edit that changes the UID moves it; a tombstone drops it; an
	// edit that gives a UID to a contact made before UIDs replaces the
	// derived one.
	put(contact("ann", false, "uid", "urn:uuid:ann-2", "fn", "Ann"), contact("bob", true), contact("old", false, "uid", legacy, "fn", "Old"))
	require.Equal(t, map[string]string{"urn:uuid:ann-2": "ann", legacy: "old"},
		keysByUID(t, st, me, "urn:uuid:ann", "urn:uuid:ann-2", "urn:uuid:bob-2", legacy))

	// Many UIDs in one lookup (more than one query's worth).
	var drafts []graph.Draft
	var uids []string
	for i := range 1200 {
		uid := book.NewUID()
		uids = append(uids, uid)
		drafts = append(drafts, contact(uid[9:19]+string(rune('a'+i%26)), false, "uid", uid, "fn", "X"))
	}
	put(drafts...)
	got := keysByUID(t, st, me, uids...)
	require.Len(t, got, len(uids))
}

// TestMigrateIndexesUIDs: a store made by a version without contact_uids
// TestCheckFindsStaleUIDIndex: Check notices contact_uids out of step.
func TestCheckFindsStaleUIDIndex(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "kith.db"), book.Index{})
	require.NoError(t, err)
	defer st.Close()
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	_, err = w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: "ann", Card: card("uid", "urn:uuid:ann", "fn", "Ann")}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, "UPDATE contact_uids SET uid = 'urn:uuid:other'")
	require.NoError(t, err)
	rep, err := st.Check(ctx, nil)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 2, "%v", rep.Problems)
}
