// Package apitest is the conformance suite for [api.API]: the same tests
// run against the in-process node and against the unix-socket client, so
// both transports behave alike, errors included.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// Run runs the suite. newAPI returns a fresh, initialized node's API.
func Run(t *testing.T, newAPI func(t *testing.T) api.API) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a api.API)
	}{
		{"Identity", testIdentity},
		{"Circles", testCircles},
		{"Me", testMe},
		{"Contacts", testContacts},
		{"AddContactsAtomic", testAddContactsAtomic},
		{"CheckContacts", testCheckContacts},
		{"RepairNotDaemon", testRepairNotDaemon},
		{"ImportByUID", testImportByUID},
		{"LookupContacts", testLookupContacts},
		{"ReimportExport", testReimportExport},
		{"References", testReferences},
		{"Names", testNames},
		{"Duplicates", testDuplicates},
		{"Merge", testMerge},
		{"Patch", testPatch},
		{"PatchErrors", testPatchErrors},
		{"Log", testLog},
		{"Peers", testPeers},
		{"Export", testExport},
		{"RestoreErrors", testRestoreErrors},
		{"RotateErrors", testRotateErrors},
		{"Events", testEvents},
		{"DAV", testDAV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			tc.fn(t, a)
			rep, err := a.Check(t.Context())
			require.NoError(t, err)
			require.True(t, rep.OK(), "Check after %s: %v", tc.name, rep.Problems)
		})
	}
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func testIdentity(t *testing.T, a api.API) {
	ctx := t.Context()
	id, err := a.ID(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, id.PeerID)
	st, err := a.Status(ctx)
	require.NoError(t, err)
	if st.PeerID != id.PeerID {
		t.Errorf("Status.PeerID = %s, want %s", st.PeerID, id.PeerID)
	}
	if st.Entries < 2 || st.Logs != 1 || st.Contacts != 0 {
		t.Errorf("Status = %+v, want >= 2 entries, 1 log, 0 contacts", st)
	}
}

func circleNames(t *testing.T, a api.API) []string {
	cs, err := a.Circles(t.Context())
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

func testCircles(t *testing.T, a api.API) {
	ctx := t.Context()
	require.Equal(t, []string{"family", "friends", "work"}, circleNames(t, a))
	c, err := a.AddCircle(ctx, "vendors")
	require.NoError(t, err)
	require.Equal(t, "vendors", c.Name)
	_, err = a.AddCircle(ctx, "vendors")
	wantErr(t, err, api.ErrExists, "AddCircle twice")
	for _, bad := range []string{"", "Self", "self", "has space", "../x", "x-very-long-name-that-goes-on-and-on-for-ever"} {
		_, err = a.AddCircle(ctx, bad)
		wantErr(t, err, api.ErrInvalid, "AddCircle("+bad+")")
	}
	removed, err := a.RemoveCircle(ctx, "work", false)
	require.NoError(t, err, "RemoveCircle(empty circle) needs no force")
	require.Equal(t, "work", removed.Name)
	_, err = a.RemoveCircle(ctx, "work", false)
	wantErr(t, err, api.ErrNotFound, "RemoveCircle twice")

	// A circle that sees fields is removed only with force, which says
	// what went.
	_, err = a.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"a@example.org", "b@example.org"}, Circles: []string{"family"}})
	require.NoError(t, err)
	_, err = a.RemoveCircle(ctx, "family", false)
	wantErr(t, err, api.ErrNotEmpty, "RemoveCircle(circle with fields)")
	if err == nil || !strings.Contains(err.Error(), "2 fields") || !strings.Contains(err.Error(), "email") {
		t.Errorf("RemoveCircle(family) = %v, want it to say 2 fields (email)", err)
	}
	require.Contains(t, circleNames(t, a), "family", "a refused RemoveCircle removed the circle")
	removed, err = a.RemoveCircle(ctx, "family", true)
	require.NoError(t, err)
	if removed.Fields != 2 || !slices.Equal(removed.FieldNames, []string{"email"}) || len(removed.Members) != 0 {
		t.Errorf("RemoveCircle(family, force) = %+v, want 2 fields (email), no members", removed)
	}
	me, err := a.Me(ctx, "")
	require.NoError(t, err)
	require.Empty(t, me.Fields, "family's fields are gone with it")
	_, err = a.AddCircle(ctx, "family")
	require.NoError(t, err)
	require.Equal(t, []string{"family", "friends", "vendors"}, circleNames(t, a))
	// A removed circle can be made again.
	_, err = a.AddCircle(ctx, "work")
	require.NoError(t, err)
}

