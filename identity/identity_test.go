package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mr-tron/base58"
	"github.com/stretchr/testify/require"
)

// rfc8032Seed is the secret key of RFC 8032 §7.1 TEST 1.
const rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(tb, err)
	return b
}

func TestFromKeysLength(t *testing.T) {
	k32 := make([]byte, 32)
	tests := []struct {
		name           string
		seed, data     []byte
		recovery       []byte
		wantErr        error
		wantRecoveryOK bool
	}{
		{"nil seed", nil, k32, nil, ErrBadSeed, false},
		{"31-byte seed", make([]byte, 31), k32, nil, ErrBadSeed, false},
		{"64-byte private key as seed", make([]byte, 64), k32, nil, ErrBadSeed, false},
		{"nil data key", k32, nil, nil, ErrBadSeed, false},
		{"33-byte data key", k32, make([]byte, 33), nil, ErrBadSeed, false},
		{"31-byte recovery key", k32, k32, make([]byte, 31), ErrBadSeed, false},
		{"no recovery key", k32, k32, nil, nil, false},
		{"all 32 bytes", k32, k32, k32, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := FromKeys(tc.seed, tc.data, tc.recovery)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("FromKeys(%d, %d, %d bytes) error = %v, want %v", len(tc.seed), len(tc.data), len(tc.recovery), err, tc.wantErr)
			}
			if (id != nil) != (tc.wantErr == nil) {
				t.Fatalf("FromKeys = %v with error %v", id, err)
			}
			if id != nil && (id.RecoveryCommitment() != nil) != tc.wantRecoveryOK {
				t.Errorf("RecoveryCommitment() = %x, want one: %v", id.RecoveryCommitment(), tc.wantRecoveryOK)
			}
		})
	}
}

// TestVector pins what a fixed identity seed and data key derive to. These
// values are part of the format: a node restored from them must derive
// exactly these keys. (spec/testdata/keys.json pins the root above them.)
func TestVector(t *testing.T) {
	seed := mustHex(t, rfc8032Seed)
	data := bytes.Repeat([]byte{0xd0}, DataKeySize)
	id, err := FromKeys(seed, data, nil)
	require.NoError(t, err)

	// The public key is RFC 8032's.
	wantPub := mustHex(t, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	if got := id.PublicKey(); !bytes.Equal(got, wantPub) {
		t.Errorf("PublicKey() = %x, want %x", got, wantPub)
	}

	// The peer ID is the identity multihash of the protobuf public key
	// (KeyType Ed25519 = 1, Data = pub), in base58btc.
	manual := append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, wantPub...)
	const wantPeerID = "12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV"
	if got := base58.Encode(manual); got != wantPeerID {
		t.Fatalf("manual peer ID = %s, want %s", got, wantPeerID)
	}
	if got := id.PeerID().String(); got != wantPeerID {
		t.Errorf("PeerID() = %s, want %s", got, wantPeerID)
	}

	// The encryption and self keys, recomputed from the spec: both come
	// from the data key, none from the identity seed.
	encSeed, err := hkdf.Key(sha256.New, data, nil, "kith/x25519/v2", 32)
	require.NoError(t, err)
	ecPriv, err := ecdh.X25519().NewPrivateKey(encSeed)
	require.NoError(t, err)
	if got := id.EncryptionKey(); !bytes.Equal(got, ecPriv.PublicKey().Bytes()) {
		t.Errorf("EncryptionKey() = %x, want %x", got, ecPriv.PublicKey().Bytes())
	}
	self, err := hkdf.Key(sha256.New, data, nil, "kith/self/v2", 32)
	require.NoError(t, err)
	if got := id.SelfKey(); !bytes.Equal(got, self) {
		t.Errorf("SelfKey() = %x, want %x", got, self)
	}

	// Another identity seed with the same data key reads the same: the
	// signing key is separable from what stands behind the private data.
	other, err := FromKeys(bytes.Repeat([]byte{1}, SeedSize), data, nil)
	require.NoError(t, err)
	if other.PeerID() == id.PeerID() || !bytes.Equal(other.SelfKey(), id.SelfKey()) || !bytes.Equal(other.EncryptionKey(), id.EncryptionKey()) {
		t.Errorf("a second signing key over the same data key: peer ID %s (want another), same self and X25519 keys", other.PeerID())
	}

	// The libp2p key is the same key.
	raw, err := id.PrivKey().GetPublic().Raw()
	require.NoError(t, err)
	if !bytes.Equal(raw, wantPub) {
		t.Errorf("PrivKey().GetPublic().Raw() = %x, want %x", raw, wantPub)
	}
}

