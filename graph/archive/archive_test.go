package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// fixture is a store holding me's log (mine entries) and a friend's
// (theirs entries), as a node holds its connections' logs.
type fixture struct {
	me, friend *identity.Identity
	st         *store.Store
}

func newFixture(tb testing.TB, mine, theirs int) *fixture {
	tb.Helper()
	f := &fixture{me: identity.NewTest(tb, "me"), friend: identity.NewTest(tb, "friend"), st: store.NewTest(tb, book.Index{})}
	for _, w := range []struct {
		id *identity.Identity
		n  int
	}{{f.me, mine}, {f.friend, theirs}} {
		appendContacts(tb, f.st, w.id, w.n)
	}
	return f
}

func appendContacts(tb testing.TB, st graph.Store, id *identity.Identity, n int) {
	tb.Helper()
	ctx := context.Background()
	w, err := graph.NewWriter(ctx, id, st, nil)
	require.NoError(tb, err)
	for done := 0; done < n; {
		var drafts []graph.Draft
		for i := done; i < n && len(drafts) < 500; i++ {
			drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: fmt.Sprint(i),
				Card: &graph.Card{Fields: []graph.Field{{Name: "fn", Value: fmt.Sprintf("Person %d", i)}}}}, To: graph.Audience{Self: true}})
		}
		_, err := w.Append(ctx, drafts...)
		require.NoError(tb, err)
		done += len(drafts)
	}
}

func (f *fixture) export(tb testing.TB, key []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	_, err := archive.Write(context.Background(), &buf, archive.StoreSource(f.st), archive.WriteOptions{Signer: f.me, Key: key, Now: time.UnixMilli(1_700_000_000_000)})
	require.NoError(tb, err)
	return buf.Bytes()
}

// readInto reads data into a new store, as an import does.
func readInto(tb testing.TB, data []byte, opts archive.ReadOptions, open func(*spec.Entry) (*graph.Body, error)) (*store.Store, error) {
	tb.Helper()
	st := store.NewTest(tb, book.Index{})
	r, err := archive.NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return st, err
	}
	return st, r.Entries(context.Background(), open, st.Put)
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t, 1500, 30)
	key, err := identity.MarshalKey(f.me, []byte("pass"))
	require.NoError(t, err)
	data := f.export(t, key)

	var progress []uint64
	r, err := archive.NewReader(bytes.NewReader(data), archive.ReadOptions{Expect: f.me.PeerID(), Workers: 3,
		Progress: func(done, total uint64) { progress = append(progress, done, total) }})
	require.NoError(t, err)
	require.Equal(t, key, r.Key())
	require.Equal(t, f.me.PeerID(), r.Identity())
	require.Len(t, r.Manifest().Logs, 2)
	require.Equal(t, uint64(1530), r.Manifest().Entries())
	st := store.NewTest(t, book.Index{})
	require.NoError(t, r.Entries(t.Context(), graph.Opener(f.me), st.Put))
	require.Equal(t, []uint64{1024, 1530, 1530, 1530}, progress)

	want, err := f.st.Heads(t.Context())
	require.NoError(t, err)
	got, err := st.Heads(t.Context())
	require.NoError(t, err)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("heads after the round trip = %v, want %v", got, want)
	}
	n, err := st.Count(t.Context(), f.me.PeerID(), graph.KindContact)
	require.NoError(t, err)
	if n != 1500 {
		t.Errorf("contacts after the round trip = %d, want 1500", n)
	}
	rep, err := st.Check(t.Context(), graph.Opener(f.me))
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)
}

func TestEmptyStore(t *testing.T) {
	f := newFixture(t, 0, 0)
	data := f.export(t, nil)
	st, err := readInto(t, data, archive.ReadOptions{}, nil)
	require.NoError(t, err)
	h, err := st.Heads(t.Context())
	require.NoError(t, err)
	require.Empty(t, h)
}

func TestWriteRefusesKeyInTheClear(t *testing.T) {
	f := newFixture(t, 1, 0)
	clearKey, err := identity.MarshalKey(f.me, nil)
	require.NoError(t, err)
	_, err = archive.Write(t.Context(), io.Discard, archive.StoreSource(f.st), archive.WriteOptions{Signer: f.me, Key: clearKey})
	if !errors.Is(err, identity.ErrPassphraseRequired) {
		t.Errorf("Write(key in the clear) = %v, want ErrPassphraseRequired", err)
	}
}

// rawCAR writes a CAR of blocks (CIDs computed as an export does) under
// root, without any of Write's care.
func rawCAR(tb testing.TB, root cid.Cid, blocks ...[]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := storage.NewWritable(struct{ io.Writer }{&buf}, []cid.Cid{root}, car.WriteAsCarV1(true), car.AllowDuplicatePuts(true))
	require.NoError(tb, err)
	for _, b := range blocks {
		require.NoError(tb, w.Put(context.Background(), spec.CIDOf(b).KeyString(), b))
	}
	return buf.Bytes()
}

// logOf returns the raw entries of author's log in st.
func logOf(tb testing.TB, st *store.Store, id *identity.Identity) [][]byte {
	tb.Helper()
	les, err := st.Log(context.Background(), id.PeerID(), 0, 0)
	require.NoError(tb, err)
	var raws [][]byte
	for _, le := range les {
		raws = append(raws, le.Raw)
	}
	return raws
}

