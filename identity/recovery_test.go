package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tyler-smith/go-bip39"
)

// zeroPhrase is the BIP-39 phrase of 256 zero bits.
var zeroPhrase = strings.Repeat("abandon ", 23) + "art"

func TestRecoveryVector(t *testing.T) {
	r, err := NewRecovery(bytes.NewReader(make([]byte, 32)))
	require.NoError(t, err)
	if r.Phrase != zeroPhrase {
		t.Fatalf("NewRecovery(zeros).Phrase = %q, want %q", r.Phrase, zeroPhrase)
	}
	wantPub := mustHex(t, "f0dfb0cbc0529ec408ca516f3bdc4e3c86adce814d41c5fc20cfd88b24e2ddec")
	if !bytes.Equal(r.Public, wantPub) {
		t.Errorf("NewRecovery(zeros).Public = %x, want %x", r.Public, wantPub)
	}

	// Recompute from the spec: PBKDF2-HMAC-SHA512(phrase, "mnemonic"+"kith",
	// 2048) → first 32 bytes → Ed25519 seed.
	seed, err := pbkdf2.Key(sha512.New, zeroPhrase, []byte("mnemonickith"), 2048, 64)
	require.NoError(t, err)
	spec := ed25519.NewKeyFromSeed(seed[:32]).Public().(ed25519.PublicKey)
	require.Equal(t, wantPub, []byte(spec), "spec derivation of the recovery key")

	wantCommit := mustHex(t, "a730044bb0ae0ca0fa09e5b99cc12b4fabdcb201a665b460cee25d25affa5d7b")
	if got := Commitment(r.Public); !bytes.Equal(got, wantCommit) {
		t.Errorf("Commitment() = %x, want %x", got, wantCommit)
	}
}

func TestRecoveryRoundTrip(t *testing.T) {
	r, err := NewRecovery(nil)
	require.NoError(t, err)
	words := strings.Fields(r.Phrase)
	if len(words) != RecoveryWords || strings.Join(words, " ") != r.Phrase {
		t.Fatalf("Phrase = %q, want %d words separated by single spaces", r.Phrase, RecoveryWords)
	}
	if len(r.Public) != ed25519.PublicKeySize {
		t.Fatalf("len(Public) = %d, want %d", len(r.Public), ed25519.PublicKeySize)
	}

	tests := []struct {
		name   string
		phrase string
	}{
		{"as shown", r.Phrase},
		{"upper case", strings.ToUpper(r.Phrase)},
		{"extra spaces", "  " + strings.Join(words, "   ") + " "},
		{"lines of six", strings.Join(words[:6], " ") + "\n" + strings.Join(words[6:12], "\t") + "\r\n" +
			strings.Join(words[12:18], " ") + "\n" + strings.Join(words[18:], " ") + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			priv, err := RecoveryKey(tc.phrase)
			require.NoError(t, err)
			if got := priv.Public().(ed25519.PublicKey); !got.Equal(r.Public) {
				t.Errorf("RecoveryKey(%q) public = %x, want %x", tc.phrase, got, r.Public)
			}
		})
	}

	other, err := NewRecovery(nil)
	require.NoError(t, err)
	if other.Phrase == r.Phrase || other.Public.Equal(r.Public) {
		t.Errorf("two NewRecovery calls gave the same key")
	}
}

func TestRecoveryKeyErrors(t *testing.T) {
	words := strings.Fields(zeroPhrase)
	replace := func(i int, w string) string {
		ws := append([]string(nil), words...)
		ws[i] = w
		return strings.Join(ws, " ")
	}
	valid12, err := bip39.NewMnemonic(make([]byte, 16))
	require.NoError(t, err)

	tests := []struct {
		name     string
		phrase   string
		wantText string // in the error message
	}{
		{"empty", "", "got 0 words"},
		{"unknown word", replace(4, "kith"), `"kith"`},
		{"unknown word reported first", replace(0, "notaword") + " extra", `word 1 "notaword"`},
		{"checksum", replace(23, "zoo"), "checksum"},
		{"words swapped", "art " + strings.Repeat("abandon ", 23), "checksum"},
		{"12 words", valid12, "got 12 words"},
		{"23 words", strings.Join(words[:23], " "), "got 23 words"},
		{"25 words", zeroPhrase + " abandon", "got 25 words"},
		{"non-ASCII", replace(3, "abandón"), "abandón"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RecoveryKey(tc.phrase)
			if !errors.Is(err, ErrBadPhrase) {
				t.Fatalf("RecoveryKey(%q) error = %v, want %v", tc.phrase, err, ErrBadPhrase)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("RecoveryKey(%q) error = %q, want it to contain %q", tc.phrase, err, tc.wantText)
			}
		})
	}
}

func TestCommitment(t *testing.T) {
	a := NewTest(t, "a").PublicKey()
	b := NewTest(t, "b").PublicKey()
	want := sha256.Sum256(append([]byte("kith/recovery/v1"), a...))
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"definition", Commitment(a), want[:]},
		{"stable", Commitment(a), Commitment(a)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Equal(tc.got, tc.want) {
				t.Errorf("Commitment() = %x, want %x", tc.got, tc.want)
			}
		})
	}
	if len(Commitment(a)) != sha256.Size {
		t.Errorf("len(Commitment()) = %d, want %d", len(Commitment(a)), sha256.Size)
	}
	if bytes.Equal(Commitment(a), Commitment(b)) {
		t.Errorf("Commitment(a) == Commitment(b)")
	}
}
