package archive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// Source is what [Write] exports: the logs a store holds.
type Source interface {
	// Heads returns every held log's head.
	Heads(ctx context.Context) (map[peer.ID]graph.Head, error)
	// Entries returns author's stored entries with seq > after, in order,
	// at most limit, each as its stored bytes.
	Entries(ctx context.Context, author peer.ID, after uint64, limit int) ([][]byte, error)
}

// WriteOptions configures [Write].
type WriteOptions struct {
	// Signer signs the manifest; it is the export's identity (required).
	Signer *identity.Identity
	// Key, when not nil, is the key file to include, as
	// identity.MarshalKey writes it with a passphrase. Write refuses a key
	// file in the clear.
	Key []byte
	// Now is the manifest's created time (zero: time.Now).
	Now time.Time
	// Progress, when set, is called with the entries written so far and
	// the total: once with done 0 before anything is written, then as it
	// goes.
	Progress func(done, total uint64)
	// Hints, when any, are where my connections were last seen, best
	// first: the unsigned hints block (hints.go) keeps what fits.
	Hints []PeerHint
}

// pageSize is how many entries Write reads from the source at once.
const pageSize = 1000

// Write writes a CAR v1 export of every log src holds to w and returns
// its manifest. The heads are read first; entries written after that are
// not exported, so a running node can be exported.
func Write(ctx context.Context, w io.Writer, src Source, opts WriteOptions) (*Manifest, error) {
	if opts.Signer == nil {
		return nil, errors.New("archive: no signer")
	}
	if opts.Key != nil {
		if len(opts.Key) > MaxKeySize {
			return nil, fmt.Errorf("%w: key file is %d bytes", ErrTooLarge, len(opts.Key))
		}
		if _, err := identity.ParseKey(opts.Key, nil); !errors.Is(err, identity.ErrPassphraseRequired) {
			return nil, fmt.Errorf("%w: the key goes into an export only encrypted with a passphrase", identity.ErrPassphraseRequired)
		}
	}
	heads, err := src.Heads(ctx)
	if err != nil {
		return nil, err
	}
	if len(heads) > MaxLogs {
		return nil, fmt.Errorf("%w: %d logs, an export holds at most %d", ErrTooLarge, len(heads), MaxLogs)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := &Manifest{V: Version, Type: ManifestType, Identity: []byte(opts.Signer.PeerID()), Created: now.UnixMilli()}
	for a, h := range heads {
		if h.Seq > 0 {
			m.Logs = append(m.Logs, LogHead{Author: []byte(a), Seq: h.Seq, Head: spec.LinkTo(h.CID)})
		}
	}
	slices.SortFunc(m.Logs, func(a, b LogHead) int { return bytes.Compare(a.Author, b.Author) })
	if opts.Key != nil {
		m.Key = spec.LinkTo(keyCIDOf(opts.Key))
	}
	hints, err := encodeHints(opts.Hints)
	if err != nil {
		return nil, err
	}
	m.Hints = hints != nil
	if err := m.sign(opts.Signer.Sign); err != nil {
		return nil, err
	}
	mb, err := spec.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	if len(mb) > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest is %d bytes", ErrTooLarge, len(mb))
	}
	root := spec.CIDOf(mb)

	total, done := m.Entries(), uint64(0)
	progress := func() {
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	progress()
	bw := bufio.NewWriterSize(w, 256<<10)
	// streamOnly hides any WriterAt of w: a CAR v1 is written front to back.
	cw, err := storage.NewWritable(streamOnly{bw}, []cid.Cid{root}, car.WriteAsCarV1(true), car.AllowDuplicatePuts(false))
	if err != nil {
		return nil, fmt.Errorf("writing the CAR header: %w", err)
	}
	if err := cw.Put(ctx, root.KeyString(), mb); err != nil {
		return nil, fmt.Errorf("writing the manifest: %w", err)
	}
	if opts.Key != nil {
		if err := cw.Put(ctx, m.Key.KeyString(), opts.Key); err != nil {
			return nil, fmt.Errorf("writing the key: %w", err)
		}
	}
	for _, l := range m.Logs {
		author := peer.ID(l.Author)
		var last cid.Cid
		for after := uint64(0); after < l.Seq; {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			raws, err := src.Entries(ctx, author, after, int(min(pageSize, l.Seq-after)))
			if err != nil {
				return nil, fmt.Errorf("reading the log of %s: %w", author, err)
			}
			if len(raws) == 0 {
				return nil, fmt.Errorf("reading the log of %s: it ends at seq %d, its head is %d", author, after, l.Seq)
			}
			for _, raw := range raws {
				last = spec.CIDOf(raw)
				if err := cw.Put(ctx, last.KeyString(), raw); err != nil {
					return nil, fmt.Errorf("writing %s: %w", last, err)
				}
			}
			after += uint64(len(raws))
			done += uint64(len(raws))
			progress()
		}
		if !last.Equals(l.Head.Cid) {
			return nil, fmt.Errorf("exporting the log of %s: its entry at seq %d is %s, its head %s", author, l.Seq, last, l.Head)
		}
	}
	if m.Hints {
		if err := cw.Put(ctx, spec.CIDOf(hints).KeyString(), hints); err != nil {
			return nil, fmt.Errorf("writing the hints: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing the export: %w", err)
	}
	return m, nil
}

type streamOnly struct{ io.Writer }
