package spec

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multicodec"
	"github.com/multiformats/go-multihash"
)

// Errors returned by [Decode], [Entry.Verify] and [CheckLink]. Each names one
// way an entry is refused; callers test them with errors.Is.
var (
	// ErrTooLarge: the encoded entry exceeds MaxEntrySize.
	ErrTooLarge = errors.New("spec: entry too large")
	// ErrMalformed: the bytes are not a well-formed entry (bad CBOR, missing
	// or extra fields, wrong types).
	ErrMalformed = errors.New("spec: malformed entry")
	// ErrNonCanonical: the bytes decode but are not the canonical DAG-CBOR
	// encoding of what they hold.
	ErrNonCanonical = errors.New("spec: non-canonical encoding")
	// ErrUnknownVersion: "v" is not a version this code knows.
	ErrUnknownVersion = errors.New("spec: unknown entry version")
	// ErrBadSignature: the signature does not verify against the author.
	ErrBadSignature = errors.New("spec: bad signature")
	// ErrBadSeq: seq is not the predecessor's seq + 1 (or not 1 for a genesis).
	ErrBadSeq = errors.New("spec: wrong seq")
	// ErrBadPrev: prev does not name the predecessor (or is set on a genesis).
	ErrBadPrev = errors.New("spec: wrong prev")
)

// Entry is one signed record in an author's log, as it travels on the wire.
// The field tags are the DAG-CBOR map keys; encoding sorts them length-first
// as DAG-CBOR requires.
type Entry struct {
	V      uint64   `cbor:"v" json:"v"`
	Author []byte   `cbor:"author" json:"author"` // peer ID bytes of the signer
	Seq    uint64   `cbor:"seq" json:"seq"`
	Prev   Link     `cbor:"prev" json:"prev"`
	Time   int64    `cbor:"time" json:"time"` // Unix milliseconds, author's hybrid clock
	Aud    Audience `cbor:"aud" json:"aud"`
	Body   []byte   `cbor:"body" json:"body"` // nonce || AEAD ciphertext, or plaintext for "public"
	Sig    []byte   `cbor:"sig,omitempty" json:"sig"`
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
	// peekMode reads one field of a map and skips the others (the entry
	// version, before the rest is decoded by its rules).
	peekMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.EncOptions{
		Sort:          cbor.SortLengthFirst, // DAG-CBOR key order
		ShortestFloat: cbor.ShortestFloatNone,
		NaNConvert:    cbor.NaNConvertNone,
		InfConvert:    cbor.InfConvertNone,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsEmpty,
		TagsMd:        cbor.TagsAllowed,
		Time:          cbor.TimeUnix,
		String:        cbor.StringToTextString,
		ByteArray:     cbor.ByteArrayToByteSlice,
	}.EncMode()
	if err != nil {
		panic("bug: cbor enc mode: " + err.Error())
	}
	decMode, err = decOptions().DecMode()
	if err != nil {
		panic("bug: cbor dec mode: " + err.Error())
	}
	peek := decOptions()
	peek.ExtraReturnErrors = cbor.ExtraDecErrorNone
	peekMode, err = peek.DecMode()
	if err != nil {
		panic("bug: cbor peek mode: " + err.Error())
	}
}

func decOptions() cbor.DecOptions {
	return cbor.DecOptions{
		DupMapKey:             cbor.DupMapKeyEnforcedAPF,
		IndefLength:           cbor.IndefLengthForbidden,
		TagsMd:                cbor.TagsAllowed,
		MaxNestedLevels:       16,
		MaxArrayElements:      MaxRecipients * 2,
		MaxMapPairs:           256,
		ExtraReturnErrors:     cbor.ExtraDecErrorUnknownField,
		UTF8:                  cbor.UTF8RejectInvalid,
		FieldNameMatching:     cbor.FieldNameMatchingCaseSensitive,
		DefaultByteStringType: nil,
	}
}

