package spec

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Wire limits for the libp2p protocols.
const (
	// MaxFrameSize bounds one frame on a Kith stream: an entry plus room.
	MaxFrameSize = MaxEntrySize + 1024
	// MaxWants bounds the logs named in one sync request.
	MaxWants = 256
	// MaxNoteLen bounds the note in a connection request.
	MaxNoteLen = 1024
	// MaxInviteLen bounds an invite code's text.
	MaxInviteLen = 2048
	// MaxInviteAddrs bounds the addresses in an invite.
	MaxInviteAddrs = 16
)

// Wire errors.
var (
	// ErrFrameTooLarge: a frame's length prefix is over the limit.
	ErrFrameTooLarge = errors.New("spec: frame too large")
	// ErrBadMessage: a protocol message does not parse or does not validate.
	ErrBadMessage = errors.New("spec: bad protocol message")
	// ErrBadInvite: an invite code does not parse.
	ErrBadInvite = errors.New("spec: bad invite code")
)

// WriteFrame writes payload with a uvarint length prefix. An empty payload
// is the end-of-stream marker of a response.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) > MaxFrameSize {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(payload))
	}
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(payload)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// ReadFrame reads one length-prefixed frame of at most max bytes. It never
// allocates more than max.
func ReadFrame(r *bufio.Reader, max int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%w: length prefix: %v", ErrBadMessage, err)
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: short frame: %v", ErrBadMessage, err)
	}
	return buf, nil
}

// LogPos names a position in a log: entries of Author up to Seq, the last
// of which has CID (absent when Seq is 0). The CID lets the responder see
// that two copies of a log of one length differ: a fork.
type LogPos struct {
	Author []byte `cbor:"a"`
	Seq    uint64 `cbor:"s"`
	CID    []byte `cbor:"c,omitempty"`
}

// SyncRequest opens a /kith/sync/1.0.0 stream. Want asks for the entries
// of each log after its Seq; Have tells the peer my heads so it can pull
// what it lacks. The responder answers with one frame per entry, in log
// order, then an empty frame.
type SyncRequest struct {
	Want []LogPos `cbor:"want"`
	Have []LogPos `cbor:"have"`
}

// DecodeSyncRequest parses a sync request from untrusted bytes.
func DecodeSyncRequest(b []byte) (*SyncRequest, error) {
	var m SyncRequest
	if err := Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: sync request: %w", ErrBadMessage, err)
	}
	if len(m.Want) > MaxWants || len(m.Have) > MaxWants {
		return nil, fmt.Errorf("%w: sync request names over %d logs", ErrBadMessage, MaxWants)
	}
	for _, p := range append(append([]LogPos{}, m.Want...), m.Have...) {
		if _, err := peer.IDFromBytes(p.Author); err != nil {
			return nil, fmt.Errorf("%w: sync request: author: %v", ErrBadMessage, err)
		}
		if p.CID != nil {
			if _, err := cid.Cast(p.CID); err != nil { // empty included: leave it out instead
				return nil, fmt.Errorf("%w: sync request: cid: %v", ErrBadMessage, err)
			}
		}
	}
	return &m, nil
}

// Connect statuses.
const (
	ConnectPending  = "pending"
	ConnectAccepted = "accepted"
	ConnectDeclined = "declined"
	// ConnectInviteInvalid answers a request whose invite secret is
	// unknown, used or expired; the request is not kept.
	ConnectInviteInvalid = "invite-invalid"
	// ConnectDisconnected tells a connection that From ended the
	// connection (and acknowledges such a message).
	ConnectDisconnected = "disconnected"
	// ConnectBusy answers a request that was not kept: the receiver holds
	// as many pending requests as it keeps (in all, or from the
	// requester's address). The requester may ask again later.
	ConnectBusy = "busy"
)

// ConnectMsg is a /kith/connect/1.0.0 message: a request (Status "") or an
// answer. It is signed by From; the stream's remote peer must be From.
type ConnectMsg struct {
	From   []byte `cbor:"from"`
	To     []byte `cbor:"to"`
	Status string `cbor:"status"`
	Note   string `cbor:"note"`
	Invite []byte `cbor:"invite"` // the secret of an invite code, or empty
	Time   int64  `cbor:"time"`
	Sig    []byte `cbor:"sig,omitempty"`
}

var connectDomain = []byte("kith/connect/v1\n")

func (m *ConnectMsg) signingBytes() ([]byte, error) {
	u := *m
	u.Sig = nil
	b, err := Marshal(&u)
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, connectDomain...), b...), nil
}

