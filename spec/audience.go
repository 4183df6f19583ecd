package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Audience names who can read an entry's body. On the wire it is the text
// "self" (only the author: the body key is derived from the author's
// secret), the text "public" (the body is plaintext DAG-CBOR, used for
// genesis, keys and rotate entries that others must read), or a [Sealed]
// map: the body key wrapped once per reader in slots that name no one.
type Audience struct {
	Self   bool
	Public bool
	Sealed *Sealed
}

// Sealed is the audience of a body sealed to readers (SPEC.md "Audience and
// body"): an ephemeral X25519 public key and [SlotCount] slots of
// [SlotSize] bytes, sorted. A reader's slot is tag || the content key
// sealed under a key only the author and that reader can derive; the other
// slots are random. Nothing in it names a reader.
type Sealed struct {
	Eph   []byte   `cbor:"e" json:"e"` // X25519 public key, EphSize bytes
	Slots [][]byte `cbor:"r" json:"r"` // SlotSize bytes each, sorted, no repeats
}

// Sizes of a sealed audience's parts.
const (
	// EphSize is the size of the ephemeral X25519 public key.
	EphSize = 32
	// TagSize is the size of the tag that starts a slot.
	TagSize = 16
	// SlotSize is the size of one slot: the tag, then the 32-byte content
	// key sealed with ChaCha20-Poly1305 (its 16-byte tag appended).
	SlotSize = TagSize + 32 + 16
	// MinSlots is the fewest slots a sealed audience has.
	MinSlots = 8
)

// SlotCount returns how many slots an audience of readers readers has: the
// least power of two ≥ readers and ≥ MinSlots. It returns 0 when readers
// exceeds MaxRecipients.
//
// Why powers of two from 8: the count of slots is public, so it shows only
// the bucket a circle falls in (1–8, 9–16, … 257–512: seven buckets, under
// three bits), and the padding never doubles the audience's bytes. Eight
// hides every household and small family (most circles) in one bucket for
// 528 bytes an entry.
func SlotCount(readers int) int {
	if readers > MaxRecipients {
		return 0
	}
	n := MinSlots
	for n < readers {
		n *= 2
	}
	return n
}

// Audience header words.
const (
	audSelf   = "self"
	audPublic = "public"
)

// SelfAudience and PublicAudience are the two keyword audiences.
var (
	SelfAudience   = Audience{Self: true}
	PublicAudience = Audience{Public: true}
)

func (a Audience) check() error {
	n := 0
	if a.Self {
		n++
	}
	if a.Public {
		n++
	}
	if a.Sealed != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("%w: audience must be self, public or sealed", ErrMalformed)
	}
	if a.Sealed != nil {
		return a.Sealed.check()
	}
	return nil
}

func (s *Sealed) check() error {
	if len(s.Eph) != EphSize {
		return fmt.Errorf("%w: audience key is %d bytes, want %d", ErrMalformed, len(s.Eph), EphSize)
	}
	if n := len(s.Slots); n > MaxRecipients || SlotCount(n) != n {
		return fmt.Errorf("%w: %d audience slots, want a power of two from %d to %d", ErrMalformed, n, MinSlots, MaxRecipients)
	}
	for i, sl := range s.Slots {
		if len(sl) != SlotSize {
			return fmt.Errorf("%w: audience slot %d is %d bytes, want %d", ErrMalformed, i, len(sl), SlotSize)
		}
		if i > 0 && bytes.Compare(s.Slots[i-1], sl) >= 0 {
			return fmt.Errorf("%w: audience slots not sorted or repeated", ErrMalformed)
		}
	}
	return nil
}