func testMe(t *testing.T, a api.API) {
	ctx := t.Context()
	_, err := a.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"alice@example.org"}, Circles: []string{"friends", "family"}})
	require.NoError(t, err)
	_, err = a.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0100"}, Circles: []string{"family"}})
	require.NoError(t, err)
	// Without a circle, the name goes to every circle (a private one set
	// before is replaced); any other field stays private.
	_, err = a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Al"}, Circles: []string{"self"}})
	require.NoError(t, err)
	_, err = a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
	require.NoError(t, err)
	_, err = a.SetMe(ctx, api.SetMeRequest{Field: "bday", Values: []string{"1990-05-04"}})
	require.NoError(t, err)

	p, err := a.Me(ctx, "")
	require.NoError(t, err)
	got := map[string][]string{}
	for _, f := range p.Fields {
		got[f.Name+"="+f.Value] = f.Circles
	}
	require.Equal(t, map[string][]string{
		"fn=Alice":                {"family", "friends", "work"},
		"email=alice@example.org": {"family", "friends"},
		"tel=+1 555 0100":         {"family"},
		"bday=1990-05-04":         {"self"},
	}, got)

	friends, err := a.Me(ctx, "friends")
	require.NoError(t, err)
	if len(friends.Fields) != 2 || friends.Fields[0].Name != "fn" || friends.Fields[1].Name != "email" {
		t.Errorf("Me(friends) = %+v, want the name and the email", friends.Fields)
	}
	cs, err := a.Circles(ctx)
	require.NoError(t, err)
	for _, c := range cs {
		if c.Name == "family" && c.Fields != 3 {
			t.Errorf("family sees %d fields, want 3", c.Fields)
		}
	}
	_, err = a.UnsetMe(ctx, api.UnsetMeRequest{Field: "bday"})
	require.NoError(t, err)

	tests := []struct {
		name string
		req  api.SetMeRequest
		want error
	}{
		{"unknown field", api.SetMeRequest{Field: "shoe-size", Values: []string{"9"}}, api.ErrInvalid},
		{"bad email", api.SetMeRequest{Field: "email", Values: []string{"alice@"}}, api.ErrInvalid},
		{"bad date", api.SetMeRequest{Field: "bday", Values: []string{"2024-13-45"}}, api.ErrInvalid},
		{"bad phone", api.SetMeRequest{Field: "tel", Values: []string{"call me"}}, api.ErrInvalid},
		{"no value", api.SetMeRequest{Field: "email"}, api.ErrInvalid},
		{"two birthdays", api.SetMeRequest{Field: "bday", Values: []string{"1990-01-01", "1991-01-01"}}, api.ErrInvalid},
		{"unknown circle", api.SetMeRequest{Field: "email", Values: []string{"a@b.example"}, Circles: []string{"nope"}}, api.ErrNotFound},
	}
	for _, tc := range tests {
		_, err := a.SetMe(ctx, tc.req)
		wantErr(t, err, tc.want, "SetMe "+tc.name)
	}
	_, err = a.Me(ctx, "nope")
	wantErr(t, err, api.ErrNotFound, "Me(unknown circle)")

	// Changing the email in friends re-issues only that circle's card.
	p, err = a.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"alice@new.example"}, Circles: []string{"friends"}})
	require.NoError(t, err)
	require.Contains(t, p.Fields, api.ProfileField{Field: graph.Field{Name: "email", Value: "alice@new.example"}, Circles: []string{"friends"}}, "SetMe returns the profile")
	friends, err = a.Me(ctx, "friends")
	require.NoError(t, err)
	require.Equal(t, "alice@new.example", friends.Fields[1].Value)
	family, err := a.Me(ctx, "family")
	require.NoError(t, err)
	require.Contains(t, family.Fields, api.ProfileField{Field: graph.Field{Name: "email", Value: "alice@example.org"}, Circles: []string{"family"}})

	p, err = a.UnsetMe(ctx, api.UnsetMeRequest{Field: "email"})
	require.NoError(t, err)
	for _, f := range p.Fields {
		if f.Name == "email" {
			t.Errorf("email still set after UnsetMe: %+v", f)
		}
	}
	_, err = a.UnsetMe(ctx, api.UnsetMeRequest{Field: "email"})
	wantErr(t, err, api.ErrNotFound, "UnsetMe twice")
}

func card(fields ...string) graph.Card {
	var c graph.Card
	for i := 0; i+1 < len(fields); i += 2 {
		c.Fields = append(c.Fields, graph.Field{Name: fields[i], Value: fields[i+1]})
	}
	return c
}

func testContacts(t *testing.T, a api.API) {
	ctx := t.Context()
	added, err := a.AddContacts(ctx, []graph.Card{
		card("fn", "Dr. Rao", "tel", "+1-555-0100", "email", "rao@clinic.example"),
		card("fn", "Ann Lee", "email", "ann@example.org", "org", "Acme"),
		card("fn", "Ann Lee", "email", "ann.lee@work.example"),
	})
	require.NoError(t, err)
	require.Len(t, added, 3)

	list, err := a.Contacts(ctx)
	require.NoError(t, err)
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"Ann Lee", "Ann Lee", "Dr. Rao"}, names)

	rao := added[0]
	for _, ref := range []string{rao.ID, rao.ID[:5], "dr. rao"} {
		c, err := a.Contact(ctx, ref)
		require.NoError(t, err, "Contact(%q)", ref)
		require.Equal(t, rao.ID, c.ID)
	}
	_, err = a.Contact(ctx, "Ann Lee")
	wantErr(t, err, api.ErrAmbiguous, "Contact(two Anns)")
	_, err = a.Contact(ctx, "nobody")
	wantErr(t, err, api.ErrNotFound, "Contact(nobody)")

	hits, err := a.SearchContacts(ctx, "clinic")
	require.NoError(t, err)
	require.Len(t, hits, 1)
	require.Equal(t, rao.ID, hits[0].ID)
	hits, err = a.SearchContacts(ctx, "ann")
	require.NoError(t, err)
	require.Len(t, hits, 2)

	edited, err := a.EditContact(ctx, rao.ID, card("fn", "Dr. Priya Rao", "tel", "+1-555-0199"))
	require.NoError(t, err)
	require.Equal(t, "Dr. Priya Rao", edited.Name)
	c, err := a.Contact(ctx, rao.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"+1-555-0199"}, c.Card.Values("tel"))
	_, err = a.EditContact(ctx, rao.ID, card("email", "broken@"))
	wantErr(t, err, api.ErrInvalid, "EditContact(bad email)")

	require.NoError(t, a.RemoveContact(ctx, rao.ID))
	_, err = a.Contact(ctx, rao.ID)
	wantErr(t, err, api.ErrNotFound, "Contact after remove")
	wantErr(t, a.RemoveContact(ctx, rao.ID), api.ErrNotFound, "RemoveContact twice")
	hits, err = a.SearchContacts(ctx, "priya")
	require.NoError(t, err)
	require.Empty(t, hits)
	_, err = a.SearchContacts(ctx, "  ")
	wantErr(t, err, api.ErrInvalid, "SearchContacts(blank)")
}

