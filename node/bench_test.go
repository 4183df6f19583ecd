package node_test

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// ed25519Rate measures single-core crypto/ed25519 verifies per second now,
// the ceiling replication is compared with.
func ed25519Rate() float64 {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := make([]byte, 300)
	sig := ed25519.Sign(priv, msg)
	pub := priv.Public().(ed25519.PublicKey)
	const n = 20000
	start := time.Now()
	for range n {
		ed25519.Verify(pub, msg, sig)
	}
	return n / time.Since(start).Seconds()
}

// BenchmarkReplicate100k: node B connects to node A over loopback TCP and
// pulls A's 100,000-entry log, verifying and storing every entry.
func BenchmarkReplicate100k(b *testing.B) {
	const total = 100_000
	ctx := b.Context()
	a := node.NewTest(b, "bench-a", node.WithListenAddrs("/ip4/127.0.0.1/tcp/0"))
	base := head(b, a, a)
	for i := uint64(0); i < total-base; i += book.MaxAddBatch {
		cards := make([]graph.Card, min(book.MaxAddBatch, int(total-base-i)))
		for j := range cards {
			cards[j] = graph.Card{Fields: []graph.Field{{Name: "fn", Value: fmt.Sprintf("Person %d", int(i)+j)}, {Name: "email", Value: fmt.Sprintf("p%d@example.org", int(i)+j)}}}
		}
		_, err := a.AddContacts(ctx, cards)
		require.NoError(b, err)
	}
	ceiling := ed25519Rate()
	var rate float64
	for b.Loop() {
		b.StopTimer()
		bn := node.NewTest(b, fmt.Sprintf("bench-b-%d", b.N), node.WithListenAddrs("/ip4/127.0.0.1/tcp/0"))
		inv, err := a.Invite(ctx, api.InviteRequest{})
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		_, err = bn.Connect(ctx, api.ConnectRequest{Target: inv.Code})
		require.NoError(b, err)
		want := head(b, a, a)
		for head(b, bn, a) < want {
			time.Sleep(5 * time.Millisecond)
		}
		rate = float64(want) / time.Since(start).Seconds()
	}
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(ceiling, "ed25519-verifies/s")
	b.ReportMetric(rate/ceiling*100, "%-of-ceiling")
}

// BenchmarkFanout50: how long one field change takes to reach 50 online
// connections (mocknet: the protocol's cost, not a network's).
func BenchmarkFanout50(b *testing.B) {
	ctx := b.Context()
	tn := newNet(b)
	hub := tn.add("hub")
	var spokes []*node.Node
	for i := range 50 {
		s := tn.add(fmt.Sprintf("spoke%02d", i))
		connect(b, hub, s, "friends")
		spokes = append(spokes, s)
	}
	i := 0
	for b.Loop() {
		i++
		v := fmt.Sprintf("v%d", i)
		_, err := hub.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{v}, Circles: []string{"friends"}})
		require.NoError(b, err)
		for _, s := range spokes {
			for {
				got := seen(b, s, hub, "note")
				if len(got) == 1 && got[0] == v {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
}
