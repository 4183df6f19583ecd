package cal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/ical"
	"github.com/kith-p2p/kith/identity"
)

func replyRecord(t testing.TB, text string, seq uint64, key string) *graph.Record {
	t.Helper()
	return &graph.Record{Kind: graph.KindRSVP, Key: key, Body: &graph.Body{Kind: graph.KindRSVP, Key: key, Event: &graph.Event{ICS: text, Seq: seq}}}
}

// An answer a friend's log holds is read only when it is what rsvp
// writes: the organizer, one ATTENDEE that is its author, a PARTSTAT a
// person can give, the SEQUENCE its sq says.
func TestCheckReply(t *testing.T) {
	org, bob, eve := identity.NewTest(t, "alice").PeerID(), identity.NewTest(t, "bob").PeerID(), identity.NewTest(t, "eve").PeerID()
	uid := "lunch@kith"
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	good, err := encodeReply(uid, org, nil, bob, ical.Attendee{Address: PeerAddress(bob), Name: "Bob"}, "ACCEPTED", 2, now)
	require.NoError(t, err)
	ps, seq, err := CheckReply(replyRecord(t, good, 2, RSVPKey(org, uid)), bob, org, uid)
	require.NoError(t, err)
	require.Equal(t, "ACCEPTED", ps)
	require.Equal(t, 2, seq)

	for _, tc := range []struct {
		name   string
		text   string
		sq     uint64
		key    string
		author string
	}{
		{name: "someone else's answer", text: good, sq: 2, key: RSVPKey(org, uid), author: "eve"},
		{name: "sq differs", text: good, sq: 3, key: RSVPKey(org, uid)},
		{name: "other key", text: good, sq: 2, key: RSVPKey(bob, uid)},
		{name: "PARTSTAT a person cannot give", text: strings.Replace(good, "PARTSTAT=ACCEPTED", "PARTSTAT=DELEGATED", 1), sq: 2, key: RSVPKey(org, uid)},
		{name: "other UID", text: strings.Replace(good, "UID:"+uid, "UID:other@kith", 1), sq: 2, key: RSVPKey(org, uid)},
		{name: "other organizer", text: strings.Replace(good, "X-KITH-PEER="+org.String(), "X-KITH-PEER="+eve.String(), 1), sq: 2, key: RSVPKey(org, uid)},
		{name: "too large", text: good + strings.Repeat("X", MaxReplyICS), sq: 2, key: RSVPKey(org, uid)},
		{name: "cut off", text: good[:len(good)/2], sq: 2, key: RSVPKey(org, uid)},
		{name: "two attendees", text: strings.Replace(good, "END:VEVENT", "ATTENDEE;X-KITH-PEER="+bob.String()+";PARTSTAT=ACCEPTED:urn:x\r\nEND:VEVENT", 1), sq: 2, key: RSVPKey(org, uid)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			author := bob
			if tc.author == "eve" {
				author = eve
			}
			_, _, err := CheckReply(replyRecord(t, tc.text, tc.sq, tc.key), author, org, uid)
			require.ErrorIs(t, err, graph.ErrInvalid)
		})
	}
}

func FuzzCheckReply(f *testing.F) {
	org, bob := identity.NewTest(f, "alice").PeerID(), identity.NewTest(f, "bob").PeerID()
	good, err := encodeReply("u@kith", org, nil, bob, ical.Attendee{}, "DECLINED", 0, time.Unix(0, 0))
	require.NoError(f, err)
	f.Add(good, uint64(0))
	f.Add("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", uint64(1))
	f.Fuzz(func(t *testing.T, text string, sq uint64) {
		ps, _, err := CheckReply(replyRecord(t, text, sq, RSVPKey(org, "u@kith")), bob, org, "u@kith")
		if err == nil && ps != "ACCEPTED" && ps != "DECLINED" && ps != "TENTATIVE" {
			t.Fatalf("CheckReply accepted PARTSTAT %q", ps)
		}
	})
}

// An event in a connection's log is an invitation to me only if its
// ORGANIZER is that connection and I am among its attendees.
func TestCheckInvitation(t *testing.T) {
	org, me, eve := identity.NewTest(t, "alice").PeerID(), identity.NewTest(t, "bob").PeerID(), identity.NewTest(t, "eve").PeerID()
	c := &Calendar{self: me}
	line := func(name string, p fmt.Stringer) string {
		return name + ";X-KITH-PEER=" + p.String() + ":urn:kith:" + p.String() + "\r\n"
	}
	text := func(lines string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\nUID:u@kith\r\nDTSTAMP:20261101T100000Z\r\nDTSTART:20261203T100000Z\r\nSUMMARY:Planning\r\n" + lines + "END:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	rec := func(ics string) *graph.Record {
		return &graph.Record{Kind: graph.KindEvent, Key: "u@kith", Body: &graph.Body{Kind: graph.KindEvent, Key: "u@kith", Event: &graph.Event{ICS: ics}}}
	}
	_, err := c.checkInvitation(org, rec(text(line("ORGANIZER", org)+line("ATTENDEE", me))))
	require.NoError(t, err)
	for name, ics := range map[string]string{
		"organizer is someone else": text(line("ORGANIZER", eve) + line("ATTENDEE", me)),
		"no organizer":              text(line("ATTENDEE", me)),
		"not invited":               text(line("ORGANIZER", org) + line("ATTENDEE", eve)),
		"too large":                 text(line("ORGANIZER", org)+line("ATTENDEE", me)) + strings.Repeat("x", graph.MaxEventICS),
		"cut off":                   text(line("ORGANIZER", org) + line("ATTENDEE", me))[:150],
	} {
		if _, err := c.checkInvitation(org, rec(ics)); err == nil {
			t.Errorf("checkInvitation(%s) = nil, want an error", name)
		}
	}
}