// testCheckContacts: CheckContacts lists the cards AddContacts would
// refuse, by number and kind, and stores nothing.
func testCheckContacts(t *testing.T, a api.API) {
	ctx := t.Context()
	big := card("fn", "Too Big")
	for i := range 16 {
		big.Fields = append(big.Fields, graph.Field{Name: "note", Value: strings.Repeat(string(rune('a'+i)), 4096)})
	}
	problems, err := a.CheckContacts(ctx, []graph.Card{card("fn", "Good"), card("fn", "Bad", "email", "nope@"), big})
	require.NoError(t, err)
	if len(problems) != 2 || problems[0].Card != 2 || problems[0].Code != "invalid" || problems[1].Card != 3 || problems[1].Code != "too_large" {
		t.Errorf("CheckContacts = %+v, want card 2 invalid and card 3 too_large", problems)
	}
	problems, err = a.CheckContacts(ctx, []graph.Card{card("fn", "Good")})
	require.NoError(t, err)
	require.Empty(t, problems)
	_, err = a.AddContacts(ctx, []graph.Card{card("fn", "Good"), big})
	wantErr(t, err, api.ErrTooLarge, "AddContacts with a card too large for an entry")
	list, err := a.Contacts(ctx)
	require.NoError(t, err)
	require.Empty(t, list, "checking or refusing cards must add nothing")
}

// testRepairNotDaemon: only a node the daemon runs can be repaired.
func testRepairNotDaemon(t *testing.T, a api.API) {
	_, err := a.Repair(t.Context())
	wantErr(t, err, api.ErrInvalid, "Repair of a node no daemon runs")
}

func testAddContactsAtomic(t *testing.T, a api.API) {
	ctx := t.Context()
	_, err := a.AddContacts(ctx, []graph.Card{card("fn", "Good"), card("fn", "Bad", "email", "nope@"), card("fn", "Also good")})
	wantErr(t, err, api.ErrInvalid, "AddContacts with a bad card")
	list, err := a.Contacts(ctx)
	require.NoError(t, err)
	require.Empty(t, list, "a failed batch must add nothing")
	_, err = a.AddContacts(ctx, []graph.Card{{}})
	wantErr(t, err, api.ErrInvalid, "AddContacts(empty card)")
	_, err = a.AddContacts(ctx, nil)
	wantErr(t, err, api.ErrInvalid, "AddContacts(nothing)")
}

func testLog(t *testing.T, a api.API) {
	ctx := t.Context()
	before, err := a.Log(ctx, 0, 0)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	if before[0].Seq != 1 || before[0].Kind != graph.KindGenesis {
		t.Errorf("first entry = %+v, want seq 1 genesis", before[0])
	}
	_, err = a.AddContacts(ctx, []graph.Card{card("fn", "Zed")})
	require.NoError(t, err)
	after, err := a.Log(ctx, before[len(before)-1].Seq, 0)
	require.NoError(t, err)
	require.Len(t, after, 1)
	if after[0].Kind != graph.KindContact || after[0].Seq != uint64(len(before)+1) || after[0].CID == "" {
		t.Errorf("new entry = %+v", after[0])
	}
	limited, err := a.Log(ctx, 0, 2)
	require.NoError(t, err)
	require.Len(t, limited, 2)
	kinds := []string{}
	for _, e := range before {
		kinds = append(kinds, e.Kind)
	}
	require.True(t, slices.Contains(kinds, graph.KindKeys), "log has a keys entry: %v", kinds)
}

// testPeers covers the connection calls a single node can answer: the
// multi-node behaviour is tested in node (mocknet) and test/e2e.
func testPeers(t *testing.T, a api.API) {
	ctx := t.Context()
	id, err := a.ID(ctx)
	require.NoError(t, err)
	stranger := "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"

	inv, err := a.Invite(ctx, api.InviteRequest{Circles: []string{"family"}, TTL: time.Hour})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(inv.Code, "kith1"), "invite code %q", inv.Code)
	require.WithinDuration(t, time.Now().Add(time.Hour), inv.Expires, time.Minute)
	_, err = a.Invite(ctx, api.InviteRequest{Circles: []string{"no-such-circle"}})
	wantErr(t, err, api.ErrNotFound, "Invite(unknown circle)")
	for _, ttl := range []time.Duration{-time.Hour, time.Second, api.MaxInviteTTL + time.Hour} {
		_, err = a.Invite(ctx, api.InviteRequest{TTL: ttl})
		wantErr(t, err, api.ErrInvalid, fmt.Sprintf("Invite(ttl %v)", ttl))
	}
	inv, err = a.Invite(ctx, api.InviteRequest{})
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), inv.Expires, time.Minute, "Invite without a ttl lasts a day")

	reqs, err := a.Requests(ctx)
	require.NoError(t, err)
	require.Empty(t, reqs)
	ps, err := a.Peers(ctx)
	require.NoError(t, err)
	require.Empty(t, ps)

	_, err = a.Connect(ctx, api.ConnectRequest{Target: id.PeerID.String()})
	wantErr(t, err, api.ErrInvalid, "Connect(self)")
	_, err = a.Connect(ctx, api.ConnectRequest{Target: "not a peer"})
	wantErr(t, err, api.ErrInvalid, "Connect(garbage)")
	wantErr(t, a.Accept(ctx, api.AcceptRequest{PeerID: stranger}), api.ErrNotFound, "Accept(no request)")
	wantErr(t, a.Decline(ctx, stranger), api.ErrNotFound, "Decline(no request)")
	wantErr(t, a.Decline(ctx, "garbage"), api.ErrInvalid, "Decline(garbage)")
	wantErr(t, a.AssignCircles(ctx, api.AssignRequest{PeerID: stranger, Circles: []string{"work"}}), api.ErrNotFound, "AssignCircles(not a connection)")
	wantErr(t, a.Disconnect(ctx, stranger), api.ErrNotFound, "Disconnect(not a connection)")
	_, err = a.ResolveFork(ctx, stranger)
	wantErr(t, err, api.ErrNotFound, "ResolveFork(no fork)")
	_, err = a.ResolveFork(ctx, "garbage")
	wantErr(t, err, api.ErrInvalid, "ResolveFork(garbage)")
	_, err = a.ResolveFork(ctx, id.PeerID.String())
	wantErr(t, err, api.ErrInvalid, "ResolveFork(self)")
}

func withUID(uid string, c graph.Card) graph.Card {
	c.Fields = append([]graph.Field{{Name: "uid", Value: uid}}, c.Fields...)
	return c
}

