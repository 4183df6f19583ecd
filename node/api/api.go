package api

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
)

// SocketName is the API socket's file name inside $KITH_HOME.
const SocketName = "api.sock"

// SocketPath returns the API socket path for a Kith home directory.
func SocketPath(home string) string { return filepath.Join(home, SocketName) }

// Sentinel errors. Each has a wire code; see [Code]. Those the address
// book returns are graph's own sentinels: a domain error is an API error
// as it is, with nothing to translate (codes is the one table).
var (
	// ErrNotFound: no such contact, circle or field.
	ErrNotFound = graph.ErrNotFound
	// ErrInvalid: the request is malformed or a value does not validate.
	ErrInvalid = graph.ErrInvalid
	// ErrExists: the thing to create exists already.
	ErrExists = graph.ErrExists
	// ErrAmbiguous: a contact reference matches more than one contact.
	ErrAmbiguous = graph.ErrAmbiguous
	// ErrNotEmpty: a circle to remove has members or fields (force it).
	ErrNotEmpty = graph.ErrNotEmpty
	// ErrForbidden: the request came through a browser (Origin/Referer).
	ErrForbidden = errors.New("forbidden")
	// ErrTooLarge: the request body is over the limit.
	ErrTooLarge = graph.ErrTooLarge
	// ErrUnreachable: a peer could not be reached.
	ErrUnreachable = errors.New("peer unreachable")
	// ErrDeclined: the peer declined the connection request.
	ErrDeclined = errors.New("declined")
	// ErrInviteInvalid: the invite code was used already or has expired.
	ErrInviteInvalid = errors.New("invite code used or expired")
	// ErrBusy: the peer did not keep the connection request: it holds as
	// many pending requests as it keeps (ask again later, or for an
	// invite code).
	ErrBusy = errors.New("peer busy")
	// ErrNoLog: the home holds the identity key but not yet its log (it is
	// restored from a connection); nothing can be written until then.
	ErrNoLog = errors.New("no log yet")
	// ErrWrongPhrase: a recovery phrase that is well formed but not this
	// identity's (no generation of its keys is this identity).
	ErrWrongPhrase = errors.New("the recovery phrase is not this identity's")
	// ErrNeedPhrase: the identity of this home rotated to a newer
	// generation; the recovery phrase is needed to move the home to it.
	ErrNeedPhrase = errors.New("the recovery phrase is needed")
	// ErrDaemonNotRunning: nothing listens on the API socket.
	ErrDaemonNotRunning = errors.New("the kith daemon is not running")
	// ErrInternal: anything else; the message says what.
	ErrInternal = errors.New("internal error")
)

var codes = []struct {
	code string
	err  error
}{
	{"not_found", ErrNotFound},
	{"invalid", ErrInvalid},
	{"exists", ErrExists},
	{"ambiguous", ErrAmbiguous},
	{"not_empty", ErrNotEmpty},
	{"forbidden", ErrForbidden},
	{"too_large", ErrTooLarge},
	{"unreachable", ErrUnreachable},
	{"declined", ErrDeclined},
	{"invite_invalid", ErrInviteInvalid},
	{"busy", ErrBusy},
	{"no_log", ErrNoLog},
	{"wrong_phrase", ErrWrongPhrase},
	{"need_phrase", ErrNeedPhrase},
	{"not_running", ErrDaemonNotRunning},
	{"internal", ErrInternal},
}

// Code returns the wire code of err: the code of the first sentinel it
// matches, or "internal".
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "internal"
}

// Error is an error that crossed the socket. It matches its sentinel with
// errors.Is.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *Error) Error() string { return e.Message }

// Is reports whether target is the sentinel for e.Code.
func (e *Error) Is(target error) bool {
	for _, c := range codes {
		if c.code == e.Code {
			return target == c.err
		}
	}
	return target == ErrInternal
}

