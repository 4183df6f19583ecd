package node_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node/api"
)

// TestHostileCardFromFriend: a friend's card with terminal escapes, a NUL,
// a malformed email and an unknown field reaches me through sync as it was
// signed (the entry byte for byte), and is read with the rules of local
// input: each bad field kept, marked invalid with a reason, never used as
// my friend's name or email.
func TestHostileCardFromFriend(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		mallory, bob := tn.add("mallory"), tn.add("bob")
		connect(t, mallory, bob, "friends")
		hostile := "Mal\x1b[2J\x1b[31mORY\x1b]0;owned\x07"
		card := graph.Card{Fields: []graph.Field{
			{Name: "fn", Value: hostile},
			{Name: "note", Value: "a\x00b"},
			{Name: "email", Value: "mallory@@example"},
			{Name: "x-evil", Value: "unknown"},
			{Name: "tel", Value: "+1 555 0100"},
		}}
		require.NoError(t, mallory.AppendCard(ctx, "friends", card, bob))
		var got api.Peer
		eventually(t, "bob holds mallory's hostile card", func() bool {
			ps, err := bob.Peers(ctx)
			require.NoError(t, err)
			i := slices.IndexFunc(ps, func(p api.Peer) bool { return p.PeerID == mallory.Host().ID() })
			if i < 0 {
				return false
			}
			got = ps[i]
			return slices.ContainsFunc(got.Card.Fields, func(f graph.Field) bool { return f.Name == "x-evil" })
		})
		invalid := map[string]bool{}
		for _, f := range got.Card.Fields {
			if f.Invalid != "" {
				require.True(t, f.Raw, "an invalid field is Raw: %+v", f)
				invalid[f.Name] = true
			}
		}
		for _, name := range []string{"fn", "note", "email", "x-evil"} {
			if !invalid[name] {
				t.Errorf("mallory's %s is not marked invalid: %+v", name, got.Card.Fields)
			}
		}
		if invalid["tel"] || got.Card.First("tel") != "+1 555 0100" {
			t.Errorf("mallory's valid tel = %+v, want it kept as valid", got.Card.Fields)
		}
		if got.Name == hostile || bytes.ContainsAny([]byte(got.Name), "\x1b\x00\x07") {
			t.Errorf("peer name = %q, want the invalid fn left out", got.Name)
		}
		if i := slices.IndexFunc(got.Card.Fields, func(f graph.Field) bool { return f.Name == "fn" }); got.Card.Fields[i].Value != hostile {
			t.Errorf("fn kept as %q, want it as sent", got.Card.Fields[i].Value)
		}
		// The JSON form carries it exactly, escaped as JSON escapes it.
		b, err := json.Marshal(got)
		require.NoError(t, err)
		if bytes.ContainsAny(b, "\x1b\x00\x07") {
			t.Errorf("peers JSON holds raw control bytes: %s", b)
		}
		// The contacts list shows the linked contact too, with its bad
		// fields marked.
		cs, err := bob.Contacts(ctx)
		require.NoError(t, err)
		require.Len(t, cs, 1)
		if cs[0].Name == hostile || cs[0].Card.First("fn") != "" {
			t.Errorf("linked contact = %+v, want no fn used as valid", cs[0])
		}
		// Bob's store holds mallory's entry as signed: it verifies.
		rep, err := bob.Check(ctx)
		require.NoError(t, err)
		require.True(t, rep.OK(), "%v", rep.Problems)
	})
}
