package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"

	"github.com/kith-p2p/kith/graph"
)

// Client talks to a daemon over its unix socket.
type Client struct {
	socket string
	http   *http.Client
}

var _ API = (*Client)(nil)

// NewClient returns a client for the daemon listening on socketPath.
func NewClient(socketPath string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns: 4,
	}
	return &Client{socket: socketPath, http: &http.Client{Transport: tr}}
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://kith/api/v0"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return &Error{Code: "not_running", Message: fmt.Sprintf("%s (no socket at %s); start it with `kith daemon` (or `make run`)", ErrDaemonNotRunning, c.socket)}
		}
		return fmt.Errorf("calling the daemon at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e Error
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err != nil || e.Code == "" {
			return &Error{Code: "internal", Message: fmt.Sprintf("daemon answered %s", resp.Status)}
		}
		return &e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the daemon's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// ID implements API.
func (c *Client) ID(ctx context.Context) (*Identity, error) {
	var v Identity
	return &v, c.do(ctx, "GET", "/id", nil, &v)
}

// Status implements API.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var v Status
	return &v, c.do(ctx, "GET", "/status", nil, &v)
}

// Repair implements API.
func (c *Client) Repair(ctx context.Context) (*RepairReport, error) {
	var v RepairReport
	return &v, c.do(ctx, "POST", "/repair", nil, &v)
}

// Check implements API.
func (c *Client) Check(ctx context.Context) (*CheckReport, error) {
	var v CheckReport
	return &v, c.do(ctx, "POST", "/check", nil, &v)
}

// Me implements API.
func (c *Client) Me(ctx context.Context, circle string) (*Profile, error) {
	var v Profile
	return &v, c.do(ctx, "GET", "/me?circle="+url.QueryEscape(circle), nil, &v)
}

// SetMe implements API.
func (c *Client) SetMe(ctx context.Context, req SetMeRequest) (*Profile, error) {
	var v Profile
	return &v, c.do(ctx, "POST", "/me/set", req, &v)
}

// UnsetMe implements API.
func (c *Client) UnsetMe(ctx context.Context, req UnsetMeRequest) (*Profile, error) {
	var v Profile
	return &v, c.do(ctx, "POST", "/me/unset", req, &v)
}

// Circles implements API.
func (c *Client) Circles(ctx context.Context) ([]Circle, error) {
	var v []Circle
	return v, c.do(ctx, "GET", "/circles", nil, &v)
}

// AddCircle implements API.
func (c *Client) AddCircle(ctx context.Context, name string) (*Circle, error) {
	var v Circle
	return &v, c.do(ctx, "POST", "/circles", map[string]string{"name": name}, &v)
}

// RemoveCircle implements API.
func (c *Client) RemoveCircle(ctx context.Context, name string, force bool) (*Circle, error) {
	var v Circle
	return &v, c.do(ctx, "DELETE", "/circles/"+url.PathEscape(name)+"?force="+strconv.FormatBool(force), nil, &v)
}

// Contacts implements API.
func (c *Client) Contacts(ctx context.Context) ([]Contact, error) {
	var v []Contact
	return v, c.do(ctx, "GET", "/contacts", nil, &v)
}

// Contact implements API.
func (c *Client) Contact(ctx context.Context, ref string) (*Contact, error) {
	var v Contact
	return &v, c.do(ctx, "GET", "/contacts/"+url.PathEscape(ref), nil, &v)
}

// LookupContacts implements API.
func (c *Client) LookupContacts(ctx context.Context, q ContactLookup) ([]Contact, error) {
	var v []Contact
	return v, c.do(ctx, "POST", "/contacts/lookup", q, &v)
}

// AddContacts implements API.
func (c *Client) AddContacts(ctx context.Context, cards []graph.Card) ([]ContactRef, error) {
	var v []ContactRef
	return v, c.do(ctx, "POST", "/contacts", cards, &v)
}

// CheckContacts implements API.
func (c *Client) CheckContacts(ctx context.Context, cards []graph.Card) ([]CardProblem, error) {
	var v []CardProblem
	return v, c.do(ctx, "POST", "/contacts/check", cards, &v)
}

// EditContact implements API.
func (c *Client) EditContact(ctx context.Context, ref string, card graph.Card) (*Contact, error) {
	var v Contact
	return &v, c.do(ctx, "PUT", "/contacts/"+url.PathEscape(ref), card, &v)
}

// PatchContact implements API.
func (c *Client) PatchContact(ctx context.Context, ref string, p ContactPatch) (*Contact, error) {
	var v Contact
	return &v, c.do(ctx, "PATCH", "/contacts/"+url.PathEscape(ref), p, &v)
}

// RemoveContact implements API.
func (c *Client) RemoveContact(ctx context.Context, ref string) error {
	return c.do(ctx, "DELETE", "/contacts/"+url.PathEscape(ref), nil, nil)
}

// SearchContacts implements API.
func (c *Client) SearchContacts(ctx context.Context, query string) ([]Contact, error) {
	var v []Contact
	return v, c.do(ctx, "GET", "/contacts?q="+url.QueryEscape(query), nil, &v)
}

// Duplicates implements API.
func (c *Client) Duplicates(ctx context.Context) ([]DuplicateGroup, error) {
	var v []DuplicateGroup
	return v, c.do(ctx, "GET", "/duplicates", nil, &v)
}

// MergeContacts implements API.
func (c *Client) MergeContacts(ctx context.Context, into, from string) (*MergeResult, error) {
	var v MergeResult
	return &v, c.do(ctx, "POST", "/merge", MergeRequest{Into: into, From: from}, &v)
}

