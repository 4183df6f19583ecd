package identity

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var testPass = []byte("correct horse battery staple")

// errNone marks a case of TestParseKeyErrors that parses.
var errNone = errors.New("no error")

// marshalTest returns the key file of the "keyfile" test identity.
func marshalTest(tb testing.TB, passphrase []byte) (*Identity, []byte) {
	tb.Helper()
	id := NewTest(tb, "keyfile")
	data, err := MarshalKey(id, passphrase)
	require.NoError(tb, err)
	return id, data
}

// editJSON decodes a key file into a map, lets edit change it, and encodes it.
func editJSON(tb testing.TB, data []byte, edit func(m map[string]any)) []byte {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(data, &m))
	edit(m)
	out, err := json.Marshal(m)
	require.NoError(tb, err)
	return out
}

func TestDefaultKDFCost(t *testing.T) {
	want := argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}
	if initialKDFCost != want {
		t.Errorf("kdfCost outside tests = %+v, want %+v", initialKDFCost, want)
	}
	if err := fileLimits.check(want); err != nil {
		t.Errorf("fileLimits reject the default cost: %v", err)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		passphrase []byte
		wantKDF    string
	}{
		{"unencrypted", nil, kdfNone},
		{"empty passphrase is unencrypted", []byte{}, kdfNone},
		{"passphrase", testPass, kdfArgon2id},
		{"one-byte passphrase", []byte{0}, kdfArgon2id},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, data := marshalTest(t, tc.passphrase)
			var kf keyFile
			require.NoError(t, json.Unmarshal(data, &kf))
			if kf.Version != 2 || kf.Type != "ed25519" || kf.KDF != tc.wantKDF || kf.PeerID != id.PeerID().String() {
				t.Errorf("key file header = %d %q %q %q, want 2 ed25519 %s %s",
					kf.Version, kf.Type, kf.KDF, kf.PeerID, tc.wantKDF, id.PeerID())
			}
			plainKeys := base64.StdEncoding.EncodeToString(append(id.Seed(), id.DataKey()...))
			if encrypted := kf.KDF != kdfNone; encrypted == bytes.Contains(data, []byte(plainKeys)) {
				t.Errorf("plaintext keys in file = %v, want %v", !encrypted, !encrypted)
			}
			if !bytes.Equal(kf.Recovery, id.RecoveryPublic()) {
				t.Errorf("recovery in file = %x, want %x", kf.Recovery, id.RecoveryPublic())
			}

			got, err := ParseKey(data, tc.passphrase)
			require.NoError(t, err)
			if got.PeerID() != id.PeerID() || !bytes.Equal(got.Seed(), id.Seed()) || !bytes.Equal(got.DataKey(), id.DataKey()) ||
				!bytes.Equal(got.RecoveryCommitment(), id.RecoveryCommitment()) {
				t.Errorf("ParseKey(MarshalKey(id)) = %s, want %s", got.PeerID(), id.PeerID())
			}
		})
	}

	t.Run("fresh salt and nonce", func(t *testing.T) {
		_, a := marshalTest(t, testPass)
		_, b := marshalTest(t, testPass)
		if bytes.Equal(a, b) {
			t.Errorf("MarshalKey with a passphrase gave the same bytes twice")
		}
	})
	t.Run("passphrase ignored for unencrypted file", func(t *testing.T) {
		id, data := marshalTest(t, nil)
		got, err := ParseKey(data, testPass)
		require.NoError(t, err)
		if got.PeerID() != id.PeerID() {
			t.Errorf("ParseKey() = %s, want %s", got.PeerID(), id.PeerID())
		}
	})
}

