package graph

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// Modes of a rotation (spec/SPEC.md "Rotation").
const (
	// RotatePlanned: the person's device, holding the old identity key,
	// moves to the next generation; the phrase adds the recovery signature.
	RotatePlanned = "planned"
	// RotateRecover: after a loss or theft, from the phrase alone: the old
	// key may be in someone else's hands.
	RotateRecover = "recover"
)

// rotateDomain prefixes the bytes a rotation's signatures cover, so that
// they never pass for an entry's or a connect message's.
var rotateDomain = []byte("kith/rotate/v1\n")

// Errors of [VerifyRotation].
var (
	// ErrBadRotation: a rotate entry is malformed, forged, or placed
	// elsewhere than on the head it ends.
	ErrBadRotation = errors.New("graph: invalid rotation")
	// ErrRotated: the author's log ended with a rotation; nothing may
	// follow it (a second rotation included).
	ErrRotated = errors.New("graph: the author rotated to a new identity; its old log is closed")
	// ErrRetiredKey: a body sealed to an earlier identity of mine, which
	// rotated to the one this node runs as: folded when that identity ran
	// here, it does not open with the keys held now.
	ErrRetiredKey = errors.New("graph: sealed to an earlier identity of mine (rotated away)")
)

// Rotation is the body field of a `rotate` entry: the old identity (the
// entry's author) hands over to New. RSig by the recovery key and NSig by
// the new identity key both sign [Rotation.SigningBytes]; the entry itself
// is signed by the old key.
type Rotation struct {
	Mode string    `cbor:"mode" json:"mode"` // RotatePlanned or RotateRecover
	New  []byte    `cbor:"new" json:"new"`   // the new identity's peer ID bytes
	Gen  uint64    `cbor:"gen" json:"gen"`   // the new identity's generation of the root
	Seq  uint64    `cbor:"seq" json:"seq"`   // the old log's head it ends
	Head spec.Link `cbor:"head" json:"head"` // that head's CID
	Next []byte    `cbor:"next" json:"next"` // the new genesis's recovery commitment
	RPub []byte    `cbor:"rpub" json:"rpub"` // the recovery public key the old genesis commits to
	RSig []byte    `cbor:"rsig" json:"rsig"` // by the recovery key
	NSig []byte    `cbor:"nsig" json:"nsig"` // by the new identity key
}

// rotationSigned is what both signatures cover: the rotation without its
// signatures, and the old identity, so that a statement cannot be lifted
// into another log.
type rotationSigned struct {
	Old  []byte    `cbor:"old"`
	Mode string    `cbor:"mode"`
	New  []byte    `cbor:"new"`
	Gen  uint64    `cbor:"gen"`
	Seq  uint64    `cbor:"seq"`
	Head spec.Link `cbor:"head"`
	Next []byte    `cbor:"next"`
	RPub []byte    `cbor:"rpub"`
}

// SigningBytes returns "kith/rotate/v1\n" || DAG-CBOR({old, mode, new, gen,
// seq, head, next, rpub}): what RSig and NSig sign.
func (r *Rotation) SigningBytes(old peer.ID) ([]byte, error) {
	b, err := spec.Marshal(rotationSigned{Old: []byte(old), Mode: r.Mode, New: r.New, Gen: r.Gen,
		Seq: r.Seq, Head: r.Head, Next: r.Next, RPub: r.RPub})
	if err != nil {
		return nil, fmt.Errorf("encoding rotation: %w", err)
	}
	return append(bytes.Clone(rotateDomain), b...), nil
}

// NewPeer returns the new identity's peer ID.
func (r *Rotation) NewPeer() (peer.ID, error) {
	p, err := peer.IDFromBytes(r.New)
	if err != nil {
		return "", fmt.Errorf("%w: new peer ID: %w", ErrBadRotation, err)
	}
	return p, nil
}

// check validates the fields' shapes (Body.Check).
func (r *Rotation) check() error {
	switch {
	case r.Mode != RotatePlanned && r.Mode != RotateRecover:
		return fmt.Errorf("mode %q", r.Mode)
	case r.Seq == 0 || !r.Head.Defined():
		return errors.New("no head to end")
	case len(r.Next) != 32:
		return errors.New("next commitment is not 32 bytes")
	case len(r.RPub) != ed25519.PublicKeySize:
		return errors.New("recovery public key is not 32 bytes")
	case len(r.RSig) != ed25519.SignatureSize || len(r.NSig) != ed25519.SignatureSize:
		return errors.New("a signature is not 64 bytes")
	case r.Gen > identity.MaxGeneration:
		return fmt.Errorf("generation %d", r.Gen)
	}
	if _, err := r.NewPeer(); err != nil {
		return err
	}
	return nil
}

