package identity

import (
	"crypto/ed25519"
	"crypto/hkdf"
	crand "crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tyler-smith/go-bip39"
)

const (
	// RecoveryWords is the number of words in a recovery phrase.
	RecoveryWords = 24

	// RootSize is the size of the root entropy a phrase encodes: 256 bits,
	// 24 words with an 8-bit checksum.
	RootSize = 32

	// MaxPhraseLen bounds the text [ParsePhrase] reads: 24 words of at most 8
	// letters need 215 bytes; the rest is room for spacing and line breaks.
	MaxPhraseLen = 4096

	// commitmentPrefix domain-separates the recovery key commitment.
	commitmentPrefix = "kith/recovery/v1"
)

// HKDF-SHA256 info strings for the three secrets a root derives. Each is a
// key of its own: knowing one tells nothing of the others or of the root.
const (
	infoIdentity = "kith/identity/v2"
	infoRecovery = "kith/recovery/v2"
	infoData     = "kith/data/v2"
)

// Root is the 32 bytes of entropy behind a person's keys, shown once as a
// 24-word BIP-39 phrase and never stored. Everything else derives from it
// with HKDF-SHA256: the identity seed ([Root.Identity]), the recovery key
// ([Root.RecoveryKey]) and the data key D. Make one with [NewRoot] or
// [ParsePhrase]. A Root is a plain value; [Root.Clear] wipes it.
type Root struct {
	entropy [RootSize]byte
}

// NewRoot draws 256 bits from rand (nil means crypto/rand) for a new person.
func NewRoot(rand io.Reader) (*Root, error) {
	if rand == nil {
		rand = crand.Reader
	}
	r := &Root{}
	if _, err := io.ReadFull(rand, r.entropy[:]); err != nil {
		return nil, fmt.Errorf("reading root entropy: %w", err)
	}
	return r, nil
}

// Phrase returns the 24-word BIP-39 English phrase of the root, words
// separated by single spaces.
func (r *Root) Phrase() string {
	p, err := bip39.NewMnemonic(r.entropy[:])
	if err != nil {
		panic("bug: 32 bytes of entropy always make a mnemonic: " + err.Error())
	}
	return p
}

// Identity returns what a device holds: the identity seed and data key
// derived from the root, with the recovery public key.
func (r *Root) Identity() (*Identity, error) {
	seed := r.derive(infoIdentity)
	defer clear(seed)
	data := r.derive(infoData)
	defer clear(data)
	rec := r.RecoveryKey()
	defer clear(rec)
	return FromKeys(seed, data, rec.Public().(ed25519.PublicKey))
}

// RecoveryKey returns the recovery private key: Ed25519 with the seed
// HKDF-SHA256(root, info "kith/recovery/v2"). The genesis commits to its
// public key; only it authorises a rotation after a loss, so it is never
// stored on a device.
func (r *Root) RecoveryKey() ed25519.PrivateKey {
	s := r.derive(infoRecovery)
	defer clear(s)
	return ed25519.NewKeyFromSeed(s)
}

// Clear overwrites the root's entropy with zeros.
func (r *Root) Clear() { clear(r.entropy[:]) }

func (r *Root) derive(info string) []byte {
	k, err := hkdf.Key(sha256.New, r.entropy[:], nil, info, 32)
	if err != nil {
		panic("bug: HKDF-SHA256 of 32 bytes: " + err.Error())
	}
	return k
}

// ParsePhrase reads a recovery phrase back into its root. Words may be
// separated by any whitespace (line breaks too) and be in any case. It
// returns [ErrBadPhrase] naming every word that is not a BIP-39 English
// word, by position, with the nearest word when one is within two edits;
// or for the wrong number of words; or when the checksum fails (a word was
// mistyped into another word of the list, or two were swapped).
func ParsePhrase(phrase string) (*Root, error) {
	if len(phrase) > MaxPhraseLen {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadPhrase, len(phrase), MaxPhraseLen)
	}
	words := strings.Fields(strings.ToLower(phrase))
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: it is empty; want %d words", ErrBadPhrase, RecoveryWords)
	}
	var bad []string
	for i, w := range words {
		if _, ok := bip39.GetWordIndex(w); ok {
			continue
		}
		msg := fmt.Sprintf("word %d %q is not in the BIP-39 English word list", i+1, w)
		if near := nearestWords(w); len(near) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", orList(near))
		}
		bad = append(bad, msg)
		if len(bad) == 5 {
			bad = append(bad, "…")
			break
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrBadPhrase, strings.Join(bad, "; "))
	}
	if len(words) != RecoveryWords {
		return nil, fmt.Errorf("%w: got %d words, want %d", ErrBadPhrase, len(words), RecoveryWords)
	}
	entropy, err := bip39.EntropyFromMnemonic(strings.Join(words, " "))
	if err != nil {
		if errors.Is(err, bip39.ErrChecksumIncorrect) {
			return nil, fmt.Errorf("%w: the checksum does not match: a word is wrong (mistyped into another word of the list) or two are swapped", ErrBadPhrase)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadPhrase, err)
	}
	defer clear(entropy)
	if len(entropy) != RootSize {
		panic(fmt.Sprintf("bug: 24 words gave %d bytes of entropy", len(entropy)))
	}
	r := &Root{}
	copy(r.entropy[:], entropy)
	return r, nil
}

// FromPhrase is [ParsePhrase] followed by [Root.Identity] and
// [Root.RecoveryKey]: everything a recovery phrase gives back.
func FromPhrase(phrase string) (*Identity, ed25519.PrivateKey, error) {
	r, err := ParsePhrase(phrase)
	if err != nil {
		return nil, nil, err
	}
	defer r.Clear()
	id, err := r.Identity()
	if err != nil {
		return nil, nil, err
	}
	return id, r.RecoveryKey(), nil
}

// RecoveryKey returns the recovery private key of a phrase, with the errors
// of [ParsePhrase].
func RecoveryKey(phrase string) (ed25519.PrivateKey, error) {
	r, err := ParsePhrase(phrase)
	if err != nil {
		return nil, err
	}
	defer r.Clear()
	return r.RecoveryKey(), nil
}

// Commitment returns sha256("kith/recovery/v1" || pub): what the genesis
// entry stores so the recovery key can later prove it was chosen at init.
func Commitment(pub ed25519.PublicKey) []byte {
	h := sha256.New()
	h.Write([]byte(commitmentPrefix))
	h.Write(pub)
	return h.Sum(nil)
}

// maxSuggestDistance is how many edits (insert, delete, substitute, swap
// two neighbours) a word may be from the one suggested for it.
const maxSuggestDistance = 2

// nearestWords returns the BIP-39 words closest to w, if the closest are
// within maxSuggestDistance edits; at most three, in list order.
func nearestWords(w string) []string {
	// Every BIP-39 English word has 3 to 8 letters.
	if len(w) > 8+maxSuggestDistance {
		return nil
	}
	best := maxSuggestDistance + 1
	var near []string
	for _, c := range bip39.GetWordList() {
		d := editDistance(w, c, maxSuggestDistance+1)
		switch {
		case d > maxSuggestDistance:
		case d < best:
			best, near = d, []string{c}
		case d == best && len(near) < 3:
			near = append(near, c)
		}
	}
	if best > maxSuggestDistance {
		return nil
	}
	return near
}

// orList writes words as `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
func orList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein plus swapping two neighbouring bytes), or any value ≥ limit
// once it is sure to reach limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
