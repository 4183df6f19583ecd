package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/spec"
)

// Errors a [Store] returns; the spec package's errors cover everything else
// that can be wrong with an entry.
var (
	// ErrNotFound: no such record or entry (or contact, circle, field:
	// the local API's not_found).
	ErrNotFound = errors.New("not found")
	// ErrFork: a different entry with the same author and seq is already
	// stored, or one extends a different entry at the held head's seq. It
	// is evidence of a stolen or cloned key (or a restored old store),
	// never merged.
	ErrFork = errors.New("graph: fork: the author signed two different entries at one seq")
	// ErrForked: the author has a fork on record; further entries from it
	// are held back until the fork is resolved.
	ErrForked = errors.New("graph: author has a fork on record")
	// ErrConflict: the log head moved while an entry was being written (a
	// concurrent writer); retry.
	ErrConflict = errors.New("graph: log head moved")
)

// Entry is a verified entry together with what the local node knows of it.
type Entry struct {
	*spec.Entry
	Raw      []byte  // canonical encoding, as received or written
	CID      cid.Cid // spec.CIDOf(Raw)
	Author   peer.ID // who signed it (a device, one day)
	Identity peer.ID // whose graph it belongs to (same as Author for now)
	Body     *Body   // decrypted body, nil when this node is not in the audience
}

// Head is the latest entry of one author's log; the zero Head means the log
// is empty.
type Head struct {
	Seq  uint64
	CID  cid.Cid
	Time int64
}

// Version orders versions of one record: the last writer by (time, author,
// seq) wins. It is deterministic, so every node folds to the same state.
type Version struct {
	Time   int64
	Author peer.ID
	Seq    uint64
}

// After reports whether v is newer than w.
func (v Version) After(w Version) bool {
	if v.Time != w.Time {
		return v.Time > w.Time
	}
	if c := bytes.Compare([]byte(v.Author), []byte(w.Author)); c != 0 {
		return c > 0
	}
	return v.Seq > w.Seq
}

// VersionOf returns the version an entry gives the record it sets.
func VersionOf(e *Entry) Version {
	return Version{Time: e.Time, Author: e.Author, Seq: e.Seq}
}

// Record is the folded value of one (identity, kind, key).
type Record struct {
	Identity peer.ID
	Kind     string
	Key      string
	Version  Version
	CID      cid.Cid // the entry that set it
	Body     *Body   // Del set for a tombstone
}

// Store keeps verified entries and the state they fold into. Put writes a
// batch of entries, their log heads and the records they change in one
// transaction: all or nothing.
type Store interface {
	Head(ctx context.Context, author peer.ID) (Head, error)
	Put(ctx context.Context, entries []*Entry) error
}

// Verify parses and checks one received entry: size, canonical encoding,
// version, signature. Linking to the author's log (seq, prev) is checked by
// the store inside the transaction that stores it. The body is opened when
// open is non-nil and the node is in the audience.
func Verify(raw []byte, open func(*spec.Entry) (*Body, error)) (*Entry, error) {
	se, err := spec.Decode(raw)
	if err != nil {
		return nil, err
	}
	if err := se.Verify(); err != nil {
		return nil, err
	}
	author, err := se.AuthorID()
	if err != nil {
		return nil, err
	}
	e := &Entry{Entry: se, Raw: raw, CID: spec.CIDOf(raw), Author: author, Identity: author}
	if open != nil {
		b, err := open(se)
		switch {
		case err == nil:
			e.Body = b
		case errors.Is(err, ErrNotForMe):
		default:
			return nil, fmt.Errorf("opening body of %s: %w", e.CID, err)
		}
	}
	return e, nil
}
