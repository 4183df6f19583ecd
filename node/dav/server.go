package dav

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzhttp"
)

// Server is the DAV server.
type Server struct {
	h           *PasswordHandler
	ln          net.Listener
	srv         *http.Server
	host        netip.Addr
	fingerprint string // of the TLS certificate; empty without TLS
	served      chan struct{}
}

// Listen serves b's address book and calendar as s says (its address,
// port and TLS; port 0 is any free port) to the holder of the password
// whose bcrypt hash is s.Hash, until Close. With TLS, the certificate
// is the one kept in home (made when there is none; in memory when home
// is empty).
func Listen(b Source, s Settings, home string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, err := s.Host()
	if err != nil {
		return nil, err
	}
	if !host.IsLoopback() && !s.TLS {
		return nil, s.Check()
	}
	addr := net.JoinHostPort(host.String(), strconv.Itoa(s.Port))
	var cert tls.Certificate
	if s.TLS {
		if cert, err = loadCert(home, host, time.Now()); err != nil {
			return nil, fmt.Errorf("DAV: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("DAV: listening on %s: %w (another program uses the port? pick another with `kith dav enable --port N`)", addr, err)
	}
	h := Handler(b, s.Hash, log)
	// Listings are compressed for clients that accept it: a PROPFIND of
	// 10,000 cards is 3.6 MB of XML, a tenth of that gzipped (a phone
	// on the LAN). ETags stay as they are: clients send them back in
	// If-Match.
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(4096))
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &Server{
		h:    h,
		ln:   ln,
		host: host,
		srv: &http.Server{
			Handler:           gz(h),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		served: make(chan struct{}),
	}
	if s.TLS {
		srv.fingerprint = Fingerprint(cert.Certificate[0])
		srv.ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		})
	}
	go func() {
		defer close(srv.served)
		srv.srv.Serve(srv.ln)
	}()
	return srv, nil
}

// SetPassword replaces the app password (its bcrypt hash): the old one
// stops working at once.
func (s *Server) SetPassword(hash string) { s.h.SetPassword(hash) }

// URL is where clients find the server: on a server listening on every
// interface, at the machine's first address (URLs lists them all).
func (s *Server) URL() string { return s.URLs()[0] }

// URLs are the addresses clients may use, the one to give first.
func (s *Server) URLs() []string {
	scheme := "http"
	if s.fingerprint != "" {
		scheme = "https"
	}
	hosts := []netip.Addr{s.host}
	if s.host.IsUnspecified() {
		// 0.0.0.0 takes IPv4 only; :: takes both.
		hosts = hosts[:0]
		for _, a := range localAddrs() {
			if a.Is4() || s.host.Is6() {
				hosts = append(hosts, a)
			}
		}
		hosts = append(hosts, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	urls := make([]string, len(hosts))
	for i, h := range hosts {
		urls[i] = scheme + "://" + net.JoinHostPort(h.String(), strconv.Itoa(s.Port())) + "/"
	}
	return urls
}

// Fingerprint is the SHA-256 fingerprint of the server's TLS certificate,
// empty without TLS.
func (s *Server) Fingerprint() string { return s.fingerprint }

// Port is the port it listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server, letting requests under way finish for a few
// seconds.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.served
	return err
}