func statuses(refs []api.ContactRef) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Status)
	}
	return out
}

// logLen returns how many entries my log holds.
func logLen(t *testing.T, a api.API) int {
	t.Helper()
	es, err := a.Log(t.Context(), 0, 0)
	require.NoError(t, err)
	return len(es)
}

func testImportByUID(t *testing.T, a api.API) {
	ctx := t.Context()
	ann := withUID("urn:uuid:0b9a3c4e-8f1d-4d6a-9c2b-7e5f1a2b3c4d", card("fn", "Ann Lee", "email", "ann@example.org"))
	refs, err := a.AddContacts(ctx, []graph.Card{ann, card("fn", "Bob")})
	require.NoError(t, err)
	require.Equal(t, []string{api.StatusNew, api.StatusNew}, statuses(refs))
	bob, err := a.Contact(ctx, refs[1].ID)
	require.NoError(t, err)
	if !strings.HasPrefix(bob.UID, "urn:uuid:") || len(bob.UID) != len("urn:uuid:")+36 || bob.UID[9+14] != '4' || bob.Card.First("uid") != bob.UID {
		t.Errorf("a card without a UID got UID %q (card %q), want a random urn:uuid in both", bob.UID, bob.Card.First("uid"))
	}
	annC, err := a.Contact(ctx, refs[0].ID)
	require.NoError(t, err)
	require.Equal(t, ann.Fields[0].Value, annC.UID)

	// The same card again: nothing is written.
	before := logLen(t, a)
	again, err := a.AddContacts(ctx, []graph.Card{ann})
	require.NoError(t, err)
	require.Equal(t, []string{api.StatusUnchanged}, statuses(again))
	require.Equal(t, refs[0].ID, again[0].ID)
	if n := logLen(t, a); n != before {
		t.Errorf("re-adding an identical card appended %d entries, want none", n-before)
	}

	// A changed card with that UID updates the contact.
	changed := withUID(ann.Fields[0].Value, card("fn", "Ann Lee", "email", "ann@new.example", "tel", "+1 555 0111"))
	upd, err := a.AddContacts(ctx, []graph.Card{changed})
	require.NoError(t, err)
	require.Equal(t, []string{api.StatusUpdated}, statuses(upd))
	require.Equal(t, refs[0].ID, upd[0].ID)
	require.NotEmpty(t, upd[0].CID)
	c, err := a.Contact(ctx, refs[0].ID)
	require.NoError(t, err)
	require.Equal(t, []string{"ann@new.example"}, c.Card.Values("email"))
	require.Equal(t, ann.Fields[0].Value, c.UID, "an update keeps the UID")
	if n := logLen(t, a); n != before+1 {
		t.Errorf("an update appended %d entries, want 1", n-before)
	}

	// One UID twice in a batch: one contact, the later card wins.
	twice, err := a.AddContacts(ctx, []graph.Card{
		withUID("urn:uuid:twice", card("fn", "Cy", "tel", "+1 555 0122")),
		withUID("urn:uuid:twice", card("fn", "Cy", "tel", "+1 555 0133")),
		withUID("urn:uuid:twice", card("fn", "Cy", "tel", "+1 555 0133")),
	})
	require.NoError(t, err)
	require.Equal(t, []string{api.StatusNew, api.StatusUpdated, api.StatusUnchanged}, statuses(twice))
	require.Equal(t, twice[0].ID, twice[1].ID)
	c, err = a.Contact(ctx, twice[0].ID)
	require.NoError(t, err)
	require.Equal(t, []string{"+1 555 0133"}, c.Card.Values("tel"))

	// A linked contact's card for a peer that is not a connection never
	// becomes a local contact.
	stranger := "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	sk, err := a.AddContacts(ctx, []graph.Card{withUID("urn:kith:peer:"+stranger, card("fn", "Stranger"))})
	require.NoError(t, err)
	require.Equal(t, []string{api.StatusSkipped}, statuses(sk))

	list, err := a.Contacts(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3, "Ann, Bob and Cy, once each")
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, st.Contacts)

	// An edit keeps the UID; taking another contact's UID is refused.
	e, err := a.EditContact(ctx, refs[0].ID, card("fn", "Ann Lee", "email", "ann@example.org"))
	require.NoError(t, err)
	require.Equal(t, ann.Fields[0].Value, e.UID)
	_, err = a.EditContact(ctx, refs[0].ID, withUID(bob.UID, card("fn", "Ann Lee")))
	wantErr(t, err, api.ErrExists, "EditContact(another contact's UID)")
}

// testReimportExport: adding every contact's card as listed (what an
// export holds) adds nothing and writes nothing.
func testReimportExport(t *testing.T, a api.API) {
	ctx := t.Context()
	_, err := a.AddContacts(ctx, []graph.Card{
		card("fn", "Dr. Rao", "tel", "+1-555-0100", "email", "rao@clinic.example"),
		{Fields: []graph.Field{{Name: "email", Value: "no.name@example.org", Types: []string{"work", "home"}, Pref: 1}, {Name: "tel", Value: "+1 555 0199"}}},
		card("org", "Acme Plumbing", "note", "fixed the sink"),
	})
	require.NoError(t, err)
	list, err := a.Contacts(ctx)
	require.NoError(t, err)
	var export []graph.Card
	for _, c := range list {
		exported := c.Card
		// vCard 4.0 requires FN: an export makes one up for a card
		// without a name.
		if exported.First("fn") == "" {
			exported.Fields = append(exported.Fields, graph.Field{Name: "fn", Value: c.Name})
		}
		export = append(export, exported)
	}
	before := logLen(t, a)
	refs, err := a.AddContacts(ctx, export)
	require.NoError(t, err)
	require.Equal(t, []string{api.StatusUnchanged, api.StatusUnchanged, api.StatusUnchanged}, statuses(refs))
	if n := logLen(t, a); n != before {
		t.Errorf("re-importing the export appended %d entries, want none", n-before)
	}
	again, err := a.Contacts(ctx)
	require.NoError(t, err)
	require.Equal(t, list, again)
}

