package node_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// evilSync replaces mallory's sync handler: it reads the request and then
// answers with whatever respond writes.
func evilSync(t *testing.T, mallory *node.Node, respond func(w *bufio.Writer, s network.Stream)) *atomic.Int32 {
	var served atomic.Int32
	mallory.Host().SetStreamHandler(spec.ProtoSync, func(s network.Stream) {
		defer s.Close()
		r := bufio.NewReader(s)
		b, err := spec.ReadFrame(r, spec.MaxFrameSize)
		if err != nil {
			s.Reset()
			return
		}
		req, err := spec.DecodeSyncRequest(b)
		if err != nil || len(req.Want) == 0 {
			spec.WriteFrame(s, nil) // an announce: just end it
			return
		}
		served.Add(1)
		w := bufio.NewWriter(s)
		respond(w, s)
		w.Flush()
	})
	return &served
}

// poke makes alice pull from mallory by announcing a head far ahead.
func poke(t *testing.T, mallory, alice *node.Node) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s, err := mallory.Host().NewStream(ctx, alice.Host().ID(), spec.ProtoSync)
	require.NoError(t, err)
	defer s.Close()
	b, _ := spec.Marshal(&spec.SyncRequest{Want: []spec.LogPos{}, Have: []spec.LogPos{{Author: []byte(mallory.Host().ID()), Seq: 1 << 40}}})
	require.NoError(t, spec.WriteFrame(s, b))
	spec.ReadFrame(bufio.NewReader(s), 16)
}

// malloryEntries returns mallory's own log as raw entries.
func malloryEntries(t *testing.T, mallory *node.Node) [][]byte {
	les, err := mallory.Store().Log(t.Context(), mallory.Host().ID(), 0, 0)
	require.NoError(t, err)
	var out [][]byte
	for _, le := range les {
		out = append(out, le.Raw)
	}
	return out
}

// hostile is alice, bob and mallory, friends of alice, with mallory's log
// a few entries ahead of what alice holds of it: the stage of an attack.
type hostile struct {
	alice, bob, mallory *node.Node
	// own is mallory's log; alice holds it up to own[held-1].
	own  [][]byte
	held uint64
	// forged is mallory's next entry with a broken signature; oversized
	// is one validly signed but over the entry size limit (still within
	// one frame); bobs is an entry of bob's log.
	forged, oversized, bobs []byte
}

func newHostile(t *testing.T) *hostile {
	t.Helper()
	tn := newNet(t)
	alice, bob, mallory := tn.add("alice"), tn.add("bob"), tn.add("mallory")
	connect(t, alice, bob, "friends")
	connect(t, alice, mallory, "friends")
	ctx := t.Context()
	// Let alice's first pulls land before mallory turns hostile, so that
	// "nothing stored" below measures the attacks only.
	eventually(t, "alice holds mallory's log", func() bool { return head(t, alice, mallory) == head(t, mallory, mallory) })
	// Mallory writes a few more entries that alice has not seen yet (her
	// sync handler is down, so alice cannot pull them honestly).
	var refused atomic.Int32
	mallory.Host().SetStreamHandler(spec.ProtoSync, func(s network.Stream) { refused.Add(1); s.Reset() })
	// A pull that began before the swap may still be served honestly; one
	// pull that meets the new handler means none is left (pulls from one
	// peer never overlap).
	poke(t, mallory, alice)
	eventually(t, "a pull meets mallory's closed handler", func() bool { return refused.Load() > 0 })
	for range 3 {
		_, err := mallory.AddContacts(ctx, []graph.Card{{Fields: []graph.Field{{Name: "fn", Value: "x"}}}})
		require.NoError(t, err)
	}
	h := &hostile{alice: alice, bob: bob, mallory: mallory, own: malloryEntries(t, mallory), held: head(t, alice, mallory)}
	require.Less(t, h.held, uint64(len(h.own)), "alice must be behind for the test to mean anything")
	next := h.own[h.held] // the entry alice would take next

	e, err := spec.Decode(next)
	require.NoError(t, err)
	e.Sig = bytes.Clone(e.Sig)
	e.Sig[5] ^= 0x40
	h.forged, err = e.Encode()
	require.NoError(t, err)

	e, err = spec.Decode(next)
	require.NoError(t, err)
	e.Body = bytes.Repeat([]byte{0x42}, spec.MaxEntrySize-len(e.Body)+200)
	require.NoError(t, e.Sign(identity.NewTest(t, "mallory").Sign))
	h.oversized, err = spec.Marshal(e)
	require.NoError(t, err)
	require.Greater(t, len(h.oversized), spec.MaxEntrySize)
	require.LessOrEqual(t, len(h.oversized), spec.MaxFrameSize)

	bobs, err := bob.Store().Log(ctx, bob.Host().ID(), 0, 0)
	require.NoError(t, err)
	h.bobs = bobs[0].Raw
	return h
}

