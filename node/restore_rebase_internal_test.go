package node

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// TestRebaseIsOneTransaction: a rebase takes a friend's longer history of
// my log and appends my records again on top. A crash between the two
// used to leave the friend's history without my records; now either my
// log stays as it was or the whole rebased log is stored.
func TestRebaseIsOneTransaction(t *testing.T) {
	ctx := t.Context()
	id := identity.NewTest(t, "alice")
	circle := func(k string) graph.Draft {
		return graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: k}, To: graph.Audience{Self: true}}
	}
	base := []graph.Draft{
		{Body: graph.Body{Kind: graph.KindGenesis, Recovery: make([]byte, 32)}, To: graph.Audience{Public: true}},
		{Body: graph.Body{Kind: graph.KindKeys, Enc: id.EncryptionKey()}, To: graph.Audience{Public: true}},
	}
	// The friend's copy: the common start, then two circles I wrote on
	// another device state (a store since lost).
	friend, err := graph.NewWriter(ctx, id, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	common, err := friend.Append(ctx, base...)
	require.NoError(t, err)
	theirs, err := friend.Append(ctx, circle("climbing"), circle("choir"))
	require.NoError(t, err)

	// Mine: the common start, then one circle the friend never saw.
	st := store.NewTest(t, book.Index{})
	require.NoError(t, st.Put(ctx, common))
	w, err := graph.NewWriter(ctx, id, st, nil)
	require.NoError(t, err)
	_, err = w.Append(ctx, circle("chess"))
	require.NoError(t, err)
	lw := newLogWriter(w, id, st, slog.New(slog.DiscardHandler), func() {})

	has := func(k string) bool {
		_, err := st.Record(ctx, id.PeerID(), graph.KindCircle, k)
		return err == nil
	}
	crash := errors.New("crash")
	lw.rebaseFault = func() error { return crash }
	if _, _, err := lw.Rebase(ctx, theirs); !errors.Is(err, crash) {
		t.Fatalf("Rebase with a crash = %v, want the crash", err)
	}
	if !has("chess") || has("climbing") {
		t.Fatalf("after a crash mid-rebase: chess %v, climbing %v; want my log as it was (chess, no climbing)", has("chess"), has("climbing"))
	}
	require.Equal(t, uint64(3), lw.Head().Seq)

	lw.rebaseFault = nil
	taken, again, err := lw.Rebase(ctx, theirs)
	require.NoError(t, err)
	if taken != 2 || again != 1 {
		t.Errorf("Rebase = %d taken, %d appended again; want 2, 1", taken, again)
	}
	for _, k := range []string{"chess", "climbing", "choir"} {
		if !has(k) {
			t.Errorf("after the rebase circle %q is missing", k)
		}
	}
	h, err := st.Head(ctx, id.PeerID())
	require.NoError(t, err)
	if h.Seq != 5 || lw.Head() != h {
		t.Errorf("head after the rebase: stored %d, writer %d; want 5 both", h.Seq, lw.Head().Seq)
	}
}