func testReferences(t *testing.T, a api.API) {
	ctx := t.Context()
	added, err := a.AddContacts(ctx, []graph.Card{
		card("fn", "Dr. Rao", "tel", "+1-555-0100", "email", "priya@clinic.example"),
		card("fn", "Ann Lee", "email", "ann@example.org"),
		card("fn", "Ann Müller", "tel", "+49 30 1234567"),
		card("fn", "Émile Zola", "email", "ez@example.fr"),
	})
	require.NoError(t, err)
	rao, lee, muller, zola := added[0].ID, added[1].ID, added[2].ID, added[3].ID
	tests := []struct {
		ref  string
		want string
	}{
		{rao, rao},
		{strings.ToUpper(rao), rao},
		{rao[:4], rao},
		{"Dr. Rao", rao},
		{"rao", rao},    // a word of the name
		{"RA", rao},     // a word prefix, any case
		{"priya", rao},  // a word of the email
		{"clinic", rao}, // another
		{"0100", rao},   // a group of the phone
		{"1555", rao},   // the phone's digits
		{"lee", lee},
		{"ann l", lee}, // every word a prefix
		{"ann mu", muller},
		{"muller", muller}, // without the umlaut
		{"emile", zola},    // without the accent
		{"  ZOLA ", zola},
		{"1234567", muller},
	}
	for _, tc := range tests {
		c, err := a.Contact(ctx, tc.ref)
		if err != nil {
			t.Errorf("Contact(%q): %v", tc.ref, err)
			continue
		}
		if c.ID != tc.want {
			t.Errorf("Contact(%q) = %s (%s), want %s", tc.ref, c.ID, c.Name, tc.want)
		}
	}
	_, err = a.Contact(ctx, "ann")
	wantErr(t, err, api.ErrAmbiguous, "Contact(ann)")
	if err != nil {
		for _, w := range []string{lee, "Ann Lee", muller, "Ann Müller", "by its id"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Contact(ann) error %q does not name %q", err, w)
			}
		}
	}
	for _, ref := range []string{"nobody", "rao zola", "x"} {
		_, err = a.Contact(ctx, ref)
		wantErr(t, err, api.ErrNotFound, "Contact("+ref+")")
	}
	_, err = a.Contact(ctx, " ")
	wantErr(t, err, api.ErrInvalid, "Contact(blank)")
	// Edit and remove take the same references.
	_, err = a.EditContact(ctx, "zola", card("fn", "Émile Zola", "note", "writer"))
	require.NoError(t, err)
	require.NoError(t, a.RemoveContact(ctx, "rao"))
	_, err = a.Contact(ctx, rao)
	wantErr(t, err, api.ErrNotFound, "Contact(removed)")
}

// testNames: a contact without a name is shown by its best field, never
// by its id.
func testNames(t *testing.T, a api.API) {
	ctx := t.Context()
	added, err := a.AddContacts(ctx, []graph.Card{
		card("tel", "+1 555 0100"),
		card("org", "Acme;Plumbing", "tel", "+1 555 0199"),
		card("nickname", "Zee", "email", "z@example.org"),
	})
	require.NoError(t, err)
	want := []string{"+1 555 0100", "Acme, Plumbing", "Zee"}
	for i, r := range added {
		if r.Name != want[i] {
			t.Errorf("AddContacts name %d = %q, want %q", i, r.Name, want[i])
		}
		c, err := a.Contact(ctx, r.ID)
		require.NoError(t, err)
		if c.Name != want[i] {
			t.Errorf("Contact(%s).Name = %q, want %q", r.ID, c.Name, want[i])
		}
	}
}

func testDuplicates(t *testing.T, a api.API) {
	ctx := t.Context()
	gs, err := a.Duplicates(ctx)
	require.NoError(t, err)
	require.Empty(t, gs)
	added, err := a.AddContacts(ctx, []graph.Card{
		card("fn", "Ann Lee", "email", "ann@example.org"),
		card("fn", "Lee,  ÁNN"), // the same name
		card("fn", "Bob", "email", "BOB@example.org"),
		card("fn", "Robert", "email", "bob@example.org", "tel", "+1 (555) 010-0123"),
		card("fn", "Bobby T.", "tel", "001 555 0100 123"), // the same number
		card("fn", "Zed", "email", "zed@example.org", "tel", "112"),
		card("fn", "Zoe", "tel", "112"), // too short to tell
	})
	require.NoError(t, err)
	gs, err = a.Duplicates(ctx)
	require.NoError(t, err)
	got := map[string][]string{}
	for _, g := range gs {
		var names []string
		for _, c := range g.Contacts {
			names = append(names, c.Name)
		}
		got[strings.Join(names, "|")] = g.Reasons
	}
	require.Equal(t, map[string][]string{
		"Ann Lee|Lee,  ÁNN":   {"name ann lee"},
		"Bob|Bobby T.|Robert": {"email bob@example.org", "phone 15550100123"},
	}, got)
	_ = added
}

