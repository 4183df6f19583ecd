package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
)

// TestIncomingRequestLimitIsAtomic: 300 requests at once against a limit of
// 100 store exactly 100 (the count and the insert are one transaction), and
// each request over it is told so.
func TestIncomingRequestLimitIsAtomic(t *testing.T) {
	ctx := t.Context()
	st := store.NewTest(t, book.Index{})
	now := time.UnixMilli(1_700_000_000_000)
	lim := store.RequestLimits{Max: 100, PerSource: 1000, Expired: now.Add(-7 * 24 * time.Hour)}
	var (
		wg            sync.WaitGroup
		mu            sync.Mutex
		kept, refused int
	)
	for i := range 300 {
		wg.Go(func() {
			err := st.AddIncomingRequest(ctx, store.Request{Peer: peer.ID(fmt.Sprintf("sybil-%03d", i)), Time: now},
				fmt.Sprintf("10.0.%d.%d", i/250, i%250), lim)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				kept++
			case errors.Is(err, store.ErrRequestsFull):
				refused++
			default:
				t.Errorf("AddIncomingRequest: %v", err)
			}
		})
	}
	wg.Wait()
	n, err := st.CountRequests(ctx)
	require.NoError(t, err)
	if n != 100 || kept != 100 || refused != 200 {
		t.Errorf("stored %d, kept %d, refused %d; want 100, 100, 200", n, kept, refused)
	}
}

// TestIncomingRequestLimits: a cap per source address, a repeat counts
// once and keeps its first time, and requests expire.
func TestIncomingRequestLimits(t *testing.T) {
	ctx := t.Context()
	st := store.NewTest(t, book.Index{})
	t0 := time.UnixMilli(1_700_000_000_000)
	week := 7 * 24 * time.Hour
	lim := func(now time.Time) store.RequestLimits {
		return store.RequestLimits{Max: 5, PerSource: 2, Expired: now.Add(-week)}
	}
	add := func(p, source string, at time.Time) error {
		return st.AddIncomingRequest(ctx, store.Request{Peer: peer.ID(p), Note: "note of " + p, Time: at}, source, lim(at))
	}
	require.NoError(t, add("a", "192.0.2.1", t0))
	require.NoError(t, add("b", "192.0.2.1", t0))
	require.ErrorIs(t, add("c", "192.0.2.1", t0), store.ErrRequestsFromSource)
	require.NoError(t, add("a", "192.0.2.1", t0.Add(time.Hour)), "a repeat is not a new request")
	require.NoError(t, add("d", "198.51.100.7", t0))
	require.NoError(t, add("e", "", t0), "an unknown source counts in the total only")
	require.NoError(t, add("f", "", t0))
	require.ErrorIs(t, add("g", "203.0.113.9", t0), store.ErrRequestsFull)

	r, err := st.GetRequest(ctx, peer.ID("a"))
	require.NoError(t, err)
	require.True(t, r.Time.Equal(t0), "a repeat keeps the first time: got %v", r.Time)

	// A week later the old requests expire and make room.
	later := t0.Add(week + time.Minute)
	require.NoError(t, add("c", "192.0.2.1", later))
	rs, err := st.Requests(ctx)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Equal(t, peer.ID("c"), rs[0].Peer)

	// Outgoing requests are mine: they neither count nor expire.
	require.NoError(t, st.PutRequest(ctx, store.Request{Peer: "mine", Outgoing: true, Time: t0}))
	k, err := st.ExpireRequests(ctx, later.Add(week))
	require.NoError(t, err)
	require.Equal(t, 1, k)
	_, err = st.GetRequest(ctx, peer.ID("mine"))
	require.NoError(t, err)
}