// Marshal encodes v as deterministic DAG-CBOR. It is the one encoder for
// everything Kith signs or hashes (entries and bodies).
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes DAG-CBOR into v with the same strict limits as [Decode]
// (no duplicate or unknown keys, no indefinite lengths, bounded nesting) and
// refuses non-canonical input. Callers bound len(data) themselves.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: re-encoding: %v", ErrMalformed, err)
	}
	if !bytes.Equal(again, data) {
		return ErrNonCanonical
	}
	return nil
}

// Decode parses one encoded entry from untrusted bytes. It checks size,
// structure, version and canonical encoding, but not the signature (see
// [Entry.Verify]) or the link to the previous entry (see [CheckLink]).
func Decode(data []byte) (*Entry, error) {
	if len(data) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxEntrySize)
	}
	// The version first: an older format may not decode as this one.
	var v struct {
		V uint64 `cbor:"v"`
	}
	if err := peekMode.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case v.V == 1:
		return nil, fmt.Errorf("%w: v=1 was written by a pre-release kith whose keys a recovery phrase cannot restore; "+
			"this node reads v=%d only (make a new home with `kith init`)", ErrUnknownVersion, Version)
	case v.V == 2:
		return nil, fmt.Errorf("%w: v=2 was written by a pre-release kith that named every reader of an entry by peer ID "+
			"for all to see; this node reads v=%d only (make a new home with `kith init`)", ErrUnknownVersion, Version)
	}
	if v.V != Version {
		return nil, fmt.Errorf("%w: v=%d, this node knows v=%d", ErrUnknownVersion, v.V, Version)
	}
	var e Entry
	if err := decMode.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := e.checkFields(); err != nil {
		return nil, err
	}
	again, err := e.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, data) {
		return nil, ErrNonCanonical
	}
	return &e, nil
}

func (e *Entry) checkFields() error {
	if len(e.Sig) != SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(e.Sig), SignatureSize)
	}
	if _, err := peer.IDFromBytes(e.Author); err != nil {
		return fmt.Errorf("%w: author: %v", ErrMalformed, err)
	}
	if e.Seq == 0 {
		return fmt.Errorf("%w: seq 0", ErrBadSeq)
	}
	if (e.Seq == 1) != !e.Prev.Defined() {
		return fmt.Errorf("%w: seq %d with prev %v", ErrBadPrev, e.Seq, e.Prev)
	}
	if e.Time < 0 {
		return fmt.Errorf("%w: negative time", ErrMalformed)
	}
	return e.Aud.check()
}

// Encode returns the canonical encoding of e, signature included.
func (e *Entry) Encode() ([]byte, error) {
	b, err := encMode.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding entry: %w", err)
	}
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), MaxEntrySize)
	}
	return b, nil
}

// SigningBytes returns what the signature covers: the canonical encoding of
// the entry map without its "sig" key.
func (e *Entry) SigningBytes() ([]byte, error) {
	u := *e
	u.Sig = nil
	b, err := encMode.Marshal(&u)
	if err != nil {
		return nil, fmt.Errorf("encoding entry for signing: %w", err)
	}
	return b, nil
}

// AuthorID returns the author as a typed peer ID.
func (e *Entry) AuthorID() (peer.ID, error) {
	id, err := peer.IDFromBytes(e.Author)
	if err != nil {
		return "", fmt.Errorf("%w: author: %v", ErrMalformed, err)
	}
	return id, nil
}

// Sign sets e.Sig using sign, which must produce an Ed25519 signature by the
// key behind e.Author.
func (e *Entry) Sign(sign func([]byte) ([]byte, error)) error {
	msg, err := e.SigningBytes()
	if err != nil {
		return err
	}
	sig, err := sign(msg)
	if err != nil {
		return fmt.Errorf("signing entry: %w", err)
	}
	e.Sig = sig
	return nil
}

// Verify checks e's signature against the Ed25519 key embedded in its author
// peer ID.
func (e *Entry) Verify() error {
	id, err := e.AuthorID()
	if err != nil {
		return err
	}
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("%w: author key: %v", ErrMalformed, err)
	}
	return e.VerifyWith(pk)
}

