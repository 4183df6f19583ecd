package dav

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Server is the DAV server listening on 127.0.0.1.
type Server struct {
	h      *PasswordHandler
	ln     net.Listener
	srv    *http.Server
	served chan struct{}
}

// Listen serves b's address book and calendar on 127.0.0.1:port (0: any free port) to the holder of
// the password whose bcrypt hash is hash, until Close.
func Listen(b Source, port int, hash string, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("DAV: listening on 127.0.0.1:%d: %w (another program uses the port? pick another with `kith dav enable --port N`)", port, err)
	}
	h := Handler(b, hash, log)
	s := &Server{
		h:  h,
		ln: ln,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// SetPassword replaces the app password (its bcrypt hash): the old one
// stops working at once.
func (s *Server) SetPassword(hash string) { s.h.SetPassword(hash) }

// URL is where clients find the server.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

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
