package spec

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"github.com/tyler-smith/go-bip39"
	"golang.org/x/crypto/chacha20poly1305"
)

// keyVectors is testdata/keys.json: what a recovery phrase derives (SPEC.md
// "Keys"), and phrases every implementation must refuse. This test
// recomputes them from the primitives alone; identity's tests prove the
// code derives the same.
type keyVectors struct {
	Valid   []keyVector    `json:"valid"`
	Invalid []badPhraseVec `json:"invalid"`
}

type keyVector struct {
	Name           string `json:"name"`
	Root           string `json:"root_hex"`
	Phrase         string `json:"phrase"`
	IdentitySeed   string `json:"identity_seed_hex"`
	DataKey        string `json:"data_key_hex"`
	PeerID         string `json:"peer_id"`
	X25519Public   string `json:"x25519_public_hex"`
	RecoveryPublic string `json:"recovery_public_hex"`
	Commitment     string `json:"recovery_commitment_hex"`
	SelfKey        string `json:"self_key_hex"`
	// SelfCheck is SelfCheckPlain sealed as a "self" body with a zero
	// nonce: nonce(24) || XChaCha20-Poly1305(K_self, nonce, plain, ad = peer
	// ID bytes).
	SelfCheck string `json:"self_check_b64"`
}

// SelfCheckPlain is the plaintext of every vector's self_check_b64.
const selfCheckPlain = "kith self check"

type badPhraseVec struct {
	Name   string `json:"name"`
	Phrase string `json:"phrase"`
	// Word is the 1-based position of the word a reader must name, 0 when
	// the phrase fails as a whole (count or checksum).
	Word int `json:"word"`
}

func hkdf32(tb testing.TB, ikm []byte, info string) []byte {
	tb.Helper()
	k, err := hkdf.Key(sha256.New, ikm, nil, info, 32)
	require.NoError(tb, err)
	return k
}

// deriveKeyVector computes a vector from a root by SPEC.md "Keys".
func deriveKeyVector(tb testing.TB, name string, root []byte) keyVector {
	tb.Helper()
	phrase, err := bip39.NewMnemonic(root)
	require.NoError(tb, err)
	seed := hkdf32(tb, root, "kith/identity/v2")
	recSeed := hkdf32(tb, root, "kith/recovery/v2")
	data := hkdf32(tb, root, "kith/data/v2")

	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	lp, err := crypto.UnmarshalEd25519PublicKey(pub)
	require.NoError(tb, err)
	pid, err := peer.IDFromPublicKey(lp)
	require.NoError(tb, err)

	x, err := ecdh.X25519().NewPrivateKey(hkdf32(tb, data, "kith/x25519/v2"))
	require.NoError(tb, err)
	recPub := ed25519.NewKeyFromSeed(recSeed).Public().(ed25519.PublicKey)
	commit := sha256.Sum256(append([]byte("kith/recovery/v1"), recPub...))
	self := hkdf32(tb, data, "kith/self/v2")
	aead, err := chacha20poly1305.NewX(self)
	require.NoError(tb, err)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	sealed := aead.Seal(nonce, nonce, []byte(selfCheckPlain), []byte(pid))

	return keyVector{
		Name: name, Root: hex.EncodeToString(root), Phrase: phrase,
		IdentitySeed: hex.EncodeToString(seed), DataKey: hex.EncodeToString(data),
		PeerID: pid.String(), X25519Public: hex.EncodeToString(x.PublicKey().Bytes()),
		RecoveryPublic: hex.EncodeToString(recPub), Commitment: hex.EncodeToString(commit[:]),
		SelfKey: hex.EncodeToString(self), SelfCheck: base64.StdEncoding.EncodeToString(sealed),
	}
}

func makeKeyVectors(tb testing.TB) keyVectors {
	tb.Helper()
	counting := make([]byte, 32)
	for i := range counting {
		counting[i] = byte(i)
	}
	zeros := strings.Repeat("abandon ", 23) + "art"
	words := strings.Fields(zeros)
	with := func(i int, w string) string {
		ws := append([]string(nil), words...)
		ws[i-1] = w
		return strings.Join(ws, " ")
	}
	return keyVectors{
		Valid: []keyVector{
			deriveKeyVector(tb, "zero root", make([]byte, 32)),
			deriveKeyVector(tb, "all-ones root", bytes.Repeat([]byte{0xff}, 32)),
			deriveKeyVector(tb, "counting root", counting),
		},
		Invalid: []badPhraseVec{
			{Name: "misspelled word", Phrase: with(3, "abandn"), Word: 3},
			{Name: "unknown word", Phrase: with(24, "kith"), Word: 24},
			{Name: "checksum", Phrase: with(24, "zoo"), Word: 0},
			{Name: "swapped words", Phrase: "art " + strings.Join(words[:23], " "), Word: 0},
			{Name: "23 words", Phrase: strings.Join(words[:23], " "), Word: 0},
			{Name: "12-word wallet phrase", Phrase: strings.Repeat("abandon ", 11) + "about", Word: 0},
		},
	}
}

func TestKeyVectors(t *testing.T) {
	path := filepath.Join("testdata", "keys.json")
	if *update {
		b, err := json.MarshalIndent(makeKeyVectors(t), "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var stored keyVectors
	require.NoError(t, json.Unmarshal(raw, &stored))
	fresh := makeKeyVectors(t)
	require.NotEmpty(t, stored.Valid)
	require.Equal(t, fresh, stored, "testdata/keys.json differs from the derivation in SPEC.md \"Keys\"")

	for _, v := range stored.Valid {
		t.Run(v.Name, func(t *testing.T) {
			// The phrase gives back the root, and the root everything.
			root, err := bip39.EntropyFromMnemonic(v.Phrase)
			require.NoError(t, err)
			if got := hex.EncodeToString(root); got != v.Root {
				t.Errorf("root of %q = %s, want %s", v.Phrase, got, v.Root)
			}
			if got := deriveKeyVector(t, v.Name, root); got != v {
				t.Errorf("derived from the phrase = %+v, want %+v", got, v)
			}
		})
	}
	for _, v := range stored.Invalid {
		t.Run(v.Name, func(t *testing.T) {
			if _, err := bip39.EntropyFromMnemonic(v.Phrase); err == nil && len(strings.Fields(v.Phrase)) == 24 {
				t.Errorf("%q is a valid 24-word phrase, want it refused", v.Phrase)
			}
		})
	}
}