// signed returns the encoding of m signed by id.
func signed(tb testing.TB, m *archive.Manifest, id *identity.Identity) []byte {
	tb.Helper()
	m.Sig = nil
	msg, err := spec.Marshal(m)
	require.NoError(tb, err)
	m.Sig, err = id.Sign(msg)
	require.NoError(tb, err)
	b, err := spec.Marshal(m)
	require.NoError(tb, err)
	return b
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, 40, 5)
	key, err := identity.MarshalKey(f.me, []byte("pass"))
	require.NoError(t, err)
	good := f.export(t, key)
	other := identity.NewTest(t, "other")
	mine := logOf(t, f.st, f.me)
	head := spec.CIDOf(mine[len(mine)-1])
	manifest := func() *archive.Manifest {
		return &archive.Manifest{V: archive.Version, Type: archive.ManifestType, Identity: []byte(f.me.PeerID()), Created: 1,
			Logs: []archive.LogHead{{Author: []byte(f.me.PeerID()), Seq: uint64(len(mine)), Head: spec.LinkTo(head)}}}
	}
	withManifest := func(mb []byte, entries ...[]byte) []byte {
		return rawCAR(t, spec.CIDOf(mb), append([][]byte{mb}, entries...)...)
	}

	type tc struct {
		name   string
		data   []byte
		expect *identity.Identity
		want   error
	}
	cases := []tc{
		{name: "empty", data: nil, want: archive.ErrTruncated},
		{name: "not a CAR", data: bytes.Repeat([]byte("BEGIN:VCARD\r\nFN:Ada\r\nEND:VCARD\r\n"), 10), want: archive.ErrMalformed},
		{name: "another identity", data: good, expect: other, want: archive.ErrWrongIdentity},
		{name: "forged manifest signature", want: archive.ErrBadManifestSignature, data: func() []byte {
			m := manifest()
			mb := signed(t, m, other) // names me, signed by another key
			return withManifest(mb, mine...)
		}()},
		{name: "tampered manifest", want: archive.ErrBadManifestSignature, data: func() []byte {
			m := manifest()
			signed(t, m, f.me)
			m.Created++ // after signing
			mb, err := spec.Marshal(m)
			require.NoError(t, err)
			return withManifest(mb, mine...)
		}()},
		{name: "chain gap", want: archive.ErrChain, data: func() []byte {
			blocks := append(append([][]byte{}, mine[:10]...), mine[11:]...)
			return withManifest(signed(t, manifest(), f.me), append(blocks, mine[len(mine)-1])...)
		}()},
		{name: "head not reached", want: archive.ErrChain, data: func() []byte {
			m := manifest()
			m.Logs[0].Seq-- // the head's CID at the seq before
			return withManifest(signed(t, m, f.me), mine[:len(mine)-1]...)
		}()},
		{name: "entries out of order", want: archive.ErrChain, data: func() []byte {
			blocks := append([][]byte{}, mine...)
			blocks[3], blocks[4] = blocks[4], blocks[3]
			return withManifest(signed(t, manifest(), f.me), blocks...)
		}()},
		{name: "a block after the last", want: archive.ErrMalformed, data: withManifest(signed(t, manifest(), f.me), append(mine, []byte{0xa0})...)},
		{name: "manifest not first", want: archive.ErrMalformed, data: func() []byte {
			mb := signed(t, manifest(), f.me)
			return rawCAR(t, spec.CIDOf(mb), append(append([][]byte{}, mine...), mb)...)
		}()},
	}
	// Truncated at several points: in the header, the manifest, the key
	// block, an entry, at a block boundary, one byte short.
	for _, n := range []int{1, 10, 60, 200, 400, 700, len(good) / 3, len(good) / 2, len(good) - 300, len(good) - 1} {
		cases = append(cases, tc{name: fmt.Sprintf("truncated at %d", n), data: good[:n]})
	}
	// A flipped byte anywhere: the header, the manifest, the key block,
	// entries (lengths, CIDs, bodies, signatures), the last byte.
	for off := 0; off < len(good); off += max(1, len(good)/97) {
		cases = append(cases, tc{name: fmt.Sprintf("flipped byte at %d", off), data: flip(good, off)})
	}
	cases = append(cases, tc{name: "flipped last byte", data: flip(good, len(good)-1)})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := archive.ReadOptions{}
			if c.expect != nil {
				opts.Expect = c.expect.PeerID()
			}
			err := read(c.data, opts, graph.Opener(f.me))
			if err == nil {
				t.Fatalf("reading %d bytes (%s) = nil error, want one", len(c.data), c.name)
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

// read reads data through, dropping the entries.
func read(data []byte, opts archive.ReadOptions, open func(*spec.Entry) (*graph.Body, error)) error {
	r, err := archive.NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return err
	}
	return r.Entries(context.Background(), open, func(context.Context, []*graph.Entry) error { return nil })
}

func isArchiveErr(err error) bool {
	for _, s := range []error{archive.ErrMalformed, archive.ErrTruncated, archive.ErrTooLarge, archive.ErrBlockMismatch,
		archive.ErrBadManifestSignature, archive.ErrBadEntry, archive.ErrChain, archive.ErrWrongIdentity} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func flip(b []byte, off int) []byte {
	c := bytes.Clone(b)
	c[off] ^= 0x01
	return c
}