func TestDeterministic(t *testing.T) {
	root, err := NewRoot(bytes.NewReader(bytes.Repeat([]byte{7}, RootSize)))
	require.NoError(t, err)
	want, err := root.Identity()
	require.NoError(t, err)
	tests := []struct {
		name string
		make func() (*Identity, error)
	}{
		{"Root.Identity again", root.Identity},
		{"FromKeys of the accessors", func() (*Identity, error) {
			return FromKeys(want.Seed(), want.DataKey(), want.RecoveryPublic())
		}},
		{"FromPhrase", func() (*Identity, error) {
			id, _, err := FromPhrase(root.Phrase())
			return id, err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.make()
			require.NoError(t, err)
			if got.PeerID() != want.PeerID() {
				t.Errorf("PeerID() = %s, want %s", got.PeerID(), want.PeerID())
			}
			if !bytes.Equal(got.Seed(), want.Seed()) {
				t.Errorf("Seed() = %x, want %x", got.Seed(), want.Seed())
			}
			if !bytes.Equal(got.EncryptionKey(), want.EncryptionKey()) {
				t.Errorf("EncryptionKey() = %x, want %x", got.EncryptionKey(), want.EncryptionKey())
			}
			if !bytes.Equal(got.SelfKey(), want.SelfKey()) {
				t.Errorf("SelfKey() = %x, want %x", got.SelfKey(), want.SelfKey())
			}
			if !bytes.Equal(got.RecoveryCommitment(), want.RecoveryCommitment()) {
				t.Errorf("RecoveryCommitment() = %x, want %x", got.RecoveryCommitment(), want.RecoveryCommitment())
			}
		})
	}
}

func TestNewRoot(t *testing.T) {
	a, err := NewRoot(nil)
	require.NoError(t, err)
	b, err := NewRoot(crand.Reader)
	require.NoError(t, err)
	ida, err := a.Identity()
	require.NoError(t, err)
	idb, err := b.Identity()
	require.NoError(t, err)
	if ida.PeerID() == idb.PeerID() || a.Phrase() == b.Phrase() {
		t.Errorf("two new roots share peer ID %s or phrase", ida.PeerID())
	}
	if !strings.HasPrefix(ida.PeerID().String(), "12D3KooW") {
		t.Errorf("PeerID() = %s, want prefix 12D3KooW", ida.PeerID())
	}
	if _, err := NewRoot(bytes.NewReader(make([]byte, 31))); err == nil {
		t.Errorf("NewRoot(short reader) succeeded, want error")
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	id := NewTest(t, "copies")
	tests := []struct {
		name string
		get  func() []byte
	}{
		{"Seed", id.Seed},
		{"DataKey", id.DataKey},
		{"RecoveryPublic", func() []byte { return id.RecoveryPublic() }},
		{"RecoveryCommitment", id.RecoveryCommitment},
		{"EncryptionKey", id.EncryptionKey},
		{"SelfKey", id.SelfKey},
		{"PublicKey", func() []byte { return id.PublicKey() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.get()
			want := bytes.Clone(first)
			clear(first)
			if got := tc.get(); !bytes.Equal(got, want) {
				t.Errorf("%s() after clearing a returned slice = %x, want %x", tc.name, got, want)
			}
		})
	}
}

func TestStringHidesSeed(t *testing.T) {
	id := NewTest(t, "string")
	seedHex := hex.EncodeToString(id.Seed())
	dataHex := hex.EncodeToString(id.DataKey())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, id)
		if strings.Contains(out, seedHex) || strings.Contains(out, dataHex) || !strings.Contains(out, id.PeerID().String()) {
			t.Errorf("Sprintf(%q, id) = %q, want the peer ID and no seed", verb, out)
		}
	}
}

func TestSign(t *testing.T) {
	id := NewTest(t, "sign")
	msgs := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"short", []byte("hello")},
		{"64 KiB", bytes.Repeat([]byte{0xa5}, 64<<10)},
	}
	for _, tc := range msgs {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := id.Sign(tc.msg)
			require.NoError(t, err)
			if len(sig) != ed25519.SignatureSize {
				t.Fatalf("len(Sign()) = %d, want %d", len(sig), ed25519.SignatureSize)
			}
			if !ed25519.Verify(id.PublicKey(), tc.msg, sig) {
				t.Errorf("ed25519.Verify(Sign(msg)) = false")
			}
			ok, err := id.PrivKey().GetPublic().Verify(tc.msg, sig)
			if err != nil || !ok {
				t.Errorf("libp2p Verify(Sign(msg)) = %v, %v; want true, nil", ok, err)
			}
			other := NewTest(t, "other")
			if ed25519.Verify(other.PublicKey(), tc.msg, sig) {
				t.Errorf("signature verifies under another identity's key")
			}
		})
	}
}