// VerifyWith checks e's signature against pk (the key in force for the
// author, which differs from the embedded one only after a rotation).
func (e *Entry) VerifyWith(pk crypto.PubKey) error {
	if pk.Type() != crypto.Ed25519 {
		return fmt.Errorf("%w: author key type %v, want Ed25519", ErrMalformed, pk.Type())
	}
	raw, err := pk.Raw()
	if err != nil {
		return fmt.Errorf("%w: author key: %v", ErrMalformed, err)
	}
	msg, err := e.SigningBytes()
	if err != nil {
		return err
	}
	if len(e.Sig) != SignatureSize || !ed25519.Verify(ed25519.PublicKey(raw), msg, e.Sig) {
		return ErrBadSignature
	}
	return nil
}

// CheckLink checks that e directly follows prev, whose CID is prevCID. prev
// is nil when e is expected to be its author's genesis.
func CheckLink(prev *Entry, prevCID cid.Cid, e *Entry) error {
	if prev == nil {
		if e.Seq != 1 {
			return fmt.Errorf("%w: got %d, want 1 (no earlier entry held)", ErrBadSeq, e.Seq)
		}
		if e.Prev.Defined() {
			return fmt.Errorf("%w: genesis names prev %s", ErrBadPrev, e.Prev)
		}
		return nil
	}
	if !bytes.Equal(prev.Author, e.Author) {
		return fmt.Errorf("%w: author differs from predecessor", ErrBadPrev)
	}
	if e.Seq != prev.Seq+1 {
		return fmt.Errorf("%w: got %d, want %d", ErrBadSeq, e.Seq, prev.Seq+1)
	}
	if !e.Prev.Equals(prevCID) {
		return fmt.Errorf("%w: got %s, want %s", ErrBadPrev, e.Prev, prevCID)
	}
	return nil
}

// CIDOf returns the CIDv1 (dag-cbor, sha2-256) of encoded bytes.
func CIDOf(encoded []byte) cid.Cid {
	mh, err := multihash.Sum(encoded, uint64(multicodec.Sha2_256), -1)
	if err != nil {
		panic("bug: sha2-256 multihash: " + err.Error())
	}
	return cid.NewCidV1(uint64(multicodec.DagCbor), mh)
}

// Link is a CID as DAG-CBOR encodes it (tag 42 over 0x00 || CID bytes); the
// zero Link encodes as null.
type Link struct{ cid.Cid }

// LinkTo returns a Link to c.
func LinkTo(c cid.Cid) Link { return Link{c} }

// Equals reports whether l names c.
func (l Link) Equals(c cid.Cid) bool { return l.Cid.Equals(c) }

// MarshalCBOR implements cbor.Marshaler.
func (l Link) MarshalCBOR() ([]byte, error) {
	if !l.Defined() {
		return []byte{0xf6}, nil
	}
	b := append([]byte{0x00}, l.Bytes()...)
	return encMode.Marshal(cbor.Tag{Number: 42, Content: b})
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (l *Link) UnmarshalCBOR(data []byte) error {
	if len(data) == 1 && data[0] == 0xf6 {
		*l = Link{}
		return nil
	}
	var t cbor.RawTag
	if err := decMode.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if t.Number != 42 {
		return fmt.Errorf("link: tag %d, want 42", t.Number)
	}
	var b []byte
	if err := decMode.Unmarshal(t.Content, &b); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if len(b) < 2 || b[0] != 0x00 {
		return errors.New("link: missing 0x00 multibase prefix")
	}
	c, err := cid.Cast(b[1:])
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if c.Version() != 1 {
		return errors.New("link: not a CIDv1")
	}
	*l = Link{c}
	return nil
}

// MarshalJSON renders the link as {"/": "bafy…"} (DAG-JSON) or null.
func (l Link) MarshalJSON() ([]byte, error) {
	if !l.Defined() {
		return []byte("null"), nil
	}
	return []byte(`{"/":"` + l.String() + `"}`), nil
}

func (l Link) String() string {
	if !l.Defined() {
		return "null"
	}
	return l.Cid.String()
}
