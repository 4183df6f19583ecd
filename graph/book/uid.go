package book

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// UIDField is the name of the field that holds a card's vCard UID.
const UIDField = "uid"

// PeerUIDPrefix starts the UID of a linked contact (a connection) when its
// card is exported: urn:kith:peer:<peer ID>. Importing a card with such a
// UID updates my notes on that connection; it never makes a local contact.
const PeerUIDPrefix = "urn:kith:peer:"

// NewUID returns a fresh random UID, urn:uuid:<version 4 UUID>.
func NewUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("bug: crypto/rand: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return "urn:uuid:" + formatUUID(b)
}

// legacyNamespace is the UUID namespace of [LegacyUID],
// 6b8e3a52-1f0d-4c77-9a61-2ec405d3b819 (a random v4 UUID,
// fixed for good: changing it would change every derived UID).
var legacyNamespace = [16]byte{0x6b, 0x8e, 0x3a, 0x52, 0x1f, 0x0d, 0x4c, 0x77, 0x9a, 0x61, 0x2e, 0xc4, 0x05, 0xd3, 0xb8, 0x19}

// LegacyUID returns the UID of a local contact made before contacts had
// UIDs: urn:uuid:<version 5 UUID of the contact id>. It is the same on
// every node and at every export, so re-importing the export finds the
// contact again.
func LegacyUID(id string) string {
	h := sha1.New()
	h.Write(legacyNamespace[:])
	h.Write([]byte(id))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80
	return "urn:uuid:" + formatUUID(b)
}

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// PeerUID returns the UID a linked contact is exported with.
func PeerUID(p peer.ID) string { return PeerUIDPrefix + p.String() }

// ParsePeerUID returns the peer of a UID made by [PeerUID].
func ParsePeerUID(uid string) (peer.ID, bool) {
	rest, ok := strings.CutPrefix(uid, PeerUIDPrefix)
	if !ok {
		return "", false
	}
	p, err := peer.Decode(rest)
	return p, err == nil
}

// UID returns the card's UID, or "".
func UID(c graph.Card) string {
	for _, f := range c.Fields {
		if f.Name == UIDField && !f.Raw {
			return f.Value
		}
	}
	return ""
}

// WithUID returns c with its UID set to uid (replacing any), first.
func WithUID(c graph.Card, uid string) graph.Card {
	out := graph.Card{Fields: make([]graph.Field, 0, len(c.Fields)+1)}
	out.Fields = append(out.Fields, graph.Field{Name: UIDField, Value: uid})
	for _, f := range c.Fields {
		if f.Name != UIDField {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

// WithoutUID returns c without UID fields.
func WithoutUID(c graph.Card) graph.Card {
	out := graph.Card{Fields: make([]graph.Field, 0, len(c.Fields))}
	for _, f := range c.Fields {
		if f.Name != UIDField {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

// IsNotesKey reports whether a contact record's key is a peer ID: then the
// record holds my private notes on that connection, not a local contact.
func IsNotesKey(key string) bool {
	if len(key) < minPeerIDLen {
		return false // a contact id: no need to try it as a peer ID
	}
	_, err := peer.Decode(key)
	return err == nil
}

// minPeerIDLen is shorter than any peer ID as text (46 characters for an
// RSA key's sha256 multihash in base58, 52 for an Ed25519 key) and longer
// than a contact id (10).
const minPeerIDLen = 40

// ContactUIDs returns the UIDs a contact record with this key and card is
// found by: its UID, or [LegacyUID] of the key when it has none. Notes on
// a connection ([IsNotesKey]) have none: a linked contact is found by its
// peer ID.
func ContactUIDs(key string, c graph.Card) []string {
	if IsNotesKey(key) {
		return nil
	}
	uid := UID(c)
	if uid == "" {
		uid = LegacyUID(key)
	}
	uids := []string{uid}
	for _, f := range c.Fields {
		if f.Name == MergedUIDField && f.Raw && f.Value != "" && !slices.Contains(uids, f.Value) {
			uids = append(uids, f.Value)
		}
	}
	return uids
}

// MergedUIDField holds the UID of a contact merged into this one (a raw
// field, exported as X-KITH-MERGED-UID): importing that contact's old
// vCard then finds the merged contact instead of adding it again.
const MergedUIDField = "x-kith-merged-uid"

// MergedUIDs returns the fields that name other's UIDs (its own and those
// merged into it) as merged into a contact.
func MergedUIDs(otherKey string, other graph.Card) []graph.Field {
	var out []graph.Field
	for _, uid := range ContactUIDs(otherKey, other) {
		out = append(out, graph.Field{Name: MergedUIDField, Value: uid, Raw: true})
	}
	return out
}

// ContactUID returns the first of [ContactUIDs], or "".
func ContactUID(key string, c graph.Card) string {
	if uids := ContactUIDs(key, c); len(uids) > 0 {
		return uids[0]
	}
	return ""
}

// contentNamespace is the UUID namespace of [ContentUID],
// 0f4b2c7e-93a1-4d5e-b8c6-71a2d9e3f405 (a random v4 UUID, fixed for good:
// changing it would change every derived UID).
var contentNamespace = [16]byte{0x0f, 0x4b, 0x2c, 0x7e, 0x93, 0xa1, 0x4d, 0x5e, 0xb8, 0xc6, 0x71, 0xa2, 0xd9, 0xe3, 0xf4, 0x05}

// ContentUID returns the UID an import gives a card that has none:
// urn:uuid:<version 5 UUID of the card's canonical encoding>. A file
// imported again (after an import that stopped half way, or twice) thus
// finds the contacts it made instead of adding them a second time; two
// cards alike in every field are one contact.
func ContentUID(c graph.Card) string {
	enc, err := spec.Marshal(WithoutUID(c))
	if err != nil {
		panic("bug: encoding a card: " + err.Error())
	}
	h := sha1.New()
	h.Write(contentNamespace[:])
	h.Write(enc)
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80
	return "urn:uuid:" + formatUUID(b)
}