// API is everything the daemon does for its local user.
type API interface {
	Events // the calendar: events.go
	DAV    // the CardDAV server: dav.go
	// ID returns this node's identity and addresses.
	ID(ctx context.Context) (*Identity, error)
	// Status returns identity, addresses and store statistics.
	Status(ctx context.Context) (*Status, error)
	// Check re-verifies the whole store and its views. A damaged file is
	// reported as problems, not an error.
	Check(ctx context.Context) (*CheckReport, error)
	// Repair rebuilds the store from the entries that read and verify:
	// they go into a new database file, every view is folded again from
	// them, the local tables are copied as far as they read, and the
	// damaged file is kept aside. It says what it lost; a friend that
	// holds a lost entry gives it back on the next sync.
	Repair(ctx context.Context) (*RepairReport, error)

	// Me returns my profile: every field and the circles that see it, or
	// only the fields circle sees when circle is not "".
	Me(ctx context.Context, circle string) (*Profile, error)
	// SetMe sets a field of my profile in circles, re-issuing each
	// circle's card. Without circles, SharedField (fn, my name) goes to
	// every circle and any other field is private ("self").
	SetMe(ctx context.Context, req SetMeRequest) (*Profile, error)
	// UnsetMe removes a field from circles (all when none).
	UnsetMe(ctx context.Context, req UnsetMeRequest) (*Profile, error)

	// Circles lists my circles.
	Circles(ctx context.Context) ([]Circle, error)
	// AddCircle creates a circle.
	AddCircle(ctx context.Context, name string) (*Circle, error)
	// RemoveCircle deletes a circle and the card it saw, and returns what
	// it held. A circle with members or fields is removed only with force;
	// without, the error is ErrNotEmpty.
	RemoveCircle(ctx context.Context, name string, force bool) (*Circle, error)

	// Contacts lists my address book, by name.
	Contacts(ctx context.Context) ([]Contact, error)
	// Contact finds one contact by a reference: its id or a unique id
	// prefix (3 characters or more), a connection's peer ID, its exact
	// name, or a unique set of word prefixes of its name, emails and
	// phones ("rao" finds "Dr. Rao"). A reference that matches several
	// contacts fails with ErrAmbiguous, naming them.
	Contact(ctx context.Context, ref string) (*Contact, error)
	// LookupContacts returns the contacts named exactly by one of q's ids
	// (a local contact's id, a connection's peer ID) or UIDs, each once;
	// names that match nothing are left out. It never searches: it costs
	// a few index lookups however big the book is. At most
	// MaxLookup of each, else ErrTooLarge.
	LookupContacts(ctx context.Context, q ContactLookup) ([]Contact, error)
	// AddContacts validates and imports cards, all in one transaction:
	// either every card is stored or none is. A card without a UID gets
	// a new one and becomes a new local contact; a card whose UID a local
	// contact has replaces that contact's card, or changes nothing when
	// it is the same; a card whose UID names a connection (urn:kith:peer:)
	// sets my notes on them. It returns, in the order of cards, each
	// card's contact and Status.
	AddContacts(ctx context.Context, cards []graph.Card) ([]ContactRef, error)
	// CheckContacts checks cards as AddContacts would, each on its own
	// (its fields, and that its entry is within spec.MaxEntrySize),
	// storing nothing, and lists the cards it would refuse: an import
	// checks the whole file this way before it stores any of it.
	CheckContacts(ctx context.Context, cards []graph.Card) ([]CardProblem, error)
	// EditContact replaces a contact's card. For a linked contact it
	// sets my notes: the fields of card that their own card lacks.
	EditContact(ctx context.Context, ref string, card graph.Card) (*Contact, error)
	// PatchContact changes some fields of a contact, in the daemon: it
	// resolves ref, applies p to the card as it is now and writes it, all
	// under the lock the other edits take, so a change made meanwhile is
	// kept (EditContact's whole card, read earlier, would undo it). For a
	// linked contact p applies to the card shown (theirs combined with my
	// notes) and what the result holds beyond their card becomes my notes.
	// Errors: ErrNotFound for an unknown ref or a field to remove that the
	// contact lacks; ErrInvalid for an empty patch, an invalid value, a
	// field named twice, a local card left empty, or removing a field that
	// is on a connection's own card.
	PatchContact(ctx context.Context, ref string, p ContactPatch) (*Contact, error)
	// RemoveContact deletes a local contact, or my notes on a linked one
	// (the connection stays: see Disconnect).
	RemoveContact(ctx context.Context, ref string) error
	// SearchContacts full-text searches names, emails, phones, orgs, notes.
	SearchContacts(ctx context.Context, query string) ([]Contact, error)
	// Duplicates lists groups of contacts that are likely one person:
	// the same email (ignoring case), phone (by its digits) or name
	// (ignoring case, diacritics, spacing and word order).
	Duplicates(ctx context.Context) ([]DuplicateGroup, error)
	// MergeContacts merges contact from into contact into (both
	// references) and deletes from. Every value is kept once; where both
	// have a single-valued field into's stays and from's is returned as
	// dropped (from's name becomes a nickname). A local contact merged
	// into a linked one becomes my notes on it; a linked contact cannot
	// be merged into another (ErrInvalid).
	MergeContacts(ctx context.Context, into, from string) (*MergeResult, error)

	// Log lists my log's entries with seq > after (limit 0 = all).
	Log(ctx context.Context, after uint64, limit int) ([]LogEntry, error)

	// Invite makes a one-time invite code.
	Invite(ctx context.Context, req InviteRequest) (*InviteCode, error)
	// Connect asks a peer (invite code, multiaddr or peer ID) to connect.
	// A refusal is an error: ErrDeclined, or ErrInviteInvalid for a code
	// that was used already or has expired.
	Connect(ctx context.Context, req ConnectRequest) (*ConnectResult, error)
	// Restore takes my own log back from a friend (Target: invite code,
	// multiaddr or peer ID), then that friend's own log; the logs of my
	// other connections come from each when it is next online. It works on
	// a home that held the key alone, and on one whose log is behind or
	// parted from the friend's copy. ErrInvalid for a bad target,
	// ErrUnreachable when the friend cannot be reached, ErrNotFound when
	// it holds no copy of my log.
	Restore(ctx context.Context, req RestoreRequest) (*RestoreResult, error)
	// Requests lists pending connection requests, both ways.
	Requests(ctx context.Context) ([]Request, error)
	// Accept accepts an incoming request and puts the peer in circles.
	Accept(ctx context.Context, req AcceptRequest) error
	// Decline declines an incoming request.
	Decline(ctx context.Context, peerID string) error
	// Peers lists my connections.
	Peers(ctx context.Context) ([]Peer, error)
	// AssignCircles sets exactly which of my circles a connection is in.
	AssignCircles(ctx context.Context, req AssignRequest) error
	// Disconnect ends a connection; the peer keeps what it already holds.
	Disconnect(ctx context.Context, peerID string) error
	// ResolveFork settles a fork on record for a peer: their log is
	// dropped and taken again from what their node serves now. It returns
	// how many entries were dropped.
	ResolveFork(ctx context.Context, peerID string) (int, error)

	// Export writes a CAR v1 of every log this node holds, behind a
	// manifest signed by the identity (graph/archive), to w, and the
	// identity key too when req.WithKey, encrypted with a passphrase. A
	// failure after the first bytes leaves w holding a partial export,
	// which import refuses as truncated.
	Export(ctx context.Context, req ExportRequest, w io.Writer) (*ExportResult, error)

	// Rotate moves my identity to the next generation of my recovery
	// phrase's keys (spec/SPEC.md "Rotation"): my log ends with a rotate
	// entry signed by the recovery key, my book is carried into the new
	// identity's log, and my connections follow. The daemon keeps running
	// as the old identity, writing nothing more, until it is restarted.
	Rotate(ctx context.Context, req RotateRequest) (*RotateResult, error)
}

