package graph

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// Kinds of record an entry body can set.
const (
	KindGenesis    = "genesis"    // seq 1: commits to the recovery key
	KindKeys       = "keys"       // the identity's X25519 encryption key
	KindCard       = "card"       // key = circle ("self" = private): my fields that circle sees
	KindCircle     = "circle"     // key = circle name: its members
	KindConnection = "connection" // key = peer ID: an accepted relationship
	KindContact    = "contact"    // key = local contact id: a private card
	KindEvent      = "event"      // key = iCalendar UID
	KindRSVP       = "rsvp"
	KindTerms      = "terms"
	KindRotate     = "rotate"
	KindFreeBusy   = "freebusy" // key = circle: it may ask my free/busy (sealed to me)
)

// ReaderVersion numbers what [Open] can read. Bump it whenever Open learns
// to read a body it refused before (a new kind, a looser rule): each store
// then reads its unread entries once more (store.Store.Reread), so what a
// newer friend wrote shows up after an upgrade.
const ReaderVersion = 3 // 2: event bodies (ev); 3: freebusy

var knownKinds = map[string]bool{
	KindGenesis: true, KindKeys: true, KindCard: true, KindCircle: true, KindConnection: true,
	KindContact: true, KindEvent: true, KindRSVP: true, KindTerms: true, KindRotate: true,
	KindFreeBusy: true,
}

// ErrBadBody: a decrypted body is not a valid record.
var ErrBadBody = errors.New("graph: invalid entry body")

// Body is the decrypted content of an entry: the record it sets.
type Body struct {
	Kind string `cbor:"kind" json:"kind"`
	Key  string `cbor:"key" json:"key"`
	Del  bool   `cbor:"del,omitempty" json:"del,omitempty"` // tombstone

	Card     *Card     `cbor:"card,omitempty" json:"card,omitempty"`         // contact, card
	Members  []string  `cbor:"members,omitempty" json:"members,omitempty"`   // circle: peer IDs
	Recovery []byte    `cbor:"recovery,omitempty" json:"recovery,omitempty"` // genesis: identity.Commitment
	Enc      []byte    `cbor:"enc,omitempty" json:"enc,omitempty"`           // keys: X25519 public key
	Rotate   *Rotation `cbor:"rot,omitempty" json:"rot,omitempty"`           // rotate: the hand-over
	Event    *Event    `cbor:"ev,omitempty" json:"ev,omitempty"`             // event: the iCalendar text
}

// MaxEventICS bounds an event record's iCalendar text, so that the sealed
// entry fits spec.MaxEntrySize.
const MaxEventICS = 56 << 10

// Event is an event record: one iCalendar UID (the record's key) as
// iCalendar text. graph/ical reads it; graph only checks its shape.
type Event struct {
	// ICS is a VCALENDAR holding the event's VEVENTs (the master and the
	// overrides of single instances) and the VTIMEZONEs they name.
	ICS string `cbor:"ics" json:"ics"`
	// Seq is the event's SEQUENCE, the revision its organizer raises.
	Seq uint64 `cbor:"sq,omitempty" json:"sq,omitempty"`
}

// Check validates the record name and the fields its kind needs.
func (b *Body) Check() error {
	if !knownKinds[b.Kind] {
		return fmt.Errorf("%w: unknown kind %q", ErrBadBody, b.Kind)
	}
	if len(b.Kind) > spec.MaxKindLen || len(b.Key) > spec.MaxKeyLen || !utf8.ValidString(b.Key) {
		return fmt.Errorf("%w: record name too long or not UTF-8", ErrBadBody)
	}
	if b.Del {
		return nil
	}
	switch b.Kind {
	case KindContact, KindCard:
		if b.Card == nil {
			return fmt.Errorf("%w: %s without a card", ErrBadBody, b.Kind)
		}
	case KindEvent:
		if b.Event == nil || b.Event.ICS == "" {
			return fmt.Errorf("%w: event without iCalendar text", ErrBadBody)
		}
		if len(b.Event.ICS) > MaxEventICS || !utf8.ValidString(b.Event.ICS) {
			return fmt.Errorf("%w: event text over %d KiB or not UTF-8", ErrBadBody, MaxEventICS>>10)
		}
	case KindKeys:
		if err := identity.CheckEncryptionKey(b.Enc); err != nil {
			return fmt.Errorf("%w: keys entry: %w", ErrBadBody, err)
		}
	case KindRotate:
		if b.Rotate == nil {
			return fmt.Errorf("%w: rotate without a rotation", ErrBadBody)
		}
		if err := b.Rotate.check(); err != nil {
			return fmt.Errorf("%w: rotate: %w", ErrBadBody, err)
		}
	case KindGenesis:
		if len(b.Recovery) != 32 {
			return fmt.Errorf("%w: genesis without a recovery commitment", ErrBadBody)
		}
	}
	return nil
}

// DecodeBody parses a plaintext body (already bounded by the entry size).
func DecodeBody(data []byte) (*Body, error) {
	var b Body
	if err := spec.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	if err := b.Check(); err != nil {
		return nil, err
	}
	return &b, nil
}
