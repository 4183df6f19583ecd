package identity

import (
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchMsg is about the size of an entry's signed part.
var benchMsg = make([]byte, 512)

func BenchmarkSign(b *testing.B) {
	id := NewTest(b, "bench")
	for b.Loop() {
		if _, err := id.Sign(benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	id := NewTest(b, "bench")
	sig, err := id.Sign(benchMsg)
	require.NoError(b, err)
	pub := id.PublicKey()
	for b.Loop() {
		if !ed25519.Verify(pub, benchMsg, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

func BenchmarkWrap(b *testing.B) {
	recipient := NewTest(b, "bench").EncryptionKey()
	contentKey := make([]byte, 32)
	for b.Loop() {
		if _, err := Wrap(recipient, contentKey, []byte("kith/bench")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnwrap(b *testing.B) {
	id := NewTest(b, "bench")
	wrapped, err := Wrap(id.EncryptionKey(), make([]byte, 32), []byte("kith/bench"))
	require.NoError(b, err)
	for b.Loop() {
		if _, err := id.Unwrap(wrapped, []byte("kith/bench")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeriveFileKey measures the real Argon2id cost of opening a sealed
// key file (the tests themselves use a lowered cost).
func BenchmarkDeriveFileKey(b *testing.B) {
	salt := make([]byte, saltSize)
	for b.Loop() {
		deriveFileKey(testPass, salt, defaultArgon2)
	}
}