// RotationDraft returns the `rotate` draft that hands old, whose log's head
// is head, over to next, signed by the recovery key rec and by next.
func RotationDraft(old peer.ID, head Head, mode string, next *identity.Identity, gen uint32, rec ed25519.PrivateKey) (Draft, error) {
	if head.Seq == 0 {
		return Draft{}, fmt.Errorf("%w: %s has no log to end", ErrBadRotation, old)
	}
	r := &Rotation{Mode: mode, New: []byte(next.PeerID()), Gen: uint64(gen), Seq: head.Seq,
		Head: spec.LinkTo(head.CID), Next: next.RecoveryCommitment(), RPub: rec.Public().(ed25519.PublicKey)}
	msg, err := r.SigningBytes(old)
	if err != nil {
		return Draft{}, err
	}
	r.RSig = ed25519.Sign(rec, msg)
	if r.NSig, err = next.Sign(msg); err != nil {
		return Draft{}, err
	}
	return Draft{Body: Body{Kind: KindRotate, Rotate: r}, To: Audience{Public: true}}, nil
}

// VerifyRotation checks a `rotate` entry e of the old identity's log,
// whose genesis commits to the recovery key by commitment (its `recovery`
// field). It returns the rotation when: the body is public and well
// formed; it ends exactly the entry's predecessor (seq and prev: a
// rotation cannot be replayed onto another state of the log); the recovery
// key is the one the genesis committed to and signs it (a device key alone
// never rotates); and the new identity signs it (it accepts). The entry's
// own signature by the old key is spec's check ([Verify]).
func VerifyRotation(e *Entry, commitment []byte) (*Rotation, error) {
	if e.Body == nil || e.Body.Kind != KindRotate || e.Body.Rotate == nil || e.Body.Del {
		return nil, fmt.Errorf("%w: not a rotate body", ErrBadRotation)
	}
	if !e.Aud.Public {
		return nil, fmt.Errorf("%w: a rotation must be public", ErrBadRotation)
	}
	r := e.Body.Rotate
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRotation, err)
	}
	if e.Seq != r.Seq+1 || !e.Prev.Defined() || !e.Prev.Equals(r.Head.Cid) {
		return nil, fmt.Errorf("%w: it ends seq %d (%s) but sits at seq %d after %s: replayed or misplaced",
			ErrBadRotation, r.Seq, r.Head, e.Seq, e.Prev)
	}
	if len(commitment) == 0 {
		return nil, fmt.Errorf("%w: the old identity's genesis is not held", ErrBadRotation)
	}
	if !bytes.Equal(identity.Commitment(r.RPub), commitment) {
		return nil, fmt.Errorf("%w: the recovery key is not the one the genesis committed to", ErrBadRotation)
	}
	msg, err := r.SigningBytes(e.Author)
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(r.RPub, msg, r.RSig) {
		return nil, fmt.Errorf("%w: the recovery signature does not verify", ErrBadRotation)
	}
	np, _ := r.NewPeer()
	if np == e.Author {
		return nil, fmt.Errorf("%w: rotates to itself", ErrBadRotation)
	}
	pk, err := np.ExtractPublicKey()
	if err != nil || pk.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: new peer ID holds no Ed25519 key", ErrBadRotation)
	}
	if ok, err := pk.Verify(msg, r.NSig); err != nil || !ok {
		return nil, fmt.Errorf("%w: the new identity's signature does not verify", ErrBadRotation)
	}
	return r, nil
}

// AppendRotation ends the local log with a `rotate` entry: build gets the
// stored head (after every append in flight) and returns the draft that
// ends it, so no other append can slip between the head the rotation names
// and the rotation. The entry is checked with [VerifyRotation] against
// commitment before it is stored. Once it is, every later Append returns
// [ErrRotated].
func (w *Writer) AppendRotation(ctx context.Context, commitment []byte, build func(Head) (Draft, error)) (*Entry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed != nil {
		return nil, w.closed
	}
	if w.last != nil {
		<-w.last.done // its Put needs no lock
		w.last = nil
	}
	h, err := w.store.Head(ctx, w.id.PeerID())
	if err != nil {
		return nil, fmt.Errorf("reading log head: %w", err)
	}
	w.head = h
	d, err := build(h)
	if err != nil {
		return nil, err
	}
	e, err := w.buildLocked(&d, h)
	if err != nil {
		return nil, err
	}
	r, err := VerifyRotation(e, commitment)
	if err != nil {
		return nil, err
	}
	if err := w.store.Put(context.WithoutCancel(ctx), []*Entry{e}); err != nil {
		return nil, err
	}
	np, _ := r.NewPeer()
	w.head = Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
	w.closed = fmt.Errorf("%w: %s is now %s", ErrRotated, w.id.PeerID(), np)
	return e, nil
}

// EndRotated closes the writer's log: it ended with a rotation to next,
// found in the store at start or adopted back from a friend. Every later
// Append returns [ErrRotated].
func (w *Writer) EndRotated(next peer.ID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = fmt.Errorf("%w: %s is now %s", ErrRotated, w.id.PeerID(), next)
}

// rotatedIn returns the new identity of the rotation among es, if one is.
func rotatedIn(es []*Entry) (peer.ID, bool) {
	for _, e := range es {
		if e.Body != nil && e.Body.Kind == KindRotate && e.Body.Rotate != nil && !e.Body.Del {
			if np, err := e.Body.Rotate.NewPeer(); err == nil {
				return np, true
			}
		}
	}
	return "", false
}
