package store_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// pageSize is SQLite's default page size, the store's.
const pageSize = 4096

// damage writes garbage over bytes of the database file: flip turns one
// byte of the first place pattern occurs in the file; smash overwrites
// the header of the page where it occurs, as a disk or a bug might.
func damage(t testing.TB, path string, pattern []byte, smash bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	at := bytes.Index(b, pattern)
	require.GreaterOrEqual(t, at, 0, "pattern not in the file")
	if smash {
		page := at / pageSize * pageSize
		copy(b[page:page+12], bytes.Repeat([]byte{0xa5}, 12))
	} else {
		b[at+len(pattern)/2] ^= 0xff
	}
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// TestSalvage: a store with one entry's bytes flipped and one page of
// entries smashed is checked (problems, not an error) and salvaged: the
// entries that read and verify, up to each log's first gap, in a new store
// that checks out, with its local tables copied.
func TestSalvage(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	dir := t.TempDir()
	path := filepath.Join(dir, "kith.db")
	st, err := store.Open(ctx, path, book.Index{})
	require.NoError(t, err)
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	var ds []graph.Draft
	for i := range 600 {
		ds = append(ds, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: fmt.Sprint(i), Card: card("fn", fmt.Sprint("Name ", i), "note", strings.Repeat("x", 300))}, To: graph.Audience{Self: true}})
	}
	es, err := w.Append(ctx, ds...)
	require.NoError(t, err)
	friend := identity.NewTest(t, "friend").PeerID()
	require.NoError(t, st.Decline(ctx, friend, time.Now()))
	require.NoError(t, st.Close())

	sig := func(seq int) []byte { e := es[seq-1]; return e.Sig[len(e.Sig)-16:] }
	damage(t, path, sig(400), false) // one entry's signature
	damage(t, path, sig(500), true)  // a page of entries

	st, err = store.Open(ctx, path, book.Index{})
	require.NoError(t, err)
	rep, err := st.Check(ctx, graph.Opener(me))
	require.NoError(t, err, "Check must report damage, not fail")
	require.False(t, rep.OK())
	t.Logf("check: %d problems, first %q", len(rep.Problems), rep.Problems[0])
	require.NoError(t, st.Close())

	dst := filepath.Join(dir, "kith.db.repair")
	sr, err := store.Salvage(ctx, path, dst, book.Index{}, graph.Opener(me))
	require.NoError(t, err)
	t.Logf("salvage: %+v", sr)
	if sr.Entries != 399 || sr.Logs != 1 || sr.Lost < 600-399-10 {
		t.Errorf("salvaged %d entries of %d logs, lost %d; want the 399 before the flipped one", sr.Entries, sr.Logs, sr.Lost)
	}
	fixed, err := store.Open(ctx, dst, book.Index{})
	require.NoError(t, err)
	defer fixed.Close()
	rep, err = fixed.Check(ctx, graph.Opener(me))
	require.NoError(t, err)
	require.True(t, rep.OK(), "the salvaged store: %v", rep.Problems)
	n, err := fixed.Count(ctx, me.PeerID(), graph.KindContact)
	require.NoError(t, err)
	require.Equal(t, 399, n)
	declined, err := fixed.Declined(ctx, friend)
	require.NoError(t, err)
	require.True(t, declined, "the local tables are copied")
}
