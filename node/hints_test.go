package node_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// addrStrings returns as as sorted strings.
func addrStrings(as []ma.Multiaddr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	slices.Sort(out)
	return out
}

// TestImportKeepsWhereConnectionsWere: an export carries where my
// connections were last seen; the imported home remembers it and the
// node started on it knows where to dial them (the new laptop's daemon
// listens elsewhere than the old one did, so it must dial first), and
// goes on syncing with them.
func TestImportKeepsWhereConnectionsWere(t *testing.T) {
	ctx := t.Context()
	tn := newNet(t)
	a, b := tn.add("alice"), tn.add("bob")
	connect(t, a, b, "friends")
	bobAt := addrStrings(b.Host().Addrs())
	require.NotEmpty(t, bobAt)

	var car bytes.Buffer
	_, err := a.Export(ctx, api.ExportRequest{WithKey: true, Passphrase: []byte("pw")}, &car)
	require.NoError(t, err)
	r, err := archive.NewReader(bytes.NewReader(car.Bytes()), archive.ReadOptions{})
	require.NoError(t, err)
	require.True(t, r.Manifest().Hints, "the export of a node with a connection has hints")
	// The old laptop goes away for good (a mocknet keeps its links and
	// connections past its host's Close).
	require.NoError(t, a.Close())
	require.NoError(t, tn.mn.DisconnectPeers(a.Host().ID(), b.Host().ID()))
	require.NoError(t, tn.mn.UnlinkPeers(a.Host().ID(), b.Host().ID()))
	require.NoError(t, a.Host().Close())

	home := filepath.Join(t.TempDir(), "home")
	_, err = node.Import(ctx, home, bytes.NewReader(car.Bytes()), api.ImportOptions{KeyPassphrase: passphrase("pw")})
	require.NoError(t, err)
	id, err := identity.Keystore{Dir: home}.Load([]byte("pw"))
	require.NoError(t, err)
	h, err := tn.mn.AddPeer(id.PrivKey(), ma.StringCast("/ip6/100::99/tcp/4242")) // not where alice was
	require.NoError(t, err)
	require.NoError(t, tn.mn.LinkAll())
	laptop, err := node.New(ctx, node.WithIdentity(id), node.WithHome(home), node.WithHost(h), node.WithTuning(tn.timers))
	require.NoError(t, err)
	t.Cleanup(func() { laptop.Close() })

	pi, err := laptop.Store().PeerInfo(ctx, b.Host().ID())
	require.NoError(t, err)
	got := slices.Clone(pi.Addrs)
	slices.Sort(got)
	require.Equal(t, bobAt, got, "the imported home remembers where bob was")
	for _, s := range bobAt {
		require.Contains(t, addrStrings(laptop.Host().Peerstore().Addrs(b.Host().ID())), s, "the started node knows where to dial bob")
	}

	_, err = laptop.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{"from the new laptop"}, Circles: []string{"friends"}})
	require.NoError(t, err)
	eventually(t, "bob to see what the new laptop wrote", func() bool {
		return slices.Equal(seen(t, b, laptop, "note"), []string{"from the new laptop"})
	})
}

// TestImportHintsOnlyForConnections: hints are not signed, so an import
// keeps an address only for a peer that is a connection in the verified
// graph; a hint naming anyone else is dropped.
func TestImportHintsOnlyForConnections(t *testing.T) {
	ctx := t.Context()
	tn := newNet(t)
	a, b := tn.add("alice"), tn.add("bob")
	connect(t, a, b, "friends")
	stranger := identity.NewTest(t, "stranger").PeerID()
	at := ma.StringCast("/ip4/192.0.2.7/tcp/4001")

	alice := identity.NewTest(t, "alice")
	key, err := identity.MarshalKey(alice, []byte("pw"))
	require.NoError(t, err)
	var car bytes.Buffer
	_, err = archive.Write(ctx, &car, archive.StoreSource(a.Store()), archive.WriteOptions{Signer: alice, Key: key,
		Hints: []archive.PeerHint{{Peer: stranger, Addrs: []ma.Multiaddr{at}}, {Peer: b.Host().ID(), Addrs: []ma.Multiaddr{at}}}})
	require.NoError(t, err)
	home := filepath.Join(t.TempDir(), "home")
	_, err = node.Import(ctx, home, &car, api.ImportOptions{KeyPassphrase: passphrase("pw")})
	require.NoError(t, err)

	st, err := store.Open(ctx, filepath.Join(home, node.DBName), book.Index{})
	require.NoError(t, err)
	defer st.Close()
	for p, want := range map[peer.ID][]string{stranger: nil, b.Host().ID(): {at.String()}} {
		pi, err := st.PeerInfo(ctx, p)
		require.NoError(t, err)
		if fmt.Sprint(pi.Addrs) != fmt.Sprint(want) {
			t.Errorf("after the import, the addresses of %s = %v, want %v", p, pi.Addrs, want)
		}
	}
}