func testMerge(t *testing.T, a api.API) {
	ctx := t.Context()
	added, err := a.AddContacts(ctx, []graph.Card{
		{Fields: []graph.Field{{Name: "fn", Value: "Priya Rao"}, {Name: "email", Value: "priya@example.org", Types: []string{"home"}}, {Name: "bday", Value: "1980-01-02"}}},
		{Fields: []graph.Field{{Name: "fn", Value: "Dr. Rao"}, {Name: "email", Value: "PRIYA@example.org", Types: []string{"work"}}, {Name: "tel", Value: "+1 555 0100"}, {Name: "bday", Value: "1980-02-01"}}},
		card("fn", "Other"),
	})
	require.NoError(t, err)
	keep, other := added[0], added[1]
	keepC, err := a.Contact(ctx, keep.ID)
	require.NoError(t, err)
	res, err := a.MergeContacts(ctx, keep.ID, "dr. rao")
	require.NoError(t, err)
	c := res.Contact
	require.Equal(t, keep.ID, c.ID)
	require.Equal(t, keepC.UID, c.UID, "the kept contact keeps its UID")
	require.Equal(t, "Priya Rao", c.Name)
	require.Equal(t, []string{"priya@example.org"}, c.Card.Values("email"), "one email, whatever its case")
	for _, f := range c.Card.Fields {
		if f.Name == "email" && !slices.Equal(f.Types, []string{"home", "work"}) {
			t.Errorf("merged email types = %v, want home, work", f.Types)
		}
	}
	require.Equal(t, []string{"+1 555 0100"}, c.Card.Values("tel"))
	require.Equal(t, []string{"Dr. Rao"}, c.Card.Values("nickname"))
	require.Equal(t, []string{"1980-01-02"}, c.Card.Values("bday"))
	require.Equal(t, []graph.Field{{Name: "bday", Value: "1980-02-01"}}, res.Dropped)
	_, err = a.Contact(ctx, other.ID)
	wantErr(t, err, api.ErrNotFound, "Contact(merged away)")
	got, err := a.Contact(ctx, keep.ID)
	require.NoError(t, err)
	require.Equal(t, c.Card, got.Card)

	_, err = a.MergeContacts(ctx, keep.ID, keep.ID)
	wantErr(t, err, api.ErrInvalid, "MergeContacts(itself)")
	_, err = a.MergeContacts(ctx, keep.ID, "nobody")
	wantErr(t, err, api.ErrNotFound, "MergeContacts(nobody)")
	list, err := a.Contacts(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
}

func fieldValues(name string, values ...string) api.FieldValues {
	return api.FieldValues{Name: name, Values: values}
}

// testPatch: PatchContact sets, adds and removes fields of a local
// contact, by name or by value, and keeps every field it is not told of.
func testPatch(t *testing.T, a api.API) {
	ctx := t.Context()
	added, err := a.AddContacts(ctx, []graph.Card{card("fn", "Grace Hopper", "email", "grace@example.org", "tel", "+1-555-0100", "tel", "+1-555-0101", "note", "admiral")})
	require.NoError(t, err)
	id := added[0].ID
	before, err := a.Contact(ctx, id)
	require.NoError(t, err)

	tests := []struct {
		name  string
		patch api.ContactPatch
		want  map[string][]string // field → values after, for the fields named
	}{
		{"set replaces every value", api.ContactPatch{Set: []api.FieldValues{fieldValues("org", "US Navy"), fieldValues("email", "grace@navy.example", "grace@example.org")}},
			map[string][]string{"org": {"US Navy"}, "email": {"grace@navy.example", "grace@example.org"}, "fn": {"Grace Hopper"}}},
		{"set to blank removes", api.ContactPatch{Set: []api.FieldValues{fieldValues("note", " ")}},
			map[string][]string{"note": nil, "org": {"US Navy"}}},
		{"add keeps the values there", api.ContactPatch{Add: []api.FieldValues{fieldValues("tel", "+1-555-0102", "+1-555-0100")}},
			map[string][]string{"tel": {"+1-555-0100", "+1-555-0101", "+1-555-0102"}}},
		{"remove one value", api.ContactPatch{Remove: []api.FieldRef{{Name: "tel", Value: "+1-555-0101"}}},
			map[string][]string{"tel": {"+1-555-0100", "+1-555-0102"}}},
		{"remove a field, any case", api.ContactPatch{Remove: []api.FieldRef{{Name: "TEL"}}, Set: []api.FieldValues{fieldValues("Title", "Rear Admiral")}},
			map[string][]string{"tel": nil, "title": {"Rear Admiral"}, "email": {"grace@navy.example", "grace@example.org"}}},
	}
	for _, tc := range tests {
		c, err := a.PatchContact(ctx, "grace", tc.patch)
		if err != nil {
			t.Errorf("PatchContact(%s): %v", tc.name, err)
			continue
		}
		got, err := a.Contact(ctx, id)
		require.NoError(t, err)
		if !reflect.DeepEqual(c.Card.Fields, got.Card.Fields) {
			t.Errorf("PatchContact(%s) returned %+v, but Contact then shows %+v", tc.name, c.Card.Fields, got.Card.Fields)
		}
		for f, want := range tc.want {
			if vs := got.Card.Values(f); !slices.Equal(vs, want) {
				t.Errorf("after PatchContact(%s): %s = %q, want %q", tc.name, f, vs, want)
			}
		}
	}
	c, err := a.Contact(ctx, id)
	require.NoError(t, err)
	require.Equal(t, before.UID, c.UID, "a patch keeps the UID")

	// A patch that changes nothing writes nothing.
	n := logLen(t, a)
	_, err = a.PatchContact(ctx, id, api.ContactPatch{Set: []api.FieldValues{fieldValues("org", "US Navy")}})
	require.NoError(t, err)
	if got := logLen(t, a); got != n {
		t.Errorf("a patch that changes nothing appended %d entries, want none", got-n)
	}
}

// testPatchErrors: what PatchContact refuses, and that a refused patch
// changes nothing.
func testPatchErrors(t *testing.T, a api.API) {
	ctx := t.Context()
	added, err := a.AddContacts(ctx, []graph.Card{card("fn", "Ann Lee", "email", "ann@example.org", "bday", "1990-05-04")})
	require.NoError(t, err)
	id := added[0].ID
	before, err := a.Contact(ctx, id)
	require.NoError(t, err)
	set := func(name string, values ...string) api.ContactPatch {
		return api.ContactPatch{Set: []api.FieldValues{fieldValues(name, values...)}}
	}
	tests := []struct {
		name  string
		ref   string
		patch api.ContactPatch
		want  error
	}{
		{"unknown ref", "nobody", set("org", "Acme"), api.ErrNotFound},
		{"blank ref", " ", set("org", "Acme"), api.ErrInvalid},
		{"nothing to change", id, api.ContactPatch{}, api.ErrInvalid},
		{"invalid email", id, set("email", "ann@"), api.ErrInvalid},
		{"unknown field", id, set("shoe-size", "9"), api.ErrInvalid},
		{"two birthdays", id, api.ContactPatch{Add: []api.FieldValues{fieldValues("bday", "1991-01-01")}}, api.ErrInvalid},
		{"field named twice", id, api.ContactPatch{Set: []api.FieldValues{fieldValues("org", "Acme")}, Remove: []api.FieldRef{{Name: "org"}}}, api.ErrInvalid},
		{"add nothing", id, api.ContactPatch{Add: []api.FieldValues{fieldValues("tel", " ")}}, api.ErrInvalid},
		{"the uid", id, set("uid", "urn:uuid:x"), api.ErrInvalid},
		{"remove a field it lacks", id, api.ContactPatch{Remove: []api.FieldRef{{Name: "tel"}}}, api.ErrNotFound},
		{"remove a value it lacks", id, api.ContactPatch{Remove: []api.FieldRef{{Name: "email", Value: "other@example.org"}}}, api.ErrNotFound},
		{"empty card", id, api.ContactPatch{Remove: []api.FieldRef{{Name: "fn"}, {Name: "email"}, {Name: "bday"}}}, api.ErrInvalid},
	}
	for _, tc := range tests {
		_, err := a.PatchContact(ctx, tc.ref, tc.patch)
		wantErr(t, err, tc.want, "PatchContact("+tc.name+")")
	}
	after, err := a.Contact(ctx, id)
	require.NoError(t, err)
	require.Equal(t, before.Card, after.Card, "a refused patch changed the card")
}

// RunLinked runs the PatchContact cases that need a connection: newPair
// returns two fresh, initialized nodes' APIs, theirs listening where an
// invite code can reach it. The suite connects mine to theirs.
func RunLinked(t *testing.T, newPair func(t *testing.T) (mine, theirs api.API)) {
	t.Run("PatchLinked", func(t *testing.T) {
		mine, theirs := newPair(t)
		testPatchLinked(t, mine, theirs)
		rep, err := mine.Check(t.Context())
		require.NoError(t, err)
		require.True(t, rep.OK(), "Check after PatchLinked: %v", rep.Problems)
	})
}

// testPatchLinked: a patch of a connection changes only my notes on them.
func testPatchLinked(t *testing.T, mine, theirs api.API) {
	ctx := t.Context()
	for _, f := range []api.SetMeRequest{
		{Field: "fn", Values: []string{"Bob Builder"}},
		{Field: "email", Values: []string{"bob@example.org"}, Circles: []string{"friends"}},
	} {
		_, err := theirs.SetMe(ctx, f)
		require.NoError(t, err)
	}
	inv, err := theirs.Invite(ctx, api.InviteRequest{})
	require.NoError(t, err)
	_, err = mine.Connect(ctx, api.ConnectRequest{Target: inv.Code})
	require.NoError(t, err)
	bob := inv.PeerID
	var c *api.Contact
	require.Eventually(t, func() bool {
		c, err = mine.Contact(ctx, bob.String())
		return err == nil && len(c.Card.Values("email")) == 1
	}, 20*time.Second, 50*time.Millisecond, "their card never reached me")
	// LookupContacts finds the connection by its peer ID and its UID.
	found, err := mine.LookupContacts(ctx, api.ContactLookup{IDs: []string{bob.String()}, UIDs: []string{c.UID}})
	require.NoError(t, err)
	require.Len(t, found, 1, "LookupContacts(a connection's peer ID and UID)")
	require.Equal(t, bob, found[0].Peer)
	require.Equal(t, c.Card, found[0].Card)

	// Set and add go into my notes; their card stays as it is.
	c, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{
		Set: []api.FieldValues{fieldValues("note", "climbing on Tuesdays")},
		Add: []api.FieldValues{fieldValues("email", "bob@work.example")},
	})
	require.NoError(t, err)
	require.Equal(t, bob.String(), c.ID)
	require.ElementsMatch(t, []string{"bob@example.org", "bob@work.example"}, c.Card.Values("email"))
	require.ElementsMatch(t, []graph.Field{{Name: "note", Value: "climbing on Tuesdays"}, {Name: "email", Value: "bob@work.example"}}, c.Notes.Fields)
	got, err := mine.Contact(ctx, "builder")
	require.NoError(t, err)
	require.Equal(t, c.Notes.Fields, got.Notes.Fields)

	// A name I set hides theirs; removing it shows theirs again.
	c, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Set: []api.FieldValues{fieldValues("fn", "Bobby")}})
	require.NoError(t, err)
	require.Equal(t, "Bobby", c.Name)
	c, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Remove: []api.FieldRef{{Name: "fn"}}})
	require.NoError(t, err)
	require.Equal(t, "Bob Builder", c.Name)

	// Removing by field takes my values and leaves theirs; what is only
	// on their card is theirs to change.
	c, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Remove: []api.FieldRef{{Name: "email"}}})
	require.NoError(t, err)
	require.Equal(t, []string{"bob@example.org"}, c.Card.Values("email"))
	_, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Remove: []api.FieldRef{{Name: "email"}}})
	wantErr(t, err, api.ErrInvalid, "PatchContact(remove their email)")
	_, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Remove: []api.FieldRef{{Name: "tel"}}})
	wantErr(t, err, api.ErrNotFound, "PatchContact(remove a field nobody has)")
	_, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Set: []api.FieldValues{fieldValues("email", "bob@")}})
	wantErr(t, err, api.ErrInvalid, "PatchContact(invalid email in my notes)")

	// Removing my last note leaves no notes, and the connection.
	c, err = mine.PatchContact(ctx, bob.String(), api.ContactPatch{Remove: []api.FieldRef{{Name: "note"}}})
	require.NoError(t, err)
	require.Empty(t, c.Notes.Fields)
	require.Equal(t, "Bob Builder", c.Name)
	ps, err := mine.Peers(ctx)
	require.NoError(t, err)
	require.Len(t, ps, 1)
}

