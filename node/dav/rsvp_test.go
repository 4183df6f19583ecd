package dav

import (
	"strings"
	"testing"

	"github.com/kith-p2p/kith/graph/ical"
)

// TestAnswerOf: what a calendar app writes back over an invitation is an
// answer when only my PARTSTAT changed, with what apps change of their
// own (DTSTAMP, X- properties, a STATUS:CONFIRMED, the X-KITH-PEER
// parameter dropped) ignored; any change of the organizer's is refused,
// naming it.
func TestAnswerOf(t *testing.T) {
	const me, org = "12D3KooWMe", "12D3KooWOrg"
	held := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kith//Kith//EN\r\nBEGIN:VEVENT\r\nUID:plan@kith\r\nDTSTAMP:20261201T100000Z\r\nSEQUENCE:1\r\n" +
		"DTSTART;TZID=Europe/Berlin:20261203T100000\r\nDTEND;TZID=Europe/Berlin:20261203T110000\r\nSUMMARY:Planning\r\n" +
		"ORGANIZER;X-KITH-PEER=" + org + ":urn:kith:" + org + "\r\n" +
		"ATTENDEE;PARTSTAT=NEEDS-ACTION;X-KITH-PEER=" + me + ":urn:kith:" + me + "\r\n" +
		"ATTENDEE;PARTSTAT=ACCEPTED;X-KITH-PEER=12D3KooWCarol:urn:kith:12D3KooWCarol\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	mine := "ATTENDEE;PARTSTAT=NEEDS-ACTION;X-KITH-PEER=" + me + ":urn:kith:" + me
	for _, tc := range []struct {
		name, from, to string
		want, err      string
	}{
		{name: "unchanged", want: ""},
		{name: "accept", from: mine, to: strings.Replace(mine, "NEEDS-ACTION", "ACCEPTED", 1), want: "ACCEPTED"},
		{name: "tentative without the peer parameter", from: mine, to: "ATTENDEE;PARTSTAT=TENTATIVE:urn:kith:" + me, want: "TENTATIVE"},
		{name: "app's own changes", from: "DTSTAMP:20261201T100000Z", to: "DTSTAMP:20261202T100000Z\r\nSTATUS:CONFIRMED\r\nX-MOZ-GENERATION:3", want: ""},
		{name: "summary", from: "SUMMARY:Planning", to: "SUMMARY:Party", err: "SUMMARY"},
		{name: "time", from: "DTEND;TZID=Europe/Berlin:20261203T110000", to: "DTEND;TZID=Europe/Berlin:20261203T120000", err: "time"},
		{name: "cancelled", from: "SUMMARY:Planning", to: "SUMMARY:Planning\r\nSTATUS:CANCELLED", err: "STATUS"},
		{name: "someone else's answer", from: "PARTSTAT=ACCEPTED;X-KITH-PEER=12D3KooWCarol", to: "PARTSTAT=DECLINED;X-KITH-PEER=12D3KooWCarol", err: "other attendees"},
		{name: "an attendee added", from: mine, to: mine + "\r\nATTENDEE:mailto:eve@example.org", err: "other attendees"},
		{name: "me removed", from: mine + "\r\n", to: "", err: "missing"},
		{name: "delegated", from: mine, to: strings.Replace(mine, "NEEDS-ACTION", "DELEGATED", 1), err: "DELEGATED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put := held
			if tc.from != "" {
				put = strings.Replace(held, tc.from, tc.to, 1)
			}
			got, err := answerOf(readICS(t, held), readICS(t, put), me, org)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("answerOf = %q, %v; want an error naming %s", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("answerOf = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func readICS(t *testing.T, text string) *ical.Event {
	t.Helper()
	ev, serr := readEvent([]byte(text))
	if serr != nil {
		t.Fatalf("readEvent: %v\n%s", serr, text)
	}
	return ev
}
