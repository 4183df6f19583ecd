package node_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestCheckReportWire: the API's report has the wire form the store's had
// (and `kith check --json` printed), so clients and scripts keep working.
func TestCheckReportWire(t *testing.T) {
	for _, problems := range [][]string{nil, {"entry x seq 1: bad", "head of y: stale"}} {
		st, err := json.Marshal(store.CheckReport{Entries: 1, Logs: 2, Records: 3, Indexed: 4, Problems: problems})
		require.NoError(t, err)
		ap, err := json.Marshal(api.CheckReport{Entries: 1, Logs: 2, Records: 3, Indexed: 4, Problems: problems})
		require.NoError(t, err)
		require.JSONEq(t, string(st), string(ap))
	}
}

// TestNodeCheck: the node's Check carries the store's counts over.
func TestNodeCheck(t *testing.T) {
	n := node.NewTest(t, "checked")
	rep, err := n.Check(t.Context())
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)
	require.Positive(t, rep.Entries)
	require.Equal(t, 1, rep.Logs)
	require.Positive(t, rep.Records)
}
