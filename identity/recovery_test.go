package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tyler-smith/go-bip39"
)

// zeroPhrase is the BIP-39 phrase of 256 zero bits.
var zeroPhrase = strings.Repeat("abandon ", 23) + "art"

// TestRootDerivations recomputes the three secrets of a root from the spec
// (HKDF-SHA256 of the root entropy with three info strings) and checks the
// phrase is the BIP-39 encoding of that entropy.
func TestRootDerivations(t *testing.T) {
	r, err := NewRoot(bytes.NewReader(make([]byte, 32)))
	require.NoError(t, err)
	if got := r.Phrase(); got != zeroPhrase {
		t.Fatalf("NewRoot(zeros).Phrase() = %q, want %q", got, zeroPhrase)
	}
	id, err := r.Identity()
	require.NoError(t, err)
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, make([]byte, 32), nil, info, 32)
		require.NoError(t, err)
		return k
	}
	if got, want := id.Seed(), derive("kith/identity/v2"); !bytes.Equal(got, want) {
		t.Errorf("identity seed = %x, want %x", got, want)
	}
	if got, want := id.DataKey(), derive("kith/data/v2"); !bytes.Equal(got, want) {
		t.Errorf("data key = %x, want %x", got, want)
	}
	wantRec := ed25519.NewKeyFromSeed(derive("kith/recovery/v2"))
	if got := r.RecoveryKey(); !got.Equal(wantRec) {
		t.Errorf("recovery key = %x, want %x", got.Public(), wantRec.Public())
	}
	if got, want := id.RecoveryPublic(), wantRec.Public().(ed25519.PublicKey); !got.Equal(want) {
		t.Errorf("RecoveryPublic() = %x, want %x", got, want)
	}
	// Three independent keys: none is another.
	if bytes.Equal(id.Seed(), id.DataKey()) || bytes.Equal(id.Seed(), wantRec.Seed()) || bytes.Equal(id.DataKey(), wantRec.Seed()) {
		t.Errorf("two of the root's secrets are equal")
	}
}

// TestDeviceCannotRecover: what a device stores (its key file) holds neither
// the root nor the recovery private key, so a stolen device cannot rotate.
func TestDeviceCannotRecover(t *testing.T) {
	r, err := NewRoot(nil)
	require.NoError(t, err)
	id, err := r.Identity()
	require.NoError(t, err)
	data, err := MarshalKey(id, nil)
	require.NoError(t, err)
	rec := r.RecoveryKey()
	for name, secret := range map[string][]byte{"root": r.entropy[:], "recovery seed": rec.Seed(), "recovery private key": rec} {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(secret), hex.EncodeToString(secret)} {
			if bytes.Contains(data, []byte(enc)) {
				t.Errorf("the key file holds the %s", name)
			}
		}
	}
}

func TestPhraseRoundTrip(t *testing.T) {
	r, err := NewRoot(nil)
	require.NoError(t, err)
	phrase := r.Phrase()
	words := strings.Fields(phrase)
	if len(words) != RecoveryWords || strings.Join(words, " ") != phrase {
		t.Fatalf("Phrase() = %q, want %d words separated by single spaces", phrase, RecoveryWords)
	}
	want, err := r.Identity()
	require.NoError(t, err)

	tests := []struct {
		name   string
		phrase string
	}{
		{"as shown", phrase},
		{"upper case", strings.ToUpper(phrase)},
		{"title case", strings.ToUpper(phrase[:1]) + phrase[1:]},
		{"extra spaces", "  " + strings.Join(words, "   ") + " "},
		{"lines of six", strings.Join(words[:6], " ") + "\n" + strings.Join(words[6:12], "\t") + "\r\n" +
			strings.Join(words[12:18], " ") + "\n" + strings.Join(words[18:], " ") + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, rec, err := FromPhrase(tc.phrase)
			require.NoError(t, err)
			if id.PeerID() != want.PeerID() || !bytes.Equal(id.SelfKey(), want.SelfKey()) || !bytes.Equal(id.EncryptionKey(), want.EncryptionKey()) {
				t.Errorf("FromPhrase(%q) = %s, want %s with the same keys", tc.phrase, id.PeerID(), want.PeerID())
			}
			if !rec.Equal(r.RecoveryKey()) {
				t.Errorf("FromPhrase(%q) recovery key differs", tc.phrase)
			}
			priv, err := RecoveryKey(tc.phrase)
			require.NoError(t, err)
			if !priv.Equal(r.RecoveryKey()) {
				t.Errorf("RecoveryKey(%q) differs", tc.phrase)
			}
		})
	}

	other, err := NewRoot(nil)
	require.NoError(t, err)
	if other.Phrase() == phrase {
		t.Errorf("two NewRoot calls gave the same phrase")
	}
}

