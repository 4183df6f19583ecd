package spec

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Audience names who can read an entry's body. On the wire it is the text
// "self" (only the author: the body key is derived from the author's
// secret), the text "public" (the body is plaintext DAG-CBOR, used for
// genesis and keys entries that others must read), or an array of
// [Recipient], each carrying the body key wrapped to one reader.
type Audience struct {
	Self       bool
	Public     bool
	Recipients []Recipient
}

// Recipient is one reader of an entry and the body's content key wrapped to
// that reader's X25519 key (HPKE enc || sealed key).
type Recipient struct {
	ID  []byte `cbor:"id" json:"id"`   // peer ID bytes of the reader
	Key []byte `cbor:"key" json:"key"` // HPKE encapsulation || ciphertext
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
	if len(a.Recipients) > 0 {
		n++
	}
	if n != 1 {
		return fmt.Errorf("%w: audience must be self, public or a non-empty recipient list", ErrMalformed)
	}
	if len(a.Recipients) > MaxRecipients {
		return fmt.Errorf("%w: %d recipients, limit %d", ErrMalformed, len(a.Recipients), MaxRecipients)
	}
	for i, r := range a.Recipients {
		if _, err := peer.IDFromBytes(r.ID); err != nil {
			return fmt.Errorf("%w: recipient %d: %v", ErrMalformed, i, err)
		}
		if len(r.Key) == 0 {
			return fmt.Errorf("%w: recipient %d: empty key", ErrMalformed, i)
		}
		if i > 0 && bytes.Compare(a.Recipients[i-1].ID, r.ID) >= 0 {
			return fmt.Errorf("%w: recipients not sorted by id or repeated", ErrMalformed)
		}
	}
	return nil
}

// Includes reports whether id is an explicit recipient.
func (a Audience) Includes(id peer.ID) (Recipient, bool) {
	for _, r := range a.Recipients {
		if string(r.ID) == string(id) {
			return r, true
		}
	}
	return Recipient{}, false
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
		return encMode.Marshal(a.Recipients)
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
	case 4: // array
		if err := decMode.Unmarshal(data, &a.Recipients); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: audience of CBOR major type %d", ErrMalformed, data[0]>>5)
	}
	return a.check()
}

// MarshalJSON renders "self", "public" or the recipient list.
func (a Audience) MarshalJSON() ([]byte, error) {
	switch {
	case a.Self:
		return json.Marshal(audSelf)
	case a.Public:
		return json.Marshal(audPublic)
	default:
		return json.Marshal(a.Recipients)
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
	return json.Unmarshal(b, &a.Recipients)
}
