package ical

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecode checks that Decode never panics (go-ical's parser does on
// some lines: Decode must check them first), that what it returns
// encodes, decodes to as many events and encodes to the same bytes again,
// and that expanding an event over a month neither panics nor runs away.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20260305T090000\r\nRRULE:FREQ=WEEKLY\r\nEXDATE;TZID=Europe/Berlin:20260319T090000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260409T090000\r\nDTSTART;TZID=Europe/Berlin:20260409T140000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:X\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE\nBEGIN:VEVENT\nUID:b\nSUMMARY;LANGUAGE=de:Mittag\\, essen\nDTSTART;TZID=X:20260101T120000\nDURATION:PT1H\nATTENDEE;CN=\"A, B\";PARTSTAT=ACCEPTED:mailto:a@b\nBEGIN:VALARM\nTRIGGER:-PT15M\nACTION:DISPLAY\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:c\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=DAILY;COUNT=3\nRDATE;VALUE=DATE:20260110\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nX;A\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\n",
		"",
	} {
		f.Add([]byte(s))
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Decode(bytes.NewReader(data), Options{SkipInvalid: true})
		if err != nil {
			if res != nil {
				t.Fatalf("Decode() = %+v, %v; want no result with an error", res, err)
			}
			return
		}
		for _, e := range res.Events {
			e.Instances(from, from.AddDate(0, 1, 0), time.UTC)
			e.Span()
		}
		var first bytes.Buffer
		if err := Encode(&first, res.Events); err != nil {
			t.Fatalf("Encode(decoded) = %v", err)
		}
		again, err := Decode(bytes.NewReader(first.Bytes()), Options{})
		if err != nil {
			t.Fatalf("Decode(Encode) = %v\n%s", err, first.Bytes())
		}
		if len(again.Events) != len(res.Events) {
			t.Fatalf("Decode(Encode) = %d events, want %d\n%s", len(again.Events), len(res.Events), first.Bytes())
		}
		var second bytes.Buffer
		if err := Encode(&second, again.Events); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("export → import → export is not stable:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
	})
}