func TestParseKeyErrors(t *testing.T) {
	_, plain := marshalTest(t, nil)
	_, sealed := marshalTest(t, testPass)
	otherPeer := NewTest(t, "someone else").PeerID().String()
	preRelease := []byte(`{"version": 1, "type": "ed25519", "kdf": "none", "seed": "` +
		base64.StdEncoding.EncodeToString(make([]byte, 32)) + `", "peer_id": "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"}`)

	set := func(data []byte, key string, v any) []byte {
		return editJSON(t, data, func(m map[string]any) { m[key] = v })
	}
	setParam := func(key string, v any) []byte {
		return editJSON(t, sealed, func(m map[string]any) { m["argon2id"].(map[string]any)[key] = v })
	}
	flip := func(data []byte, field string, i int) []byte {
		return editJSON(t, data, func(m map[string]any) {
			b, err := base64.StdEncoding.DecodeString(m[field].(string))
			require.NoError(t, err)
			b[i] ^= 0x80
			m[field] = base64.StdEncoding.EncodeToString(b)
		})
	}
	flipSeed := func(data []byte, i int) []byte { return flip(data, "keys", i) }

	tests := []struct {
		name       string
		data       []byte
		passphrase []byte
		wantErr    error
	}{
		{"empty", nil, nil, ErrCorruptKey},
		{"garbage", []byte("\x00\xffnot json at all"), nil, ErrCorruptKey},
		{"JSON array", []byte("[1,2,3]"), nil, ErrCorruptKey},
		{"truncated plain", plain[:len(plain)/2], nil, ErrCorruptKey},
		{"truncated sealed", sealed[:len(sealed)-10], testPass, ErrCorruptKey},
		{"trailing data", append(bytes.Clone(plain), "{}"...), nil, ErrCorruptKey},
		{"over 16 KiB", append(bytes.Clone(plain), bytes.Repeat([]byte(" "), MaxKeyFileSize)...), nil, ErrCorruptKey},
		{"unknown field", set(plain, "comment", "hi"), nil, ErrCorruptKey},
		{"version 0", set(plain, "version", 0), nil, ErrCorruptKey},
		{"version 3", set(plain, "version", 3), nil, ErrCorruptKey},
		{"pre-release version 1", preRelease, nil, ErrPreReleaseKey},
		{"pre-release version 1 is corrupt too", preRelease, nil, ErrCorruptKey},
		{"version string", set(plain, "version", "1"), nil, ErrCorruptKey},
		{"type secp256k1", set(plain, "type", "secp256k1"), nil, ErrCorruptKey},
		{"unknown kdf", set(sealed, "kdf", "scrypt"), testPass, ErrCorruptKey},
		{"bad base64 keys", set(plain, "keys", "!!!not base64!!!"), nil, ErrCorruptKey},
		{"old seed field", set(plain, "seed", base64.StdEncoding.EncodeToString(make([]byte, 32))), nil, ErrCorruptKey},
		{"bad base64 salt", set(sealed, "salt", "%%%%"), testPass, ErrCorruptKey},
		{"short keys", set(plain, "keys", base64.StdEncoding.EncodeToString(make([]byte, 32))), nil, ErrCorruptKey},
		{"missing keys", editJSON(t, plain, func(m map[string]any) { delete(m, "keys") }), nil, ErrCorruptKey},
		{"missing recovery", editJSON(t, plain, func(m map[string]any) { delete(m, "recovery") }), nil, ErrCorruptKey},
		{"short recovery", set(plain, "recovery", base64.StdEncoding.EncodeToString(make([]byte, 31))), nil, ErrCorruptKey},
		{"tampered plain data key", flipSeed(plain, 40), nil, errNone},
		{"tampered sealed recovery", flip(sealed, "recovery", 0), testPass, ErrWrongPassphrase},
		{"missing peer_id", editJSON(t, plain, func(m map[string]any) { delete(m, "peer_id") }), nil, ErrCorruptKey},
		{"bad peer_id", set(plain, "peer_id", "12D3KooWnotapeerid"), nil, ErrCorruptKey},
		{"wrong peer_id plain", set(plain, "peer_id", otherPeer), nil, ErrCorruptKey},
		{"wrong peer_id sealed", set(sealed, "peer_id", otherPeer), testPass, ErrCorruptKey},
		{"tampered plain seed", flipSeed(plain, 3), nil, ErrCorruptKey},
		{"kdf none with salt", set(plain, "salt", base64.StdEncoding.EncodeToString(make([]byte, 16))), nil, ErrCorruptKey},
		{"kdf none with params", set(plain, "argon2id", map[string]any{"time": 1, "memory_kib": 64, "threads": 1}), nil, ErrCorruptKey},
		{"argon2id without params", editJSON(t, sealed, func(m map[string]any) { delete(m, "argon2id") }), testPass, ErrCorruptKey},
		{"short salt", set(sealed, "salt", base64.StdEncoding.EncodeToString(make([]byte, 8))), testPass, ErrCorruptKey},
		{"short nonce", set(sealed, "nonce", base64.StdEncoding.EncodeToString(make([]byte, 12))), testPass, ErrCorruptKey},
		{"huge memory", setParam("memory_kib", 1<<20+1), testPass, ErrCorruptKey},
		{"max uint32 memory", setParam("memory_kib", uint64(1<<32-1)), testPass, ErrCorruptKey},
		{"memory over uint32", setParam("memory_kib", uint64(1<<32)), testPass, ErrCorruptKey},
		{"negative memory", setParam("memory_kib", -1), testPass, ErrCorruptKey},
		{"tiny memory", setParam("memory_kib", 7), testPass, ErrCorruptKey},
		{"huge time", setParam("time", 11), testPass, ErrCorruptKey},
		{"zero time", setParam("time", 0), testPass, ErrCorruptKey},
		{"huge threads", setParam("threads", 17), testPass, ErrCorruptKey},
		{"zero threads", setParam("threads", 0), testPass, ErrCorruptKey},
		{"threads over uint8", setParam("threads", 256), testPass, ErrCorruptKey},
		{"passphrase required", sealed, nil, ErrPassphraseRequired},
		{"empty passphrase", sealed, []byte{}, ErrPassphraseRequired},
		{"wrong passphrase", sealed, []byte("Tr0ub4dor&3"), ErrWrongPassphrase},
		{"tampered ciphertext", flipSeed(sealed, 5), testPass, ErrWrongPassphrase},
		{"tampered tag", flipSeed(sealed, 70), testPass, ErrWrongPassphrase},
		{"tampered sealed data key", flipSeed(sealed, 40), testPass, ErrWrongPassphrase},
		{"tampered nonce", set(sealed, "nonce", base64.StdEncoding.EncodeToString(make([]byte, 24))), testPass, ErrWrongPassphrase},
		{"tampered salt", set(sealed, "salt", base64.StdEncoding.EncodeToString(make([]byte, 16))), testPass, ErrWrongPassphrase},
		{"tampered params", setParam("threads", 2), testPass, ErrWrongPassphrase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := ParseKey(tc.data, tc.passphrase)
			if tc.wantErr == errNone {
				// Unsealed, a changed data key gives other X25519 and self
				// keys under the same peer ID: nothing can tell. Only the
				// file mode protects an unencrypted file.
				require.NoError(t, err)
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseKey() = %v, %v; want error %v", id, err, tc.wantErr)
			}
			if id != nil {
				t.Errorf("ParseKey() returned %v with error %v", id, err)
			}
		})
	}
}

