package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// ReadOptions configures [NewReader].
type ReadOptions struct {
	// Expect, when set, is the identity the export must belong to.
	Expect peer.ID
	// Workers verify entries in parallel (0: GOMAXPROCS).
	Workers int
	// Progress, when set, is called with the entries verified and handed
	// on so far, and the total the manifest announces.
	Progress func(done, total uint64)
	// SignaturesBehind verifies the entries' own signatures behind put
	// instead of in front of it: [Reader.Entries] hands on entries once
	// they match their CIDs, decode and open, and a batch once its
	// entries link up and the signature of any log head among them
	// verifies; it returns once every log reached its verified head,
	// before every other signature is verified, and
	// [Reader.Signatures] waits for the rest. For a caller that writes
	// the entries somewhere it can drop and does more work before it
	// keeps them (an import: load, index, then rename), which then
	// overlaps with the verifying.
	SignaturesBehind bool
}

// Reader reads an export: [NewReader] reads and verifies the manifest
// (and the key block), [Reader.Entries] the logs.
type Reader struct {
	br       *car.BlockReader
	opts     ReadOptions
	manifest *Manifest
	identity peer.ID
	key      []byte
	block    int // blocks read so far, for error messages
	hints    []PeerHint

	// sigs waits for the signatures verified behind put
	// (SignaturesBehind); nil when there are none outstanding.
	sigs func() error
}

// NewReader reads r's CAR header, its manifest and, when the manifest names
// one, its key block; it checks that each block matches its CID and that
// the manifest is signed by the identity it names (and is opts.Expect's).
func NewReader(r io.Reader, opts ReadOptions) (*Reader, error) {
	br, err := car.NewBlockReader(r, car.MaxAllowedHeaderSize(maxHeaderSize), car.MaxAllowedSectionSize(MaxManifestSize),
		car.WithTrustedCAR(true)) // every block is hashed here, entries by the workers
	if err != nil {
		return nil, readErr(err, "the CAR header")
	}
	if br.Version != 1 {
		return nil, fmt.Errorf("%w: CAR version %d, an export is CAR v1", ErrMalformed, br.Version)
	}
	if len(br.Roots) != 1 || !isEntryCID(br.Roots[0]) {
		return nil, fmt.Errorf("%w: the CAR must have one root, its manifest", ErrMalformed)
	}
	ar := &Reader{br: br, opts: opts}
	c, data, err := ar.next("the manifest")
	if err != nil {
		return nil, err
	}
	if !c.Equals(br.Roots[0]) {
		return nil, fmt.Errorf("%w: the first block is %s, not the root %s", ErrMalformed, c, br.Roots[0])
	}
	if !spec.CIDOf(data).Equals(c) {
		return nil, fmt.Errorf("%w: the manifest (block 1)", ErrBlockMismatch)
	}
	m, err := DecodeManifest(data)
	if err != nil {
		return nil, err
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	ar.manifest = m
	ar.identity, _ = m.IdentityID()
	if opts.Expect != "" && ar.identity != opts.Expect {
		return nil, fmt.Errorf("%w: it is %s's, this home is %s's", ErrWrongIdentity, ar.identity, opts.Expect)
	}
	if m.Key.Defined() {
		c, data, err := ar.next("the key block")
		if err != nil {
			return nil, err
		}
		if !c.Equals(m.Key.Cid) {
			return nil, fmt.Errorf("%w: block 2 is %s, the manifest names the key block %s", ErrMalformed, c, m.Key)
		}
		if len(data) > MaxKeySize {
			return nil, fmt.Errorf("%w: key block is %d bytes", ErrTooLarge, len(data))
		}
		if !keyCIDOf(data).Equals(c) {
			return nil, fmt.Errorf("%w: the key block (block 2)", ErrBlockMismatch)
		}
		ar.key = data
	}
	return ar, nil
}

// Manifest returns the verified manifest.
func (r *Reader) Manifest() *Manifest { return r.manifest }

// Identity returns the identity the export belongs to.
func (r *Reader) Identity() peer.ID { return r.identity }

// Key returns the key block (a passphrase-encrypted key file), or nil when
// the export has none. Its bytes match the CID the manifest signs; opening
// it is identity.ParseKey's job.
func (r *Reader) Key() []byte { return r.key }

// next reads the next block; what names it for errors.
func (r *Reader) next(what string) (cid.Cid, []byte, error) {
	blk, err := r.br.Next()
	if err != nil {
		return cid.Undef, nil, readErr(err, fmt.Sprintf("%s (block %d)", what, r.block+1))
	}
	r.block++
	return blk.Cid(), blk.RawData(), nil
}

// readErr classifies an error of go-car's reader.
func readErr(err error, what string) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: it ends before %s", ErrTruncated, what)
	case err.Error() == "invalid section data, length of read beyond allowable maximum":
		return fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, what, MaxManifestSize)
	default:
		return fmt.Errorf("%w: reading %s: %v", ErrMalformed, what, err)
	}
}

// batchSize is how many entries go to a worker and to put at once.
const batchSize = 1024

