// Package icaltest finds the real-world iCalendar files the tests read.
package icaltest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
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

// Generate returns an iCalendar file of n events, the first recurring of
// them repeating (weekly, daily on weekdays, monthly, endless or with a
// COUNT), the rest single, in a handful of zones, spread over the two
// years from 2026-01-01; seed varies the titles. For benchmarks and tests.
func Generate(n, recurring int, seed int) []byte {
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"}
	rules := []string{"FREQ=WEEKLY", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=WEEKLY;COUNT=20", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"}
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kith//generated//EN\r\n")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		zone := zones[i%len(zones)]
		start := base.Add(time.Duration((i*7919)%(730*24)) * time.Hour).Truncate(time.Hour)
		if i < recurring {
			start = base.AddDate(0, 0, i%90) // series that began in the first quarter
		}
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:gen-%d-%d@example.org\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Event %d of seed %d\r\n", seed, i, i, seed)
		if zone == "UTC" {
			fmt.Fprintf(&b, "DTSTART:%s\r\nDTEND:%s\r\n", start.Format("20060102T150405Z"), start.Add(time.Hour).Format("20060102T150405Z"))
		} else {
			fmt.Fprintf(&b, "DTSTART;TZID=%s:%s\r\nDURATION:PT45M\r\n", zone, start.Format("20060102T150405"))
		}
		if i < recurring {
			fmt.Fprintf(&b, "RRULE:%s\r\n", rules[i%len(rules)])
			if i%10 == 0 {
				fmt.Fprintf(&b, "EXDATE;TZID=Europe/Berlin:%s\r\n", start.AddDate(0, 0, 14).Format("20060102T150405"))
			}
		}
		fmt.Fprintf(&b, "LOCATION:Room %d\r\nDESCRIPTION:Generated event number %d\\, for benchmarks.\r\nEND:VEVENT\r\n", i%40, i)
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}