func TestParsePhraseErrors(t *testing.T) {
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
		wantText []string // in the error message
	}{
		{"empty", "", []string{"empty", "want 24 words"}},
		{"blank", " \n\t ", []string{"empty"}},
		{"unknown word", replace(4, "kith"), []string{`word 5 "kith"`, "BIP-39"}},
		{"misspelled: letter left out", replace(2, "abandn"), []string{`word 3 "abandn"`, `did you mean "abandon"?`}},
		{"misspelled: letters swapped", replace(23, "rat"), []string{`word 24 "rat"`, `"art"`}},
		{"misspelled: neighbours swapped", replace(7, "abnadon"), []string{`word 8 "abnadon"`, `"abandon"`}},
		{"misspelled: two letters", replace(0, "zebar"), []string{`word 1 "zebar"`, `"zebra"`}},
		{"a word of the list in the wrong place", replace(0, "cat"), []string{"checksum"}},
		{"ambiguous misspelling", replace(10, "bal"), []string{`word 11 "bal"`, " or "}},
		{"nothing near", replace(5, "qqqqqqqq"), []string{`word 6 "qqqqqqqq"`}},
		{"every unknown word", replace(0, "foo1") + " bar2", []string{`word 1 "foo1"`, `word 25 "bar2"`}},
		{"checksum", replace(23, "zoo"), []string{"checksum", "swapped"}},
		{"words swapped", "art " + strings.Repeat("abandon ", 23), []string{"checksum"}},
		{"12 words", valid12, []string{"got 12 words"}},
		{"23 words", strings.Join(words[:23], " "), []string{"got 23 words"}},
		{"25 words", zeroPhrase + " abandon", []string{"got 25 words"}},
		{"non-ASCII", replace(3, "abandón"), []string{`word 4 "abandón"`}},
		{"numbered", "1. " + zeroPhrase, []string{`word 1 "1."`}},
		{"too long", zeroPhrase + strings.Repeat(" ", MaxPhraseLen), []string{"more than 4096"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParsePhrase(tc.phrase)
			if !errors.Is(err, ErrBadPhrase) || r != nil {
				t.Fatalf("ParsePhrase(%q) = %v, %v; want error %v", tc.phrase, r, err, ErrBadPhrase)
			}
			for _, w := range tc.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParsePhrase(%q) error = %q, want it to contain %q", tc.phrase, err, w)
				}
			}
			if _, _, err := FromPhrase(tc.phrase); !errors.Is(err, ErrBadPhrase) {
				t.Errorf("FromPhrase(%q) error = %v, want %v", tc.phrase, err, ErrBadPhrase)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"abandon", "abandon", 0},
		{"abandn", "abandon", 1},
		{"abnadon", "abandon", 1}, // a swap is one edit
		{"zebar", "zebra", 1},
		{"abandonn", "abandon", 1},
		{"xbandox", "abandon", 2},
		{"", "abc", 3},
		{"abc", "", 3},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b, 10); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.a, tc.b, 1); tc.want >= 1 && got < 1 {
			t.Errorf("editDistance(%q, %q, limit 1) = %d, want ≥ 1", tc.a, tc.b, got)
		}
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