// testExport streams an export and reads it back: the node's identity,
// its whole log, verified; with the key, sealed with the passphrase given.
func testExport(t *testing.T, a api.API) {
	ctx := t.Context()
	_, err := a.AddContacts(ctx, []graph.Card{card("fn", "Ada Lovelace"), card("fn", "Grace Hopper")})
	require.NoError(t, err)
	who, err := a.ID(ctx)
	require.NoError(t, err)
	log, err := a.Log(ctx, 0, 0)
	require.NoError(t, err)

	var buf bytes.Buffer
	var last [2]uint64
	res, err := a.Export(ctx, api.ExportRequest{Progress: func(done, total uint64) { last = [2]uint64{done, total} }}, &buf)
	require.NoError(t, err)
	if res.PeerID != who.PeerID || res.Key || res.Logs != 1 || res.Entries != uint64(len(log)) || res.Bytes != int64(buf.Len()) || res.Root == "" {
		t.Errorf("Export = %+v, want peer %s, 1 log, %d entries, no key, %d bytes", res, who.PeerID, len(log), buf.Len())
	}
	if last != [2]uint64{uint64(len(log)), uint64(len(log))} {
		t.Errorf("last progress = %v, want %d of %d", last, len(log), len(log))
	}
	r, err := archive.NewReader(bytes.NewReader(buf.Bytes()), archive.ReadOptions{Expect: who.PeerID})
	require.NoError(t, err)
	if r.Key() != nil {
		t.Errorf("export without --with-key holds a key block")
	}
	n := 0
	require.NoError(t, r.Entries(ctx, nil, func(_ context.Context, es []*graph.Entry) error { n += len(es); return nil }))
	if n != len(log) {
		t.Errorf("export holds %d entries, the log %d", n, len(log))
	}

	// The key only encrypted: this node's key file has no passphrase.
	_, err = a.Export(ctx, api.ExportRequest{WithKey: true}, &bytes.Buffer{})
	wantErr(t, err, api.ErrInvalid, "Export(with key, no passphrase, key file in the clear)")

	buf.Reset()
	res, err = a.Export(ctx, api.ExportRequest{WithKey: true, Passphrase: []byte("export pass")}, &buf)
	require.NoError(t, err)
	require.True(t, res.Key)
	r, err = archive.NewReader(bytes.NewReader(buf.Bytes()), archive.ReadOptions{})
	require.NoError(t, err)
	_, err = identity.ParseKey(r.Key(), []byte("wrong"))
	wantErr(t, err, identity.ErrWrongPassphrase, "ParseKey(export's key, wrong passphrase)")
	id, err := identity.ParseKey(r.Key(), []byte("export pass"))
	require.NoError(t, err)
	if id.PeerID() != who.PeerID {
		t.Errorf("export's key is %s's, want %s's", id.PeerID(), who.PeerID)
	}
}

