package archive_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipld/go-car/v2"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/identity"
)

// seedExport is a small export with a key block, and its manifest.
func seedExport(f *testing.F) (data, manifest []byte) {
	fx := newFixture(f, 3, 2)
	key, err := identity.MarshalKey(fx.me, []byte("pass"))
	if err != nil {
		f.Fatal(err)
	}
	data = fx.export(f, key)
	br, err := car.NewBlockReader(bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	blk, err := br.Next()
	if err != nil {
		f.Fatal(err)
	}
	return data, blk.RawData()
}

// FuzzRead feeds arbitrary bytes to the reader: it must refuse them with
// one of its errors, never panic or allocate beyond its limits, and accept
// only what verifies.
func FuzzRead(f *testing.F) {
	data, _ := seedExport(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
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

// FuzzDecodeManifest: a manifest that decodes re-encodes to its bytes.
func FuzzDecodeManifest(f *testing.F) {
	_, m := seedExport(f)
	f.Add(m)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := archive.DecodeManifest(b)
		if err != nil {
			if !isArchiveErr(err) {
				t.Fatalf("DecodeManifest = %v: not one of archive's errors", err)
			}
			return
		}
		if err := m.Verify(); err != nil && !isArchiveErr(err) {
			t.Fatalf("Verify = %v: not one of archive's errors", err)
		}
	})
}
