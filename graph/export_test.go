package graph

import (
	"io"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// SealReadersWith is sealReaders for the vector tests: readers as given
// (sorted and without repeats), with a fixed nonce, content key and dummy
// slots.
func SealReadersWith(id *identity.Identity, readers []Reader, plain, nonce, cek []byte, dummies io.Reader) (spec.Audience, []byte, error) {
	return sealReaders(id, readers, plain, nonce, cek, dummies)
}

// SealSelfWith seals plain as a self body with a fixed nonce.
func SealSelfWith(id *identity.Identity, plain, nonce []byte) ([]byte, error) {
	return sealBody(id.SelfKey(), nonce, padFor(plain, spec.SelfAudience), id.PeerID())
}

// EntryOverhead is entryOverhead, for the test that bounds it.
const EntryOverhead = entryOverhead

// SlotOf returns the tag id computes for e and the slot that carries it,
// or nils when id finds none.
func SlotOf(id *identity.Identity, e *spec.Entry) (tag, slot []byte) {
	s := e.Aud.Sealed
	z, err := id.Agree(s.Eph)
	if err != nil {
		return nil, nil
	}
	tag, _, err = slotKeys(z, s.Eph, id.EncryptionKey())
	if err != nil {
		return nil, nil
	}
	for _, sl := range s.Slots {
		if len(sl) == spec.SlotSize && string(sl[:spec.TagSize]) == string(tag) {
			return tag, sl
		}
	}
	return tag, nil
}
