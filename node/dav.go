package node

import (
	"cmp"
	"context"
	"fmt"
	"sync"

	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/dav"
)

// The DAV server (node/dav): the node serves its address book over
// CardDAV on 127.0.0.1 while its settings say so. The settings live in
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
	srv, err := dav.Listen(n, s.Port, s.Hash, n.log.With("service", "dav"))
	if err != nil {
		n.log.Warn("DAV server not started", "err", err)
		n.dav.err = err.Error()
		return nil
	}
	n.dav.srv = srv
	n.log.Info("DAV server listening", "url", srv.URL())
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
	password, hash, err := dav.NewPassword()
	if err != nil {
		return nil, err
	}
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	port := cmp.Or(req.Port, dav.DefaultPort)
	srv := n.dav.srv
	if srv != nil && srv.Port() == port {
		srv.SetPassword(hash)
	} else {
		fresh, err := dav.Listen(n, port, hash, n.log.With("service", "dav"))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", api.ErrInvalid, err)
		}
		if srv != nil {
			srv.Close()
		}
		srv, n.dav.srv = fresh, fresh
	}
	n.dav.err = ""
	if err := n.saveDAV(dav.Settings{Enabled: true, Port: srv.Port(), Hash: hash}); err != nil {
		return nil, err
	}
	return &api.DAVCredentials{URL: srv.URL(), Username: dav.Username, Password: password}, nil
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
	url := fmt.Sprintf("http://127.0.0.1:%d/", s.Port)
	if n.dav.srv != nil {
		n.dav.srv.SetPassword(hash)
		url = n.dav.srv.URL()
	}
	return &api.DAVCredentials{URL: url, Username: dav.Username, Password: password}, nil
}

// DAVDisable implements api.API.
func (n *Node) DAVDisable(ctx context.Context) error {
	n.dav.mu.Lock()
	defer n.dav.mu.Unlock()
	if err := n.saveDAV(dav.Settings{Port: n.dav.settings.Port}); err != nil {
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
	st := &api.DAVStatus{Enabled: s.Enabled, Port: s.Port, Error: n.dav.err}
	if s.Enabled {
		st.Username = dav.Username
	}
	if n.dav.srv != nil {
		st.Running, st.URL, st.Port = true, n.dav.srv.URL(), n.dav.srv.Port()
	}
	return st, nil
}
