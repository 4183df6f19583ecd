package identity

import (
	"crypto/ed25519"
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

	// recoveryEntropy is the entropy behind a phrase: 256 bits, 24 words.
	recoveryEntropy = 32
	// recoverySalt is the BIP-39 "passphrase" mixed into the seed, so a Kith
	// phrase yields a different key than the same words in a wallet.
	recoverySalt = "kith"
	// commitmentPrefix domain-separates the recovery key commitment.
	commitmentPrefix = "kith/recovery/v1"
)

// Recovery is a second Ed25519 key, created at init and shown once as a
// 24-word BIP-39 English phrase. The node never stores it; the genesis entry
// stores its [Commitment].
type Recovery struct {
	// Phrase is the 24-word phrase to show the person, words separated by
	// single spaces.
	Phrase string
	// Public is the recovery public key.
	Public ed25519.PublicKey
}

// NewRecovery draws 256 bits of entropy from rand (nil means crypto/rand) and
// returns the phrase and public key. The private key is not kept; get it back
// with [RecoveryKey].
func NewRecovery(rand io.Reader) (*Recovery, error) {
	if rand == nil {
		rand = crand.Reader
	}
	entropy := make([]byte, recoveryEntropy)
	defer clear(entropy)
	if _, err := io.ReadFull(rand, entropy); err != nil {
		return nil, fmt.Errorf("reading recovery entropy: %w", err)
	}
	phrase, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return nil, fmt.Errorf("encoding recovery phrase: %w", err)
	}
	priv := recoveryKeyFromMnemonic(phrase)
	defer clear(priv)
	return &Recovery{
		Phrase: phrase,
		Public: append(ed25519.PublicKey(nil), priv.Public().(ed25519.PublicKey)...),
	}, nil
}

// RecoveryKey returns the recovery private key for a phrase made by
// [NewRecovery]. Case and spacing (including newlines) do not matter. It
// returns [ErrBadPhrase], naming the first unknown word, for the wrong number
// of words, or when the checksum fails (a word mistyped into another valid
// word, or words out of order).
func RecoveryKey(phrase string) (ed25519.PrivateKey, error) {
	words := strings.Fields(strings.ToLower(phrase))
	for i, w := range words {
		if _, ok := bip39.GetWordIndex(w); !ok {
			return nil, fmt.Errorf("%w: word %d %q is not in the BIP-39 English word list", ErrBadPhrase, i+1, w)
		}
	}
	if len(words) != RecoveryWords {
		return nil, fmt.Errorf("%w: got %d words, want %d", ErrBadPhrase, len(words), RecoveryWords)
	}
	mnemonic := strings.Join(words, " ")
	if _, err := bip39.EntropyFromMnemonic(mnemonic); err != nil {
		if errors.Is(err, bip39.ErrChecksumIncorrect) {
			return nil, fmt.Errorf("%w: checksum does not match (a word is wrong or out of order)", ErrBadPhrase)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadPhrase, err)
	}
	return recoveryKeyFromMnemonic(mnemonic), nil
}

// recoveryKeyFromMnemonic derives the key from a normalised, valid mnemonic:
// the first 32 bytes of the BIP-39 seed (PBKDF2-SHA512, salt "mnemonic"+"kith")
// are the Ed25519 seed.
func recoveryKeyFromMnemonic(mnemonic string) ed25519.PrivateKey {
	seed := bip39.NewSeed(mnemonic, recoverySalt)
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize])
}

// Commitment returns sha256("kith/recovery/v1" || pub): what the genesis
// entry stores so the recovery key can later prove it was chosen at init.
func Commitment(pub ed25519.PublicKey) []byte {
	h := sha256.New()
	h.Write([]byte(commitmentPrefix))
	h.Write(pub)
	return h.Sum(nil)
}
