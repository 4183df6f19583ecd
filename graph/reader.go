package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/kith-p2p/kith/identity"
	"github.com/libp2p/go-libp2p/core/peer"
)

// RecordReader reads one record: what [ReaderOf] needs of a store.
type RecordReader interface {
	Record(ctx context.Context, identity peer.ID, kind, key string) (*Record, error)
}

// ReaderOf returns p as a reader to seal to, from the keys entry of p's
// that st holds; ok is false when st holds no usable encryption key of p
// (none yet, withdrawn, or not a valid X25519 key).
func ReaderOf(ctx context.Context, st RecordReader, p peer.ID) (r Reader, ok bool, err error) {
	k, err := st.Record(ctx, p, KindKeys, "")
	switch {
	case errors.Is(err, ErrNotFound):
		return Reader{}, false, nil
	case err != nil:
		return Reader{}, false, fmt.Errorf("reading the encryption key of %s: %w", p, err)
	case k.Body == nil || k.Body.Del || identity.CheckEncryptionKey(k.Body.Enc) != nil:
		return Reader{}, false, nil
	}
	return Reader{ID: p, EncKey: k.Body.Enc}, true, nil
}
