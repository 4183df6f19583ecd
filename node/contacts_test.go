package node_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

func fields(kv ...string) graph.Card {
	var c graph.Card
	for i := 0; i+1 < len(kv); i += 2 {
		c.Fields = append(c.Fields, graph.Field{Name: kv[i], Value: kv[i+1]})
	}
	return c
}

// count returns how many fields of c have name and value.
func count(c graph.Card, name, value string) int {
	n := 0
	for _, f := range c.Fields {
		if f.Name == name && f.Value == value {
			n++
		}
	}
	return n
}

func share(t *testing.T, n *node.Node, field string, values ...string) {
	t.Helper()
	_, err := n.SetMe(t.Context(), api.SetMeRequest{Field: field, Values: values, Circles: []string{"friends"}})
	require.NoError(t, err)
}

// localCount returns how many local contacts n's status counts.
func localCount(t *testing.T, n *node.Node) int {
	t.Helper()
	st, err := n.Status(t.Context())
	require.NoError(t, err)
	return st.Contacts
}

// TestLinkedContact: a connection's card shows once, with my notes; an
// edit, an import of their exported card and a merge change only my
// notes; rm removes my notes and keeps the connection.
func TestLinkedContact(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob := tn.add("alice"), tn.add("bob")
		connect(t, alice, bob, "friends")
		share(t, bob, "fn", "Bob Builder")
		share(t, bob, "email", "bob@example.org")
		eventually(t, "alice sees bob's card", func() bool { return len(seen(t, alice, bob, "email")) == 1 })
		bobID := bob.Host().ID().String()

		c, err := alice.Contact(ctx, "builder") // by a word of the name
		require.NoError(t, err)
		require.Equal(t, bobID, c.ID)
		require.Equal(t, "urn:kith:peer:"+bobID, c.UID)
		require.Equal(t, "Bob Builder", c.Name)
		require.NotNil(t, c.Notes)
		require.Empty(t, c.Notes.Fields)

		// An edit as the CLI made it before (the whole card plus a note)
		// stores only the note: every field of theirs shows once.
		edited := c.Card
		edited.Fields = append(slices.Clone(edited.Fields), graph.Field{Name: "note", Value: "climbing on Tuesdays"})
		c2, err := alice.EditContact(ctx, bobID, edited)
		require.NoError(t, err)
		for _, f := range []struct{ name, value string }{{"fn", "Bob Builder"}, {"email", "bob@example.org"}, {"note", "climbing on Tuesdays"}} {
			if n := count(c2.Card, f.name, f.value); n != 1 {
				t.Errorf("after the edit, %s %q shows %d times, want once: %+v", f.name, f.value, n, c2.Card.Fields)
			}
		}
		require.Equal(t, fields("note", "climbing on Tuesdays"), *c2.Notes)

		// Their change shows, not a stale copy of it.
		share(t, bob, "email", "bob@new.example")
		eventually(t, "alice sees bob's new email", func() bool {
			c, err := alice.Contact(ctx, bobID)
			require.NoError(t, err)
			return slices.Equal(c.Card.Values("email"), []string{"bob@new.example"})
		})

		// Importing their exported card again, with a note added in another
		// app, changes only my notes and adds no local contact.
		c, err = alice.Contact(ctx, bobID)
		require.NoError(t, err)
		exported := c.Card
		exported.Fields = append(slices.Clone(exported.Fields), graph.Field{Name: "tel", Value: "+1 555 0100"})
		refs, err := alice.AddContacts(ctx, []graph.Card{exported})
		require.NoError(t, err)
		require.Equal(t, api.StatusUpdated, refs[0].Status)
		require.Equal(t, bobID, refs[0].ID)
		c, err = alice.Contact(ctx, bobID)
		require.NoError(t, err)
		require.Equal(t, fields("note", "climbing on Tuesdays", "tel", "+1 555 0100"), *c.Notes)
		refs, err = alice.AddContacts(ctx, []graph.Card{c.Card})
		require.NoError(t, err)
		require.Equal(t, api.StatusUnchanged, refs[0].Status)
		require.Equal(t, 0, localCount(t, alice), "importing a linked contact made a local copy")

		// A local card merged into the linked contact becomes notes.
		local, err := alice.AddContacts(ctx, []graph.Card{fields("fn", "Bobby", "email", "bob@new.example", "email", "bobby@home.example")})
		require.NoError(t, err)
		_, err = alice.MergeContacts(ctx, local[0].ID, bobID)
		require.ErrorIs(t, err, api.ErrInvalid, "merging a linked contact into a local one")
		res, err := alice.MergeContacts(ctx, bobID, local[0].ID)
		require.NoError(t, err)
		require.Equal(t, bobID, res.Contact.ID)
		require.Equal(t, "Bob Builder", res.Contact.Name, "their name stays")
		require.Equal(t, fields("note", "climbing on Tuesdays", "tel", "+1 555 0100", "nickname", "Bobby", "email", "bobby@home.example"), *res.Contact.Notes)
		require.Equal(t, 0, localCount(t, alice))

		// rm removes my notes; the connection stays.
		require.NoError(t, alice.RemoveContact(ctx, bobID))
		c, err = alice.Contact(ctx, bobID)
		require.NoError(t, err)
		require.Empty(t, c.Notes.Fields)
		require.Equal(t, []string{"Bob Builder"}, c.Card.Values("fn"))
		require.True(t, hasPeer(t, alice, bob))
		require.NoError(t, alice.RemoveContact(ctx, bobID), "rm with no notes left")
	})
}

