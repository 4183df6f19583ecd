package api

import (
	"context"
	"net/http"
)

// DAV is the part of [API] that runs the CardDAV server (node/dav), which
// the phone's and the desktop's own address-book apps sync with.
type DAV interface {
	// DAVEnable starts the DAV server on 127.0.0.1 with a new app
	// password, and keeps it on at every start of the daemon until
	// DAVDisable. The password is in the answer only: it is kept hashed.
	DAVEnable(ctx context.Context, req DAVEnableRequest) (*DAVCredentials, error)
	// DAVPassword replaces the app password; the old one stops working.
	// ErrInvalid when DAV is not enabled.
	DAVPassword(ctx context.Context) (*DAVCredentials, error)
	// DAVDisable stops the server and forgets the password.
	DAVDisable(ctx context.Context) error
	// DAVStatus says whether the server is on, and where.
	DAVStatus(ctx context.Context) (*DAVStatus, error)
}

// DAVEnableRequest asks for the DAV server on Port (0: the default,
// 5232) of Listen (an IP address; empty: 127.0.0.1). TLS serves HTTPS
// with a self-signed certificate; it is required, and implied, on any
// address but a loopback one.
type DAVEnableRequest struct {
	Port   int    `json:"port,omitempty"`
	Listen string `json:"listen,omitempty"`
	TLS    bool   `json:"tls,omitempty"`
}

// DAVCredentials are what a client is set up with.
type DAVCredentials struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
	// Fingerprint is the SHA-256 fingerprint of the server's TLS
	// certificate (colon-separated hex), to compare with what the client
	// shows before trusting it; empty without TLS.
	Fingerprint string `json:"tls_fingerprint,omitempty"`
}

// DAVStatus is the DAV server's state.
type DAVStatus struct {
	Enabled  bool   `json:"enabled"`
	Running  bool   `json:"running"`
	URL      string `json:"url,omitempty"`
	Username string `json:"username,omitempty"`
	Port     int    `json:"port,omitempty"`
	// Listen is the address served on (127.0.0.1 unless set).
	Listen string `json:"listen,omitempty"`
	// URLs are every URL the server answers on, when it listens on
	// every interface; URL is the first.
	URLs []string `json:"urls,omitempty"`
	// Fingerprint is the TLS certificate's SHA-256 fingerprint; empty
	// without TLS.
	Fingerprint string `json:"tls_fingerprint,omitempty"`
	// Error says why an enabled server is not running (its port was
	// taken when the daemon started).
	Error string `json:"error,omitempty"`
}

func davRoutes(route func(string, func(*http.Request) (any, error)), impl DAV) {
	route("POST /api/v0/dav/enable", func(r *http.Request) (any, error) {
		var req DAVEnableRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.DAVEnable(r.Context(), req)
	})
	route("POST /api/v0/dav/password", func(r *http.Request) (any, error) { return impl.DAVPassword(r.Context()) })
	route("POST /api/v0/dav/disable", func(r *http.Request) (any, error) { return nil, impl.DAVDisable(r.Context()) })
	route("GET /api/v0/dav", func(r *http.Request) (any, error) { return impl.DAVStatus(r.Context()) })
}

// DAVEnable implements API.
func (c *Client) DAVEnable(ctx context.Context, req DAVEnableRequest) (*DAVCredentials, error) {
	var v DAVCredentials
	return &v, c.do(ctx, "POST", "/dav/enable", req, &v)
}

// DAVPassword implements API.
func (c *Client) DAVPassword(ctx context.Context) (*DAVCredentials, error) {
	var v DAVCredentials
	return &v, c.do(ctx, "POST", "/dav/password", nil, &v)
}

// DAVDisable implements API.
func (c *Client) DAVDisable(ctx context.Context) error {
	return c.do(ctx, "POST", "/dav/disable", nil, nil)
}

// DAVStatus implements API.
func (c *Client) DAVStatus(ctx context.Context) (*DAVStatus, error) {
	var v DAVStatus
	return &v, c.do(ctx, "GET", "/dav", nil, &v)
}
