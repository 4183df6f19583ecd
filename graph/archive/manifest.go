package archive

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multicodec"
	"github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/spec"
)

// Format constants of an export.
const (
	// Version is the manifest format version ("v") this code writes and
	// reads.
	Version = 1
	// ManifestType is the manifest's "type": it also keeps a manifest's
	// signature from ever passing for an entry's (an entry has no "type").
	ManifestType = "kith-export"
	// MaxManifestSize bounds the manifest block; at ~100 bytes a log it
	// holds MaxLogs with room.
	MaxManifestSize = 1 << 20
	// MaxLogs bounds the logs one export holds.
	MaxLogs = 8192
	// MaxKeySize bounds the key block (a key file is ~400 bytes).
	MaxKeySize = 4 << 10
	// maxHeaderSize bounds the CAR header (one root CID).
	maxHeaderSize = 1 << 10
)

// Errors a [Reader] and [DecodeManifest] return. Each names one way an
// export is refused; they wrap spec's and identity's errors where those say
// more (errors.Is matches both).
var (
	// ErrMalformed: not a CAR v1 export of Kith (bad header, a block out
	// of place, a manifest that does not decode, a block after the last).
	ErrMalformed = errors.New("archive: not a valid Kith export")
	// ErrTruncated: the file ends before the last block the manifest
	// announces.
	ErrTruncated = errors.New("archive: export is truncated")
	// ErrTooLarge: a block is over its limit.
	ErrTooLarge = errors.New("archive: block too large")
	// ErrBlockMismatch: a block's bytes do not match its CID.
	ErrBlockMismatch = errors.New("archive: block does not match its CID")
	// ErrBadManifestSignature: the manifest is not signed by the identity
	// it names (forged or tampered with).
	ErrBadManifestSignature = errors.New("archive: manifest signature does not verify")
	// ErrBadEntry: an entry does not verify (encoding, signature, body).
	ErrBadEntry = errors.New("archive: entry does not verify")
	// ErrChain: a log has a gap, a wrong link, or does not reach the head
	// the manifest signs.
	ErrChain = errors.New("archive: broken log chain")
	// ErrWrongIdentity: the export belongs to another identity than the
	// one expected.
	ErrWrongIdentity = errors.New("archive: export belongs to another identity")
)

// Manifest is the root block of an export. The field tags are the
// DAG-CBOR map keys.
type Manifest struct {
	V        uint64    `cbor:"v"`
	Type     string    `cbor:"type"`     // ManifestType
	Identity []byte    `cbor:"identity"` // peer ID bytes of the identity that signs
	Created  int64     `cbor:"created"`  // Unix milliseconds
	Logs     []LogHead `cbor:"logs"`     // by author bytes, each author once
	Key      spec.Link `cbor:"key"`      // the key block's CID (raw, sha2-256), or null
	Sig      []byte    `cbor:"sig,omitempty"`

	// Hints: an (unsigned) hints block follows the logs (hints.go).
	Hints bool `cbor:"hints,omitempty"`
}

// LogHead is one log in a [Manifest]: its author and its head.
type LogHead struct {
	Author []byte    `cbor:"author"` // peer ID bytes
	Seq    uint64    `cbor:"seq"`    // head seq, ≥ 1: the log's entry count
	Head   spec.Link `cbor:"head"`   // head CID
}

// IdentityID returns the manifest's identity as a peer ID.
func (m *Manifest) IdentityID() (peer.ID, error) {
	id, err := peer.IDFromBytes(m.Identity)
	if err != nil {
		return "", fmt.Errorf("%w: manifest identity: %v", ErrMalformed, err)
	}
	return id, nil
}

// CreatedTime returns Created as a time.
func (m *Manifest) CreatedTime() time.Time { return time.UnixMilli(m.Created) }

// Entries returns the number of entries the manifest announces.
func (m *Manifest) Entries() uint64 {
	var n uint64
	for _, l := range m.Logs {
		n += l.Seq
	}
	return n
}

// signingBytes is what the signature covers: the encoding without "sig".
func (m *Manifest) signingBytes() ([]byte, error) {
	u := *m
	u.Sig = nil
	return spec.Marshal(&u)
}

// sign sets m.Sig with sign, an Ed25519 signer of the identity.
func (m *Manifest) sign(sign func([]byte) ([]byte, error)) error {
	msg, err := m.signingBytes()
	if err != nil {
		return err
	}
	if m.Sig, err = sign(msg); err != nil {
		return fmt.Errorf("signing the manifest: %w", err)
	}
	return nil
}

