package graph_test

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

const benchBatch = 500

func benchCard(i int) *graph.Card {
	return &graph.Card{Fields: []graph.Field{
		{Name: "fn", Value: fmt.Sprintf("Person %d", i)},
		{Name: "email", Value: fmt.Sprintf("p%d@example.org", i)},
		{Name: "tel", Value: fmt.Sprintf("+1 555 %04d", i%10000)},
	}}
}

// BenchmarkEd25519Verify is the ceiling: raw crypto/ed25519 verifies on one
// core, reported next to the entry benchmarks so the ratio is visible.
func BenchmarkEd25519Verify(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := make([]byte, 300)
	sig := ed25519.Sign(priv, msg)
	pub := priv.Public().(ed25519.PublicKey)
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// BenchmarkAppend measures local writes: seal (self audience), sign, encode,
// store with view and index updates, in batches of benchBatch per
// transaction (how imports write).
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, benchBatch} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := b.Context()
			w, err := graph.NewWriter(ctx, identity.NewTest(b, "bench"), store.NewTest(b, book.Index{}), nil)
			if err != nil {
				b.Fatal(err)
			}
			drafts := make([]graph.Draft, batch)
			n := 0
			for b.Loop() {
				for i := range drafts {
					drafts[i] = graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: fmt.Sprint(n), Card: benchCard(n)}, To: graph.Audience{Self: true}}
					n++
				}
				if _, err := w.Append(ctx, drafts...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkVerifyStore measures what a replica does with received entries:
// decode, verify the signature, open the body, store in batches.
func BenchmarkVerifyStore(b *testing.B) {
	ctx := b.Context()
	me := identity.NewTest(b, "bench")
	src, err := graph.NewWriter(ctx, me, store.NewTest(b, book.Index{}), nil)
	if err != nil {
		b.Fatal(err)
	}
	const total = 5000
	var raws [][]byte
	for i := 0; i < total; i += benchBatch {
		drafts := make([]graph.Draft, benchBatch)
		for j := range drafts {
			drafts[j] = graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: fmt.Sprint(i + j), Card: benchCard(i + j)}, To: graph.Audience{Self: true}}
		}
		es, err := src.Append(ctx, drafts...)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range es {
			raws = append(raws, e.Raw)
		}
	}
	open := graph.Opener(me)
	n := 0
	for b.Loop() {
		b.StopTimer()
		dst := store.NewTest(b, book.Index{})
		b.StartTimer()
		for i := 0; i < len(raws); i += benchBatch {
			batch := make([]*graph.Entry, 0, benchBatch)
			for _, raw := range raws[i : i+benchBatch] {
				e, err := graph.Verify(raw, open)
				if err != nil {
					b.Fatal(err)
				}
				batch = append(batch, e)
			}
			if err := dst.Put(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		n += len(raws)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}
