package cal

import (
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
