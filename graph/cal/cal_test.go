package cal_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/cal"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// The calendar runs on a store and a writer alone, as the node runs it.

type fixture struct {
	cal   *cal.Calendar
	st    *store.Store
	gw    *graph.Writer
	clock time.Time
}

func newCalendar(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	f := &fixture{st: store.NewTest(tb, book.Index{}), clock: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}
	id := identity.NewTest(tb, "alice")
	gw, err := graph.NewWriter(ctx, id, f.st, func() time.Time { f.clock = f.clock.Add(time.Millisecond); return f.clock })
	require.NoError(tb, err)
	_, err = gw.Append(ctx,
		graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: make([]byte, 32)}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: id.EncryptionKey()}, To: graph.Audience{Public: true}})
	require.NoError(tb, err)
	f.gw = gw
	f.cal = cal.New(id.PeerID(), f.st, writer{gw}, func() time.Time { return f.clock })
	return f
}

type writer struct{ *graph.Writer }

func (writer) CanWrite() error { return nil }

func ptr[T any](v T) *T { return &v }

func TestAddListEditRemove(t *testing.T) {
	ctx := t.Context()
	f := newCalendar(t)
	ev, err := f.cal.Add(ctx, cal.Input{Summary: ptr("Lunch"), Location: ptr("Cafe Rio"), Start: "2026-12-03 12:30", Duration: "1h", TZ: "Europe/Berlin", RRule: ptr("FREQ=WEEKLY;COUNT=4")})
	require.NoError(t, err)
	require.Equal(t, "Europe/Berlin", ev.TZ)
	require.Equal(t, "2026-12-03T12:30:00+01:00", ev.Start.Format(time.RFC3339))

	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	list, err := f.cal.List(ctx, from, from.AddDate(0, 1, 0), "Europe/Berlin")
	require.NoError(t, err)
	require.Len(t, list, 4)
	require.Equal(t, "2026-12-24T12:30:00+01:00", list[3].Start.Format(time.RFC3339))
	require.Equal(t, "2026-12-24T13:30:00+01:00", list[3].End.Format(time.RFC3339))
	require.Equal(t, "Cafe Rio", list[0].Location)

	// Move it an hour: SEQUENCE goes up, the agenda follows.
	got, err := f.cal.Edit(ctx, ev.UID, cal.Input{Start: "2026-12-03 13:30", TZ: "Europe/Berlin"})
	require.NoError(t, err)
	require.Equal(t, 1, got.Sequence)
	require.Equal(t, "Lunch", got.Summary)
	list, err = f.cal.List(ctx, from, from.AddDate(0, 1, 0), "")
	require.NoError(t, err)
	require.Len(t, list, 4)
	require.Equal(t, "2026-12-03T13:30:00+01:00", list[0].Start.Format(time.RFC3339))
	require.Equal(t, time.Hour, list[0].End.Sub(list[0].Start), "an edit of the start keeps the duration")

	_, err = f.cal.Add(ctx, cal.Input{Summary: ptr("Holiday"), Start: "2026-12-24", AllDay: ptr(true), Duration: "2d"})
	require.NoError(t, err)
	list, err = f.cal.List(ctx, from, from.AddDate(0, 1, 0), "America/New_York")
	require.NoError(t, err)
	require.Len(t, list, 5)
	var holiday cal.Instance
	for _, in := range list {
		if in.Summary == "Holiday" {
			holiday = in
		}
	}
	require.True(t, holiday.AllDay)
	require.Equal(t, "2026-12-24T00:00:00-05:00", holiday.Start.Format(time.RFC3339), "all-day dates are read in the reader's zone")
	require.Equal(t, "2026-12-26", holiday.End.Format(time.DateOnly))

	require.NoError(t, f.cal.Remove(ctx, ev.UID))
	list, err = f.cal.List(ctx, from, from.AddDate(0, 1, 0), "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	_, err = f.cal.Show(ctx, ev.UID)
	require.ErrorIs(t, err, graph.ErrNotFound)
	require.ErrorIs(t, f.cal.Remove(ctx, ev.UID), graph.ErrNotFound)

	for _, in := range []cal.Input{
		{Summary: ptr("x"), Start: "tomorrow"},
		{Summary: ptr("x"), Start: "2026-12-03 12:30", TZ: "Mars/Olympus"},
		{Summary: ptr("x"), Start: "2026-12-03 12:30", Duration: "-1h"},
		{Summary: ptr("x"), Start: "2026-12-03 12:30", RRule: ptr("COUNT=3")},
		{Start: "2026-12-03 12:30"},
	} {
		_, err := f.cal.Add(ctx, in)
		require.ErrorIs(t, err, graph.ErrInvalid, "Add(%+v)", in)
	}
}

const berlinWeekly = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:weekly@example.org
DTSTAMP:20260101T000000Z
SEQUENCE:%d
SUMMARY:%s
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
`

// TestImportSequence: an import replaces an event with a SEQUENCE as high
// as mine and keeps mine against a lower one (SEQUENCE first, then the
// fold rule: the later write); the same file twice writes nothing.
func TestImportSequence(t *testing.T) {
	ctx := t.Context()
	f := newCalendar(t)
	res, err := f.cal.Import(ctx, []byte(fmt.Sprintf(berlinWeekly, 2, "Standup")), false, nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Added)

	head := f.gw.Head().Seq
	res, err = f.cal.Import(ctx, []byte(fmt.Sprintf(berlinWeekly, 2, "Standup")), false, nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Unchanged)
	require.Equal(t, head, f.gw.Head().Seq, "the same file again writes nothing")

	res, err = f.cal.Import(ctx, []byte(fmt.Sprintf(berlinWeekly, 1, "Old standup")), false, nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Older)
	ev, err := f.cal.Show(ctx, "weekly@example.org")
	require.NoError(t, err)
	require.Equal(t, "Standup", ev.Summary)

	res, err = f.cal.Import(ctx, []byte(fmt.Sprintf(berlinWeekly, 2, "Standup, same SEQUENCE")), false, nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Updated)
	ev, err = f.cal.Show(ctx, "weekly@example.org")
	require.NoError(t, err)
	require.Equal(t, "Standup, same SEQUENCE", ev.Summary)
	require.Equal(t, 1, ev.Overrides)

	// The agenda across the DST change of 29 March 2026.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	list, err := f.cal.List(ctx, time.Date(2026, 3, 20, 0, 0, 0, 0, berlin), time.Date(2026, 4, 12, 0, 0, 0, 0, berlin), "")
	require.NoError(t, err)
	var got []string
	for _, in := range list {
		got = append(got, in.Start.Format(time.RFC3339))
	}
	require.Equal(t, []string{"2026-03-26T09:00:00+01:00", "2026-04-02T09:00:00+02:00", "2026-04-09T14:00:00+02:00"}, got)

	out, err := f.cal.Export(ctx, nil)
	require.NoError(t, err)
	require.Contains(t, string(out), "RECURRENCE-ID;TZID=Europe/Berlin:20260409T090000")
	res, err = f.cal.Import(ctx, out, false, nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Unchanged, "an export imports as what it was")
}

// TestImportAllOrNothing: one broken event fails the whole import, naming
// it and its line; with skipInvalid the rest goes in.
func TestImportAllOrNothing(t *testing.T) {
	ctx := t.Context()
	f := newCalendar(t)
	text := "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:ok\nSUMMARY:Fine\nDTSTART:20261201T100000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:bad\nSUMMARY:Broken\nDTSTART:20261301T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"
	head := f.gw.Head().Seq
	_, err := f.cal.Import(ctx, []byte(text), false, nil)
	require.ErrorIs(t, err, graph.ErrInvalid)
	require.Contains(t, err.Error(), `line 10: event "bad" ("Broken"): DTSTART`)
	require.Equal(t, head, f.gw.Head().Seq)
	res, err := f.cal.Import(ctx, []byte(text), true, nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Added)
	require.Len(t, res.Skipped, 1)
	_, err = f.cal.Import(ctx, []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\n"), false, nil)
	require.True(t, errors.Is(err, graph.ErrInvalid) && strings.Contains(err.Error(), "cut off"), "%v", err)
}

// TestAgendaWhileWriting: agendas read while events are added and edited
// see each write once it returns (the cache follows the calendar's own
// writes), and nothing races.
func TestAgendaWhileWriting(t *testing.T) {
	ctx := t.Context()
	f := newCalendar(t)
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	_, err := f.cal.List(ctx, from, from.AddDate(0, 1, 0), "")
	require.NoError(t, err)
	done := make(chan error)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				close(done)
				return
			default:
			}
			if _, err := f.cal.List(ctx, from, from.AddDate(0, 1, 0), ""); err != nil {
				done <- err
				return
			}
		}
	}()
	var uids []string
	for i := range 20 {
		ev, err := f.cal.Add(ctx, cal.Input{Summary: ptr(fmt.Sprint("Event ", i)), Start: fmt.Sprintf("2026-12-%02d 10:00", i+1)})
		require.NoError(t, err)
		uids = append(uids, ev.UID)
		list, err := f.cal.List(ctx, from, from.AddDate(0, 1, 0), "")
		require.NoError(t, err)
		require.Len(t, list, i+1, "the agenda after add %d", i)
	}
	_, err = f.cal.Edit(ctx, uids[0], cal.Input{Summary: ptr("Renamed")})
	require.NoError(t, err)
	require.NoError(t, f.cal.Remove(ctx, uids[1]))
	close(stop)
	require.NoError(t, <-done)
	list, err := f.cal.List(ctx, from, from.AddDate(0, 1, 0), "")
	require.NoError(t, err)
	require.Len(t, list, 19)
	require.Equal(t, "Renamed", list[0].Summary)
}
