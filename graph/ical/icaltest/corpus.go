// Package icaltest finds the real-world iCalendar files the tests read.
package icaltest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// CorpusFiles returns the .ics files of $KITH_CORPUS/ics, else of
// ../shared/corpus/ics beside the checkout: other projects' test data,
// kept outside the repository (see its PROVENANCE.tsv). Where they are
// absent (a user's clone) the test is skipped with a message, but not
// where KITH_REQUIRE_CORPUS is set (CI): there it fails, as it does with
// fewer than min files.
func CorpusFiles(tb testing.TB, min int) []string {
	tb.Helper()
	dir := os.Getenv("KITH_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0) // graph/ical/icaltest/corpus.go
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "ics")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("KITH_REQUIRE_CORPUS") != "" {
			tb.Fatalf("the iCalendar corpus is not at %s (KITH_REQUIRE_CORPUS is set): %v", dir, err)
		}
		tb.Skipf("the iCalendar corpus is not at %s; set KITH_CORPUS to the corpus directory to run this test", dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.ics"))
	if err != nil || len(files) < min {
		tb.Fatalf("found %d files in %s, want at least %d: %v", len(files), dir, min, err)
	}
	return files
}
