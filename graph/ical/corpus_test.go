package ical

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/graph/ical/icaltest"
)

// brokenOnPurpose are the corpus files with a broken event, and what the
// error says.
var brokenOnPurpose = map[string]string{
	"node-ical__test1.ics": `line 74: event "sdfkf09fsd0" ("Foobar"): DTSTART: bad date "Next Year"`,
}

// TestCorpus reads every real-world file of corpus/ics: each imports
// whole, every event expands over a year around its start, and export →
// import → export gives the same bytes, with the same events.
func TestCorpus(t *testing.T) {
	files := icaltest.CorpusFiles(t, 52)
	events := 0
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Decode(bytes.NewReader(data), Options{})
			if want, ok := brokenOnPurpose[filepath.Base(name)]; ok {
				// All or nothing: the error names the event and its line;
				// with SkipInvalid the rest imports.
				if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("Decode = %v; want an ErrInvalidEvent saying %q", err, want)
				}
				res, err = Decode(bytes.NewReader(data), Options{SkipInvalid: true})
				if err != nil || len(res.Skipped) != 1 {
					t.Fatalf("Decode(SkipInvalid) = %v, %v; want one event skipped", res, err)
				}
			}
			if err != nil {
				t.Fatalf("Decode = %v", err)
			}
			for _, w := range res.Warnings {
				t.Logf("warning: %s", w)
			}
			events += len(res.Events)
			wantEvents := strings.Count(strings.ToUpper(string(data)), "BEGIN:VEVENT")
			if wantEvents > 0 && len(res.Events) == 0 {
				t.Fatalf("Decode = no events; the file has %d VEVENTs", wantEvents)
			}
			for _, e := range res.Events {
				from, _, _, err := e.Span()
				if err != nil {
					t.Errorf("%s: Span = %v", e.UID, err)
					continue
				}
				if _, err := e.Instances(from.AddDate(0, -6, 0), from.AddDate(1, 0, 0), time.UTC); err != nil {
					t.Errorf("%s: Instances = %v", e.UID, err)
				}
			}
			var first bytes.Buffer
			if err := Encode(&first, res.Events); err != nil {
				t.Fatalf("Encode = %v", err)
			}
			again, err := Decode(bytes.NewReader(first.Bytes()), Options{})
			if err != nil {
				t.Fatalf("Decode(Encode) = %v\n%s", err, first.Bytes())
			}
			if len(again.Events) != len(res.Events) {
				t.Fatalf("Decode(Encode) = %d events, want %d", len(again.Events), len(res.Events))
			}
			for i, e := range res.Events {
				a := again.Events[i]
				if a.UID != e.UID || a.Summary() != e.Summary() || len(a.Overrides) != len(e.Overrides) || a.RRule() != e.RRule() {
					t.Errorf("event %d after a round trip: %q %q %d %q, want %q %q %d %q", i, a.UID, a.Summary(), len(a.Overrides), a.RRule(), e.UID, e.Summary(), len(e.Overrides), e.RRule())
				}
			}
			var second bytes.Buffer
			if err := Encode(&second, again.Events); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("export → import → export is not stable:\nfirst:\n%s\nsecond:\n%s", first.Bytes(), second.Bytes())
			}
		})
	}
	t.Logf("%d files, %d events", len(files), events)
}
