package identity

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAgree: two identities compute the same X25519 secret from each
// other's public keys, a third a different one, and a low-order point or
// a key of the wrong size is refused.
func TestAgree(t *testing.T) {
	a, b, c := NewTest(t, "alice"), NewTest(t, "bob"), NewTest(t, "carol")
	ab, err := a.Agree(b.EncryptionKey())
	require.NoError(t, err)
	ba, err := b.Agree(a.EncryptionKey())
	require.NoError(t, err)
	require.Equal(t, ab, ba)
	ac, err := a.Agree(c.EncryptionKey())
	require.NoError(t, err)
	require.NotEqual(t, ab, ac)

	for _, bad := range [][]byte{make([]byte, 32), append([]byte{1}, make([]byte, 31)...), bytes.Repeat([]byte{1}, 31)} {
		if _, err := a.Agree(bad); !errors.Is(err, ErrBadPublicKey) {
			t.Errorf("Agree(%x) err = %v, want ErrBadPublicKey", bad, err)
		}
	}
}
