package node_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// BenchmarkExportImport100k: a node holding 100,000 entries exports them
// (with the key) and a fresh home imports them (verify, store, fold,
// index), reported in entries per second each way next to the
// single-core crypto/ed25519 verify rate, measured just before and just
// after each import and averaged (the machine may be shared: the two
// should see the same load). The same figures per CPU second (all
// threads, getrusage) hold still under load: import-entries/cpu-s over
// ed25519-verifies/cpu-s is how many times a signature check the import
// costs per entry, whatever else the machine runs. import/ceiling is the
// issue's target (≥ 1: importing at least as fast as one core verifies
// signatures); import/ceiling-cpu the same per CPU second.
func BenchmarkExportImport100k(b *testing.B) {
	const total = 100_000
	ctx := b.Context()
	a := node.NewTest(b, "bench-a")
	for base := head(b, a, a); base < total; base = head(b, a, a) {
		cards := make([]graph.Card, min(book.MaxAddBatch, int(total-base)))
		for j := range cards {
			cards[j] = graph.Card{Fields: []graph.Field{{Name: "fn", Value: fmt.Sprintf("Person %d", int(base)+j)}, {Name: "email", Value: fmt.Sprintf("p%d@example.org", int(base)+j)}}}
		}
		_, err := a.AddContacts(ctx, cards)
		require.NoError(b, err)
	}
	var exportRate, importRate, importCPURate, ceiling, cpuCeiling float64
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		start := time.Now()
		res, err := a.Export(ctx, api.ExportRequest{WithKey: true, Passphrase: []byte("bench")}, &buf)
		require.NoError(b, err)
		exportRate = float64(res.Entries) / time.Since(start).Seconds()
		size = buf.Len()

		home := filepath.Join(b.TempDir(), "home")
		before, cpuBefore := verifyRates()
		start, cpu := time.Now(), cpuNow()
		imp, err := node.Import(ctx, home, &buf, api.ImportOptions{KeyPassphrase: passphrase("bench")})
		require.NoError(b, err)
		importRate = float64(imp.Entries) / time.Since(start).Seconds()
		importCPURate = float64(imp.Entries) / (cpuNow() - cpu).Seconds()
		after, cpuAfter := verifyRates()
		ceiling, cpuCeiling = (before+after)/2, (cpuBefore+cpuAfter)/2
	}
	b.ReportMetric(exportRate, "export-entries/s")
	b.ReportMetric(importRate, "import-entries/s")
	b.ReportMetric(ceiling, "ed25519-verifies/s")
	b.ReportMetric(importRate/ceiling, "import/ceiling") // the target: ≥ 1
	b.ReportMetric(importCPURate/cpuCeiling, "import/ceiling-cpu")
	b.ReportMetric(importCPURate, "import-entries/cpu-s")
	b.ReportMetric(cpuCeiling, "ed25519-verifies/cpu-s")
	b.ReportMetric(float64(size)/total, "bytes/entry")
}

// verifyRates returns ed25519Rate (verifies per second on one goroutine)
// and the same per second of CPU time.
func verifyRates() (wall, cpu float64) {
	start, c := time.Now(), cpuNow()
	wall = ed25519Rate()
	return wall, wall * time.Since(start).Seconds() / (cpuNow() - c).Seconds()
}
