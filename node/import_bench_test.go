package node_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
	"github.com/kith-p2p/kith/node"
)

// BenchmarkAddContacts10k: the daemon's side of importing 10,000 cards in
// batches of 1,000 (validate, seal, sign, store, index).
func BenchmarkAddContacts10k(b *testing.B) {
	res, err := vcard.Decode(bytes.NewReader(vcardtest.Generate(10000, 1)), vcard.Options{})
	require.NoError(b, err)
	for b.Loop() {
		b.StopTimer()
		n := node.NewTest(b, "import")
		b.StartTimer()
		for i := 0; i < len(res.Cards); i += 1000 {
			_, err := n.AddContacts(b.Context(), res.Cards[i:i+1000])
			require.NoError(b, err)
		}
	}
}

// BenchmarkAddContacts10kSocket is BenchmarkAddContacts10k through the
// unix-socket API, two batches in flight as the CLI sends them.
func BenchmarkAddContacts10kSocket(b *testing.B) {
	res, err := vcard.Decode(bytes.NewReader(vcardtest.Generate(10000, 1)), vcard.Options{})
	require.NoError(b, err)
	for b.Loop() {
		b.StopTimer()
		c := serve(b, node.NewTest(b, "import"))
		b.StartTimer()
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
	}
}
