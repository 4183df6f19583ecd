package node_test

import (
	"bytes"
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
