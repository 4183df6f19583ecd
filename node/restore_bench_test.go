package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
	tn := newNet(b)
	alice := tn.add("alice")
	aliceHost := alice.Host()
	var friends []*node.Node
	for f := range 20 {
		fr := tn.add(fmt.Sprintf("friend%02d", f))
		connect(b, alice, fr)
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
	from := friends[0]
	within(b, 2*time.Minute, "the friend to hold alice's whole log", func() bool { return head(b, from, alice) == head(b, alice, alice) })
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
