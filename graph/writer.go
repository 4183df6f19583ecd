package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// Draft is one record to append: the body and who may read it.
type Draft struct {
	Body Body
	To   Audience
}

// Writer appends to the local identity's log. It is safe for concurrent
// use. Appends are built (sealed, signed) one at a time so that seq and
// prev always chain, and stored in the order they were built; building one
// append overlaps storing the one before, so concurrent callers (a batched
// import) keep both cores busy.
type Writer struct {
	id    *identity.Identity
	store Store
	now   func() time.Time

	// mu serialises building and guards the fields below.
	mu sync.Mutex
	// head is the last entry built; it runs ahead of the stored head while
	// appends are in flight.
	head Head
	// last is the most recent append in flight (nil when none).
	last *pending
	// closed is why nothing more may be appended: the log ended with a
	// rotation (see AppendRotation); nil while it is open.
	closed error
}

// pending is one built append waiting for its turn to be stored.
type pending struct {
	done chan struct{} // closed once stored or failed
	err  error         // set before done is closed
}

// NewWriter returns a Writer for id's log in store. now may be nil (time.Now).
func NewWriter(ctx context.Context, id *identity.Identity, store Store, now func() time.Time) (*Writer, error) {
	if now == nil {
		now = time.Now
	}
	h, err := store.Head(ctx, id.PeerID())
	if err != nil {
		return nil, fmt.Errorf("reading log head: %w", err)
	}
	return &Writer{id: id, store: store, now: now, head: h}, nil
}

