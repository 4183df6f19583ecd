package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// hintsBlock mirrors the hints block's encoding (spec/SPEC.md, "Export
// (CAR)"), to build blocks Write never would.
type hintsBlock struct {
	V     uint64     `cbor:"v"`
	Type  string     `cbor:"type"`
	Peers []hintPeer `cbor:"peers"`
}

type hintPeer struct {
	Peer  []byte   `cbor:"peer"`
	Addrs [][]byte `cbor:"addrs"`
}

func addr(tb testing.TB, s string) ma.Multiaddr {
	tb.Helper()
	a, err := ma.NewMultiaddr(s)
	require.NoError(tb, err)
	return a
}

// exportWithHints writes f's export with hs.
func (f *fixture) exportWithHints(tb testing.TB, hs []archive.PeerHint) ([]byte, *archive.Manifest) {
	tb.Helper()
	var buf bytes.Buffer
	m, err := archive.Write(context.Background(), &buf, archive.StoreSource(f.st), archive.WriteOptions{Signer: f.me, Now: time.UnixMilli(1_700_000_000_000), Hints: hs})
	require.NoError(tb, err)
	return buf.Bytes(), m
}

// readHints reads data through and returns its hints.
func readHints(data []byte) ([]archive.PeerHint, error) {
	r, err := archive.NewReader(bytes.NewReader(data), archive.ReadOptions{Workers: 2})
	if err != nil {
		return nil, err
	}
	if err := r.Entries(context.Background(), nil, func(context.Context, []*graph.Entry) error { return nil }); err != nil {
		return nil, err
	}
	return r.Hints(), nil
}