// TestKeyFileADBindsParams checks that the additional data changes with every
// field it is meant to bind, so swapping any of them breaks decryption.
func TestKeyFileADBindsParams(t *testing.T) {
	p := argon2Params{Time: 3, MemoryKiB: 65536, Threads: 4}
	rec := bytes.Repeat([]byte{1}, 32)
	base := keyFileAD(2, "ed25519", "argon2id", p, rec)
	tests := []struct {
		name string
		ad   []byte
	}{
		{"version", keyFileAD(3, "ed25519", "argon2id", p, rec)},
		{"type", keyFileAD(2, "ed448", "argon2id", p, rec)},
		{"kdf", keyFileAD(2, "ed25519", "argon2i", p, rec)},
		{"time", keyFileAD(2, "ed25519", "argon2id", argon2Params{4, 65536, 4}, rec)},
		{"memory", keyFileAD(2, "ed25519", "argon2id", argon2Params{3, 65537, 4}, rec)},
		{"threads", keyFileAD(2, "ed25519", "argon2id", argon2Params{3, 65536, 5}, rec)},
		{"field boundary", keyFileAD(2, "ed25519", "argon2id", argon2Params{36, 5536, 4}, rec)},
		{"recovery", keyFileAD(2, "ed25519", "argon2id", p, bytes.Repeat([]byte{2}, 32))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(tc.ad, base) {
				t.Errorf("keyFileAD ignores %s: %q", tc.name, tc.ad)
			}
		})
	}
}

// TestPreReleaseKeyMessage: a key file of the pre-release format says what
// it is and what to do.
func TestPreReleaseKeyMessage(t *testing.T) {
	old := []byte(`{"version":1,"type":"ed25519","kdf":"none","seed":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","peer_id":"12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"}`)
	_, err := ParseKey(old, nil)
	for _, want := range []string{"pre-release", "recovery phrase", "kith init"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKey(version 1) = %v, want a message containing %q", err, want)
		}
	}
}

func TestMarshalKeyNeedsRecovery(t *testing.T) {
	id, err := FromKeys(make([]byte, 32), make([]byte, 32), nil)
	require.NoError(t, err)
	if _, err := MarshalKey(id, nil); !errors.Is(err, ErrNoRecoveryKey) {
		t.Errorf("MarshalKey(identity without recovery key) = %v, want %v", err, ErrNoRecoveryKey)
	}
}

func TestParseKeyErrorMessages(t *testing.T) {
	// Errors must not echo key material.
	id, plain := marshalTest(t, nil)
	seedB64 := base64.StdEncoding.EncodeToString(id.Seed())
	bad := editJSON(t, plain, func(m map[string]any) { m["version"] = 9 })
	_, err := ParseKey(bad, nil)
	require.Error(t, err)
	if strings.Contains(err.Error(), seedB64) {
		t.Errorf("ParseKey error %q contains the seed", err)
	}
}
