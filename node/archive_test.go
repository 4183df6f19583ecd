package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// views is what a person sees of a node: contacts, me, circles, peers
// (without what depends on being online).
func views(t testing.TB, a api.API) string {
	t.Helper()
	ctx := context.Background()
	contacts, err := a.Contacts(ctx)
	require.NoError(t, err)
	me, err := a.Me(ctx, "")
	require.NoError(t, err)
	circles, err := a.Circles(ctx)
	require.NoError(t, err)
	peers, err := a.Peers(ctx)
	require.NoError(t, err)
	// When a connection was last synced with is the node's own record,
	// not in any log: an imported home has it again at the first sync.
	for i := range contacts {
		if contacts[i].Peer != "" {
			contacts[i].Updated = time.Time{}
		}
	}
	for i := range peers {
		peers[i].Online, peers[i].LastSync = false, nil
	}
	b, err := json.MarshalIndent(map[string]any{"contacts": contacts, "me": me, "circles": circles, "peers": peers}, "", " ")
	require.NoError(t, err)
	return string(b)
}

func passphrase(p string) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return []byte(p), nil }
}

// TestExportImportRoundTrip: a node with contacts, circles, a card and a
// connection exports with its key; a fresh home imports it and starts as
// the same peer ID with the same views.
func TestExportImportRoundTrip(t *testing.T) {
	ctx := t.Context()
	tn := newNet(t)
	a, b := tn.add("alice"), tn.add("bob")
	_, err := a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
	require.NoError(t, err)
	_, err = b.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Bob"}})
	require.NoError(t, err)
	_, err = a.AddCircle(ctx, "climbing")
	require.NoError(t, err)
	connect(t, a, b, "family")
	_, err = a.AddContacts(ctx, []graph.Card{fields("fn", "Ada Lovelace", "email", "ada@example.org"), fields("fn", "Grace Hopper")})
	require.NoError(t, err)
	_, err = a.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"alice@example.org"}, Circles: []string{"family"}})
	require.NoError(t, err)
	eventually(t, "alice holds bob's card", func() bool { return slices.Contains(seen(t, a, b, "fn"), "Bob") })
	want := views(t, a)

	var car bytes.Buffer
	res, err := a.Export(ctx, api.ExportRequest{WithKey: true, Passphrase: []byte("new laptop")}, &car)
	require.NoError(t, err)
	require.Equal(t, 2, res.Logs)

	home := filepath.Join(t.TempDir(), "home")
	var progress uint64
	imp, err := node.Import(ctx, home, &car, api.ImportOptions{KeyPassphrase: passphrase("new laptop"),
		Progress: func(done, total uint64) { progress = done }})
	require.NoError(t, err)
	if !imp.KeyImported || imp.Entries != res.Entries || progress != res.Entries || imp.Contacts != 2 {
		t.Errorf("Import = %+v (progress %d), want alice's %d entries, key imported, 2 contacts", imp, progress, res.Entries)
	}

	id, err := identity.Keystore{Dir: home}.Load([]byte("new laptop"))
	require.NoError(t, err)
	who, err := a.ID(ctx)
	require.NoError(t, err)
	require.Equal(t, who.PeerID, id.PeerID())
	n, err := node.New(ctx, node.WithIdentity(id), node.WithHome(home))
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	if got := views(t, n); got != want {
		t.Errorf("views after import:\n%s\nwant:\n%s", got, want)
	}
	rep, err := n.Check(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)
}

// homeFiles lists what is in home, but the lock file.
func homeFiles(t testing.TB, home string) []string {
	t.Helper()
	des, err := os.ReadDir(home)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		if de.Name() != node.LockName {
			names = append(names, de.Name())
		}
	}
	return names
}

