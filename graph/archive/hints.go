package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/spec"
)

// Hints: where the exporting node last saw its connections, so that a
// home imported on a new device can dial them at its first start without
// anyone typing an address (spec/SPEC.md, "Export (CAR)", "Hints"). They
// are node-local state, not claims of the identity: the block is not
// signed (the manifest's "hints" says only that one follows, so that a
// file cut before it still reads as truncated), and an importer uses an
// address only to dial a peer that is a connection in the imported,
// verified graph. A wrong address costs a failed dial: libp2p checks the
// peer ID of whoever answers.

// Limits of the hints block.
const (
	// HintsType is the hints block's "type".
	HintsType = "kith-hints"
	// MaxHintPeers bounds the peers one hints block names.
	MaxHintPeers = 1024
	// MaxHintAddrs bounds the addresses of one peer.
	MaxHintAddrs = 8
	// MaxHintAddrSize bounds one address, in multiaddr bytes.
	MaxHintAddrSize = 128
	// MaxHintsSize bounds the whole block.
	MaxHintsSize = 256 << 10
)

// PeerHint is where a peer was last seen: its addresses, best first.
type PeerHint struct {
	Peer  peer.ID
	Addrs []ma.Multiaddr
}

// hintsBlock is the block's encoding; the field tags are the DAG-CBOR
// map keys.
type hintsBlock struct {
	V     uint64     `cbor:"v"`
	Type  string     `cbor:"type"`
	Peers []hintPeer `cbor:"peers"` // sorted by peer bytes, each peer once
}

type hintPeer struct {
	Peer  []byte   `cbor:"peer"`  // peer ID bytes
	Addrs [][]byte `cbor:"addrs"` // multiaddr bytes, best first
}

var hintsDec cbor.DecMode

func init() {
	var err error
	hintsDec, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   5,
		MaxArrayElements:  MaxHintPeers,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}.DecMode()
	if err != nil {
		panic("bug: hints dec mode: " + err.Error())
	}
}

// hintAddr returns a's bytes as a hints block holds them, or false when
// the block cannot hold it: over MaxHintAddrSize, or not a transport
// address (empty, or ending in a /p2p/ peer ID). A trailing /p2p/ of p
// itself is cut off.
func hintAddr(p peer.ID, a ma.Multiaddr) ([]byte, bool) {
	if rest, last := ma.SplitLast(a); last != nil && last.Code() == ma.P_P2P {
		if id, err := peer.IDFromBytes(last.RawValue()); err != nil || id != p {
			return nil, false
		}
		a = rest
	}
	b := a.Bytes()
	return b, len(b) > 0 && len(b) <= MaxHintAddrSize
}

// encodeHints encodes hs as a hints block, within its limits: peers in
// hs's order (the caller's preference, e.g. most recently seen first)
// until MaxHintPeers or MaxHintsSize, each with its first MaxHintAddrs
// addresses the block can hold; a peer named twice, or left with no
// address, is skipped. It returns nil when no peer is left.
func encodeHints(hs []PeerHint) ([]byte, error) {
	var (
		peers []hintPeer
		seen  = map[peer.ID]bool{}
		size  = 64 // the map around the list, with room
	)
	for _, h := range hs {
		if len(peers) == MaxHintPeers {
			break
		}
		if _, err := peer.IDFromBytes([]byte(h.Peer)); err != nil || seen[h.Peer] {
			continue
		}
		hp := hintPeer{Peer: []byte(h.Peer)}
		for _, a := range h.Addrs {
			if len(hp.Addrs) == MaxHintAddrs {
				break
			}
			if b, ok := hintAddr(h.Peer, a); ok && !slices.ContainsFunc(hp.Addrs, func(c []byte) bool { return bytes.Equal(b, c) }) {
				hp.Addrs = append(hp.Addrs, b)
			}
		}
		if len(hp.Addrs) == 0 {
			continue
		}
		n := 16 + len(hp.Peer) // map header, keys, lengths
		for _, b := range hp.Addrs {
			n += 2 + len(b)
		}
		if size+n > MaxHintsSize {
			break
		}
		size += n
		seen[h.Peer] = true
		peers = append(peers, hp)
	}
	if len(peers) == 0 {
		return nil, nil
	}
	slices.SortFunc(peers, func(a, b hintPeer) int { return bytes.Compare(a.Peer, b.Peer) })
	data, err := spec.Marshal(&hintsBlock{V: Version, Type: HintsType, Peers: peers})
	if err != nil {
		return nil, fmt.Errorf("encoding the hints: %w", err)
	}
	if len(data) > MaxHintsSize {
		panic(fmt.Sprintf("bug: hints block of %d bytes, over its limit %d", len(data), MaxHintsSize))
	}
	return data, nil
}

