package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
)

// TestOpenPathWithURICharacters: a path with characters that mean
// something in a URI (?, #, %, space) opens the file at that path, and
// opens it again with the data in it.
func TestOpenPathWithURICharacters(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "my kith?x=1#frag%41 100%", "a+b&c=d")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	path := filepath.Join(dir, "kith.db")
	st, err := store.Open(ctx, path, book.Index{})
	require.NoError(t, err)
	require.NoError(t, st.PutInvite(ctx, []byte("s"), time.Unix(2_000_000_000, 0), []string{"friends"}))
	require.NoError(t, st.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err, "the database is not where the path says")
	require.NotZero(t, fi.Size())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.True(t, strings.HasPrefix(e.Name(), "kith.db"), "stray file %q beside the store", e.Name())
	}

	st, err = store.Open(ctx, path, book.Index{})
	require.NoError(t, err)
	defer st.Close()
	cs, err := st.UseInvite(ctx, []byte("s"), time.Unix(1_900_000_000, 0))
	require.NoError(t, err, "the data written before is not there")
	require.Equal(t, []string{"friends"}, cs)
}
