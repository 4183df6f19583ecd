package book

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// The types the address book answers with. The local API (node/api)
// serves them as they are, so they carry its JSON names.

// PrivateCircle is the pseudo-circle for fields only I see.
const PrivateCircle = "self"

// SharedField is the field SetMe shares with every circle when given no
// circle: the name connections see me as.
const SharedField = "fn"

// DefaultCircles are the circles a new identity starts with.
var DefaultCircles = []string{"friends", "family", "work"}

// ProfileField is one field of my profile and the circles that see it.
type ProfileField struct {
	graph.Field
	Circles []string `json:"circles"`
}

// Profile is my own card, field by field.
type Profile struct {
	Fields []ProfileField `json:"fields"`
}

// SetMeRequest sets Field to Values in each of Circles.
type SetMeRequest struct {
	Field   string   `json:"field"`
	Values  []string `json:"values"`
	Types   []string `json:"types,omitempty"`
	Circles []string `json:"circles,omitempty"`
}

// UnsetMeRequest removes Field from Circles (all circles when empty).
type UnsetMeRequest struct {
	Field   string   `json:"field"`
	Circles []string `json:"circles,omitempty"`
}

// Circle is a named set of connections.
type Circle struct {
	Name    string    `json:"name"`
	Members []peer.ID `json:"members"`
	Fields  int       `json:"fields"` // fields of my profile this circle sees
	// FieldNames names those fields, once each (set by RemoveCircle).
	FieldNames []string `json:"field_names,omitempty"`
}

// Contact is an address-book entry.
type Contact struct {
	ID   string  `json:"id"`
	Peer peer.ID `json:"peer,omitempty"` // set for a linked contact: a connection's peer ID (= ID)
	// UID is the vCard UID the contact is exported with and found by on
	// import: urn:kith:peer:<peer ID> for a linked contact. Card holds it
	// too, as its uid field.
	UID  string `json:"uid"`
	Name string `json:"name"` // the card's name, or its best other field; never an id
	// Card is the whole card; for a linked contact, what they share
	// combined with my notes.
	Card graph.Card `json:"card"`
	// Notes, for a linked contact only, are the fields of Card I wrote.
	Notes   *graph.Card `json:"notes,omitempty"`
	Updated time.Time   `json:"updated"`
	CID     string      `json:"cid"`
	// Damaged, in a listing, marks a contact whose record does not read
	// (a damaged store) and says why; it holds only its ID.
	Damaged string `json:"damaged,omitempty"`
}

// Linked reports whether c is a connection's card rather than a local one.
func (c *Contact) Linked() bool { return c.Peer != "" }

// What AddContacts did with a card (ContactRef.Status).
const (
	StatusNew       = "new"       // a new local contact
	StatusUpdated   = "updated"   // an existing contact (or my notes on a connection) changed
	StatusUnchanged = "unchanged" // the contact already had this card: nothing was written
	StatusSkipped   = "skipped"   // a linked contact's card whose peer is not a connection
)

// ContactRef names a contact without its card.
type ContactRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	CID    string `json:"cid,omitempty"`
	Status string `json:"status,omitempty"` // AddContacts: StatusNew, ...
}

// DuplicateGroup is contacts that are likely one person, and why.
type DuplicateGroup struct {
	// Reasons are what they share: "email ann@example.org", "phone
	// 15550100", "name ann lee" (as compared).
	Reasons  []string  `json:"reasons"`
	Contacts []Contact `json:"contacts"`
}

// MergeResult is the contact a merge kept.
type MergeResult struct {
	Contact Contact `json:"contact"`
	// Dropped are the merged contact's single-valued fields (a birthday)
	// that the kept contact has a different value for.
	Dropped []graph.Field `json:"dropped,omitempty"`
}

// ContactPatch is a change to some fields of a card (see
// [node/api.API.PatchContact]), what `kith contacts edit` sends. Field names are
// vCard property names, any case ("email", "x-phonetic"); values are
// field values as a card holds them (an address in vCard's ;-separated
// form). Remove applies first, then Set, then Add; a field may be named
// in only one of them. The card's UID cannot be patched.
type ContactPatch struct {
	// Set replaces every value of each field with Values, in that order.
	// Blank values are dropped: with none left, the field is removed (a
	// field the contact lacks is then no error).
	Set []FieldValues `json:"set,omitempty"`
	// Add appends Values to a field, keeping the values it has; a value it
	// has already is not added twice.
	Add []FieldValues `json:"add,omitempty"`
	// Remove deletes fields: every value of one, or only one value.
	Remove []FieldRef `json:"remove,omitempty"`
}

// Empty reports whether p changes nothing.
func (p ContactPatch) Empty() bool { return len(p.Set) == 0 && len(p.Add) == 0 && len(p.Remove) == 0 }

// FieldValues are the values of one field of a [ContactPatch].
type FieldValues struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// FieldRef names a field to remove: every value of Name, or when Value
// is not "" only the value equal to it (as `contacts show --json` prints
// it).
type FieldRef struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}