// Verify checks the manifest's signature against the Ed25519 key inside
// its identity's peer ID.
func (m *Manifest) Verify() error {
	id, err := m.IdentityID()
	if err != nil {
		return err
	}
	pk, err := id.ExtractPublicKey()
	if err != nil || pk.Type() != crypto.Ed25519 {
		return fmt.Errorf("%w: the identity %s holds no Ed25519 key", ErrMalformed, id)
	}
	msg, err := m.signingBytes()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if ok, err := pk.Verify(msg, m.Sig); err != nil || !ok {
		return fmt.Errorf("%w (identity %s)", ErrBadManifestSignature, id)
	}
	return nil
}

var manifestDec cbor.DecMode

func init() {
	var err error
	manifestDec, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsAllowed,
		MaxNestedLevels:   8,
		MaxArrayElements:  MaxLogs,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}.DecMode()
	if err != nil {
		panic("bug: manifest dec mode: " + err.Error())
	}
}

// DecodeManifest parses a manifest block from untrusted bytes: size,
// structure, canonical encoding, version and the order of its logs. It does
// not check the signature (see [Manifest.Verify]).
func DecodeManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest is %d bytes, limit %d", ErrTooLarge, len(data), MaxManifestSize)
	}
	var m Manifest
	if err := manifestDec.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	if m.V != Version {
		return nil, fmt.Errorf("%w: manifest version %d, this kith reads %d", ErrMalformed, m.V, Version)
	}
	if m.Type != ManifestType {
		return nil, fmt.Errorf("%w: manifest type %q, want %q", ErrMalformed, m.Type, ManifestType)
	}
	if _, err := m.IdentityID(); err != nil {
		return nil, err
	}
	if m.Created < 0 {
		return nil, fmt.Errorf("%w: manifest created time is negative", ErrMalformed)
	}
	if len(m.Sig) != spec.SignatureSize {
		return nil, fmt.Errorf("%w: manifest signature is %d bytes, want %d", ErrMalformed, len(m.Sig), spec.SignatureSize)
	}
	if m.Key.Defined() && !isKeyCID(m.Key.Cid) {
		return nil, fmt.Errorf("%w: key block CID %s is not raw sha2-256", ErrMalformed, m.Key)
	}
	for i, l := range m.Logs {
		if _, err := peer.IDFromBytes(l.Author); err != nil {
			return nil, fmt.Errorf("%w: log %d author: %v", ErrMalformed, i, err)
		}
		if l.Seq == 0 || !l.Head.Defined() {
			return nil, fmt.Errorf("%w: log %d has no head", ErrMalformed, i)
		}
		if !isEntryCID(l.Head.Cid) {
			return nil, fmt.Errorf("%w: log %d head %s is not a dag-cbor sha2-256 CID", ErrMalformed, i, l.Head)
		}
		if i > 0 && bytes.Compare(m.Logs[i-1].Author, l.Author) >= 0 {
			return nil, fmt.Errorf("%w: logs out of order or repeated at %d", ErrMalformed, i)
		}
	}
	again, err := spec.Marshal(&m)
	if err != nil || !bytes.Equal(again, data) {
		return nil, fmt.Errorf("%w: manifest is not canonical DAG-CBOR", ErrMalformed)
	}
	return &m, nil
}

// keyCIDOf returns the CID of a key block: raw, sha2-256.
func keyCIDOf(data []byte) cid.Cid {
	mh, err := multihash.Sum(data, uint64(multicodec.Sha2_256), -1)
	if err != nil {
		panic("bug: sha2-256 multihash: " + err.Error())
	}
	return cid.NewCidV1(uint64(multicodec.Raw), mh)
}

func isKeyCID(c cid.Cid) bool {
	p := c.Prefix()
	return p.Version == 1 && p.Codec == uint64(multicodec.Raw) && p.MhType == uint64(multicodec.Sha2_256) && p.MhLength == 32
}

func isEntryCID(c cid.Cid) bool {
	p := c.Prefix()
	return p.Version == 1 && p.Codec == uint64(multicodec.DagCbor) && p.MhType == uint64(multicodec.Sha2_256) && p.MhLength == 32
}

// CID returns the CID of the manifest's block, the export's root.
func (m *Manifest) CID() (cid.Cid, error) {
	b, err := spec.Marshal(m)
	if err != nil {
		return cid.Undef, fmt.Errorf("encoding the manifest: %w", err)
	}
	return spec.CIDOf(b), nil
}
