package spec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the entry decoder: it must never
// panic, and anything it accepts must re-encode to the same bytes and keep
// its CID.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"entries.json", "audience.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		var vs []vector
		if err := json.Unmarshal(raw, &vs); err != nil {
			f.Fatal(err)
		}
		for _, v := range vs {
			if b, err := base64.StdEncoding.DecodeString(v.CBOR); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data)
		if err != nil {
			return
		}
		again, err := e.Encode()
		if err != nil {
			t.Fatalf("Encode after Decode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted non-canonical bytes:\n in %x\nout %x", data, again)
		}
		_ = e.Verify() // must not panic
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}

// FuzzUnpad: Unpad never panics, and what it accepts is exactly what Pad
// makes: padding the result to the input's length gives the input back.
func FuzzUnpad(f *testing.F) {
	f.Add([]byte{0x80})
	f.Add([]byte{1, 2, 0x80, 0, 0})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, padded []byte) {
		plain, err := Unpad(padded)
		if err != nil {
			return
		}
		if again := Pad(plain, len(padded)); !bytes.Equal(again, padded) {
			t.Fatalf("Pad(Unpad(%x)) = %x", padded, again)
		}
	})
}
