package dav

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-webdav"

	"github.com/kith-p2p/kith/graph/ical"
)

// An invitation (an event of a connection's log that invites me) is
// served beside my events, with every Kith attendee's answer as their
// PARTSTAT. A calendar app answers it by writing it back with my
// ATTENDEE's PARTSTAT changed: that becomes an rsvp entry, as `kith
// events rsvp` writes. Any other change is the organizer's to make and
// gets 403 saying what changed. What a client adds of its own (alarms,
// X- properties) is not kept on an invitation: it is the organizer's
// text, and the answer is all my log holds of it.

// answer applies a PUT of put over the invitation cur: an rsvp entry
// when my PARTSTAT changed, nothing when nothing did, 403 otherwise.
func (b *calBackend) answer(ctx context.Context, cur *servedEvent, put *ical.Event) error {
	id, err := b.cal.ID(ctx)
	if err != nil {
		return err
	}
	res, err := ical.Decode(bytes.NewReader(cur.data), ical.Options{})
	if err != nil || len(res.Events) != 1 {
		return fmt.Errorf("reading the invitation %s back: %v", cur.uid, err)
	}
	ps, err := answerOf(res.Events[0], put, id.PeerID.String(), cur.from)
	if err != nil {
		return webdav.NewHTTPError(http.StatusForbidden, err)
	}
	if ps == "" {
		return nil
	}
	_, err = b.cal.RSVPEvent(ctx, cur.uid, ps)
	return httpError(err)
}

// attendeeOf returns the ATTENDEE of ev that is peer me, or else the one
// at address addr.
func attendeeOf(ev *ical.Event, me, addr string) *ical.Attendee {
	as := ev.Attendees()
	for i := range as {
		if as[i].Peer == me {
			return &as[i]
		}
	}
	for i := range as {
		if addr != "" && strings.EqualFold(as[i].Address, addr) {
			return &as[i]
		}
	}
	return nil
}

// attendeeKey names an attendee by its address (a client may drop the
// X-KITH-PEER parameter), else its peer.
func attendeeKey(a ical.Attendee) string {
	if a.Address != "" {
		return strings.ToLower(a.Address)
	}
	return a.Peer
}

// answerOf compares what a client wrote (put) with the invitation held
// by me, organized by org: the PARTSTAT of my answer when only that
// changed, "" when nothing did, an error naming the change otherwise.
func answerOf(held, put *ical.Event, me, org string) (string, error) {
	mine := attendeeOf(held, me, "")
	if mine == nil {
		return "", fmt.Errorf("the invitation %s does not name you (%s) as an attendee", held.UID, me)
	}
	theirs := attendeeOf(put, me, mine.Address)
	if theirs == nil {
		return "", fmt.Errorf("this is %s's event and your ATTENDEE line (%s) is missing: answer by changing its PARTSTAT only; nothing was changed", org, mine.Address)
	}
	when := func(ev *ical.Event) string {
		in, ok := ev.First(time.UTC)
		if !ok {
			return ""
		}
		return fmt.Sprintf("%s to %s (all day: %t)", in.Start.UTC().Format(time.RFC3339), in.End.UTC().Format(time.RFC3339), in.AllDay)
	}
	org1, org2 := "", ""
	if o := held.Organizer(); o != nil {
		org1 = attendeeKey(*o)
	}
	if o := put.Organizer(); o != nil {
		org2 = attendeeKey(*o)
	}
	others := func(ev *ical.Event) string {
		var b strings.Builder
		for _, a := range ev.Attendees() {
			if a.Peer == me || strings.EqualFold(a.Address, mine.Address) {
				continue
			}
			fmt.Fprintf(&b, "%s=%s ", attendeeKey(a), a.PartStat)
		}
		return strings.TrimSpace(b.String())
	}
	status := func(ev *ical.Event) string {
		if s := ev.Status(); s != "" {
			return s
		}
		return "CONFIRMED" // what an app that writes every field back writes
	}
	for _, f := range []struct{ what, was, now string }{
		{"SUMMARY", held.Summary(), put.Summary()},
		{"LOCATION", held.Location(), put.Location()},
		{"DESCRIPTION", strings.TrimSpace(held.Description()), strings.TrimSpace(put.Description())},
		{"STATUS", status(held), status(put)},
		{"RRULE", held.RRule(), put.RRule()},
		{"time", when(held), when(put)},
		{"ORGANIZER", org1, org2},
		{"other attendees", others(held), others(put)},
		{"instances changed (RECURRENCE-ID)", fmt.Sprint(len(held.Overrides)), fmt.Sprint(len(put.Overrides))},
	} {
		if f.was != f.now {
			return "", fmt.Errorf("this is %s's event: only your answer (the PARTSTAT of your ATTENDEE line) can change here, and its %s changed (%q, was %q); nothing was changed", org, f.what, f.now, f.was)
		}
	}
	ps := strings.ToUpper(theirs.PartStat)
	if ps == mine.PartStat || ps == "" && mine.PartStat == "NEEDS-ACTION" {
		return "", nil
	}
	switch ps {
	case "ACCEPTED", "DECLINED", "TENTATIVE":
		return ps, nil
	}
	return "", fmt.Errorf("PARTSTAT %s: an answer is ACCEPTED, DECLINED or TENTATIVE; nothing was changed", ps)
}
