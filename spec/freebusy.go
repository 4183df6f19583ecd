package spec

import (
	"fmt"
	"time"
)

// /kith/freebusy/1.0.0 (SPEC.md "Protocols"): one request frame, one
// response frame.
const (
	// ProtoFreeBusy asks a connection when it is busy.
	ProtoFreeBusy = "/kith/freebusy/1.0.0"
	// MaxFreeBusyRange bounds the window of one request.
	MaxFreeBusyRange = 62 * 24 * time.Hour
	// MaxFreeBusyBlocks bounds the busy blocks of one response.
	MaxFreeBusyBlocks = 2048
	// MaxFreeBusyRequest and MaxFreeBusyResponse bound the frames.
	MaxFreeBusyRequest  = 64
	MaxFreeBusyResponse = 16 + MaxFreeBusyBlocks*24
)

// Statuses of a free/busy response.
const (
	FreeBusyOK      = "ok"      // Busy holds the blocks
	FreeBusyDenied  = "denied"  // the responder shares its free/busy with none of my circles
	FreeBusyRange   = "range"   // the window is empty or too long
	FreeBusyLimited = "limited" // too many requests: ask later
)

// FreeBusyRequest asks for the busy blocks in [From, To), Unix seconds.
type FreeBusyRequest struct {
	From int64 `cbor:"f"`
	To   int64 `cbor:"t"`
}

// Busy is one busy block [Start, End), Unix seconds.
type Busy struct {
	Start int64 `cbor:"s"`
	End   int64 `cbor:"e"`
}

// FreeBusyResponse answers a request: a status and, when "ok", the busy
// blocks, by start, merged (none overlaps or touches another), clipped to
// the window.
type FreeBusyResponse struct {
	Status string `cbor:"st"`
	Busy   []Busy `cbor:"b,omitempty"`
}

// CheckWindow reports whether [from, to) is a window a request may ask.
func (r FreeBusyRequest) CheckWindow() error {
	if r.To <= r.From || time.Duration(r.To-r.From)*time.Second > MaxFreeBusyRange || r.From < 0 {
		return fmt.Errorf("%w: free/busy window [%d, %d): empty, negative or over %d days", ErrBadMessage, r.From, r.To, int(MaxFreeBusyRange.Hours()/24))
	}
	return nil
}

// DecodeFreeBusyRequest parses a request from untrusted bytes.
func DecodeFreeBusyRequest(b []byte) (*FreeBusyRequest, error) {
	if len(b) > MaxFreeBusyRequest {
		return nil, fmt.Errorf("%w: free/busy request of %d bytes", ErrBadMessage, len(b))
	}
	var m FreeBusyRequest
	if err := Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: free/busy request: %w", ErrBadMessage, err)
	}
	if err := m.CheckWindow(); err != nil {
		return nil, err
	}
	return &m, nil
}

// DecodeFreeBusyResponse parses the answer to req from untrusted bytes: a
// known status, and blocks within req's window, by start, not touching.
func DecodeFreeBusyResponse(b []byte, req FreeBusyRequest) (*FreeBusyResponse, error) {
	if len(b) > MaxFreeBusyResponse {
		return nil, fmt.Errorf("%w: free/busy response of %d bytes", ErrBadMessage, len(b))
	}
	var m FreeBusyResponse
	if err := Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: free/busy response: %w", ErrBadMessage, err)
	}
	switch m.Status {
	case FreeBusyOK:
	case FreeBusyDenied, FreeBusyRange, FreeBusyLimited:
		if len(m.Busy) > 0 {
			return nil, fmt.Errorf("%w: free/busy response %q with blocks", ErrBadMessage, m.Status)
		}
		return &m, nil
	default:
		return nil, fmt.Errorf("%w: free/busy status %q", ErrBadMessage, m.Status)
	}
	if len(m.Busy) > MaxFreeBusyBlocks {
		return nil, fmt.Errorf("%w: %d busy blocks, limit %d", ErrBadMessage, len(m.Busy), MaxFreeBusyBlocks)
	}
	last := req.From - 1
	for _, x := range m.Busy {
		if x.Start <= last || x.End <= x.Start || x.Start < req.From || x.End > req.To {
			return nil, fmt.Errorf("%w: busy block [%d, %d) out of order, empty or outside [%d, %d)", ErrBadMessage, x.Start, x.End, req.From, req.To)
		}
		last = x.End
	}
	return &m, nil
}