// Sign signs m with sign, an Ed25519 signer for From.
func (m *ConnectMsg) Sign(sign func([]byte) ([]byte, error)) error {
	msg, err := m.signingBytes()
	if err != nil {
		return err
	}
	m.Sig, err = sign(msg)
	return err
}

// DecodeConnectMsg parses and verifies a connect message from untrusted
// bytes: structure, limits, and From's signature.
func DecodeConnectMsg(b []byte) (*ConnectMsg, error) {
	var m ConnectMsg
	if err := Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: connect: %w", ErrBadMessage, err)
	}
	switch m.Status {
	case "", ConnectPending, ConnectAccepted, ConnectDeclined, ConnectInviteInvalid, ConnectDisconnected, ConnectBusy:
	default:
		return nil, fmt.Errorf("%w: connect: status %q", ErrBadMessage, m.Status)
	}
	if len(m.Note) > MaxNoteLen || len(m.Invite) > 64 {
		return nil, fmt.Errorf("%w: connect: note or invite too long", ErrBadMessage)
	}
	from, err := peer.IDFromBytes(m.From)
	if err != nil {
		return nil, fmt.Errorf("%w: connect: from: %v", ErrBadMessage, err)
	}
	if _, err := peer.IDFromBytes(m.To); err != nil {
		return nil, fmt.Errorf("%w: connect: to: %v", ErrBadMessage, err)
	}
	pk, err := from.ExtractPublicKey()
	if err != nil || pk.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: connect: from is not an Ed25519 peer ID", ErrBadMessage)
	}
	raw, _ := pk.Raw()
	msg, err := m.signingBytes()
	if err != nil {
		return nil, err
	}
	if len(m.Sig) != SignatureSize || !ed25519.Verify(raw, msg, m.Sig) {
		return nil, fmt.Errorf("%w: connect", ErrBadSignature)
	}
	return &m, nil
}

// Invite is a one-time connection code: who to dial, where, and a secret
// that makes the invitee's request accepted without a prompt.
type Invite struct {
	Peer    []byte   `cbor:"p"`
	Addrs   [][]byte `cbor:"a"` // multiaddr bytes
	Secret  []byte   `cbor:"s"` // 16 random bytes
	Expires int64    `cbor:"e"` // Unix seconds
}

// InvitePrefix starts every invite code's text.
const InvitePrefix = "kith1"

var inviteEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// String returns the invite's text form: "kith1" + base32(DAG-CBOR).
func (inv *Invite) String() string {
	b, err := Marshal(inv)
	if err != nil {
		panic("bug: encoding invite: " + err.Error())
	}
	return InvitePrefix + inviteEncoding.EncodeToString(b)
}

// PeerID returns the inviting peer.
func (inv *Invite) PeerID() peer.ID { return peer.ID(inv.Peer) }

// Multiaddrs returns the invite's addresses.
func (inv *Invite) Multiaddrs() []ma.Multiaddr {
	out := make([]ma.Multiaddr, 0, len(inv.Addrs))
	for _, a := range inv.Addrs {
		if m, err := ma.NewMultiaddrBytes(a); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// ParseInvite parses an invite code's text form.
func ParseInvite(s string) (*Invite, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxInviteLen {
		return nil, fmt.Errorf("%w: %d characters, limit %d", ErrBadInvite, len(s), MaxInviteLen)
	}
	if !strings.HasPrefix(s, InvitePrefix) {
		return nil, fmt.Errorf("%w: does not start with %q", ErrBadInvite, InvitePrefix)
	}
	b, err := inviteEncoding.DecodeString(strings.ToLower(s[len(InvitePrefix):]))
	if err != nil {
		return nil, fmt.Errorf("%w: %v (was it copied whole?)", ErrBadInvite, err)
	}
	var inv Invite
	if err := Unmarshal(b, &inv); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInvite, err)
	}
	if _, err := peer.IDFromBytes(inv.Peer); err != nil {
		return nil, fmt.Errorf("%w: peer: %v", ErrBadInvite, err)
	}
	if len(inv.Secret) != 16 || len(inv.Addrs) > MaxInviteAddrs {
		return nil, fmt.Errorf("%w: bad secret or too many addresses", ErrBadInvite)
	}
	for _, a := range inv.Addrs {
		if _, err := ma.NewMultiaddrBytes(a); err != nil {
			return nil, fmt.Errorf("%w: address: %v", ErrBadInvite, err)
		}
	}
	return &inv, nil
}