// Head returns the head of the local log as built (it includes appends
// still being stored).
func (w *Writer) Head() Head {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

// Append seals, signs and stores drafts as consecutive entries of the local
// log in one transaction: either all are stored or none is. It returns
// once they are durably stored.
func (w *Writer) Append(ctx context.Context, drafts ...Draft) ([]*Entry, error) {
	w.mu.Lock()
	if w.closed != nil {
		w.mu.Unlock()
		return nil, w.closed
	}
	if w.last != nil {
		select {
		case <-w.last.done:
			if w.last.err != nil {
				// The append before failed, so the built head is not the
				// stored one: start again from the store.
				h, err := w.store.Head(ctx, w.id.PeerID())
				if err != nil {
					w.mu.Unlock()
					return nil, err
				}
				w.head = h
			}
			w.last = nil
		default:
		}
	}
	head := w.head
	out := make([]*Entry, 0, len(drafts))
	for i := range drafts {
		e, err := w.buildLocked(&drafts[i], head)
		if err != nil {
			w.mu.Unlock()
			return nil, err
		}
		out = append(out, e)
		head = Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
	}
	prev := w.last
	me := &pending{done: make(chan struct{})}
	w.head, w.last = head, me
	w.mu.Unlock()

	// Store in build order: wait for the append built before this one.
	if prev != nil {
		<-prev.done
		if prev.err != nil {
			me.err = fmt.Errorf("%w: an earlier append failed: %w", ErrConflict, prev.err)
		}
	}
	if me.err == nil {
		// The store's own context handling must not abandon a write half
		// way for a caller that went away: the chain behind depends on it.
		me.err = w.store.Put(context.WithoutCancel(ctx), out)
	}
	close(me.done)
	if me.err != nil {
		return nil, me.err
	}
	return out, nil
}

// Adopt stores entries of the local log that came back from elsewhere:
// a friend's copy of what this store lost (a restored backup, a power
// loss). It waits for appends in flight and moves the writer past the
// adopted entries. Entries already held are skipped. An entry that does
// not extend the stored head is refused with spec.ErrBadPrev or
// spec.ErrBadSeq and recorded nowhere: the local history wins, and no fork
// evidence is ever kept against oneself.
func (w *Writer) Adopt(ctx context.Context, entries []*Entry) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last != nil {
		<-w.last.done // its Put needs no lock
		w.last = nil
	}
	h, err := w.store.Head(ctx, w.id.PeerID())
	if err != nil {
		return 0, fmt.Errorf("reading log head: %w", err)
	}
	w.head = h
	var fresh []*Entry
	for _, e := range entries {
		if e.Author != w.id.PeerID() {
			return 0, fmt.Errorf("adopting an entry of %s into %s's log", e.Author, w.id.PeerID())
		}
		if e.Seq > h.Seq {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	// Check the whole chain here, not only its first link: the store
	// would take a later broken link for fork evidence, against myself.
	var prev *spec.Entry
	if h.Seq > 0 {
		prev = &spec.Entry{Author: []byte(w.id.PeerID()), Seq: h.Seq}
	}
	prevCID := h.CID
	for _, e := range fresh {
		if err := spec.CheckLink(prev, prevCID, e.Entry); err != nil {
			return 0, fmt.Errorf("adopting seq %d of my own log: %w (this node's log has diverged from that copy)", e.Seq, err)
		}
		prev, prevCID = e.Entry, e.CID
	}
	if err := w.store.Put(ctx, fresh); err != nil {
		return 0, err
	}
	last := fresh[len(fresh)-1]
	w.head = Head{Seq: last.Seq, CID: last.CID, Time: last.Time}
	if np, ok := rotatedIn(fresh); ok { // my log came back ended by a rotation
		w.closed = fmt.Errorf("%w: %s is now %s", ErrRotated, w.id.PeerID(), np)
	}
	return len(fresh), nil
}

func (w *Writer) buildLocked(d *Draft, head Head) (*Entry, error) {
	if err := d.Body.Check(); err != nil {
		return nil, err
	}
	aud, sealed, err := Seal(w.id, d.To, &d.Body)
	if err != nil {
		return nil, fmt.Errorf("sealing %s %q: %w", d.Body.Kind, d.Body.Key, err)
	}
	now := w.now().UnixMilli()
	if now < head.Time {
		now = head.Time // the clock never runs backwards within a log
	}
	se := &spec.Entry{
		V:      spec.Version,
		Author: []byte(w.id.PeerID()),
		Seq:    head.Seq + 1,
		Time:   now,
		Aud:    aud,
		Body:   sealed,
	}
	if head.Seq > 0 {
		se.Prev = spec.LinkTo(head.CID)
	}
	if err := se.Sign(w.id.Sign); err != nil {
		return nil, err
	}
	raw, err := se.Encode()
	if err != nil {
		return nil, encodingError(&d.Body, err)
	}
	body := d.Body
	return &Entry{
		Entry:    se,
		Raw:      raw,
		CID:      spec.CIDOf(raw),
		Author:   w.id.PeerID(),
		Identity: w.id.PeerID(),
		Body:     &body,
	}, nil
}

// encodingError is the error of encoding the entry of body: one over
// spec.MaxEntrySize is [ErrTooLarge], the caller's to fix.
func encodingError(b *Body, err error) error {
	if errors.Is(err, spec.ErrTooLarge) {
		return fmt.Errorf("%w: %s %q makes an entry over the %d KiB limit: %w", ErrTooLarge, b.Kind, b.Key, spec.MaxEntrySize>>10, err)
	}
	return fmt.Errorf("encoding %s %q: %w", b.Kind, b.Key, err)
}

// Fits checks d as Append would, storing and signing nothing: the body
// checks, and its entry, sealed to d.To, is within spec.MaxEntrySize (an
// error wrapping [ErrTooLarge] if not). A batch checks every draft first,
// so that one too large refuses the batch before any of it is stored.
func (w *Writer) Fits(d Draft) error {
	if err := d.Body.Check(); err != nil {
		return err
	}
	aud, sealed, err := Seal(w.id, d.To, &d.Body)
	if err != nil {
		return fmt.Errorf("sealing %s %q: %w", d.Body.Kind, d.Body.Key, err)
	}
	// The largest an entry of this body can be: the widest seq and time,
	// a link and a signature.
	se := &spec.Entry{
		V:      spec.Version,
		Author: []byte(w.id.PeerID()),
		Seq:    math.MaxUint64,
		Time:   math.MaxInt64,
		Aud:    aud,
		Body:   sealed,
		Prev:   spec.LinkTo(spec.CIDOf(nil)),
		Sig:    make([]byte, spec.SignatureSize),
	}
	if _, err := se.Encode(); err != nil {
		return encodingError(&d.Body, err)
	}
	return nil
}
