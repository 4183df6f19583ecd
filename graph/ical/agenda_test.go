package ical

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func decodeOne(t *testing.T, text string) *Event {
	t.Helper()
	res, err := Decode(strings.NewReader(strings.ReplaceAll(text, "\n", "\r\n")), Options{})
	if err != nil {
		t.Fatalf("Decode = %v", err)
	}
	if len(res.Events) != 1 {
		t.Fatalf("Decode = %d events, want 1", len(res.Events))
	}
	return res.Events[0]
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestAgendaDST: a weekly 09:00 Europe/Berlin meeting stays at 09:00
// local on both sides of 29 March 2026 (CET → CEST), with one instance
// taken out (EXDATE) and one moved (an override).
func TestAgendaDST(t *testing.T) {
	ev := decodeOne(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:weekly@example.org
DTSTAMP:20260101T000000Z
SUMMARY:Standup
DTSTART;TZID=Europe/Berlin:20260305T090000
DTEND;TZID=Europe/Berlin:20260305T093000
RRULE:FREQ=WEEKLY
EXDATE;TZID=Europe/Berlin:20260319T090000
END:VEVENT
BEGIN:VEVENT
UID:weekly@example.org
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20260409T090000
SUMMARY:Standup (moved)
DTSTART;TZID=Europe/Berlin:20260409T140000
DTEND;TZID=Europe/Berlin:20260409T150000
END:VEVENT
END:VCALENDAR
`)
	berlin := mustZone(t, "Europe/Berlin")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, berlin)
	to := time.Date(2026, 4, 20, 0, 0, 0, 0, berlin)
	got, err := ev.Instances(from, to, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-03-05T09:00:00+01:00 2026-03-05T09:30:00+01:00 Standup",
		"2026-03-12T09:00:00+01:00 2026-03-12T09:30:00+01:00 Standup",
		// 19 March: EXDATE
		"2026-03-26T09:00:00+01:00 2026-03-26T09:30:00+01:00 Standup",
		"2026-04-02T09:00:00+02:00 2026-04-02T09:30:00+02:00 Standup",
		"2026-04-09T14:00:00+02:00 2026-04-09T15:00:00+02:00 Standup (moved)",
		"2026-04-16T09:00:00+02:00 2026-04-16T09:30:00+02:00 Standup",
	}
	var have []string
	for _, in := range got {
		have = append(have, in.Start.Format(time.RFC3339)+" "+in.End.Format(time.RFC3339)+" "+in.Summary)
	}
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Errorf("Instances =\n%s\nwant\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
	// The same instants in UTC: 08:00Z before the change, 07:00Z after.
	if got[0].Start.UTC().Hour() != 8 || got[3].Start.UTC().Hour() != 7 {
		t.Errorf("UTC hours %d, %d; want 8, 7", got[0].Start.UTC().Hour(), got[3].Start.UTC().Hour())
	}
	if !got[4].RecurrenceID.Equal(time.Date(2026, 4, 9, 9, 0, 0, 0, berlin)) {
		t.Errorf("the override's RecurrenceID = %v", got[4].RecurrenceID)
	}
}

// TestZones: Windows names map to IANA; a TZID that names neither is
// read from the file's VTIMEZONE, DST rules included.
func TestZones(t *testing.T) {
	ev := decodeOne(t, `BEGIN:VCALENDAR
BEGIN:VTIMEZONE
TZID:Mitteleuropa (custom)
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:z
DTSTART;TZID=Mitteleuropa (custom):20260326T090000
DTEND;TZID=W. Europe Standard Time:20260326T100000
RRULE:FREQ=DAILY;COUNT=5
END:VEVENT
END:VCALENDAR
`)
	got, err := ev.Instances(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("Instances = %d, want 5", len(got))
	}
	for i, in := range got {
		_, off := in.Start.Zone()
		wantOff := 3600
		if i >= 3 { // 29 March on
			wantOff = 7200
		}
		if in.Start.Hour() != 9 || off != wantOff || in.End.Sub(in.Start) != time.Hour {
			t.Errorf("instance %d = %s–%s (offset %d), want 09:00 at %d for an hour", i, in.Start, in.End, off, wantOff)
		}
	}
	z := NewZones(nil)
	if l, ok := z.Resolve("Pacific Standard Time"); !ok || l.String() != "America/Los_Angeles" {
		t.Errorf(`Resolve("Pacific Standard Time") = %v, %v`, l, ok)
	}
	if l, ok := z.Resolve("/mozilla.org/20050126_1/Europe/Berlin"); !ok || l.String() != "Europe/Berlin" {
		t.Errorf("Resolve(mozilla prefix) = %v, %v", l, ok)
	}
	if _, ok := z.Resolve("Nowhere/Middle"); ok {
		t.Errorf("Resolve(Nowhere/Middle) resolved")
	}
}

// TestAgendaKinds: all-day dates and floating times are read in the
// reader's zone; an endless rule expands only over the window.
func TestAgendaKinds(t *testing.T) {
	ev := decodeOne(t, `BEGIN:VCALENDAR
BEGIN:VEVENT
UID:bday
SUMMARY:Birthday
DTSTART;VALUE=DATE:19800215
RRULE:FREQ=YEARLY
END:VEVENT
END:VCALENDAR
`)
	tokyo := mustZone(t, "Asia/Tokyo")
	got, err := ev.Instances(time.Date(2027, 1, 1, 0, 0, 0, 0, tokyo), time.Date(2029, 1, 1, 0, 0, 0, 0, tokyo), tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].AllDay || got[0].Start.Format(time.RFC3339) != "2027-02-15T00:00:00+09:00" || got[0].End.Format(time.DateOnly) != "2027-02-16" {
		t.Fatalf("Instances = %+v", got)
	}
	from, _, endless, err := ev.Span()
	if err != nil || !endless || from.Year() != 1980 {
		t.Errorf("Span = %v, endless %v, %v; want 1980, endless", from, endless, err)
	}
	fl := decodeOne(t, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:f\nDTSTART:20260601T080000\nDURATION:PT2H\nEND:VEVENT\nEND:VCALENDAR\n")
	got, err = fl.Instances(time.Date(2026, 6, 1, 0, 0, 0, 0, tokyo), time.Date(2026, 6, 2, 0, 0, 0, 0, tokyo), tokyo)
	if err != nil || len(got) != 1 || got[0].Start.Format(time.RFC3339) != "2026-06-01T08:00:00+09:00" || got[0].End.Hour() != 10 {
		t.Fatalf("floating Instances = %+v, %v", got, err)
	}
	dense := decodeOne(t, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART:19700101T000000Z\nRRULE:FREQ=SECONDLY\nEND:VEVENT\nEND:VCALENDAR\n")
	if _, err := dense.Instances(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), time.UTC); !errors.Is(err, ErrTooDense) {
		t.Errorf("Instances(every second since 1970) = %v, want ErrTooDense", err)
	}
}

// TestDecodeErrors: a broken file is refused with an error naming the
// event and the line.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
		is               error
	}{
		{"no END", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:Lunch\nDTSTART:20260101T120000Z\n", `line 2: event "a" ("Lunch"): VEVENT is cut off`, ErrInvalidEvent},
		{"bad date", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:Lunch\nDTSTART:2026-01-01\nEND:VEVENT\nEND:VCALENDAR\n", `line 5: event "a" ("Lunch"): DTSTART: bad date-time "2026-01-01"`, ErrInvalidEvent},
		{"bad line", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:Lunch\nDTSTART;TZID\nEND:VEVENT\nEND:VCALENDAR\n", `line 5: event "a" ("Lunch"): DTSTART: a parameter without "="`, ErrInvalidEvent},
		{"wrong END", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VTODO\nEND:VCALENDAR\n", `line 4: event "a": END:VTODO where END:VEVENT belongs`, ErrInvalidEvent},
		{"bad rule", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20260101T120000Z\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\nEND:VCALENDAR\n", `line 5: event "a": RRULE "FREQ=SOMETIMES"`, ErrInvalidEvent},
		{"end before start", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20260101T120000Z\nDTEND:20250101T120000Z\nEND:VEVENT\nEND:VCALENDAR\n", `line 5: event "a": DTEND 20250101T120000Z is before DTSTART`, ErrInvalidEvent},
		{"vcard", "BEGIN:VCARD\nFN:x\nEND:VCARD\n", "line 1: want BEGIN:VCALENDAR", ErrNotICal},
		{"empty", " \n", "empty", ErrEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Decode(strings.NewReader(tc.text), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("Decode = %v, %v; want an error saying %q", res, err, tc.want)
			}
		})
	}
	// SkipInvalid keeps the good events.
	res, err := Decode(strings.NewReader("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:bad\nDTSTART:x\nEND:VEVENT\nBEGIN:VEVENT\nUID:good\nDTSTART:20260101T120000Z\nEND:VEVENT\nEND:VCALENDAR\n"), Options{SkipInvalid: true})
	if err != nil || len(res.Events) != 1 || res.Events[0].UID != "good" || len(res.Skipped) != 1 || res.Skipped[0].UID != "bad" || res.Skipped[0].Line != 4 {
		t.Fatalf("Decode(SkipInvalid) = %+v, %v", res, err)
	}
}

// TestNewEvent: an event written by Kith encodes, decodes and edits; a
// change of time raises SEQUENCE.
func TestNewEvent(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	sum, where := "Lunch, with \"friends\"; and more\nsecond line", "Cafe Rio"
	start, end := time.Date(2026, 12, 3, 12, 30, 0, 0, berlin), time.Date(2026, 12, 3, 13, 30, 0, 0, berlin)
	rule := "FREQ=WEEKLY;COUNT=4"
	ev, err := NewEvent("u1", Fields{Summary: &sum, Location: &where, Start: &start, End: &end, RRule: &rule}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	back := decodeOne(t, string(b))
	if back.Summary() != sum || back.Location() != where || back.Sequence() != 0 {
		t.Fatalf("decoded %q %q seq %d\n%s", back.Summary(), back.Location(), back.Sequence(), b)
	}
	got, err := back.Instances(start, start.AddDate(0, 2, 0), time.UTC)
	if err != nil || len(got) != 4 || got[3].Start.Format(time.RFC3339) != "2026-12-24T12:30:00+01:00" {
		t.Fatalf("Instances = %+v, %v", got, err)
	}
	later := start.Add(time.Hour)
	if err := back.Apply(Fields{Start: &later}, now); err != nil {
		t.Fatal(err)
	}
	in, _ := back.Instances(start, start.AddDate(0, 0, 1), time.UTC)
	if back.Sequence() != 1 || len(in) != 1 || in[0].Start.Hour() != 13 || in[0].End.Hour() != 14 {
		t.Fatalf("after moving: seq %d, %+v", back.Sequence(), in)
	}
}

// TestSkipStart: starting a DAILY or WEEKLY rule near the window gives the
// same instances as walking it from DTSTART, across DST changes.
func TestSkipStart(t *testing.T) {
	rules := []string{"FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR", "FREQ=WEEKLY;BYDAY=MO,WE;WKST=SU;INTERVAL=3",
		"FREQ=DAILY;BYHOUR=9,17", "FREQ=WEEKLY;UNTIL=20270301T000000Z", "FREQ=DAILY;COUNT=500", "FREQ=MONTHLY;BYDAY=-1FR"}
	for _, rule := range rules {
		for _, zone := range []string{"Europe/Berlin", "America/Sao_Paulo", "UTC"} {
			text := "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART;TZID=" + zone + ":20190131T233000\nDURATION:PT3H\nRRULE:" + rule + "\nEND:VEVENT\nEND:VCALENDAR\n"
			ev := decodeOne(t, text)
			for _, from := range []time.Time{time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 20, 5, 0, 0, 0, time.UTC), time.Date(2019, 2, 1, 0, 0, 0, 0, time.UTC)} {
				to := from.AddDate(0, 0, 40)
				got, err := ev.Instances(from, to, time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				// The same without skipping: every instance from DTSTART.
				zones := NewZones(nil)
				start, _ := parseTime(ev.Master.Props.Get("DTSTART"), zones, time.UTC)
				next, err := ev.recurrences(ev.Master, zones, time.UTC, start, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for s, ok := next(); ok && s.Before(to); s, ok = next() {
					if s.Add(3 * time.Hour).After(from) {
						want = append(want, s.Format(time.RFC3339))
					}
				}
				var have []string
				for _, in := range got {
					have = append(have, in.Start.Format(time.RFC3339))
				}
				if strings.Join(have, " ") != strings.Join(want, " ") {
					t.Errorf("%s in %s from %s:\n got %v\nwant %v", rule, zone, from.Format(time.DateOnly), have, want)
				}
			}
		}
	}
}