// DecodeHints parses a hints block from untrusted bytes: size, structure,
// canonical encoding, version, the order of its peers and every address
// (a multiaddr, within the limits, not ending in a peer ID).
func DecodeHints(data []byte) ([]PeerHint, error) {
	if len(data) > MaxHintsSize {
		return nil, fmt.Errorf("%w: hints block is %d bytes, limit %d", ErrTooLarge, len(data), MaxHintsSize)
	}
	var hb hintsBlock
	if err := hintsDec.Unmarshal(data, &hb); err != nil {
		return nil, fmt.Errorf("%w: hints: %v", ErrMalformed, err)
	}
	if hb.V != Version {
		return nil, fmt.Errorf("%w: hints version %d, this kith reads %d", ErrMalformed, hb.V, Version)
	}
	if hb.Type != HintsType {
		return nil, fmt.Errorf("%w: hints type %q, want %q", ErrMalformed, hb.Type, HintsType)
	}
	if len(hb.Peers) == 0 {
		return nil, fmt.Errorf("%w: a hints block names no peer", ErrMalformed)
	}
	out := make([]PeerHint, len(hb.Peers))
	for i, hp := range hb.Peers {
		p, err := peer.IDFromBytes(hp.Peer)
		if err != nil {
			return nil, fmt.Errorf("%w: hint %d: peer: %v", ErrMalformed, i, err)
		}
		if i > 0 && bytes.Compare(hb.Peers[i-1].Peer, hp.Peer) >= 0 {
			return nil, fmt.Errorf("%w: hints out of order or repeated at %d", ErrMalformed, i)
		}
		if len(hp.Addrs) == 0 || len(hp.Addrs) > MaxHintAddrs {
			return nil, fmt.Errorf("%w: hint %d (%s) has %d addresses, want 1 to %d", ErrMalformed, i, p, len(hp.Addrs), MaxHintAddrs)
		}
		out[i] = PeerHint{Peer: p, Addrs: make([]ma.Multiaddr, len(hp.Addrs))}
		for j, b := range hp.Addrs {
			if len(b) > MaxHintAddrSize {
				return nil, fmt.Errorf("%w: hint %d (%s): address %d is %d bytes, limit %d", ErrMalformed, i, p, j, len(b), MaxHintAddrSize)
			}
			a, err := ma.NewMultiaddrBytes(b)
			if err != nil {
				return nil, fmt.Errorf("%w: hint %d (%s): address %d: %v", ErrMalformed, i, p, j, err)
			}
			if again, ok := hintAddr(p, a); !ok || !bytes.Equal(again, b) {
				return nil, fmt.Errorf("%w: hint %d (%s): address %d is not a transport address", ErrMalformed, i, p, j)
			}
			out[i].Addrs[j] = a
		}
	}
	again, err := spec.Marshal(&hb)
	if err != nil || !bytes.Equal(again, data) {
		return nil, fmt.Errorf("%w: hints block is not canonical DAG-CBOR", ErrMalformed)
	}
	return out, nil
}

// Hints returns the hints block's peers, once [Reader.Entries] returned
// nil; nil when the export has none. Unlike everything else a Reader
// hands on they are not signed: use an address only to dial a peer that
// is a connection in the verified graph.
func (r *Reader) Hints() []PeerHint { return r.hints }

// readEnd reads what follows the last entry: the hints block when the
// manifest announces one, then the end of the file.
func (r *Reader) readEnd() error {
	if r.manifest.Hints {
		c, data, err := r.next("the hints block")
		if err != nil {
			return err
		}
		if !isEntryCID(c) {
			return fmt.Errorf("%w: block %d, the hints block, has CID %s, not dag-cbor sha2-256", ErrMalformed, r.block, c)
		}
		if len(data) > MaxHintsSize {
			return fmt.Errorf("%w: the hints block (block %d) is %d bytes, limit %d", ErrTooLarge, r.block, len(data), MaxHintsSize)
		}
		if !spec.CIDOf(data).Equals(c) {
			return fmt.Errorf("%w: the hints block (block %d)", ErrBlockMismatch, r.block)
		}
		hs, err := DecodeHints(data)
		if err != nil {
			return fmt.Errorf("block %d: %w", r.block, err)
		}
		r.hints = hs
	}
	if _, err := r.br.Next(); !errors.Is(err, io.EOF) {
		if err == nil {
			return fmt.Errorf("%w: block %d comes after the last the manifest announces", ErrMalformed, r.block+1)
		}
		return readErr(err, "its end")
	}
	return nil
}
