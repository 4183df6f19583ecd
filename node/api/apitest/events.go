package apitest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node/api"
)

func ptr[T any](v T) *T { return &v }

// testEvents: add, agenda, edit, show, export, import, remove, through
// the API as the CLI drives it; errors keep their kinds across the socket.
func testEvents(t *testing.T, a api.API) {
	ctx := t.Context()
	ev, err := a.AddEvent(ctx, api.EventInput{Summary: ptr("Lunch"), Location: ptr("Cafe Rio"), Start: "2026-12-03 12:30", Duration: "1h", TZ: "Europe/Berlin", RRule: ptr("FREQ=WEEKLY;COUNT=4")})
	require.NoError(t, err)
	require.NotEmpty(t, ev.UID)
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	list, err := a.Agenda(ctx, from, from.AddDate(0, 1, 0), "Europe/Berlin")
	require.NoError(t, err)
	require.Len(t, list, 4)
	require.Equal(t, "2026-12-03T12:30:00+01:00", list[0].Start.Format(time.RFC3339), "the offset in force crosses the socket")
	require.Equal(t, ev.UID, list[0].UID)

	got, err := a.EditEvent(ctx, ev.UID, api.EventInput{Summary: ptr("Long lunch"), Duration: "2h"})
	require.NoError(t, err)
	require.Equal(t, "Long lunch", got.Summary)
	shown, err := a.Event(ctx, ev.UID)
	require.NoError(t, err)
	require.Equal(t, 2*time.Hour, shown.End.Sub(*shown.Start))
	require.Contains(t, shown.ICS, "RRULE:FREQ=WEEKLY;COUNT=4")

	exp, err := a.ExportEvents(ctx, nil)
	require.NoError(t, err)
	require.Contains(t, exp.ICS, "SUMMARY:Long lunch")
	res, err := a.ImportEvents(ctx, api.ImportEventsRequest{ICS: exp.ICS})
	require.NoError(t, err)
	require.Equal(t, 1, res.Unchanged)

	_, err = a.ImportEvents(ctx, api.ImportEventsRequest{ICS: "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@y\r\nSUMMARY:Cut\r\nDTSTART:20261201T100000Z\r\n"})
	wantErr(t, err, api.ErrInvalid, "ImportEvents(no END)")
	require.True(t, strings.Contains(err.Error(), `event "x@y" ("Cut")`), "%v", err)

	_, err = a.Agenda(ctx, from, from.AddDate(10, 0, 0), "")
	wantErr(t, err, api.ErrTooLarge, "Agenda(10 years)")
	_, err = a.AddEvent(ctx, api.EventInput{Summary: ptr("x"), Start: "2026-12-03 12:30", TZ: "Mars/Base"})
	wantErr(t, err, api.ErrInvalid, "AddEvent(bad zone)")

	_, err = a.InviteEvent(ctx, ev.UID, []string{"Nobody"})
	wantErr(t, err, api.ErrNotFound, "InviteEvent(no such connection)")
	_, err = a.RSVPEvent(ctx, ev.UID, "maybe")
	wantErr(t, err, api.ErrInvalid, "RSVPEvent(maybe)")
	_, err = a.RSVPEvent(ctx, ev.UID, "accept")
	wantErr(t, err, api.ErrNotFound, "RSVPEvent(my own event)")
	cancelled, err := a.CancelEvent(ctx, ev.UID)
	require.NoError(t, err)
	require.Equal(t, "CANCELLED", cancelled.Status)
	list, err = a.Agenda(ctx, from, from.AddDate(0, 1, 0), "")
	require.NoError(t, err)
	require.Empty(t, list, "a cancelled event leaves the agenda")

	pol, err := a.SetFreeBusy(ctx, "friends", true)
	require.NoError(t, err)
	require.Equal(t, []string{"friends"}, pol.Circles)
	pol, err = a.FreeBusyPolicy(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"friends"}, pol.Circles)
	_, err = a.SetFreeBusy(ctx, "nosuch", true)
	wantErr(t, err, api.ErrNotFound, "SetFreeBusy(no such circle)")
	_, err = a.FreeBusy(ctx, "Nobody", from, from.AddDate(0, 0, 7))
	wantErr(t, err, api.ErrNotFound, "FreeBusy(no such connection)")
	pol, err = a.SetFreeBusy(ctx, "friends", false)
	require.NoError(t, err)
	require.Empty(t, pol.Circles)

	require.NoError(t, a.RemoveEvent(ctx, ev.UID))
	_, err = a.Event(ctx, ev.UID)
	wantErr(t, err, api.ErrNotFound, "Event(removed)")
	list, err = a.Agenda(ctx, from, from.AddDate(0, 1, 0), "")
	require.NoError(t, err)
	require.Empty(t, list)
}