func hintString(hs []archive.PeerHint) string {
	var b strings.Builder
	for _, h := range hs {
		fmt.Fprintf(&b, "%s:", h.Peer)
		for _, a := range h.Addrs {
			fmt.Fprintf(&b, " %s", a)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestHintsRoundTrip: what Write keeps of the hints (within the limits,
// transport addresses only) is what the reader hands back, in peer order.
func TestHintsRoundTrip(t *testing.T) {
	f := newFixture(t, 20, 3)
	friend, other, nobody := f.friend.PeerID(), identity.NewTest(t, "other").PeerID(), identity.NewTest(t, "nobody").PeerID()
	var many []ma.Multiaddr
	for i := range archive.MaxHintAddrs + 3 {
		many = append(many, addr(t, fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", i+1)))
	}
	long := addr(t, "/dns4/"+strings.Repeat("a", 200)+".example/tcp/1")
	in := []archive.PeerHint{
		{Peer: friend, Addrs: []ma.Multiaddr{
			addr(t, "/ip4/192.0.2.1/tcp/4001"),
			addr(t, "/ip4/192.0.2.1/udp/4001/quic-v1/p2p/"+friend.String()), // its own peer ID: cut off
			addr(t, "/ip4/192.0.2.2/tcp/4001/p2p/"+other.String()),          // another's: dropped
			addr(t, "/ip4/192.0.2.1/tcp/4001"),                              // again: dropped
			long,                                                            // too long: dropped
			addr(t, "/ip4/192.0.2.3/tcp/4001/p2p/"+other.String()+"/p2p-circuit"), // relayed
		}},
		{Peer: other, Addrs: many},
		{Peer: friend, Addrs: []ma.Multiaddr{addr(t, "/ip4/198.51.100.1/tcp/1")}}, // named twice: the first kept
		{Peer: nobody, Addrs: []ma.Multiaddr{long}},                               // no address left: skipped
		{Peer: "not a peer ID", Addrs: many},
	}
	data, m := f.exportWithHints(t, in)
	require.True(t, m.Hints, "the manifest announces the hints block")
	got, err := readHints(data)
	require.NoError(t, err)
	want := []archive.PeerHint{
		{Peer: friend, Addrs: []ma.Multiaddr{addr(t, "/ip4/192.0.2.1/tcp/4001"), addr(t, "/ip4/192.0.2.1/udp/4001/quic-v1"),
			addr(t, "/ip4/192.0.2.3/tcp/4001/p2p/"+other.String()+"/p2p-circuit")}},
		{Peer: other, Addrs: many[:archive.MaxHintAddrs]},
	}
	if bytes.Compare([]byte(want[0].Peer), []byte(want[1].Peer)) > 0 {
		want[0], want[1] = want[1], want[0]
	}
	require.Equal(t, hintString(want), hintString(got))

	// No hints (or none usable): no block, and the manifest is as before
	// hints existed (no "hints" key).
	for _, hs := range [][]archive.PeerHint{nil, {{Peer: nobody, Addrs: []ma.Multiaddr{long}}}} {
		data, m := f.exportWithHints(t, hs)
		require.False(t, m.Hints)
		got, err := readHints(data)
		require.NoError(t, err)
		require.Nil(t, got)
		mb, err := spec.Marshal(m)
		require.NoError(t, err)
		require.NotContains(t, string(mb), "hints")
	}
}

// TestHintsBounded: however many peers and addresses a node knows, the
// block stays within MaxHintPeers and MaxHintsSize, keeping the peers
// named first.
func TestHintsBounded(t *testing.T) {
	f := newFixture(t, 1, 0)
	var hs []archive.PeerHint
	for i := range 3 * archive.MaxHintPeers {
		id := identity.NewTest(t, fmt.Sprint("peer ", i)).PeerID()
		h := archive.PeerHint{Peer: id}
		for j := range archive.MaxHintAddrs {
			h.Addrs = append(h.Addrs, addr(t, fmt.Sprintf("/dns4/%s.example/tcp/%d", strings.Repeat("x", 60), j+1)))
		}
		hs = append(hs, h)
	}
	data, _ := f.exportWithHints(t, hs)
	got, err := readHints(data)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	require.LessOrEqual(t, len(got), archive.MaxHintPeers)
	kept := map[peer.ID]bool{}
	for _, h := range got {
		kept[h.Peer] = true
	}
	for i, h := range hs[:len(got)] {
		require.True(t, kept[h.Peer], "peer %d (named before others kept) was left out", i)
	}
	// The short addresses fit MaxHintPeers.
	for i := range hs {
		hs[i].Addrs = hs[i].Addrs[:0:0]
		hs[i].Addrs = append(hs[i].Addrs, addr(t, "/ip4/10.1.2.3/tcp/4001"))
	}
	data, _ = f.exportWithHints(t, hs)
	got, err = readHints(data)
	require.NoError(t, err)
	require.Len(t, got, archive.MaxHintPeers)
}

// TestHintsBadInput: a hints block out of place, missing, or not one is
// refused like any other bad block.
func TestHintsBadInput(t *testing.T) {
	f := newFixture(t, 10, 0)
	mine := logOf(t, f.st, f.me)
	friend := f.friend.PeerID()
	manifest := func(hints bool) []byte {
		return signed(t, &archive.Manifest{V: archive.Version, Type: archive.ManifestType, Identity: []byte(f.me.PeerID()), Created: 1,
			Logs:  []archive.LogHead{{Author: []byte(f.me.PeerID()), Seq: uint64(len(mine)), Head: spec.LinkTo(spec.CIDOf(mine[len(mine)-1]))}},
			Hints: hints}, f.me)
	}
	car := func(hints bool, after ...[]byte) []byte {
		mb := manifest(hints)
		return rawCAR(t, spec.CIDOf(mb), append(append([][]byte{mb}, mine...), after...)...)
	}
	block := func(hb hintsBlock) []byte {
		b, err := spec.Marshal(&hb)
		require.NoError(t, err)
		return b
	}
	tcp := addr(t, "/ip4/192.0.2.1/tcp/4001").Bytes()
	good := block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: []byte(friend), Addrs: [][]byte{tcp}}}})
	_, err := readHints(car(true, good))
	require.NoError(t, err, "the good block the bad ones are made from")

	a, b := []byte(friend), []byte(identity.NewTest(t, "other").PeerID())
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"announced, missing", car(true), archive.ErrTruncated},
		{"not announced", car(false, good), archive.ErrMalformed},
		{"a block after it", car(true, good, good), archive.ErrMalformed},
		{"an entry instead", car(true, mine[0]), archive.ErrMalformed},
		{"wrong type", car(true, block(hintsBlock{V: 1, Type: archive.ManifestType, Peers: []hintPeer{{Peer: a, Addrs: [][]byte{tcp}}}})), archive.ErrMalformed},
		{"wrong version", car(true, block(hintsBlock{V: 2, Type: archive.HintsType, Peers: []hintPeer{{Peer: a, Addrs: [][]byte{tcp}}}})), archive.ErrMalformed},
		{"no peer", car(true, block(hintsBlock{V: 1, Type: archive.HintsType})), archive.ErrMalformed},
		{"peers out of order", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: b, Addrs: [][]byte{tcp}}, {Peer: a, Addrs: [][]byte{tcp}}}})), archive.ErrMalformed},
		{"a peer twice", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: a, Addrs: [][]byte{tcp}}, {Peer: a, Addrs: [][]byte{tcp}}}})), archive.ErrMalformed},
		{"not a peer ID", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: []byte("nobody"), Addrs: [][]byte{tcp}}}})), archive.ErrMalformed},
		{"no address", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: a}}})), archive.ErrMalformed},
		{"too many addresses", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: a, Addrs: slices.Repeat([][]byte{tcp}, archive.MaxHintAddrs+1)}}})), archive.ErrMalformed},
		{"not a multiaddr", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: a, Addrs: [][]byte{[]byte("/ip4/192.0.2.1")}}}})), archive.ErrMalformed},
		{"an address ending in a peer ID", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: a,
			Addrs: [][]byte{addr(t, "/ip4/192.0.2.1/tcp/1/p2p/"+peer.ID(b).String()).Bytes()}}}})), archive.ErrMalformed},
		{"an address too long", car(true, block(hintsBlock{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: a,
			Addrs: [][]byte{addr(t, "/dns4/"+strings.Repeat("a", 200)+".example/tcp/1").Bytes()}}}})), archive.ErrMalformed},
		{"too large", car(true, bytes.Repeat([]byte{0x40}, archive.MaxHintsSize+1)), archive.ErrTooLarge},
	}
	good2 := car(true, good)
	for off := len(good2) - len(good) - 40; off < len(good2); off += 3 { // the hints block's section: length, CID, block
		cases = append(cases, struct {
			name string
			data []byte
			want error
		}{fmt.Sprintf("flipped byte at %d", off), flip(good2, off), nil})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readHints(c.data)
			if err == nil {
				t.Fatalf("reading (%s) = nil error, want one", c.name)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("reading (%s) = %v, want %v", c.name, err, c.want)
			}
			if !isArchiveErr(err) {
				t.Errorf("reading (%s) = %v: not one of archive's errors", c.name, err)
			}
		})
	}
}