// RotateRequest asks for a rotation.
type RotateRequest struct {
	// Phrase is the 24-word recovery phrase: every rotation needs the
	// recovery key's signature.
	Phrase string `json:"phrase"`
	// Recover marks a rotation after a loss or theft: the old key may be
	// in someone else's hands (friends show it so).
	Recover bool `json:"recover,omitempty"`
	// Passphrase seals the new key file; it must be given when the
	// current key file is sealed with one.
	Passphrase []byte `json:"passphrase,omitempty"`
	// At, with Recover, is the last seq of my log that I wrote: the
	// entries after it (a thief's, with the stolen device key) are dropped
	// and the rotation ends the log there, so that friends drop them too.
	At uint64 `json:"at,omitempty"`
}

// RotateResult is a rotation that was written.
type RotateResult struct {
	OldPeerID  peer.ID `json:"old_peer_id"`
	PeerID     peer.ID `json:"peer_id"`
	Generation uint32  `json:"generation"`
	Mode       string  `json:"mode"`    // "planned" or "recover"
	Carried    int     `json:"carried"` // records carried into the new log
	// KeyFile is the path of the new key file, or "" when the node has no
	// home (a test node).
	KeyFile string `json:"key_file,omitempty"`
	// Restarted reports that the daemon now runs as the new identity;
	// false for a node without a daemon, which must be restarted.
	Restarted bool `json:"restarted,omitempty"`
}

