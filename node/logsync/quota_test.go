package logsync

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/spec"
)

// fakeQuotaStore holds one log's head and usage, and the refusals.
type fakeQuotaStore struct {
	head     uint64
	usage    store.Usage
	measured int // AuthorUsage calls
	refused  []uint64
	records  map[peer.ID]bool
}

func (f *fakeQuotaStore) Head(context.Context, peer.ID) (graph.Head, error) {
	return graph.Head{Seq: f.head}, nil
}

func (f *fakeQuotaStore) AuthorUsage(context.Context, peer.ID) (store.Usage, error) {
	f.measured++
	return f.usage, nil
}

func (f *fakeQuotaStore) RecordQuotaRefusal(_ context.Context, a peer.ID, seqs []uint64, _ []int64, _ time.Time, _ string) error {
	f.refused = append(f.refused, seqs...)
	f.records[a] = true
	return nil
}

func (f *fakeQuotaStore) QuotaRefusals(context.Context) ([]store.QuotaRefusal, error) {
	var out []store.QuotaRefusal
	for a := range f.records {
		out = append(out, store.QuotaRefusal{Author: a})
	}
	return out, nil
}

func (f *fakeQuotaStore) ForgetQuotaRefusals(_ context.Context, a peer.ID) error {
	delete(f.records, a)
	return nil
}

// store stores what admit kept, as the sync service does.
func (f *fakeQuotaStore) store(kept []*graph.Entry) {
	for _, e := range kept {
		if e.Seq == f.head+1 {
			f.head, f.usage.Entries, f.usage.Bytes = e.Seq, f.usage.Entries+1, f.usage.Bytes+int64(len(e.Raw))
		}
	}
}

func entries(author peer.ID, from, to uint64, size int) []*graph.Entry {
	var out []*graph.Entry
	for s := from; s <= to; s++ {
		out = append(out, &graph.Entry{Entry: &spec.Entry{Seq: s}, Author: author, Raw: make([]byte, size)})
	}
	return out
}

// TestQuotaAdmit: entries within the quota pass in order and the rest is
// refused and recorded; a small log is not measured; a full log is not
// asked for again; a raised quota takes the rest and drops the record.
func TestQuotaAdmit(t *testing.T) {
	ctx := t.Context()
	a := peer.ID("author")
	f := &fakeQuotaStore{records: map[peer.ID]bool{}}
	q := newQuota(Quota{Entries: 10, Bytes: 1 << 30}, f, time.Now, slog.New(slog.DiscardHandler))

	kept, err := q.admit(ctx, entries(a, 1, 6, 1000))
	if err != nil || len(kept) != 6 {
		t.Fatalf("admit(1..6) = %d entries, %v; want 6, nil", len(kept), err)
	}
	f.store(kept)
	if f.measured != 0 {
		t.Errorf("a log far from the byte quota was measured %d times", f.measured)
	}
	kept, err = q.admit(ctx, append(entries(a, 5, 6, 1000), entries(a, 7, 14, 1000)...))
	if !errors.Is(err, ErrOverQuota) || len(kept) != 6 || kept[len(kept)-1].Seq != 10 {
		t.Fatalf("admit(5..14) = %d entries, %v; want the held 5, 6 and 7..10, ErrOverQuota", len(kept), err)
	}
	f.store(kept)
	if want := []uint64{11, 12, 13, 14}; len(f.refused) != len(want) || f.refused[0] != 11 {
		t.Errorf("refused %v, want %v", f.refused, want)
	}
	if !q.full(a, 10) || q.full(a, 9) {
		t.Error("a log refused at its head must be full there, and only there")
	}

	// Bytes: a log whose bound passes the quota is measured, once.
	b := peer.ID("bulky")
	fb := &fakeQuotaStore{head: 100, usage: store.Usage{Entries: 100, Bytes: 100 << 10}, records: map[peer.ID]bool{}}
	qb := newQuota(Quota{Entries: 1000, Bytes: 110 << 10}, fb, time.Now, slog.New(slog.DiscardHandler))
	kept, err = qb.admit(ctx, entries(b, 101, 120, 1<<10))
	if !errors.Is(err, ErrOverQuota) || len(kept) != 10 || fb.measured != 1 {
		t.Fatalf("admit(101..120) = %d entries, %v, measured %d; want 10, ErrOverQuota, 1", len(kept), err, fb.measured)
	}

	// A raised quota (a restart): the rest fits, the record goes.
	f.head, f.usage = 10, store.Usage{Entries: 10, Bytes: 10_000}
	q = newQuota(Quota{Entries: 100}, f, time.Now, slog.New(slog.DiscardHandler))
	if q.full(a, 10) {
		t.Error("a new quota starts with no log full")
	}
	if kept, err = q.admit(ctx, entries(a, 11, 14, 1000)); err != nil || len(kept) != 4 {
		t.Fatalf("admit(11..14) after a raise = %d entries, %v; want 4, nil", len(kept), err)
	}
	if f.records[a] {
		t.Error("the refusal record stayed once the log fit")
	}
}
