package archive_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// FuzzRead feeds arbitrary bytes to the reader: it must refuse them with
// one of its errors, never panic or allocate beyond its limits, and hand
// on exactly the entries the manifest announces when it accepts. Its
// seeds (testdata/fuzz/FuzzRead) are exports with and without a key, kept
// as files: building them here would run SQLite and Argon2 in every
// fuzzing process.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := archive.NewReader(bytes.NewReader(b), archive.ReadOptions{Workers: 2})
		if err != nil {
			if !isArchiveErr(err) {
				t.Fatalf("NewReader = %v: not one of archive's errors", err)
			}
			return
		}
		var n uint64
		err = r.Entries(context.Background(), nil, func(_ context.Context, es []*graph.Entry) error {
			n += uint64(len(es))
			return nil
		})
		if err != nil && !isArchiveErr(err) {
			t.Fatalf("Entries = %v: not one of archive's errors", err)
		}
		if err == nil && n != r.Manifest().Entries() {
			t.Fatalf("Entries handed on %d entries, the manifest announces %d", n, r.Manifest().Entries())
		}
	})
}

// FuzzDecodeManifest: a manifest that decodes re-encodes to its bytes;
// Verify refuses with archive's errors only.
func FuzzDecodeManifest(f *testing.F) {
	id := identity.NewTest(f, "me")
	head := spec.CIDOf([]byte("head"))
	for _, m := range []*archive.Manifest{
		{V: archive.Version, Type: archive.ManifestType, Identity: []byte(id.PeerID()), Created: 1_700_000_000_000},
		{V: archive.Version, Type: archive.ManifestType, Identity: []byte(id.PeerID()), Created: 1,
			Logs: []archive.LogHead{{Author: []byte(id.PeerID()), Seq: 7, Head: spec.LinkTo(head)}}},
	} {
		f.Add(signed(f, m, id))
	}
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := archive.DecodeManifest(b)
		if err != nil {
			if !isArchiveErr(err) {
				t.Fatalf("DecodeManifest = %v: not one of archive's errors", err)
			}
			return
		}
		again, err := spec.Marshal(m)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("DecodeManifest accepted bytes that do not re-encode to themselves")
		}
		if err := m.Verify(); err != nil && !isArchiveErr(err) {
			t.Fatalf("Verify = %v: not one of archive's errors", err)
		}
	})
}
