package cli

import (
	"testing"

	"github.com/kith-p2p/kith/test/e2e"
)

// TestTour walks through what a new user does, step by step, on one daemon
// run in process: the story e2e.Tour, which test/e2e's TestTour also runs
// on the built binary.
func TestTour(t *testing.T) {
	d := startDaemon(t)
	e2e.RunTour(t, func(tb testing.TB, args ...string) (int, string, string) {
		r := kith(tb, d.home, args...)
		return r.code, r.stdout, r.stderr
	})
}
