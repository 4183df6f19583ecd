package node_test

import (
	"bufio"
	"bytes"
	"context"
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

func TestHostilePeer(t *testing.T) {
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
	own := malloryEntries(t, mallory)
	held := head(t, alice, mallory)
	require.Less(t, held, uint64(len(own)), "alice must be behind for the test to mean anything")
	next := own[held] // the entry alice would take next

	forged := func() []byte {
		e, err := spec.Decode(next)
		require.NoError(t, err)
		e.Sig = bytes.Clone(e.Sig)
		e.Sig[5] ^= 0x40
		b, err := e.Encode()
		require.NoError(t, err)
		return b
	}()
	bobs, err := bob.Store().Log(ctx, bob.Host().ID(), 0, 0)
	require.NoError(t, err)
	// Mallory's next entry, validly signed but over the entry size limit
	// (still within one frame).
	oversized := func() []byte {
		e, err := spec.Decode(next)
		require.NoError(t, err)
		e.Body = bytes.Repeat([]byte{0x42}, spec.MaxEntrySize-len(e.Body)+200)
		require.NoError(t, e.Sign(identity.NewTest(t, "mallory").Sign))
		b, err := spec.Marshal(e)
		require.NoError(t, err)
		require.Greater(t, len(b), spec.MaxEntrySize)
		require.LessOrEqual(t, len(b), spec.MaxFrameSize)
		return b
	}()

	cases := []struct {
		name    string
		respond func(w *bufio.Writer, s network.Stream)
	}{
		{"forged signature", func(w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, forged)
			spec.WriteFrame(w, nil)
		}},
		{"out of order", func(w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, own[len(own)-1]) // skips the ones before
			spec.WriteFrame(w, nil)
		}},
		{"replayed entries of someone else's log", func(w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, bobs[0].Raw)
			spec.WriteFrame(w, nil)
		}},
		{"garbage", func(w *bufio.Writer, _ network.Stream) {
			w.Write([]byte{0x05, 'h', 'e', 'l', 'l', 'o', 0x00})
		}},
		{"entry over the size limit", func(w *bufio.Writer, _ network.Stream) {
			spec.WriteFrame(w, oversized)
			spec.WriteFrame(w, nil)
		}},
		{"oversized frame", func(w *bufio.Writer, _ network.Stream) {
			w.Write([]byte{0xff, 0xff, 0x7f}) // a 2 MiB length prefix
			w.Write(make([]byte, 1024))
		}},
		{"stream that never ends", func(w *bufio.Writer, s network.Stream) {
			w.Write([]byte{0x80, 0x01}) // a 128-byte frame...
			w.Flush()
			io.Copy(io.Discard, s) // ...that never comes: wait for alice to reset
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			served := evilSync(t, mallory, tc.respond)
			before, err := alice.Store().Stats(ctx)
			require.NoError(t, err)
			poke(t, mallory, alice)
			eventually(t, "alice pulls from mallory", func() bool { return served.Load() > 0 })
			time.Sleep(300 * time.Millisecond)
			after, err := alice.Store().Stats(ctx)
			require.NoError(t, err)
			if after.Entries != before.Entries {
				t.Errorf("alice stored %d entries from a hostile stream", after.Entries-before.Entries)
			}
			assertHealthy(t, alice, bob)
		})
	}

	// A flood of streams: most are reset by the rate limit, the node lives.
	t.Run("flood", func(t *testing.T) {
		var opened atomic.Int32
		for range 300 {
			s, err := mallory.Host().NewStream(ctx, alice.Host().ID(), spec.ProtoConnect)
			if err != nil {
				continue
			}
			opened.Add(1)
			s.Write([]byte{0x01, 0x00})
			s.Reset()
		}
		assertHealthy(t, alice, bob)
	})

	// Mallory, honest again, is synced normally: nothing was poisoned.
	mallory.Host().SetStreamHandler(spec.ProtoSync, nil)
	mallory.Host().RemoveStreamHandler(spec.ProtoSync)
	requireConsistent(t, alice)
}

// assertHealthy checks that alice still serves her API and syncs with bob.
func assertHealthy(t *testing.T, alice, bob *node.Node) {
	t.Helper()
	ctx := t.Context()
	v := time.Now().Format("150405.000000")
	_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{"alive " + v}, Circles: []string{"friends"}})
	require.NoError(t, err)
	eventually(t, "bob still gets alice's updates", func() bool {
		got := seen(t, bob, alice, "note")
		return len(got) == 1 && got[0] == "alive "+v
	})
}

// Reconnecting does not buy a flooding peer a fresh burst of streams.
func TestRateLimitSurvivesReconnect(t *testing.T) {
	tn := newNet(t)
	alice, mallory := tn.add("alice", node.WithInboundRate(0.001, 3)), tn.add("mallory", node.WithInboundRate(0.001, 3))
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
	require.NoError(t, tn.mn.DisconnectPeers(alice.Host().ID(), mallory.Host().ID()))
	time.Sleep(400 * time.Millisecond) // past a limiter sweep
	require.Zero(t, burst(), "reconnecting reset the rate limit")
}
