package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

func TestTermSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ada Lovelace", "Ada Lovelace"},
		{"Zoë 山田 🙂", "Zoë 山田 🙂"},
		{"Mal\x1b[2J\x1b[31mORY\x1b]0;owned\x07", `Mal\x1b[2J\x1b[31mORY\x1b]0;owned\x07`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"csi\u009b2J", `csi\u009b2J`},
		{"abc\u202edcba", `abc\u202edcba`},
		{"line\nbreak\ttab\r", `line\x0abreak\x09tab\x0d`},
		{"bad\xffbyte", "bad\uFFFDbyte"},
	} {
		if got := termSafe(tc.in); got != tc.want {
			t.Errorf("termSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTermWriter: text written through it keeps newlines and tabs, loses
// every other control, and a rune split across two writes survives.
func TestTermWriter(t *testing.T) {
	var b bytes.Buffer
	w := &termWriter{w: &b}
	s := "a\x1b[2Jb\n\tü"
	for i := range len(s) {
		w.Write([]byte{s[i]}) // byte by byte: ü arrives in two writes
	}
	if got, want := b.String(), "a\\x1b[2Jb\n\tü"; got != want {
		t.Errorf("termWriter wrote %q, want %q", got, want)
	}
	if exact(w) != &b {
		t.Error("exact(termWriter) is not the writer under it")
	}
}

// rawControls returns the characters of s a terminal would act on.
func rawControls(s string) []rune {
	var out []rune
	for _, r := range s {
		if r != '\n' && r != '\t' && (unsafeRune(r) || r == utf8.RuneError) {
			out = append(out, r)
		}
	}
	return out
}

// hostileAPI answers as a daemon whose friend sent a hostile card.
type hostileAPI struct {
	api.API // every other method: not called
	peer    api.Peer
	contact api.Contact
}

func (h *hostileAPI) ID(context.Context) (*api.Identity, error) {
	return &api.Identity{PeerID: h.peer.PeerID}, nil
}
func (h *hostileAPI) Peers(context.Context) ([]api.Peer, error) { return []api.Peer{h.peer}, nil }
func (h *hostileAPI) Contacts(context.Context) ([]api.Contact, error) {
	return []api.Contact{h.contact}, nil
}
func (h *hostileAPI) SearchContacts(context.Context, string) ([]api.Contact, error) {
	return []api.Contact{h.contact}, nil
}
func (h *hostileAPI) Contact(context.Context, string) (*api.Contact, error) { return &h.contact, nil }

// TestHostileOutput: what a friend sends reaches the terminal with its
// control characters escaped, in every text and table printer; --json
// carries it exactly.
func TestHostileOutput(t *testing.T) {
	hostile := "Mal\x1b[2J\x1b[31mORY\x1b]0;owned\x07\u202e"
	p := peer.ID(identity.NewTest(t, "mallory").PeerID())
	card := graph.Card{Fields: []graph.Field{
		{Name: "fn", Value: hostile, Raw: true, Invalid: "fn: control character"},
		{Name: "note", Value: "a\x00b\u009b2J", Raw: true, Invalid: "note: control character"},
		{Name: "email", Value: "x\x1b]0;t\x07@example.org"},
		{Name: "org", Value: "Evil\x1b[5m Corp"},
	}}
	impl := &hostileAPI{
		peer:    api.Peer{PeerID: p, Name: hostile, Card: card, Circles: []string{"fri\x1bends"}},
		contact: api.Contact{ID: p.String(), Peer: p, Name: hostile, Card: card, Notes: &graph.Card{}},
	}
	home := testHome(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(api.SocketPath(home)), 0o700))
	ln, err := net.Listen("unix", api.SocketPath(home))
	require.NoError(t, err)
	srv := &http.Server{Handler: api.Handler(impl, nil)}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })

	for _, args := range [][]string{{"peers"}, {"contacts", "list"}, {"contacts", "show", p.String()}, {"contacts", "search", "mal"}} {
		r := kith(t, home, args...)
		if bad := rawControls(r.stdout + r.stderr); len(bad) > 0 {
			t.Errorf("kith %s wrote raw controls %q to the terminal:\nstdout: %q\nstderr: %q", strings.Join(args, " "), bad, r.stdout, r.stderr)
		}
		if r.code == 0 && !strings.Contains(r.stdout, `\x1b`) {
			t.Errorf("kith %s = %q, want the escapes shown", strings.Join(args, " "), r.stdout)
		}
	}
	// JSON stays exact: decoded, it is what the daemon sent.
	r := kith(t, home, "peers", "--json")
	var ps []api.Peer
	decodeJSON(t, r.stdout, &ps)
	if len(ps) != 1 || ps[0].Name != hostile || !slices.EqualFunc(ps[0].Card.Fields, card.Fields, func(a, b graph.Field) bool { return a.Value == b.Value && a.Invalid == b.Invalid }) {
		t.Errorf("kith peers --json = %+v, want the card exactly", ps)
	}
}