// ExportRequest asks for an export.
type ExportRequest struct {
	WithKey bool `json:"with_key,omitempty"`
	// Passphrase encrypts the key in the export. Empty: the key file goes
	// in as it is, which must then be encrypted (ErrInvalid otherwise).
	Passphrase []byte `json:"passphrase,omitempty"`
	// Progress, when set, is called with the entries written so far and
	// the total, first with done 0 before anything is written.
	Progress func(done, total uint64) `json:"-"`
}

// ExportResult describes an export that was written.
type ExportResult struct {
	PeerID  peer.ID   `json:"peer_id"`
	Root    string    `json:"root"` // the manifest's CID
	Logs    int       `json:"logs"`
	Entries uint64    `json:"entries"`
	Key     bool      `json:"key"` // the export holds the identity key
	Created time.Time `json:"created"`
	Bytes   int64     `json:"bytes"`
}

// ImportOptions configures an import (node.Import), which acts on a home
// directly, with no daemon running, like init.
type ImportOptions struct {
	// HomePassphrase opens the home's own key file, when it has one.
	HomePassphrase []byte
	// KeyPassphrase returns the passphrase of the key in the export; it is
	// called only when the home has no key of its own.
	KeyPassphrase func(ctx context.Context) ([]byte, error)
	// Progress, when set, is called with the entries verified and stored
	// so far, and the total.
	Progress func(done, total uint64)
}

// ImportResult describes an import that was done.
type ImportResult struct {
	PeerID      peer.ID   `json:"peer_id"`
	Home        string    `json:"home"`
	Logs        int       `json:"logs"`
	Entries     uint64    `json:"entries"`
	KeyImported bool      `json:"key_imported"` // the home's key came from the export
	Created     time.Time `json:"created"`      // when the export was made
	Contacts    int       `json:"contacts"`
}

// InviteRequest asks for an invite code.
type InviteRequest struct {
	Circles []string      `json:"circles,omitempty"` // where the invitee lands (default friends)
	TTL     time.Duration `json:"ttl,omitempty"`     // 0 = 24h; else from MinInviteTTL to MaxInviteTTL
}

// The range of an invite code's time to live; Invite refuses others with
// ErrInvalid.
const (
	MinInviteTTL = time.Minute
	MaxInviteTTL = 30 * 24 * time.Hour
)

// InviteCode is a one-time code to hand to someone.
type InviteCode struct {
	Code    string    `json:"code"`
	PeerID  peer.ID   `json:"peer_id"`
	Expires time.Time `json:"expires"`
	Circles []string  `json:"circles"`
}

