package identity

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimits keeps the fuzzer's Argon2id cheap: a mutated file may ask for
// up to 1 GiB under the real limits, which would be a memory test, not a
// parser test. Larger parameters take the same rejection path.
var fuzzLimits = kdfLimits{maxTime: 2, maxMemoryKiB: 1024, maxThreads: 2}

func FuzzParseKey(f *testing.F) {
	for _, pass := range [][]byte{nil, testPass} {
		_, data := marshalTest(f, pass)
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"type":"ed25519","kdf":"none","seed":"","peer_id":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, pass := range [][]byte{nil, testPass} {
			id, err := parseKey(data, pass, fuzzLimits)
			if err != nil {
				if id != nil {
					t.Fatalf("parseKey returned an identity and error %v", err)
				}
				if !errors.Is(err, ErrCorruptKey) && !errors.Is(err, ErrPassphraseRequired) && !errors.Is(err, ErrWrongPassphrase) {
					t.Fatalf("parseKey error %v is not one of the documented sentinels", err)
				}
				continue
			}
			// A successful parse round-trips through MarshalKey.
			out, err := MarshalKey(id, pass)
			if err != nil {
				t.Fatalf("MarshalKey after a successful parse: %v", err)
			}
			again, err := ParseKey(out, pass)
			if err != nil {
				t.Fatalf("ParseKey(MarshalKey(ParseKey(data))): %v", err)
			}
			if again.PeerID() != id.PeerID() || !bytes.Equal(again.Seed(), id.Seed()) {
				t.Fatalf("round trip changed the identity: %s -> %s", id.PeerID(), again.PeerID())
			}
		}
	})
}
