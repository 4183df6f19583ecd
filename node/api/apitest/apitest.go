// Package apitest is the conformance suite for [api.API]: the same tests
// run against the in-process node and against the unix-socket client, so
// both transports behave alike, errors included.
package apitest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
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
		{"Log", testLog},
		{"Peers", testPeers},
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

	_, err = a.Connect(ctx, api.ConnectRequest{Target: id.PeerID})
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
	_, err = a.ResolveFork(ctx, id.PeerID)
	wantErr(t, err, api.ErrInvalid, "ResolveFork(self)")
}
