package book

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// Store is what the address book reads: records of my log and of the logs
// my connections share with me, folded.
type Store interface {
	// Record returns the record (identity, kind, key), tombstones
	// included; graph.ErrNotFound if there is none.
	Record(ctx context.Context, identity peer.ID, kind, key string) (*graph.Record, error)
	// Records returns identity's live records of kind.
	Records(ctx context.Context, identity peer.ID, kind string) ([]*graph.Record, error)
	// Search full-text searches identity's live records of kind.
	Search(ctx context.Context, identity peer.ID, kind, query string, limit int) ([]*graph.Record, error)
	// ContactsByUID returns identity's live contacts that have (or had,
	// merged) one of uids, by UID.
	ContactsByUID(ctx context.Context, identity peer.ID, uids []string) (map[string]*graph.Record, error)
	// LastSync returns when p was last synced with (zero: never).
	LastSync(ctx context.Context, p peer.ID) (time.Time, error)
}

// Writer appends entries to my log. The node's refuses while the log is
// being restored and tells my connections of what it wrote.
type Writer interface {
	Append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error)
	// CanWrite returns why nothing can be written now, or nil: an edit
	// asks first, so that the reason comes before any other complaint.
	CanWrite() error
	// Fits checks a draft as Append would, storing nothing: its entry
	// would be within spec.MaxEntrySize (graph.ErrTooLarge if not).
	Fits(d graph.Draft) error
}

// Book is my address book and my card: my circles and what each sees of
// me, my connections, my contacts and my notes on connections. It reads a
// [Store], decides, and writes drafts through a [Writer]; it knows nothing
// of the network. A *Book is safe for concurrent use: every
// read-modify-write of my records runs under one lock, so two edits of one
// record cannot lose each other.
type Book struct {
	self  graph.Reader // me: my peer ID and encryption key
	store Store
	w     Writer
	log   *slog.Logger

	// mu guards the read-modify-write of my records.
	mu sync.Mutex
	// imports holds the UIDs of AddContacts batches between their lookup
	// and their store (see uidClaims).
	imports uidClaims
}

// New returns the address book of self (my peer ID and encryption key).
func New(self graph.Reader, s Store, w Writer, log *slog.Logger) *Book {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Book{self: self, store: s, w: w, log: log}
}

// Self returns my peer ID.
func (b *Book) Self() peer.ID { return b.self.ID }

func (b *Book) append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error) {
	return b.w.Append(ctx, drafts...)
}

// liveRecord returns my live record (kind, key): graph.ErrNotFound for a
// tombstone too.
func (b *Book) liveRecord(ctx context.Context, kind, key string) (*graph.Record, error) {
	r, err := b.store.Record(ctx, b.self.ID, kind, key)
	if err != nil {
		return nil, err
	}
	if r.Body.Del {
		return nil, graph.NotFoundf("%s %q", kind, key)
	}
	return r, nil
}

// selfDraft is a record of my own that only I read; a nil card is a
// tombstone.
func selfDraft(kind, key string, card *graph.Card) graph.Draft {
	return graph.Draft{Body: graph.Body{Kind: kind, Key: key, Card: card, Del: card == nil}, To: graph.Audience{Self: true}}
}