// TestLinkedContactName: a connection who shares no name is called by
// their best other field, never by their peer ID.
func TestLinkedContactName(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, carol, dan := tn.add("alice"), tn.add("carol"), tn.add("dan")
		connect(t, alice, carol, "friends")
		connect(t, alice, dan, "friends")
		share(t, carol, "email", "carol@example.org")
		share(t, carol, "tel", "+1 555 0100")
		eventually(t, "alice sees carol's card", func() bool { return len(seen(t, alice, carol, "tel")) == 1 })
		cs, err := alice.Contacts(ctx)
		require.NoError(t, err)
		names := map[string]string{}
		for _, c := range cs {
			names[c.ID] = c.Name
		}
		require.Equal(t, map[string]string{carol.Host().ID().String(): "carol@example.org", dan.Host().ID().String(): ""}, names)

		// kith peers names them the same way: erin shares only her phone.
		erin := tn.add("erin")
		connect(t, alice, erin, "friends")
		share(t, erin, "tel", "+1 555 0199")
		eventually(t, "alice sees erin's card", func() bool { return len(seen(t, alice, erin, "tel")) == 1 })
		ps, err := alice.Peers(ctx)
		require.NoError(t, err)
		for _, p := range ps {
			if p.PeerID == erin.Host().ID() && p.Name != "+1 555 0199" {
				t.Errorf("Peers names erin %q, want her best field +1 555 0199", p.Name)
			}
		}
	})
}

// TestContactMadeBeforeUIDs: a contact stored without a UID is shown and
// exported with one derived from its id, the same every time, so that
// re-importing the export finds it.
func TestContactMadeBeforeUIDs(t *testing.T) {
	ctx := t.Context()
	n := node.NewTest(t, "alice")
	require.NoError(t, n.AppendContact(ctx, "3kq9x2m7ab", fields("fn", "Old Friend", "email", "old@example.org")))
	c, err := n.Contact(ctx, "3kq9x2m7ab")
	require.NoError(t, err)
	require.Equal(t, book.LegacyUID("3kq9x2m7ab"), c.UID)
	require.Equal(t, c.UID, c.Card.First("uid"))
	again, err := n.Contact(ctx, "old friend")
	require.NoError(t, err)
	require.Equal(t, c.UID, again.UID)

	refs, err := n.AddContacts(ctx, []graph.Card{c.Card})
	require.NoError(t, err)
	require.Equal(t, []api.ContactRef{{ID: "3kq9x2m7ab", Name: "Old Friend", CID: c.CID, Status: api.StatusUnchanged}}, refs)
	changed := c.Card
	changed.Fields = append(slices.Clone(changed.Fields), graph.Field{Name: "tel", Value: "+1 555 0100"})
	refs, err = n.AddContacts(ctx, []graph.Card{changed})
	require.NoError(t, err)
	require.Equal(t, api.StatusUpdated, refs[0].Status)
	require.Equal(t, "3kq9x2m7ab", refs[0].ID)
	c, err = n.Contact(ctx, "3kq9x2m7ab")
	require.NoError(t, err)
	require.Equal(t, book.LegacyUID("3kq9x2m7ab"), c.UID, "the derived UID is now the contact's own")
	require.Equal(t, 1, localCount(t, n))
}

// TestConcurrentImportsOfOneUID: two batches that name the same UIDs at
// once add each contact once.
func TestConcurrentImportsOfOneUID(t *testing.T) {
	ctx := t.Context()
	n := node.NewTest(t, "alice")
	var cards []graph.Card
	for i := range 300 {
		cards = append(cards, fields("uid", fmt.Sprintf("urn:uuid:same-%d", i), "fn", fmt.Sprintf("Person %d", i)))
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = n.AddContacts(ctx, cards) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, len(cards), localCount(t, n))
}

// TestMergedContactStaysMerged: importing again the vCard of a contact
// that was merged into another finds the merged contact (by the UID kept
// as an alias) instead of bringing the old one back; what that card adds
// goes into the merged contact.
func TestMergedContactStaysMerged(t *testing.T) {
	ctx := t.Context()
	n := node.NewTest(t, "alice")
	keep := fields("uid", "urn:uuid:keep", "fn", "Ann Lee", "email", "ann@example.org")
	other := fields("uid", "urn:uuid:other", "fn", "Ann", "tel", "+1 555 0100")
	refs, err := n.AddContacts(ctx, []graph.Card{keep, other})
	require.NoError(t, err)
	_, err = n.MergeContacts(ctx, refs[0].ID, refs[1].ID)
	require.NoError(t, err)

	again, err := n.AddContacts(ctx, []graph.Card{other})
	require.NoError(t, err)
	require.Equal(t, refs[0].ID, again[0].ID, "the old card finds the contact it was merged into")
	require.Equal(t, api.StatusUnchanged, again[0].Status)

	more := fields("uid", "urn:uuid:other", "fn", "Ann", "tel", "+1 555 0100", "email", "ann@work.example")
	again, err = n.AddContacts(ctx, []graph.Card{more})
	require.NoError(t, err)
	require.Equal(t, api.StatusUpdated, again[0].Status)
	cs, err := n.Contacts(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 1, "no contact came back")
	c := cs[0]
	require.Equal(t, "urn:uuid:keep", c.UID, "the merged contact keeps its UID")
	require.ElementsMatch(t, []string{"ann@example.org", "ann@work.example"}, c.Card.Values("email"))
	require.Equal(t, []string{"+1 555 0100"}, c.Card.Values("tel"))
}
