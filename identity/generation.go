package identity

import (
	"crypto/ed25519"
	"fmt"
	"strconv"

	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxGeneration bounds the generations [Root.GenerationOf] tries: a person
// rotating once a day for a decade stays well inside it, and deriving one
// generation costs two HKDFs and an Ed25519 key (≈ 30 µs).
const MaxGeneration = 1024

// generationInfo returns the HKDF info string of a secret in generation
// gen: the generation 0 strings are those of "Keys" (so a root's first
// identity is unchanged), later generations append "/g" and the decimal
// number.
func generationInfo(base string, gen uint32) string {
	if gen == 0 {
		return base
	}
	return base + "/g" + strconv.FormatUint(uint64(gen), 10)
}

// IdentityAt returns the identity of generation gen of the root: the
// identity seed HKDF(root, "kith/identity/v2/g<gen>") and data key
// HKDF(root, "kith/data/v2/g<gen>"), with the recovery public key (the same
// in every generation). Generation 0 is [Root.Identity]. A rotation moves
// a person to the next generation, so the one phrase recovers every
// generation while a device holding generation g learns nothing of g+1.
func (r *Root) IdentityAt(gen uint32) (*Identity, error) {
	if gen > MaxGeneration {
		return nil, fmt.Errorf("%w: generation %d is over %d", ErrBadSeed, gen, MaxGeneration)
	}
	seed := r.derive(generationInfo(infoIdentity, gen))
	defer clear(seed)
	data := r.derive(generationInfo(infoData, gen))
	defer clear(data)
	rec := r.RecoveryKey()
	defer clear(rec)
	return FromKeys(seed, data, rec.Public().(ed25519.PublicKey))
}

// GenerationOf returns the generation of the root whose peer ID is p, or
// false when none up to [MaxGeneration] is: the phrase is not this
// person's.
func (r *Root) GenerationOf(p peer.ID) (uint32, bool) {
	for g := uint32(0); g <= MaxGeneration; g++ {
		id, err := r.IdentityAt(g)
		if err != nil {
			return 0, false
		}
		if id.PeerID() == p {
			return g, true
		}
	}
	return 0, false
}