func TestWrapUnwrap(t *testing.T) {
	alice := NewTest(t, "alice")
	bob := NewTest(t, "bob")
	contentKey := bytes.Repeat([]byte{7}, 32)
	info := []byte("kith/entry/v1")
	wrapped, err := Wrap(bob.EncryptionKey(), contentKey, info)
	require.NoError(t, err)

	flip := func(i int) []byte {
		w := bytes.Clone(wrapped)
		w[i] ^= 1
		return w
	}
	tests := []struct {
		name    string
		id      *Identity
		wrapped []byte
		info    []byte
		wantErr error
	}{
		{"recipient", bob, wrapped, info, nil},
		{"other identity", alice, wrapped, info, ErrUnwrap},
		{"wrong info", bob, wrapped, []byte("kith/entry/v2"), ErrUnwrap},
		{"nil info", bob, wrapped, nil, ErrUnwrap},
		{"flipped enc byte", bob, flip(0), info, ErrUnwrap},
		{"flipped ciphertext byte", bob, flip(40), info, ErrUnwrap},
		{"flipped tag byte", bob, flip(len(wrapped) - 1), info, ErrUnwrap},
		{"truncated", bob, wrapped[:len(wrapped)-1], info, ErrUnwrap},
		{"only enc", bob, wrapped[:32], info, ErrUnwrap},
		{"empty", bob, nil, info, ErrUnwrap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.id.Unwrap(tc.wrapped, tc.info)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Unwrap() error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !bytes.Equal(got, contentKey) {
				t.Errorf("Unwrap() = %x, want %x", got, contentKey)
			}
		})
	}

	t.Run("layout", func(t *testing.T) {
		// enc (32) || ChaCha20Poly1305 ciphertext (len + 16), fresh each time.
		if want := 32 + len(contentKey) + 16; len(wrapped) != want {
			t.Errorf("len(Wrap()) = %d, want %d", len(wrapped), want)
		}
		again, err := Wrap(bob.EncryptionKey(), contentKey, info)
		require.NoError(t, err)
		if bytes.Equal(again, wrapped) {
			t.Errorf("Wrap() twice gave the same bytes")
		}
	})

	t.Run("standard HPKE recipient", func(t *testing.T) {
		// Anyone holding the spec-derived X25519 key can open it with plain
		// RFC 9180: nothing Kith-specific on the wire.
		encSeed, err := hkdf.Key(sha256.New, bob.DataKey(), nil, "kith/x25519/v2", 32)
		require.NoError(t, err)
		priv, err := hpke.DHKEM(ecdh.X25519()).NewPrivateKey(encSeed)
		require.NoError(t, err)
		got, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), info, wrapped)
		require.NoError(t, err)
		if !bytes.Equal(got, contentKey) {
			t.Errorf("hpke.Open() = %x, want %x", got, contentKey)
		}
	})
}

func TestWrapBadPublicKey(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
	}{
		{"nil", nil},
		{"31 bytes", make([]byte, 31)},
		{"33 bytes", make([]byte, 33)},
		{"Ed25519 key length but 64", make([]byte, 64)},
		{"all-zero point", make([]byte, 32)},
		{"low-order point 1", append([]byte{1}, make([]byte, 31)...)},
		// Order-8 point (RFC 7748 test vectors, libsodium's blocklist).
		{"low-order point of order 8", mustHex(t, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Wrap(tc.key, []byte("content key"), nil)
			if !errors.Is(err, ErrBadPublicKey) {
				t.Errorf("Wrap(%x) error = %v, want %v", tc.key, err, ErrBadPublicKey)
			}
			if err := CheckEncryptionKey(tc.key); !errors.Is(err, ErrBadPublicKey) {
				t.Errorf("CheckEncryptionKey(%x) = %v, want %v", tc.key, err, ErrBadPublicKey)
			}
		})
	}
}

func TestCheckEncryptionKey(t *testing.T) {
	if err := CheckEncryptionKey(NewTest(t, "good").EncryptionKey()); err != nil {
		t.Errorf("CheckEncryptionKey(a real key) = %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	id := NewTest(t, "concurrent")
	wrapped, err := Wrap(id.EncryptionKey(), []byte("k"), nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				sig, err := id.Sign([]byte("m"))
				if err != nil || !ed25519.Verify(id.PublicKey(), []byte("m"), sig) {
					errs <- fmt.Errorf("Sign: %v", err)
					return
				}
				if _, err := id.Unwrap(wrapped, nil); err != nil {
					errs <- err
					return
				}
				_ = id.EncryptionKey()
				_ = id.Seed()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewTest(t *testing.T) {
	a1, a2, b := NewTest(t, "a"), NewTest(t, "a"), NewTest(t, "b")
	if a1.PeerID() != a2.PeerID() {
		t.Errorf("NewTest(a) twice: %s != %s", a1.PeerID(), a2.PeerID())
	}
	if a1.PeerID() == b.PeerID() {
		t.Errorf("NewTest(a) == NewTest(b) = %s", a1.PeerID())
	}
}
