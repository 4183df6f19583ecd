package graph

import (
	"context"
	"fmt"
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
// use; appends are serialised so seq and prev always chain.
type Writer struct {
	id    *identity.Identity
	store Store
	now   func() time.Time

	// mu serialises appends and guards head.
	mu sync.Mutex
	// head is the last entry of the local log as stored.
	head Head
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

// Head returns the local log's head.
func (w *Writer) Head() Head {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

// Append seals, signs and stores drafts as consecutive entries of the local
// log in one transaction: either all are stored or none is.
func (w *Writer) Append(ctx context.Context, drafts ...Draft) ([]*Entry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	head := w.head
	out := make([]*Entry, 0, len(drafts))
	for i := range drafts {
		e, err := w.buildLocked(&drafts[i], head)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		head = Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
	}
	if err := w.store.Put(ctx, out); err != nil {
		// Nothing was stored; re-read the head in case another process
		// wrote (the store lock normally prevents that).
		if h, herr := w.store.Head(ctx, w.id.PeerID()); herr == nil {
			w.head = h
		}
		return nil, err
	}
	w.head = head
	return out, nil
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
		return nil, fmt.Errorf("encoding %s %q: %w", d.Body.Kind, d.Body.Key, err)
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
