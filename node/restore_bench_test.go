package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// BenchmarkRestore10kContacts20Friends times the lost-phone drill's
// restore: alice holds 10,000 contacts and 20 connections; her home is
// gone; a home holding her key alone (as `kith init --recover` leaves it)
// takes everything back from one friend (`kith restore --from`). It
// reports the restore's seconds and entries/s.
func BenchmarkRestore10kContacts20Friends(b *testing.B) {
	ctx := context.Background()
	mn := mocknet.New()
	b.Cleanup(func() { mn.Close() })
	i := 0
	add := func(label string) *node.Node {
		i++
		h, err := mn.AddPeer(identity.NewTest(b, label).PrivKey(), ma.StringCast(fmt.Sprintf("/ip6/100::%x/tcp/4242", i)))
		if err != nil {
			b.Fatal(err)
		}
		if err := mn.LinkAll(); err != nil {
			b.Fatal(err)
		}
		return node.NewTest(b, label, node.WithHost(h))
	}
	alice := add("alice")
	aliceHost := alice.Host()
	var friends []*node.Node
	for f := range 20 {
		fr := add(fmt.Sprintf("friend%02d", f))
		inv, err := alice.Invite(ctx, api.InviteRequest{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fr.Connect(ctx, api.ConnectRequest{Target: inv.Code}); err != nil {
			b.Fatal(err)
		}
		friends = append(friends, fr)
	}
	if _, err := alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}}); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < 10_000; start += book.MaxAddBatch {
		cards := make([]graph.Card, book.MaxAddBatch)
		for j := range cards {
			cards[j] = graph.Card{Fields: []graph.Field{{Name: "fn", Value: fmt.Sprintf("Contact %05d", start+j)}, {Name: "email", Value: fmt.Sprintf("c%05d@example.org", start+j)}}}
		}
		if _, err := alice.AddContacts(ctx, cards); err != nil {
			b.Fatal(err)
		}
	}
	want, err := alice.Store().Head(ctx, aliceHost.ID())
	if err != nil {
		b.Fatal(err)
	}
	from := friends[0]
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h, err := from.Store().Head(ctx, aliceHost.ID())
		if err != nil {
			b.Fatal(err)
		}
		if h.Seq >= want.Seq {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the friend holds %d of alice's %d entries after 2 minutes", h.Seq, want.Seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := alice.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var took time.Duration
	var entries uint64
	for range b.N {
		b.StopTimer()
		again, err := node.New(ctx, node.WithIdentity(identity.NewTest(b, "alice")), node.WithStore(store.NewTest(b, book.Index{})), node.WithHost(aliceHost))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		res, err := again.Restore(ctx, api.RestoreRequest{Target: from.Host().ID().String()})
		took += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range res.Logs {
			entries += l.Entries
		}
		contacts, err := again.Contacts(ctx)
		if err != nil || len(contacts) < 10_000 {
			b.Fatalf("after the restore: %d contacts (%v), want 10,000 and the connections", len(contacts), err)
		}
		if err := again.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "restore-s")
	b.ReportMetric(float64(entries)/took.Seconds(), "entries/s")
}