// TestImportRefuses: each bad import is refused with an error that says
// which, and leaves the home as it was.
func TestImportRefuses(t *testing.T) {
	ctx := t.Context()
	a := node.NewTest(t, "alice")
	_, err := a.AddContacts(ctx, []graph.Card{fields("fn", "Ada Lovelace")})
	require.NoError(t, err)
	export := func(req api.ExportRequest) []byte {
		var buf bytes.Buffer
		_, err := a.Export(ctx, req, &buf)
		require.NoError(t, err)
		return buf.Bytes()
	}
	withKey := export(api.ExportRequest{WithKey: true, Passphrase: []byte("pw")})
	noKey := export(api.ExportRequest{})
	flipped := bytes.Clone(withKey)
	flipped[len(flipped)-40] ^= 0x01

	// homes
	empty := func(t *testing.T) string { return filepath.Join(t.TempDir(), "home") }
	withOtherKey := func(t *testing.T) string {
		home := t.TempDir()
		require.NoError(t, identity.Keystore{Dir: home}.Save(identity.NewTest(t, "mallory"), nil))
		return home
	}
	withLog := func(t *testing.T) string {
		home := t.TempDir()
		_, err := node.Import(ctx, home, bytes.NewReader(withKey), api.ImportOptions{KeyPassphrase: passphrase("pw")})
		require.NoError(t, err)
		return home
	}
	cases := []struct {
		name string
		home func(*testing.T) string
		data []byte
		pass string
		want error
	}{
		{"wrong passphrase", empty, withKey, "wrong", identity.ErrWrongPassphrase},
		{"no key anywhere", empty, noKey, "pw", node.ErrNoKeyToImport},
		{"another identity's home", withOtherKey, withKey, "pw", archive.ErrWrongIdentity},
		{"home holds a log", withLog, withKey, "pw", node.ErrHomeHasLog},
		{"truncated in the manifest", empty, withKey[:100], "pw", archive.ErrTruncated},
		{"truncated in the entries", empty, withKey[:len(withKey)-100], "pw", archive.ErrTruncated},
		{"flipped byte", empty, flipped, "pw", nil},
		{"not an export", empty, []byte("BEGIN:VCARD\r\nEND:VCARD\r\n"), "pw", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := c.home(t)
			before := homeFiles(t, home)
			_, err := node.Import(ctx, home, bytes.NewReader(c.data), api.ImportOptions{KeyPassphrase: passphrase(c.pass)})
			if err == nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Import(%s) = %v, want %v", c.name, err, c.want)
			}
			if after := homeFiles(t, home); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("Import(%s) changed the home: %v, was %v", c.name, after, before)
			}
		})
	}
}

// TestImportIntoHomeWithKey: a home holding only the key (a copy of
// identity.key) takes an export without a key.
func TestImportIntoHomeWithKey(t *testing.T) {
	ctx := t.Context()
	a := node.NewTest(t, "alice")
	var buf bytes.Buffer
	_, err := a.Export(ctx, api.ExportRequest{}, &buf)
	require.NoError(t, err)
	home := t.TempDir()
	require.NoError(t, identity.Keystore{Dir: home}.Save(identity.NewTest(t, "alice"), []byte("home pw")))
	res, err := node.Import(ctx, home, io.MultiReader(&buf), api.ImportOptions{HomePassphrase: []byte("home pw")})
	require.NoError(t, err)
	if res.KeyImported {
		t.Errorf("Import into a home with its key: KeyImported = true")
	}
	has, err := node.HasLog(ctx, home)
	require.NoError(t, err)
	require.True(t, has)
}

// TestImportAfterCrashedImport: an import killed before its store was
// moved into place leaves only its temporary file; the home still holds
// no log, and the next import replaces that file and succeeds.
func TestImportAfterCrashedImport(t *testing.T) {
	ctx := t.Context()
	a := node.NewTest(t, "alice")
	_, err := a.AddContacts(ctx, []graph.Card{fields("fn", "Ada Lovelace")})
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = a.Export(ctx, api.ExportRequest{WithKey: true, Passphrase: []byte("pw")}, &buf)
	require.NoError(t, err)
	home := t.TempDir()
	// What a crash in the middle of the load leaves: a half-written
	// temporary store (here, not even a database).
	require.NoError(t, os.WriteFile(filepath.Join(home, node.DBName+".import"), []byte("half a store"), 0o600))
	has, err := node.HasLog(ctx, home)
	require.NoError(t, err)
	require.False(t, has, "a home holding only a crashed import's temporary file has a log")
	res, err := node.Import(ctx, home, &buf, api.ImportOptions{KeyPassphrase: passphrase("pw")})
	require.NoError(t, err)
	require.Equal(t, 1, res.Contacts)
	require.Equal(t, []string{identity.KeyFileName, node.DBName}, homeFiles(t, home)) // the temporary file is gone
}