// FuzzDecodeHints: a hints block that decodes is within its limits and
// re-encodes to its bytes; anything else is refused with archive's
// errors.
func FuzzDecodeHints(f *testing.F) {
	p := identity.NewTest(f, "friend").PeerID()
	for _, hb := range []hintsBlock{
		{V: 1, Type: archive.HintsType, Peers: []hintPeer{{Peer: []byte(p), Addrs: [][]byte{addr(f, "/ip4/192.0.2.1/tcp/4001").Bytes(),
			addr(f, "/ip6/2001:db8::1/udp/4001/quic-v1").Bytes(), addr(f, "/dns4/example.org/tcp/1/p2p/"+p.String()+"/p2p-circuit").Bytes()}}}},
		{V: 1, Type: archive.HintsType},
	} {
		b, err := spec.Marshal(&hb)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := archive.DecodeHints(b)
		if err != nil {
			if !isArchiveErr(err) {
				t.Fatalf("DecodeHints = %v: not one of archive's errors", err)
			}
			return
		}
		if len(b) > archive.MaxHintsSize || len(hs) == 0 || len(hs) > archive.MaxHintPeers {
			t.Fatalf("DecodeHints accepted %d bytes, %d peers", len(b), len(hs))
		}
		hb := hintsBlock{V: archive.Version, Type: archive.HintsType}
		for _, h := range hs {
			if len(h.Addrs) == 0 || len(h.Addrs) > archive.MaxHintAddrs {
				t.Fatalf("DecodeHints accepted a peer with %d addresses", len(h.Addrs))
			}
			hp := hintPeer{Peer: []byte(h.Peer)}
			for _, a := range h.Addrs {
				if len(a.Bytes()) > archive.MaxHintAddrSize {
					t.Fatalf("DecodeHints accepted an address of %d bytes", len(a.Bytes()))
				}
				hp.Addrs = append(hp.Addrs, a.Bytes())
			}
			hb.Peers = append(hb.Peers, hp)
		}
		again, err := spec.Marshal(&hb)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("DecodeHints accepted bytes that do not re-encode to themselves")
		}
	})
}
