package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
)

// BenchmarkImport10k times `kith contacts import` of a generated
// 10,000-card file against a running daemon: parse, validate, send in
// batches, sign, encrypt and store every contact. Target: under 1 s.
func BenchmarkImport10k(b *testing.B) {
	in := filepath.Join(b.TempDir(), "10k.vcf")
	if err := os.WriteFile(in, vcardtest.Generate(10000, 1), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		h := NewHome(b)
		h.Start()
		b.StartTimer()
		start := time.Now()
		h.MustRun("contacts", "import", in)
		b.ReportMetric(time.Since(start).Seconds(), "s/10k-import")
		b.StopTimer()
		h.Stop()
		b.StartTimer()
	}
}

// BenchmarkDaemonIdleRSS starts a daemon, lets it settle, and reports its
// resident memory. Target: under 60 MB.
func BenchmarkDaemonIdleRSS(b *testing.B) {
	for b.Loop() {
		h := NewHome(b)
		h.Start()
		time.Sleep(3 * time.Second)
		rss := rssKB(b, h.PID())
		b.ReportMetric(float64(rss)/1024, "MB-idle-RSS")
		h.Stop()
	}
}

func rssKB(tb testing.TB, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}