// testRestoreErrors: what one node can say of a restore without a friend.
func testRestoreErrors(t *testing.T, a api.API) {
	ctx := t.Context()
	id, err := a.ID(ctx)
	require.NoError(t, err)
	for _, target := range []string{"", "not a peer", "/ip4/127.0.0.1/tcp/1", id.PeerID.String()} {
		_, err := a.Restore(ctx, api.RestoreRequest{Target: target})
		wantErr(t, err, api.ErrInvalid, fmt.Sprintf("Restore(%q)", target))
	}
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	nobody, err := peer.IDFromPublicKey(pub)
	require.NoError(t, err)
	_, err = a.Restore(ctx, api.RestoreRequest{Target: "/ip4/127.0.0.1/tcp/9/p2p/" + nobody.String()})
	wantErr(t, err, api.ErrUnreachable, "Restore(a peer nobody runs)")
	st, err := a.Status(ctx)
	require.NoError(t, err)
	if st.Forks != 0 || st.Logs != 1 {
		t.Errorf("Status after failed restores = %+v, want 1 log, no forks", st)
	}
}

// testLookupContacts: exact ids and UIDs find their contacts, each once;
// names that match nothing (a prefix, a name, a removed contact, a peer
// that is no connection) are left out; too many names are refused.
func testLookupContacts(t *testing.T, a api.API) {
	ctx := t.Context()
	refs, err := a.AddContacts(ctx, []graph.Card{
		withUID("ann-uid", card("fn", "Ann Lee")),
		withUID("urn:uuid:7d1c2f8e-3b4a-4c5d-9e6f-a1b2c3d4e5f6", card("fn", "Bo Park")),
		withUID("cy-uid", card("fn", "Cy Gone")),
	})
	require.NoError(t, err)
	ann, bo, cy := refs[0].ID, refs[1].ID, refs[2].ID
	require.NoError(t, a.RemoveContact(ctx, cy))

	ids := func(cs []api.Contact) []string {
		out := make([]string, 0, len(cs))
		for _, c := range cs {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }

	got, err := a.LookupContacts(ctx, api.ContactLookup{UIDs: []string{"ann-uid", "urn:uuid:7d1c2f8e-3b4a-4c5d-9e6f-a1b2c3d4e5f6", "cy-uid", "nobody"}})
	require.NoError(t, err)
	require.Equal(t, sorted(ann, bo), ids(got), "by UID")
	for _, c := range got {
		if c.ID == ann {
			require.Equal(t, "Ann Lee", c.Name)
			require.Equal(t, "ann-uid", c.UID)
		}
	}

	got, err = a.LookupContacts(ctx, api.ContactLookup{IDs: []string{strings.ToUpper(bo), cy, ann[:5], "Ann Lee"}, UIDs: []string{"ann-uid", "7d1c2f8e-3b4a-4c5d-9e6f-a1b2c3d4e5f6"}})
	require.NoError(t, err)
	require.Equal(t, sorted(ann, bo), ids(got), "by id and UID, each once, no prefixes or names")

	me, err := a.ID(ctx)
	require.NoError(t, err)
	got, err = a.LookupContacts(ctx, api.ContactLookup{IDs: []string{me.PeerID.String()}, UIDs: []string{"urn:kith:peer:" + me.PeerID.String()}})
	require.NoError(t, err)
	require.Empty(t, got, "a peer that is not a connection")

	got, err = a.LookupContacts(ctx, api.ContactLookup{})
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = a.LookupContacts(ctx, api.ContactLookup{UIDs: make([]string, api.MaxLookup+1)})
	wantErr(t, err, api.ErrTooLarge, "LookupContacts(too many)")
}