// ConnectRequest asks Target to connect.
type ConnectRequest struct {
	Target  string   `json:"target"` // invite code, /…/p2p/<id> multiaddr, or peer ID
	Note    string   `json:"note,omitempty"`
	Circles []string `json:"circles,omitempty"` // where they land once accepted (default friends)
}

// RestoreRequest names the friend to restore from.
type RestoreRequest struct {
	Target string `json:"target"` // invite code, /…/p2p/<id> multiaddr, or peer ID
	// Phrase is the recovery phrase, needed only when the log that comes
	// back ends with a rotation (ErrNeedPhrase otherwise): the home's key
	// then moves to the newest generation the phrase derives.
	Phrase string `json:"phrase,omitempty"`
	// Passphrase seals that new key file, as for Rotate.
	Passphrase []byte `json:"passphrase,omitempty"`
}

// RestoreResult says what a restore brought back.
type RestoreResult struct {
	From peer.ID `json:"from"`
	// Logs are the logs pulled from From: mine first, then theirs.
	Logs []RestoredLog `json:"logs"`
	// Connection reports whether From is a connection of mine (per my
	// restored log): only then is its own log pulled too.
	Connection bool `json:"connection"`
	// Syncing are my other connections online now, pulled from in the
	// background; Pending those offline, pulled from when next online.
	Syncing []peer.ID `json:"syncing"`
	Pending []peer.ID `json:"pending"`
	// DamagedStore is where a damaged kith.db was moved aside when this
	// daemon started, if it was.
	DamagedStore string `json:"damaged_store,omitempty"`
	// PeerID is the identity this home runs as after the restore; Rotated
	// the older identities of the person that rotated on to it (their logs
	// came back too), oldest first; Generation the generation of PeerID
	// when the restore followed a rotation.
	PeerID     peer.ID   `json:"peer_id"`
	Rotated    []peer.ID `json:"rotated,omitempty"`
	Generation uint32    `json:"generation,omitempty"`
	// Restart is set when the home's key moved to a new identity but the
	// node could not restart itself on it (a node without a daemon).
	Restart bool `json:"restart,omitempty"`
}

// RestoredLog is one log a restore pulled.
type RestoredLog struct {
	Author  peer.ID `json:"author"`
	Mine    bool    `json:"mine"`
	Entries uint64  `json:"entries"` // entries this restore added
	Head    uint64  `json:"head"`    // the log's head after it
}

// ConnectResult is the peer's answer: accepted or pending (a refusal is
// an error).
type ConnectResult struct {
	PeerID peer.ID `json:"peer_id"`
	Status string  `json:"status"`
}

// Request is a pending connection request.
type Request struct {
	PeerID   peer.ID   `json:"peer_id"`
	Outgoing bool      `json:"outgoing"`
	Note     string    `json:"note"`
	Time     time.Time `json:"time"`
}

// AcceptRequest accepts PeerID's request into Circles (default friends).
type AcceptRequest struct {
	PeerID  string   `json:"peer_id"`
	Circles []string `json:"circles,omitempty"`
}

// AssignRequest sets PeerID's circles.
type AssignRequest struct {
	PeerID  string   `json:"peer_id"`
	Circles []string `json:"circles"`
}

// Peer is a connection.
type Peer struct {
	PeerID   peer.ID    `json:"peer_id"`
	Name     string     `json:"name"`
	Card     graph.Card `json:"card"` // what they share with me
	Online   bool       `json:"online"`
	Circles  []string   `json:"circles"` // my circles they are in
	LastSync *time.Time `json:"last_sync,omitempty"`
	Entries  int64      `json:"entries"` // entries of their log I hold
	Forked   bool       `json:"forked"`  // fork evidence on record: their updates are held back
	// DisconnectedByThem: they ended the connection (kith disconnect on
	// their side), at DisconnectedAt; I no longer sync with them.
	DisconnectedByThem bool       `json:"disconnected_by_them"`
	DisconnectedAt     *time.Time `json:"disconnected_at,omitempty"`
}