// Log implements API.
func (c *Client) Log(ctx context.Context, after uint64, limit int) ([]LogEntry, error) {
	var v []LogEntry
	q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {strconv.Itoa(limit)}}
	return v, c.do(ctx, "GET", "/log?"+q.Encode(), nil, &v)
}

// Invite implements API.
func (c *Client) Invite(ctx context.Context, req InviteRequest) (*InviteCode, error) {
	var v InviteCode
	return &v, c.do(ctx, "POST", "/invite", req, &v)
}

// Connect implements API.
func (c *Client) Connect(ctx context.Context, req ConnectRequest) (*ConnectResult, error) {
	var v ConnectResult
	return &v, c.do(ctx, "POST", "/connect", req, &v)
}

// Restore implements API.
func (c *Client) Restore(ctx context.Context, req RestoreRequest) (*RestoreResult, error) {
	var v RestoreResult
	return &v, c.do(ctx, "POST", "/restore", req, &v)
}

// Rotate implements API.
func (c *Client) Rotate(ctx context.Context, req RotateRequest) (*RotateResult, error) {
	var v RotateResult
	return &v, c.do(ctx, "POST", "/rotate", req, &v)
}

// Requests implements API.
func (c *Client) Requests(ctx context.Context) ([]Request, error) {
	var v []Request
	return v, c.do(ctx, "GET", "/requests", nil, &v)
}

// Accept implements API.
func (c *Client) Accept(ctx context.Context, req AcceptRequest) error {
	return c.do(ctx, "POST", "/requests/accept", req, nil)
}

// Decline implements API.
func (c *Client) Decline(ctx context.Context, peerID string) error {
	return c.do(ctx, "POST", "/requests/decline", map[string]string{"peer_id": peerID}, nil)
}

// Peers implements API.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var v []Peer
	return v, c.do(ctx, "GET", "/peers", nil, &v)
}

// AssignCircles implements API.
func (c *Client) AssignCircles(ctx context.Context, req AssignRequest) error {
	return c.do(ctx, "POST", "/peers/assign", req, nil)
}

// Disconnect implements API.
func (c *Client) Disconnect(ctx context.Context, peerID string) error {
	return c.do(ctx, "POST", "/peers/disconnect", map[string]string{"peer_id": peerID}, nil)
}

// ResolveFork implements API.
func (c *Client) ResolveFork(ctx context.Context, peerID string) (int, error) {
	var v struct {
		Dropped int `json:"dropped"`
	}
	err := c.do(ctx, "POST", "/forks/resolve", map[string]string{"peer_id": peerID}, &v)
	return v.Dropped, err
}

// Export implements API: the daemon streams the CAR as the answer's body
// and its result (or an error met midway) in a trailer.
func (c *Client) Export(ctx context.Context, req ExportRequest, w io.Writer) (*ExportResult, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, "POST", "http://kith/api/v0/export", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(hreq)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &Error{Code: "not_running", Message: fmt.Sprintf("%s (no socket at %s); start it with `kith daemon` (or `make run`)", ErrDaemonNotRunning, c.socket)}
		}
		return nil, fmt.Errorf("calling the daemon at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e Error
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err != nil || e.Code == "" {
			return nil, &Error{Code: "internal", Message: fmt.Sprintf("daemon answered %s", resp.Status)}
		}
		return nil, &e
	}
	var out io.Writer = w
	if req.Progress != nil {
		total, _ := strconv.ParseUint(resp.Header.Get(exportTotalHeader), 10, 64)
		skip := 1 // the manifest
		if req.WithKey {
			skip++
		}
		out = io.MultiWriter(w, &sectionCounter{skip: skip, report: func(n uint64) { req.Progress(n, total) }})
	}
	n, err := io.Copy(out, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the export from the daemon: %w", err)
	}
	if s := resp.Trailer.Get(exportErrorHeader); s != "" {
		var e Error
		if err := json.Unmarshal([]byte(s), &e); err != nil || e.Code == "" {
			return nil, &Error{Code: "internal", Message: "the daemon's export failed midway"}
		}
		return nil, &e
	}
	var res ExportResult
	if err := json.Unmarshal([]byte(resp.Trailer.Get(exportResultHeader)), &res); err != nil {
		return nil, fmt.Errorf("the daemon's export ended without its result (was it stopped?): %w", err)
	}
	res.Bytes = n
	return &res, nil
}

// The export's headers and trailers.
const (
	exportTotalHeader  = "Kith-Export-Entries"
	exportResultHeader = "Kith-Export-Result"
	exportErrorHeader  = "Kith-Export-Error"
)

// sectionCounter counts the sections of a CAR v1 stream written to it (a
// uvarint length, then that many bytes; the header first), for progress.
// It keeps no data: the stream is the daemon's, and the file is checked
// by import.
type sectionCounter struct {
	skip     int // sections after the header not counted (manifest, key)
	report   func(uint64)
	header   bool   // the header was skipped
	left     uint64 // bytes left in the current section
	varint   uint64 // length being read
	shift    uint
	sections uint64
}

func (s *sectionCounter) Write(p []byte) (int, error) {
	n := len(p)
	before := s.sections
	for len(p) > 0 {
		if s.left > 0 {
			k := min(uint64(len(p)), s.left)
			s.left, p = s.left-k, p[k:]
			continue
		}
		c := p[0]
		p = p[1:]
		if s.shift < 64 {
			s.varint |= uint64(c&0x7f) << s.shift
		}
		s.shift += 7
		if c&0x80 != 0 {
			continue
		}
		s.left, s.varint, s.shift = s.varint, 0, 0
		if !s.header {
			s.header = true
		} else if s.skip > 0 {
			s.skip--
		} else {
			s.sections++
		}
	}
	if s.sections != before {
		s.report(s.sections)
	}
	return n, nil
}
