package identity

import (
	"bytes"
	"errors"
	"strings"
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
	f.Add([]byte(`{"version":2,"type":"ed25519","kdf":"none","keys":"","recovery":"","peer_id":""}`))
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
			if again.PeerID() != id.PeerID() || !bytes.Equal(again.Seed(), id.Seed()) || !bytes.Equal(again.DataKey(), id.DataKey()) ||
				!bytes.Equal(again.RecoveryPublic(), id.RecoveryPublic()) {
				t.Fatalf("round trip changed the identity: %s -> %s", id.PeerID(), again.PeerID())
			}
		}
	})
}

// FuzzParsePhrase: a phrase is typed or pasted by a person, or read from a
// pipe; whatever it is, ParsePhrase returns a root or ErrBadPhrase, and a
// root's phrase parses back to the same root.
func FuzzParsePhrase(f *testing.F) {
	f.Add(strings.Repeat("abandon ", 23) + "art")
	f.Add(strings.Repeat("zoo ", 23) + "vote")
	f.Add("ABANDON\tabandon\n" + strings.Repeat("abandon ", 21) + "art\r\n")
	f.Add(strings.Repeat("abandn ", 23) + "art")
	f.Add(strings.Repeat("abandon ", 23) + "zoo")
	f.Add("")
	f.Add("1. abandon 2. ability")
	f.Add("abandón ſ K")
	f.Fuzz(func(t *testing.T, phrase string) {
		r, err := ParsePhrase(phrase)
		if err != nil {
			if r != nil || !errors.Is(err, ErrBadPhrase) {
				t.Fatalf("ParsePhrase(%q) = %v, %v; want nil and ErrBadPhrase", phrase, r, err)
			}
			return
		}
		again, err := ParsePhrase(r.Phrase())
		if err != nil || again.entropy != r.entropy {
			t.Fatalf("ParsePhrase(Phrase()) of %q = %v, %v; want the same root", phrase, again, err)
		}
	})
}
