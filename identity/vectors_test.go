package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

// TestSpecKeyVectors proves the package derives what spec/testdata/keys.json
// (SPEC.md "Keys") says a phrase derives, and refuses what it says to refuse,
// naming the word.
func TestSpecKeyVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "spec", "testdata", "keys.json"))
	require.NoError(t, err)
	var vs struct {
		Valid []struct {
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
			SelfCheck      string `json:"self_check_b64"`
		} `json:"valid"`
		Invalid []struct {
			Name   string `json:"name"`
			Phrase string `json:"phrase"`
			Word   int    `json:"word"`
		} `json:"invalid"`
	}
	require.NoError(t, json.Unmarshal(raw, &vs))
	require.NotEmpty(t, vs.Valid)
	require.NotEmpty(t, vs.Invalid)
	for _, v := range vs.Valid {
		t.Run(v.Name, func(t *testing.T) {
			root, err := NewRoot(bytes.NewReader(mustHex(t, v.Root)))
			require.NoError(t, err)
			if got := root.Phrase(); got != v.Phrase {
				t.Errorf("Phrase() = %q, want %q", got, v.Phrase)
			}
			id, rec, err := FromPhrase(v.Phrase)
			require.NoError(t, err)
			got := map[string]string{
				"identity seed":   hex.EncodeToString(id.Seed()),
				"data key":        hex.EncodeToString(id.DataKey()),
				"peer ID":         id.PeerID().String(),
				"X25519 public":   hex.EncodeToString(id.EncryptionKey()),
				"recovery public": hex.EncodeToString(rec.Public().(ed25519.PublicKey)),
				"commitment":      hex.EncodeToString(id.RecoveryCommitment()),
				"self key":        hex.EncodeToString(id.SelfKey()),
			}
			want := map[string]string{
				"identity seed": v.IdentitySeed, "data key": v.DataKey, "peer ID": v.PeerID,
				"X25519 public": v.X25519Public, "recovery public": v.RecoveryPublic,
				"commitment": v.Commitment, "self key": v.SelfKey,
			}
			for k := range want {
				if got[k] != want[k] {
					t.Errorf("%s = %s, want %s", k, got[k], want[k])
				}
			}
			sealed, err := base64.StdEncoding.DecodeString(v.SelfCheck)
			require.NoError(t, err)
			aead, err := chacha20poly1305.NewX(id.SelfKey())
			require.NoError(t, err)
			n := chacha20poly1305.NonceSizeX
			plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(id.PeerID()))
			if err != nil || string(plain) != "kith self check" {
				t.Errorf("opening self_check_b64 with SelfKey() = %q, %v", plain, err)
			}
		})
	}
	for _, v := range vs.Invalid {
		t.Run(v.Name, func(t *testing.T) {
			_, err := ParsePhrase(v.Phrase)
			if !errors.Is(err, ErrBadPhrase) {
				t.Fatalf("ParsePhrase(%q) = %v, want %v", v.Phrase, err, ErrBadPhrase)
			}
			if v.Word > 0 {
				if w := fmt.Sprintf("word %d %q", v.Word, strings.Fields(v.Phrase)[v.Word-1]); !strings.Contains(err.Error(), w) {
					t.Errorf("ParsePhrase(%q) = %q, want it to name %s", v.Phrase, err, w)
				}
			}
		})
	}
}
