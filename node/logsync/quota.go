package logsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/spec"
)

// ErrOverQuota: a peer sent entries of a log past its author's storage
// quota; they were refused (those within it were stored).
var ErrOverQuota = errors.New("logsync: the author's log is over its storage quota")

// Quota bounds what the log of one author other than me may take in the
// store: a compromised friend cannot fill the disk. Zero fields mean
// DefaultQuota's.
type Quota struct {
	Entries int64 // entries held of one log
	Bytes   int64 // their encoded size
}

// DefaultQuota is generous for a person's real use over decades: ten
// entries a day (cards, their re-issues to circles, calendar events and
// their changes) for twenty years is 73,000 entries, and contacts and
// events average well under 2.6 KiB (one entry is at most 64 KiB, a card
// with a photo). Beyond it, a log is more likely a flood than a life.
var DefaultQuota = Quota{Entries: 100_000, Bytes: 256 << 20}

// QuotaStore is what the quota reads and records of the store.
type QuotaStore interface {
	Head(ctx context.Context, author peer.ID) (graph.Head, error)
	// AuthorUsage measures an author's log in the store.
	AuthorUsage(ctx context.Context, author peer.ID) (store.Usage, error)
	// RecordQuotaRefusal records refused entries of author: their seqs
	// and sizes.
	RecordQuotaRefusal(ctx context.Context, author peer.ID, seqs []uint64, sizes []int64, t time.Time, reason string) error
	// QuotaRefusals lists the records; ForgetQuotaRefusals drops one.
	QuotaRefusals(ctx context.Context) ([]store.QuotaRefusal, error)
	ForgetQuotaRefusals(ctx context.Context, author peer.ID) error
}

// quota admits received entries within each author's Quota. It caches each
// author's usage at a head, and measures it again in the store when the
// head moved otherwise (a fork resolved, a log dropped).
type quota struct {
	limit Quota
	store QuotaStore
	now   func() time.Time
	log   *slog.Logger

	// mu guards usage, refusedAt and recorded.
	mu sync.Mutex
	// usage is each author's measured usage, at the head seq it was
	// measured at.
	usage map[peer.ID]usageAt
	// refusedAt holds the authors whose entries were refused, and the
	// head seq they were refused past: a pull does not ask for more of
	// that log while its head is there (a flood costs one chunk, not one
	// per announcement). A restart (a raised quota) asks again.
	refusedAt map[peer.ID]uint64
	// recorded holds the authors with a refusal on record (nil: not read
	// yet): the record goes once entries of theirs fit again.
	recorded map[peer.ID]bool
}

type usageAt struct {
	seq uint64
	store.Usage
	// exact: Bytes was measured (and grown by what was admitted since);
	// otherwise it is an upper bound, seq × the entry size limit, which
	// spares measuring a log that cannot be near the quota.
	exact bool
}

func newQuota(limit Quota, st QuotaStore, now func() time.Time, log *slog.Logger) *quota {
	if limit.Entries <= 0 {
		limit.Entries = DefaultQuota.Entries
	}
	if limit.Bytes <= 0 {
		limit.Bytes = DefaultQuota.Bytes
	}
	return &quota{limit: limit, store: st, now: now, log: log, usage: map[peer.ID]usageAt{}, refusedAt: map[peer.ID]uint64{}}
}

// full reports whether author's log was refused past head, its head now:
// there is no point asking for more of it. A nil quota is never full.
func (q *quota) full(author peer.ID, head uint64) bool {
	if q == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	at, ok := q.refusedAt[author]
	return ok && at == head
}