// Identity is who this node is.
type Identity struct {
	PeerID peer.ID               `json:"peer_id"`
	Addrs  []multiaddr.Multiaddr `json:"addrs"` // full multiaddrs ending in /p2p/<peer id>
}

// Status is the daemon's state.
type Status struct {
	Identity
	Home       string    `json:"home"`
	Started    time.Time `json:"started"`
	Entries    int64     `json:"entries"`
	Logs       int64     `json:"logs"`
	Forks      int64     `json:"forks"`
	Forked     []peer.ID `json:"forked"` // peer IDs with fork evidence: their updates are held back
	Contacts   int       `json:"contacts"`
	StoreBytes int64     `json:"store_bytes"`
	Version    string    `json:"version"`
	// OverQuota lists the authors whose entries were refused because
	// their log reached its storage quota, the latest first.
	OverQuota []QuotaRefusal `json:"over_quota"`
}

// QuotaRefusal is the record of one author's entries refused over the
// storage quota every other author's log has (see spec, "Limits").
type QuotaRefusal struct {
	Author  peer.ID   `json:"author"`
	Entries uint64    `json:"entries"` // entries refused (each counted once)
	Bytes   int64     `json:"bytes"`   // their encoded size
	FromSeq uint64    `json:"from_seq"`
	Since   time.Time `json:"since"` // the first refusal
	Last    time.Time `json:"last"`
	Reason  string    `json:"reason"`
}

// ProfileField is one field of my profile and the circles that see it.
type ProfileField = book.ProfileField

// Profile is my own card, field by field.
type Profile = book.Profile

// PrivateCircle is the pseudo-circle for fields only I see.
const PrivateCircle = book.PrivateCircle

// SharedField is the field SetMe shares with every circle when given no
// circle: the name connections see me as.
const SharedField = book.SharedField

// SetMeRequest sets Field to Values in each of Circles.
type SetMeRequest = book.SetMeRequest

// UnsetMeRequest removes Field from Circles (all circles when empty).
type UnsetMeRequest = book.UnsetMeRequest

// Circle is a named set of connections.
type Circle = book.Circle

// Contact is an address-book entry.
type Contact = book.Contact

// ContactPatch is a change to some fields of a card (see
// API.PatchContact and book.ContactPatch).
type ContactPatch = book.ContactPatch

// FieldValues are the values of one field of a [ContactPatch].
type FieldValues = book.FieldValues

// FieldRef names a field to remove.
type FieldRef = book.FieldRef

// What AddContacts did with a card (ContactRef.Status).
const (
	StatusNew       = book.StatusNew       // a new local contact
	StatusUpdated   = book.StatusUpdated   // an existing contact (or my notes on a connection) changed
	StatusUnchanged = book.StatusUnchanged // the contact already had this card: nothing was written
	StatusSkipped   = book.StatusSkipped   // a linked contact's card whose peer is not a connection
)

// ContactRef names a contact without its card.
type ContactRef = book.ContactRef

// CardProblem is a card that AddContacts would refuse, and why.
type CardProblem = book.CardProblem

// ContactLookup is LookupContacts' names: exact ids and UIDs.
type ContactLookup struct {
	IDs  []string `json:"ids,omitempty"`
	UIDs []string `json:"uids,omitempty"`
}

// MaxLookup bounds the ids and the UIDs of one LookupContacts call.
const MaxLookup = book.MaxLookup

// MergeRequest is MergeContacts' arguments on the wire.
type MergeRequest struct {
	Into string `json:"into"`
	From string `json:"from"`
}

// DuplicateGroup is contacts that are likely one person, and why.
type DuplicateGroup = book.DuplicateGroup

// MergeResult is the contact a merge kept.
type MergeResult = book.MergeResult

// LogEntry is one entry of my log.
type LogEntry struct {
	Seq  uint64    `json:"seq"`
	CID  string    `json:"cid"`
	Kind string    `json:"kind"`
	Key  string    `json:"key"`
	Time time.Time `json:"time"`
	Size int       `json:"size"`
}
