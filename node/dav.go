package node

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/dav"
)

// The DAV server (node/dav): the node serves its address book over
// CardDAV and its calendar over CalDAV, on 127.0.0.1 (or, over TLS, on
// another address) while its settings say so. The settings live in
// the home (dav.json); a node without a home (a test's) keeps them in
// memory.

// davState is the DAV server's settings and the server running them.
type davState struct {
	mu       sync.Mutex
	settings dav.Settings
	srv      *dav.Server
	err      string // why an enabled server is not running
}

// startDAV starts the DAV server when the home's settings enable it. A
// port that is taken or a damaged settings file does not stop the node:
// DAVStatus says so.
func (n *Node) startDAV() error {
	n.closers = append(n.closers, n.closeDAV)
	if n.home == "" {
		return nil
	}
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	s, err := dav.LoadSettings(n.home)
	if err != nil {
		// The address book matters more than its DAV server: start, and
		// let DAVStatus say what is wrong.
		n.log.Warn("DAV server not started", "err", err)
		n.dav.err = err.Error()
		return nil
	}
	n.dav.settings = s
	if !s.Enabled {
		return nil
	}
	srv, err := dav.Listen(n, s, n.home, n.log.With("service", "dav"))
	if err != nil {
		n.log.Warn("DAV server not started", "err", err)
		n.dav.err = err.Error()
		return nil
	}
	n.dav.srv = srv
	n.log.Info("DAV server listening", "url", srv.URL(), "tls_fingerprint", srv.Fingerprint())
	return nil
}

func (n *Node) closeDAV() error {
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	if n.dav.srv == nil {
		return nil
	}
	err := n.dav.srv.Close()
	n.dav.srv = nil
	return err
}

// saveDAV keeps s (the caller holds n.dav.mu).
func (n *Node) saveDAV(s dav.Settings) error {
	if n.home != "" {
		if err := dav.SaveSettings(n.home, s); err != nil {
			return fmt.Errorf("saving the DAV settings: %w", err)
		}
	}
	n.dav.settings = s
	return nil
}

// DAVEnable implements api.API.
func (n *Node) DAVEnable(ctx context.Context, req api.DAVEnableRequest) (*api.DAVCredentials, error) {
	if req.Port < 0 || req.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d is not a TCP port (1-65535)", api.ErrInvalid, req.Port)
	}
	s := dav.Settings{Enabled: true, Port: cmp.Or(req.Port, dav.DefaultPort), Listen: req.Listen, TLS: req.TLS}
	host, err := s.Host()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if host.IsLoopback() {
		if host == netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
			s.Listen = "" // the default, kept as such
		}
	} else {
		s.TLS = true // the network is not to be trusted with the password
	}
	password, hash, err := dav.NewPassword()
	if err != nil {
		return nil, err
	}
	s.Hash = hash
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	srv := n.dav.srv
	old := n.dav.settings
	if srv != nil && srv.Port() == s.Port && old.Listen == s.Listen && old.TLS == s.TLS {
		srv.SetPassword(hash)
	} else {
		log := n.log.With("service", "dav")
		fresh, err := dav.Listen(n, s, n.home, log)
		if err != nil && srv != nil && srv.Port() == s.Port {
			// The same port on another address or with TLS: the old
			// server gives it up, and comes back if the new one fails.
			srv.Close()
			n.dav.srv = nil
			if fresh, err = dav.Listen(n, s, n.home, log); err != nil {
				if back, berr := dav.Listen(n, old, n.home, log); berr == nil {
					n.dav.srv = back
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", api.ErrInvalid, err)
		}
		if n.dav.srv != nil {
			n.dav.srv.Close() // the old server, on another port
		}
		srv, n.dav.srv = fresh, fresh
	}
	n.dav.err = ""
	s.Port = srv.Port()
	if err := n.saveDAV(s); err != nil {
		return nil, err
	}
	return &api.DAVCredentials{URL: srv.URL(), Username: dav.Username, Password: password, Fingerprint: srv.Fingerprint()}, nil
}

// DAVPassword implements api.API.
func (n *Node) DAVPassword(ctx context.Context) (*api.DAVCredentials, error) {
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	s := n.dav.settings
	if !s.Enabled {
		return nil, fmt.Errorf("%w: the DAV server is not enabled: `kith dav enable` makes a password", api.ErrInvalid)
	}
	password, hash, err := dav.NewPassword()
	if err != nil {
		return nil, err
	}
	s.Hash = hash
	// Saved first: a password that works now must work after a restart.
	if err := n.saveDAV(s); err != nil {
		return nil, err
	}
	cr := &api.DAVCredentials{URL: s.URL(), Username: dav.Username, Password: password}
	if n.dav.srv != nil {
		n.dav.srv.SetPassword(hash)
		cr.URL, cr.Fingerprint = n.dav.srv.URL(), n.dav.srv.Fingerprint()
	}
	return cr, nil
}

// DAVDisable implements api.API.
func (n *Node) DAVDisable(ctx context.Context) error {
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	off := n.dav.settings
	off.Enabled, off.Hash = false, ""
	if err := n.saveDAV(off); err != nil {
		return err
	}
	n.dav.err = ""
	if n.dav.srv == nil {
		return nil
	}
	err := n.dav.srv.Close()
	n.dav.srv = nil
	return err
}

// DAVStatus implements api.API.
func (n *Node) DAVStatus(ctx context.Context) (*api.DAVStatus, error) {
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	s := n.dav.settings
	st := &api.DAVStatus{Enabled: s.Enabled, Port: s.Port, Listen: cmp.Or(s.Listen, "127.0.0.1"), Error: n.dav.err}
	if s.Enabled {
		st.Username = dav.Username
	}
	if srv := n.dav.srv; srv != nil {
		st.Running, st.URL, st.Port, st.Fingerprint = true, srv.URL(), srv.Port(), srv.Fingerprint()
		if urls := srv.URLs(); len(urls) > 1 {
			st.URLs = urls
		}
	}
	return st, nil
}