// admit returns the entries of es within their authors' quotas, in order,
// and ErrOverQuota (wrapped, naming the author and the limit) if it
// refused any; a refusal is logged and recorded. Entries of an author
// after one refused are refused too: a log is stored in order. A nil quota
// admits everything. It assumes
// that what it admits is then stored (the next call measures again if
// not).
func (q *quota) admit(ctx context.Context, es []*graph.Entry) ([]*graph.Entry, error) {
	if q == nil || len(es) == 0 {
		return es, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	type refusal struct {
		seqs  []uint64
		sizes []int64
		bytes int64
	}
	var (
		refused  map[peer.ID]*refusal
		order    []peer.ID
		keep     = es[:0:0]
		next     = map[peer.ID]usageAt{}
		batch    = map[peer.ID]int64{} // bytes in es, by author
		admitted = map[peer.ID]bool{}  // authors with new entries in keep
	)
	for _, e := range es {
		batch[e.Author] += int64(len(e.Raw))
	}
	for _, e := range es {
		u, ok := next[e.Author]
		if !ok {
			var err error
			if u, err = q.usageLocked(ctx, e.Author, batch[e.Author]); err != nil {
				return nil, err
			}
		}
		if r := refused[e.Author]; r == nil && e.Seq <= u.seq {
			keep = append(keep, e) // held already, or fork evidence: the store decides
			continue
		}
		size := int64(len(e.Raw))
		if refused[e.Author] == nil && u.Entries+1 <= q.limit.Entries && u.Bytes+size <= q.limit.Bytes {
			u.seq, u.Entries, u.Bytes = e.Seq, u.Entries+1, u.Bytes+size
			next[e.Author] = u
			admitted[e.Author] = true
			keep = append(keep, e)
			continue
		}
		next[e.Author] = u
		if refused == nil {
			refused = map[peer.ID]*refusal{}
		}
		r := refused[e.Author]
		if r == nil {
			r = &refusal{}
			refused[e.Author] = r
			order = append(order, e.Author)
		}
		r.seqs, r.sizes, r.bytes = append(r.seqs, e.Seq), append(r.sizes, size), r.bytes+size
	}
	for a, u := range next {
		q.usage[a] = u
		if refused[a] == nil {
			delete(q.refusedAt, a)
		} else {
			delete(admitted, a) // still over: the record stays
		}
	}
	q.forgetLocked(ctx, admitted)
	if len(order) == 0 {
		return keep, nil
	}
	var first error
	for _, a := range order {
		r, u := refused[a], next[a]
		reason := fmt.Sprintf("the log reached its quota of %d entries (it holds %d)", q.limit.Entries, u.Entries)
		if u.Entries < q.limit.Entries {
			reason = fmt.Sprintf("the log reached its quota of %d bytes (it holds %d)", q.limit.Bytes, u.Bytes)
		}
		q.log.Warn("refused entries over the author's storage quota", "author", a, "entries", len(r.seqs), "bytes", r.bytes,
			"from_seq", r.seqs[0], "reason", reason)
		q.refusedAt[a] = u.seq
		if err := q.store.RecordQuotaRefusal(ctx, a, r.seqs, r.sizes, q.now(), reason); err != nil {
			q.log.Warn("recording a quota refusal", "author", a, "err", err)
		} else if q.recorded != nil {
			q.recorded[a] = true
		}
		if first == nil {
			first = fmt.Errorf("%w: %d entries of %s from seq %d refused: %s", ErrOverQuota, len(r.seqs), a, r.seqs[0], reason)
		}
	}
	return keep, first
}

// forgetLocked drops the refusal records of the authors in admitted (new
// entries admitted, none refused): their log fits again (a raised quota).
// It reads the records once.
func (q *quota) forgetLocked(ctx context.Context, admitted map[peer.ID]bool) {
	if q.recorded == nil {
		rs, err := q.store.QuotaRefusals(ctx)
		if err != nil {
			q.log.Warn("reading quota refusals", "err", err)
			return
		}
		q.recorded = map[peer.ID]bool{}
		for _, r := range rs {
			q.recorded[r.Author] = true
		}
	}
	for a := range admitted {
		if !q.recorded[a] {
			continue
		}
		if err := q.store.ForgetQuotaRefusals(ctx, a); err != nil {
			q.log.Warn("dropping a quota refusal record", "author", a, "err", err)
			continue
		}
		delete(q.recorded, a)
		q.log.Info("an author's log fits its quota again", "author", a)
	}
}

// usageLocked is author's usage at its head in the store, before more bytes
// arrive: cached while the head is where the cache left it; measured in
// the store only when an upper bound could not tell that more fits
// (measuring reads the whole log: 1.6 s for 100,000 entries of 2.5 KB).
func (q *quota) usageLocked(ctx context.Context, author peer.ID, more int64) (usageAt, error) {
	h, err := q.store.Head(ctx, author)
	if err != nil {
		return usageAt{}, err
	}
	u, ok := q.usage[author]
	if !ok || u.seq != h.Seq {
		// A log is whole from seq 1: it holds Seq entries.
		u = usageAt{seq: h.Seq, Usage: store.Usage{Entries: int64(h.Seq), Bytes: int64(h.Seq) * spec.MaxEntrySize}}
	}
	if u.exact || u.Bytes+more <= q.limit.Bytes {
		return u, nil
	}
	m, err := q.store.AuthorUsage(ctx, author)
	if err != nil {
		return usageAt{}, err
	}
	return usageAt{seq: h.Seq, Usage: m, exact: true}, nil
}
