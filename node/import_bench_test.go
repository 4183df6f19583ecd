package node_test

import (
	"bytes"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/api/apitest"
)

// BenchmarkAddContacts10k: the daemon's side of importing 10,000 cards in
// batches of 1,000 (validate, seal, sign, store, index).
func BenchmarkAddContacts10k(b *testing.B) {
	res, err := vcard.Decode(bytes.NewReader(vcardtest.Generate(10000, 1)), vcard.Options{})
	require.NoError(b, err)
	var clk cpuClock
	for b.Loop() {
		b.StopTimer()
		n := node.NewTest(b, "import")
		b.StartTimer()
		clk.begin()
		for i := 0; i < len(res.Cards); i += 1000 {
			_, err := n.AddContacts(b.Context(), res.Cards[i:i+1000])
			require.NoError(b, err)
		}
		clk.end()
	}
	clk.report(b)
}

// BenchmarkAddContacts10kSocket is BenchmarkAddContacts10k through the
// unix-socket API, two batches in flight as the CLI sends them.
func BenchmarkAddContacts10kSocket(b *testing.B) {
	res, err := vcard.Decode(bytes.NewReader(vcardtest.Generate(10000, 1)), vcard.Options{})
	require.NoError(b, err)
	var clk cpuClock
	for b.Loop() {
		b.StopTimer()
		c := apitest.Serve(b, node.NewTest(b, "import"))
		b.StartTimer()
		clk.begin()
		var wg sync.WaitGroup
		slots := make(chan struct{}, 2)
		for i := 0; i < len(res.Cards); i += 1000 {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				_, err := c.AddContacts(b.Context(), res.Cards[i:i+1000])
				require.NoError(b, err)
			}()
		}
		wg.Wait()
		clk.end()
	}
	clk.report(b)
}

// cardsWithUIDs returns 10,000 generated cards, each with a UID (as the
// vCard decoder gives them when the file has UIDs).
func cardsWithUIDs(b *testing.B) []graph.Card {
	res, err := vcard.Decode(bytes.NewReader(vcardtest.Generate(10000, 1)), vcard.Options{})
	require.NoError(b, err)
	for i, c := range res.Cards {
		if book.UID(c) == "" {
			res.Cards[i] = book.WithUID(c, fmt.Sprintf("urn:uuid:%08x-3a0f-4d5e-9b1c-000000000000", i))
		}
	}
	return res.Cards
}

// addSocket adds cards through c in batches of 1,000, two in flight, as
// the CLI sends them, and returns how many had each status.
func addSocket(b *testing.B, c *api.Client, cards []graph.Card) map[string]int {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[string]int{}
		slots  = make(chan struct{}, 2)
	)
	for i := 0; i < len(cards); i += 1000 {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			refs, err := c.AddContacts(b.Context(), cards[i:min(i+1000, len(cards))])
			require.NoError(b, err)
			mu.Lock()
			defer mu.Unlock()
			for _, r := range refs {
				counts[r.Status]++
			}
		}()
	}
	wg.Wait()
	return counts
}

// BenchmarkAddContacts10kUIDsSocket is BenchmarkAddContacts10kSocket with
// a UID on every card: each batch looks its UIDs up first.
func BenchmarkAddContacts10kUIDsSocket(b *testing.B) {
	cards := cardsWithUIDs(b)
	var clk cpuClock
	for b.Loop() {
		b.StopTimer()
		c := apitest.Serve(b, node.NewTest(b, "import"))
		b.StartTimer()
		clk.begin()
		if got := addSocket(b, c, cards); got[api.StatusNew] != len(cards) {
			b.Fatalf("statuses %v, want %d new", got, len(cards))
		}
		clk.end()
	}
	clk.report(b)
}

// BenchmarkReimport10kSocket times importing 10,000 cards a second time:
// every one is found by its UID and unchanged, so nothing is written.
func BenchmarkReimport10kSocket(b *testing.B) {
	cards := cardsWithUIDs(b)
	var clk cpuClock
	for b.Loop() {
		b.StopTimer()
		c := apitest.Serve(b, node.NewTest(b, "import"))
		addSocket(b, c, cards)
		b.StartTimer()
		clk.begin()
		if got := addSocket(b, c, cards); got[api.StatusUnchanged] != len(cards) {
			b.Fatalf("statuses %v, want %d unchanged", got, len(cards))
		}
		clk.end()
	}
	clk.report(b)
}

// cpuClock measures the CPU time the process spends (all its threads): on
// a loaded machine it varies far less than the wall time.
type cpuClock struct{ start, total time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (c *cpuClock) begin() { c.start = cpuNow() }
func (c *cpuClock) end()   { c.total += cpuNow() - c.start }

// report adds the CPU time per op to b's results.
func (c *cpuClock) report(b *testing.B) {
	b.ReportMetric(c.total.Seconds()/float64(b.N), "cpu-s/op")
}