// batch is a run of consecutive entry blocks, verified by a worker.
type batch struct {
	first   int // block number of the first (1-based)
	cids    []cid.Cid
	raws    [][]byte
	entries []*graph.Entry
	err     error
	done    chan struct{}
}

// Signatures waits for the signatures that [Reader.Entries] left to be
// verified behind put (ReadOptions.SignaturesBehind) and returns the
// first that does not verify, naming its block. Without that option, or
// once it has returned, it returns nil at once: Entries verified them.
func (r *Reader) Signatures() error {
	if r.sigs == nil {
		return nil
	}
	err := r.sigs()
	r.sigs = nil
	return err
}

// Entries reads every log the manifest announces and hands the entries,
// verified, to put in batches, in order (each log from seq 1, logs in the
// manifest's order). Each log's head signature is verified when the chain
// reaches it, before the batch holding it goes to put: when Entries
// returns nil, every log is a whole chain of CIDs ending in a head its
// author signed. open opens bodies (nil: none are opened). It returns
// an error, and stops calling put, at the first block that is out of
// place, does not match its CID, or does not verify; at a gap in a log
// or a log that does not reach the manifest's head; at a truncated file
// or a block after the last. Entries already handed to put are not
// taken back: the caller writes them somewhere it can drop (a temporary
// store) until Entries returns nil.
func (r *Reader) Entries(ctx context.Context, open func(*spec.Entry) (*graph.Body, error), put func(context.Context, []*graph.Entry) error) error {
	workers := r.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	total := r.manifest.Entries()
	behind := r.opts.SignaturesBehind
	// Signatures verified behind put run in their own group, which
	// outlives Entries when it succeeds; when it fails, they are stopped
	// and waited for here.
	sctx, stop := context.WithCancel(ctx)
	sg, sctx := errgroup.WithContext(sctx)
	var sigwork chan *batch
	kvs := verifiersFor(r.manifest)
	// The verifiers behind put wait while fewer than sigLag batches
	// are waiting and the reading goes on: see sigLag.
	var (
		kick     = make(chan struct{}, 1)
		readDone = make(chan struct{})
	)
	verifier := func() error {
		for {
			if len(sigwork) < sigLag {
				select {
				case <-kick:
				case <-readDone:
				case <-sctx.Done():
					return sctx.Err()
				}
			}
			b, ok := <-sigwork
			if !ok {
				return nil
			}
			select {
			case <-b.done:
			case <-sctx.Done():
				return sctx.Err()
			}
			if b.err != nil {
				continue // Entries reports it
			}
			if err := b.verifySignatures(kvs); err != nil {
				return err
			}
		}
	}
	// One core fewer verifies signatures behind put than there are
	// workers: put's store, or whatever the caller does after Entries
	// (an import builds its indexes, one goroutine), keeps a core.
	if behind {
		sigwork = make(chan *batch, maxBatchesBehind)
		for range max(1, workers-1) {
			sg.Go(verifier)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	work := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers)

	// The reader: blocks into batches, in file order.
	g.Go(func() error {
		defer close(work)
		defer close(ordered)
		if behind {
			defer close(readDone)
			defer close(sigwork)
		}
		for read := uint64(0); read < total; {
			b := &batch{first: r.block + 1, done: make(chan struct{})}
			for n := min(batchSize, total-read); uint64(len(b.raws)) < n; {
				c, data, err := r.next(r.where(read + uint64(len(b.raws))))
				if err != nil {
					return err
				}
				b.cids, b.raws = append(b.cids, c), append(b.raws, data)
			}
			read += uint64(len(b.raws))
			for _, ch := range []chan *batch{work, ordered, sigwork} {
				if ch == nil {
					continue
				}
				select {
				case ch <- b:
				case <-ctx.Done():
					return ctx.Err()
				case <-sctx.Done():
					return fmt.Errorf("verifying signatures: %w", context.Cause(sctx))
				}
			}
			if behind && len(sigwork) >= sigLag {
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		}
		return r.readEnd() // the hints block, if any, and the end (hints.go)
	})
	// The workers: CID, decoding, signature (unless behind), body.
	for range workers {
		g.Go(func() error {
			for b := range work {
				b.verify(open, !behind)
				close(b.done)
			}
			return nil
		})
	}
	// The chain, in order, and put.
	g.Go(func() error {
		c := chain{logs: r.manifest.Logs}
		var done uint64
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if b.err != nil {
				return b.err
			}
			for i, e := range b.entries {
				head, err := c.next(e)
				if err != nil {
					return fmt.Errorf("block %d: %w", b.first+i, err)
				}
				if head && behind {
					// The head's signature, here and now: with the chain
					// it authenticates the whole log (see Entries).
					if err := e.Entry.Verify(); err != nil {
						return fmt.Errorf("%w: block %d (%s), the head of the log of %s: %w", ErrBadEntry, b.first+i, e.CID, e.Author, err)
					}
				}
			}
			if err := put(ctx, b.entries); err != nil {
				return err
			}
			done += uint64(len(b.entries))
			if r.opts.Progress != nil {
				r.opts.Progress(done, total)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		stop()
		if serr := sg.Wait(); serr != nil && !errors.Is(serr, context.Canceled) {
			return serr // a bad signature, found first, made the reader stop
		}
		return err
	}
	r.sigs = func() error {
		defer stop()
		return sg.Wait()
	}
	if !behind {
		return r.Signatures()
	}
	return nil
}

// maxBatchesBehind bounds how far signature verification may fall behind
// put (SignaturesBehind): 64 batches of entries, about 28 MiB of them.
const maxBatchesBehind = 64

// sigLag is how many batches the verifying behind put leaves waiting
// while the reading goes on: the cores are busy reading, opening and
// storing then, and the caller's work after Entries (an import's index
// build, one goroutine) leaves a core free for what is left.
const sigLag = maxBatchesBehind * 3 / 4

// where names the i-th entry block (0-based) for an error.
func (r *Reader) where(i uint64) string {
	for _, l := range r.manifest.Logs {
		if i < l.Seq {
			return fmt.Sprintf("entry %d of %d of the log of %s (block %d)", i+1, l.Seq, peer.ID(l.Author), r.block+1)
		}
		i -= l.Seq
	}
	return fmt.Sprintf("block %d", r.block+1)
}

// verify checks each block's CID, decodes and opens it, and checks its
// signature when sig (else verifySignatures does, behind put).
func (b *batch) verify(open func(*spec.Entry) (*graph.Body, error), sig bool) {
	b.entries = make([]*graph.Entry, len(b.raws))
	for i, raw := range b.raws {
		if !spec.CIDOf(raw).Equals(b.cids[i]) {
			b.err = fmt.Errorf("%w: block %d (%s)", ErrBlockMismatch, b.first+i, b.cids[i])
			return
		}
		var (
			e   *graph.Entry
			err error
		)
		if sig {
			e, err = graph.Verify(raw, open)
		} else {
			e, err = decode(raw, b.cids[i], open)
		}
		if err != nil {
			b.err = fmt.Errorf("%w: block %d (%s): %w", ErrBadEntry, b.first+i, b.cids[i], err)
			return
		}
		b.entries[i] = e
	}
}

// chain checks that entries arrive as the manifest's logs, each from seq
// 1 to its head, each linked to the one before.
type chain struct {
	logs []LogHead
	log  int     // index of the current log
	prev cid.Cid // CID of the entry before, in the current log
	seq  uint64  // its seq (0 at a log's start)
}

// next takes the next entry; it reports whether e is its log's head.
func (c *chain) next(e *graph.Entry) (head bool, err error) {
	if c.log >= len(c.logs) {
		return false, fmt.Errorf("%w: an entry after the last log", ErrChain)
	}
	l := c.logs[c.log]
	author := peer.ID(l.Author)
	if !bytes.Equal(e.Entry.Author, l.Author) {
		return false, fmt.Errorf("%w: log of %s: entry %s is by %s, at seq %d of %d", ErrChain, author, e.CID, e.Author, c.seq+1, l.Seq)
	}
	var prev *spec.Entry
	if c.seq > 0 {
		prev = &spec.Entry{Author: l.Author, Seq: c.seq}
	}
	if err := spec.CheckLink(prev, c.prev, e.Entry); err != nil {
		return false, fmt.Errorf("%w: log of %s after seq %d: %w", ErrChain, author, c.seq, err)
	}
	c.prev, c.seq = e.CID, e.Seq
	if c.seq == l.Seq {
		if !e.CID.Equals(l.Head.Cid) {
			return false, fmt.Errorf("%w: log of %s: the entry at seq %d is %s, the manifest's head %s", ErrChain, author, c.seq, e.CID, l.Head)
		}
		c.log, c.prev, c.seq = c.log+1, cid.Undef, 0
		return true, nil
	}
	return false, nil
}

// verifySignatures checks the signatures of a batch that verify decoded
// without them (long logs with their author's table: sigs.go).
func (b *batch) verifySignatures(kvs keyVerifiers) error {
	if i, err := kvs.verifyEntries(b.entries); err != nil {
		return fmt.Errorf("%w: block %d (%s): %w", ErrBadEntry, b.first+i, b.cids[i], err)
	}
	return nil
}

// decode is graph.Verify without the signature, for a block whose CID c
// has been checked.
func decode(raw []byte, c cid.Cid, open func(*spec.Entry) (*graph.Body, error)) (*graph.Entry, error) {
	se, err := spec.Decode(raw)
	if err != nil {
		return nil, err
	}
	author, err := se.AuthorID()
	if err != nil {
		return nil, err
	}
	e := &graph.Entry{Entry: se, Raw: raw, CID: c, Author: author, Identity: author}
	if open != nil {
		b, err := open(se)
		switch {
		case err == nil:
			e.Body = b
		case errors.Is(err, graph.ErrNotForMe):
		default:
			return nil, fmt.Errorf("opening body of %s: %w", e.CID, err)
		}
	}
	return e, nil
}