// MarshalCBOR implements cbor.Marshaler.
func (a Audience) MarshalCBOR() ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	switch {
	case a.Self:
		return encMode.Marshal(audSelf)
	case a.Public:
		return encMode.Marshal(audPublic)
	default:
		return encMode.Marshal(a.Sealed)
	}
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (a *Audience) UnmarshalCBOR(data []byte) error {
	*a = Audience{}
	if len(data) == 0 {
		return fmt.Errorf("%w: empty audience", ErrMalformed)
	}
	switch cbor.RawMessage(data[:1])[0] >> 5 {
	case 3: // text string
		var s string
		if err := decMode.Unmarshal(data, &s); err != nil {
			return err
		}
		switch s {
		case audSelf:
			a.Self = true
		case audPublic:
			a.Public = true
		default:
			return fmt.Errorf("%w: audience %q", ErrMalformed, s)
		}
	case 4: // array: the recipient list of v2, which named each reader
		return fmt.Errorf("%w: an audience listing readers by peer ID (format v2) is no longer read", ErrMalformed)
	case 5: // map
		var s Sealed
		if err := decMode.Unmarshal(data, &s); err != nil {
			return err
		}
		a.Sealed = &s
	default:
		return fmt.Errorf("%w: audience of CBOR major type %d", ErrMalformed, data[0]>>5)
	}
	return a.check()
}

// MarshalJSON renders "self", "public" or the sealed map.
func (a Audience) MarshalJSON() ([]byte, error) {
	switch {
	case a.Self:
		return json.Marshal(audSelf)
	case a.Public:
		return json.Marshal(audPublic)
	default:
		return json.Marshal(a.Sealed)
	}
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (a *Audience) UnmarshalJSON(b []byte) error {
	*a = Audience{}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case audSelf:
			a.Self = true
		case audPublic:
			a.Public = true
		default:
			return fmt.Errorf("audience %q", s)
		}
		return nil
	}
	a.Sealed = new(Sealed)
	return json.Unmarshal(b, a.Sealed)
}

// Body padding (SPEC.md "Audience and body"). A sealed body's plaintext is
// padded before it is encrypted, so that its length shows a bucket, not the
// record.
const (
	// MinPadded is the smallest padded body.
	MinPadded = 256
	// padDoubleUpTo is where buckets stop doubling and grow by padStep.
	padDoubleUpTo = 16 << 10
	padStep       = 8 << 10
)

// ErrBadPadding: a decrypted body does not end in the padding SPEC.md
// describes.
var ErrBadPadding = errors.New("spec: body padding is not 0x80 then zero bytes")

// PaddedSize returns the bucket a plaintext of n bytes is padded to: the
// least of 256, 512, … 16 KiB that holds n + 1 bytes (the body and the
// 0x80 that ends it), then the next multiple of 8 KiB.
//
// Why: doubling from 256 B puts every card of a few fields (most of them)
// in one or two buckets and costs at most as much again, which is little at
// that size; above 16 KiB (photos) doubling would cost up to 32 KiB an
// entry, so buckets grow by 8 KiB instead: at most half as much again, and
// six buckets above 16 KiB (the last: what fits under MaxEntrySize).
func PaddedSize(n int) int {
	m := n + 1
	if m <= padDoubleUpTo {
		p := MinPadded
		for p < m {
			p *= 2
		}
		return p
	}
	return (m + padStep - 1) / padStep * padStep
}

// Pad returns plain followed by 0x80 and zero bytes up to size bytes. size
// must exceed len(plain).
func Pad(plain []byte, size int) []byte {
	if size <= len(plain) {
		panic("bug: padding to a size no larger than the body")
	}
	out := make([]byte, size)
	copy(out, plain)
	out[len(plain)] = 0x80
	return out
}

// Unpad undoes [Pad]: it drops the trailing zero bytes and the 0x80 before
// them, or returns ErrBadPadding.
func Unpad(padded []byte) ([]byte, error) {
	i := len(padded) - 1
	for i >= 0 && padded[i] == 0 {
		i--
	}
	if i < 0 || padded[i] != 0x80 {
		return nil, ErrBadPadding
	}
	return padded[:i], nil
}
