// Package freebusy is the /kith/freebusy/1.0.0 service: a connection asks
// when I am busy in a window and gets busy blocks without titles (merged
// intervals), if one of its circles is allowed to ask (kith freebusy
// allow). Windows are bounded (spec.MaxFreeBusyRange) and so is the rate
// of requests per peer (the node's inbound limiter, and the service's own).
//
// [Service] is safe for concurrent use; [New] registers its handler and
// [Service.Close] removes it and waits for every handler.
package freebusy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/internal/p2putil"
	"github.com/kith-p2p/kith/spec"
)

// ServiceName names the service to the resource manager.
const ServiceName = "kith.freebusy"

// Source is what the service answers from.
type Source interface {
	// Allowed reports whether p may see my free/busy: a connection in a
	// circle I allow.
	Allowed(ctx context.Context, p peer.ID) (bool, error)
	// Busy returns my busy blocks in [from, to), merged, by start.
	Busy(ctx context.Context, from, to time.Time) ([]spec.Busy, error)
}

// Tuning holds the service's limits.
type Tuning struct {
	Timeout time.Duration // bounds one exchange
	// PerMinute and Burst limit the requests a peer may make.
	PerMinute float64
	Burst     int
}

// DefaultTuning is what a daemon runs with.
var DefaultTuning = Tuning{Timeout: 20 * time.Second, PerMinute: 30, Burst: 10}

// Errors of a query.
var (
	// ErrDenied: the peer does not share its free/busy with me.
	ErrDenied = fmt.Errorf("%w: that peer does not share its free/busy with any circle you are in (they can: kith freebusy allow <circle>)", api.ErrForbidden)
	// ErrLimited: too many requests; ask later.
	ErrLimited = fmt.Errorf("%w: that peer answers a few free/busy requests a minute; ask again in a minute", api.ErrForbidden)
)

// Config wires a Service.
type Config struct {
	Host    host.Host
	Source  Source
	Limiter *p2putil.Limiter // the node's inbound limiter, shared with the other services
	Tuning  Tuning
	Log     *slog.Logger
}

// Service is the free/busy service.
type Service struct {
	host    host.Host
	src     Source
	inbound *p2putil.Limiter
	own     *p2putil.Limiter
	t       Tuning
	log     *slog.Logger
	g       *p2putil.Group
}

// New starts the service and registers its handler.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Tuning == (Tuning{}) {
		c.Tuning = DefaultTuning
	}
	s := &Service{host: c.Host, src: c.Source, inbound: c.Limiter, t: c.Tuning, log: c.Log, g: p2putil.NewGroup(),
		own: p2putil.NewLimiter(c.Tuning.PerMinute/60, c.Tuning.Burst)}
	s.host.SetStreamHandler(spec.ProtoFreeBusy, s.g.Handler(ServiceName, s.log, s.handle))
	return s
}

// Close removes the handler and waits for the handlers running.
func (s *Service) Close() error {
	s.host.RemoveStreamHandler(spec.ProtoFreeBusy)
	s.g.Close()
	return nil
}

func (s *Service) handle(str network.Stream) {
	remote := str.Conn().RemotePeer()
	if s.inbound != nil && !s.inbound.Allow(remote) {
		str.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(s.g.Context(), s.t.Timeout)
	defer cancel()
	_, stop := p2putil.Watchdog(ctx, str, s.t.Timeout)
	defer stop()
	str.SetDeadline(time.Now().Add(s.t.Timeout))
	frame, err := spec.ReadFrame(bufio.NewReader(str), spec.MaxFreeBusyRequest)
	if err != nil {
		str.Reset()
		return
	}
	resp := s.answer(ctx, remote, frame)
	if err := p2putil.WriteMsg(str, resp); err != nil {
		str.Reset()
		return
	}
	str.Close()
}

// answer decides the response to p's request frame.
func (s *Service) answer(ctx context.Context, p peer.ID, frame []byte) spec.FreeBusyResponse {
	ok, err := s.src.Allowed(ctx, p)
	if err != nil {
		s.log.Warn("deciding a free/busy request", "peer", p, "err", err)
		return spec.FreeBusyResponse{Status: spec.FreeBusyDenied}
	}
	if !ok {
		return spec.FreeBusyResponse{Status: spec.FreeBusyDenied}
	}
	if !s.own.Allow(p) {
		return spec.FreeBusyResponse{Status: spec.FreeBusyLimited}
	}
	req, err := spec.DecodeFreeBusyRequest(frame)
	if err != nil {
		return spec.FreeBusyResponse{Status: spec.FreeBusyRange}
	}
	busy, err := s.src.Busy(ctx, time.Unix(req.From, 0), time.Unix(req.To, 0))
	if err != nil {
		s.log.Warn("reading my free/busy", "peer", p, "err", err)
		return spec.FreeBusyResponse{Status: spec.FreeBusyDenied}
	}
	if len(busy) > spec.MaxFreeBusyBlocks {
		busy = busy[:spec.MaxFreeBusyBlocks]
	}
	return spec.FreeBusyResponse{Status: spec.FreeBusyOK, Busy: busy}
}

// Query asks p for its busy blocks in [from, to).
func (s *Service) Query(ctx context.Context, p peer.ID, from, to time.Time) ([]spec.Busy, error) {
	req := spec.FreeBusyRequest{From: from.Unix(), To: to.Unix()}
	if err := req.CheckWindow(); err != nil {
		return nil, fmt.Errorf("%w: the window must be non-empty and at most %d days", api.ErrInvalid, int(spec.MaxFreeBusyRange.Hours()/24))
	}
	ctx, cancel := context.WithTimeout(ctx, s.t.Timeout)
	defer cancel()
	str, err := s.host.NewStream(network.WithAllowLimitedConn(ctx, "kith-freebusy"), p, spec.ProtoFreeBusy)
	if err != nil {
		return nil, fmt.Errorf("%w: opening a free/busy stream to %s: %v", api.ErrUnreachable, p, err)
	}
	if err := str.Scope().SetService(ServiceName); err != nil {
		str.Reset()
		return nil, fmt.Errorf("free/busy stream to %s: %w", p, err)
	}
	defer str.Close()
	_, stop := p2putil.Watchdog(ctx, str, s.t.Timeout)
	defer stop()
	if err := p2putil.WriteMsg(str, req); err != nil {
		str.Reset()
		return nil, fmt.Errorf("%w: asking %s: %v", api.ErrUnreachable, p, err)
	}
	frame, err := spec.ReadFrame(bufio.NewReader(str), spec.MaxFreeBusyResponse)
	if err != nil {
		str.Reset()
		if errors.Is(err, spec.ErrFrameTooLarge) || errors.Is(err, spec.ErrBadMessage) {
			return nil, fmt.Errorf("reading %s's free/busy: %w", p, err)
		}
		return nil, fmt.Errorf("%w: reading %s's free/busy: %v", api.ErrUnreachable, p, err)
	}
	resp, err := spec.DecodeFreeBusyResponse(frame, req)
	if err != nil {
		return nil, fmt.Errorf("reading %s's free/busy: %w", p, err)
	}
	switch resp.Status {
	case spec.FreeBusyDenied:
		return nil, ErrDenied
	case spec.FreeBusyLimited:
		return nil, ErrLimited
	case spec.FreeBusyRange:
		return nil, fmt.Errorf("%w: %s refused the window", api.ErrInvalid, p)
	}
	if resp.Busy == nil {
		resp.Busy = []spec.Busy{}
	}
	return resp.Busy, nil
}