// TestHostilePeer: a friend's node answering alice's pulls with what no
// honest node sends gets nothing stored at alice, and alice goes on
// serving her API and syncing with bob.
func TestHostilePeer(t *testing.T) {
	cases := []struct {
		name    string
		respond func(h *hostile, w *bufio.Writer, s network.Stream)
		// stalls: the stream is left hanging, and alice must reset it
		// once it has been idle for her sync idle timeout.
		stalls bool
	}{
		{"forged signature", func(h *hostile, w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, h.forged)
			spec.WriteFrame(w, nil)
		}, false},
		{"out of order", func(h *hostile, w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, h.own[len(h.own)-1]) // skips the ones before
			spec.WriteFrame(w, nil)
		}, false},
		{"replayed entries of someone else's log", func(h *hostile, w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, h.bobs)
			spec.WriteFrame(w, nil)
		}, false},
		{"garbage", func(_ *hostile, w *bufio.Writer, _ network.Stream) {
			w.Write([]byte{0x05, 'h', 'e', 'l', 'l', 'o', 0x00})
		}, false},
		{"entry over the size limit", func(h *hostile, w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, h.oversized)
			spec.WriteFrame(w, nil)
		}, false},
		{"oversized frame", func(_ *hostile, w *bufio.Writer, _ network.Stream) {
			w.Write([]byte{0xff, 0xff, 0x7f}) // a 2 MiB length prefix
			w.Write(make([]byte, 1024))
		}, false},
		{"stream that never ends", func(_ *hostile, w *bufio.Writer, s network.Stream) {
			w.Write([]byte{0x80, 0x01}) // a 128-byte frame...
			w.Flush()
			io.Copy(io.Discard, s) // ...that never comes: wait for alice to reset
		}, true},
	}
	// One stage for every attack, in turn, as one node would meet them:
	// a bubble cannot hold subtests, and the stage costs more than an
	// attack. Each attack is named in the log before it runs.
	inBubble(t, func(t *testing.T) {
		h := newHostile(t)
		ctx := t.Context()
		for _, tc := range cases {
			t.Logf("attack: %s", tc.name)
			var ended atomic.Bool // mallory's handler returned
			served := evilSync(t, h.mallory, func(w *bufio.Writer, s network.Stream) {
				defer ended.Store(true)
				tc.respond(h, w, s)
			})
			before, err := h.alice.Store().Stats(ctx)
			require.NoError(t, err)
			poke(t, h.mallory, h.alice)
			eventually(t, tc.name+": alice pulls from mallory", func() bool { return served.Load() > 0 })
			idle(t) // the attack has played out, as far as it can without time passing
			if tc.stalls {
				require.False(t, ended.Load(), "the stalled stream ended before alice's idle timeout")
				time.Sleep(h.alice.SyncIdleTimeout())
				idle(t)
				require.True(t, ended.Load(), "alice did not reset a stream idle for her sync idle timeout")
			}
			after, err := h.alice.Store().Stats(ctx)
			require.NoError(t, err)
			if after.Entries != before.Entries {
				t.Errorf("%s: alice stored %d entries from a hostile stream", tc.name, after.Entries-before.Entries)
			}
			assertHealthy(t, h.alice, h.bob)
		}

		// A flood of streams: most are reset by the rate limit, the node lives.
		t.Logf("attack: flood")
		for range 300 {
			s, err := h.mallory.Host().NewStream(ctx, h.alice.Host().ID(), spec.ProtoConnect)
			if err != nil {
				continue
			}
			s.Write([]byte{0x01, 0x00})
			s.Reset()
		}
		assertHealthy(t, h.alice, h.bob)

		// Nothing was poisoned: alice's store passes kith check.
		h.mallory.Host().RemoveStreamHandler(spec.ProtoSync)
		requireConsistent(t, h.alice)
	})
}

// healthy numbers the notes of assertHealthy: each is new.
var healthy atomic.Int64

// assertHealthy checks that alice still serves her API and syncs with bob.
func assertHealthy(t *testing.T, alice, bob *node.Node) {
	t.Helper()
	ctx := t.Context()
	v := fmt.Sprintf("alive %d", healthy.Add(1))
	_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{v}, Circles: []string{"friends"}})
	require.NoError(t, err)
	eventually(t, "bob still gets alice's updates", func() bool {
		got := seen(t, bob, alice, "note")
		return len(got) == 1 && got[0] == v
	})
}

// Reconnecting does not buy a flooding peer a fresh burst of streams.
func TestRateLimitSurvivesReconnect(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		tn := newNet(t)
		// Only alice's limit is lowered. Were mallory's too, each refused
		// stream would make the refusing side pull from the other at once,
		// to be refused in turn: the two would bounce refused pulls back
		// and forth without pause until a token came back (1000s here),
		// and fake time could never move on.
		alice, mallory := tn.add("alice", node.WithInboundRate(0.001, 3)), tn.add("mallory")
		connect(t, alice, mallory, "friends")
		burst := func() (served int) {
			for range 10 {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				s, err := mallory.Host().NewStream(ctx, alice.Host().ID(), spec.ProtoSync)
				if err == nil {
					b, _ := spec.Marshal(&spec.SyncRequest{Want: []spec.LogPos{}, Have: []spec.LogPos{}})
					spec.WriteFrame(s, b)
					if f, err := spec.ReadFrame(bufio.NewReader(s), 16); err == nil && len(f) == 0 {
						served++
					}
					s.Close()
				}
				cancel()
			}
			return served
		}
		burst() // uses up whatever the connection's own syncs left
		// Mallory stays away past a limiter sweep (unlinked, so that alice's
		// redials fail), then comes back.
		a, m := alice.Host().ID(), mallory.Host().ID()
		require.NoError(t, tn.mn.UnlinkPeers(a, m))
		require.NoError(t, tn.mn.DisconnectPeers(a, m))
		time.Sleep(alice.SweptWithin())
		idle(t)
		_, err := tn.mn.LinkPeers(a, m)
		require.NoError(t, err)
		require.Zero(t, burst(), "reconnecting reset the rate limit")
	})
}
