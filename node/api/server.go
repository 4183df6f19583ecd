package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// Request bodies are bounded per route: a batch of cards may be large,
// anything else is a few fields.
const (
	// MaxRequestBody bounds the body of a batch of cards (AddContacts):
	// the CLI sends at most 1,000 cards and 8 MiB at once.
	MaxRequestBody = 32 << 20
	// MaxSmallBody bounds every other request body: one card (an entry,
	// spec.MaxEntrySize, as JSON, which may double its photo's base64), a
	// passphrase, a note.
	MaxSmallBody = 16 * spec.MaxEntrySize
)

// Defaults of [HandlerOptions] and [NewServer].
const (
	// DefaultBodyTimeout bounds the reading of one request body: a 32 MiB
	// batch crosses a local socket in well under a second, even on a
	// phone; a client that sends slower is cut off.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultLargeRequests is how many large request bodies (batches of
	// cards) are read and handled at once; more wait their turn. The CLI
	// sends two at a time.
	DefaultLargeRequests = 2
	// DefaultHeaderTimeout bounds the reading of a request's headers.
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout closes a kept-alive connection that sends
	// nothing more.
	DefaultIdleTimeout = 2 * time.Minute
)

// HandlerOptions tunes [HandlerWith]; the zero value gives the defaults.
type HandlerOptions struct {
	Log *slog.Logger
	// BodyTimeout bounds the reading of one request body
	// (DefaultBodyTimeout if 0); handling it afterwards takes what it takes
	// (a restore, a connect).
	BodyTimeout time.Duration
	// LargeRequests bounds the large requests handled at once
	// (DefaultLargeRequests if 0).
	LargeRequests int
}

// NewServer returns an HTTP server for the API handler h with the header
// and idle timeouts set (headerTimeout, idleTimeout: the defaults if 0).
// Bodies are bounded by the handler ([HandlerWith]), which sets a read
// deadline per body rather than one for the whole request (ReadTimeout),
// since a deadline that ran on would cancel a long restore or connect.
func NewServer(h http.Handler, headerTimeout, idleTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(headerTimeout, DefaultHeaderTimeout),
		IdleTimeout:       cmp.Or(idleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
	}
}

// Handler serves impl under /api/v0/ with the default options.
func Handler(impl API, log *slog.Logger) http.Handler {
	return HandlerWith(impl, HandlerOptions{Log: log})
}

// HandlerWith serves impl under /api/v0/.
func HandlerWith(impl API, opts HandlerOptions) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{impl: impl, log: log.With("subsystem", "api"), bodyTimeout: cmp.Or(opts.BodyTimeout, DefaultBodyTimeout),
		large: make(chan struct{}, cmp.Or(opts.LargeRequests, DefaultLargeRequests))}
	mux := http.NewServeMux()
	route := func(pattern string, h func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, MaxSmallBody, h) })
	}
	// bulk is route for a request whose body may be large: one of
	// LargeRequests at a time.
	bulk := func(pattern string, h func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			select {
			case s.large <- struct{}{}:
			case <-r.Context().Done():
				return
			}
			defer func() {
				<-s.large
				s.returnMemory()
			}()
			s.serve(w, r, MaxRequestBody, h)
		})
	}
	mux.HandleFunc("POST /api/v0/export", s.export)
	eventRoutes(route, impl)
	davRoutes(route, impl)
	route("GET /api/v0/id", func(r *http.Request) (any, error) { return impl.ID(r.Context()) })
	route("GET /api/v0/status", func(r *http.Request) (any, error) { return impl.Status(r.Context()) })
	route("POST /api/v0/check", func(r *http.Request) (any, error) { return impl.Check(r.Context()) })
	route("POST /api/v0/repair", func(r *http.Request) (any, error) { return impl.Repair(r.Context()) })
	route("GET /api/v0/me", func(r *http.Request) (any, error) { return impl.Me(r.Context(), r.URL.Query().Get("circle")) })
	route("POST /api/v0/me/set", func(r *http.Request) (any, error) {
		var req SetMeRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.SetMe(r.Context(), req)
	})
	route("POST /api/v0/me/unset", func(r *http.Request) (any, error) {
		var req UnsetMeRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.UnsetMe(r.Context(), req)
	})
	route("GET /api/v0/circles", func(r *http.Request) (any, error) { return impl.Circles(r.Context()) })
	route("POST /api/v0/circles", func(r *http.Request) (any, error) {
		var req struct {
			Name string `json:"name"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.AddCircle(r.Context(), req.Name)
	})
	route("DELETE /api/v0/circles/{name}", func(r *http.Request) (any, error) {
		force, err := strconv.ParseBool(cmp.Or(r.URL.Query().Get("force"), "false"))
		if err != nil {
			return nil, fmt.Errorf("%w: force=%q is not a boolean", ErrInvalid, r.URL.Query().Get("force"))
		}
		return impl.RemoveCircle(r.Context(), r.PathValue("name"), force)
	})
	route("GET /api/v0/contacts", func(r *http.Request) (any, error) {
		if q := r.URL.Query(); q.Has("q") {
			return impl.SearchContacts(r.Context(), q.Get("q"))
		}
		return impl.Contacts(r.Context())
	})
	bulk("POST /api/v0/contacts", func(r *http.Request) (any, error) {
		cards, err := decodeCards(r)
		if err != nil {
			return nil, err
		}
		return impl.AddContacts(r.Context(), cards)
	})
	bulk("POST /api/v0/contacts/check", func(r *http.Request) (any, error) {
		cards, err := decodeCards(r)
		if err != nil {
			return nil, err
		}
		problems, err := impl.CheckContacts(r.Context(), cards)
		if problems == nil && err == nil {
			problems = []CardProblem{}
		}
		return problems, err
	})
	route("POST /api/v0/contacts/lookup", func(r *http.Request) (any, error) {
		var q ContactLookup
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		cs, err := impl.LookupContacts(r.Context(), q)
		if cs == nil && err == nil {
			cs = []Contact{}
		}
		return cs, err
	})
	route("GET /api/v0/contacts/{ref}", func(r *http.Request) (any, error) { return impl.Contact(r.Context(), r.PathValue("ref")) })
	route("PUT /api/v0/contacts/{ref}", func(r *http.Request) (any, error) {
		var card graph.Card
		if err := decode(r, &card); err != nil {
			return nil, err
		}
		return impl.EditContact(r.Context(), r.PathValue("ref"), card)
	})
	route("PATCH /api/v0/contacts/{ref}", func(r *http.Request) (any, error) {
		var p ContactPatch
		if err := decode(r, &p); err != nil {
			return nil, err
		}
		return impl.PatchContact(r.Context(), r.PathValue("ref"), p)
	})
	route("DELETE /api/v0/contacts/{ref}", func(r *http.Request) (any, error) {
		return nil, impl.RemoveContact(r.Context(), r.PathValue("ref"))
	})
	route("GET /api/v0/duplicates", func(r *http.Request) (any, error) { return impl.Duplicates(r.Context()) })
	route("POST /api/v0/merge", func(r *http.Request) (any, error) {
		var req MergeRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.MergeContacts(r.Context(), req.Into, req.From)
	})
	route("GET /api/v0/log", func(r *http.Request) (any, error) {
		q := r.URL.Query()
		after, err1 := uintParam(q.Get("after"))
		limit, err2 := uintParam(q.Get("limit"))
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return impl.Log(r.Context(), after, int(limit))
	})
	route("POST /api/v0/invite", func(r *http.Request) (any, error) {
		var req InviteRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.Invite(r.Context(), req)
	})
	route("POST /api/v0/connect", func(r *http.Request) (any, error) {
		var req ConnectRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.Connect(r.Context(), req)
	})
	route("POST /api/v0/restore", func(r *http.Request) (any, error) {
		var req RestoreRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.Restore(r.Context(), req)
	})
	route("GET /api/v0/requests", func(r *http.Request) (any, error) { return impl.Requests(r.Context()) })
	route("POST /api/v0/requests/accept", func(r *http.Request) (any, error) {
		var req AcceptRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, impl.Accept(r.Context(), req)
	})
	route("POST /api/v0/requests/decline", func(r *http.Request) (any, error) {
		var req struct {
			PeerID string `json:"peer_id"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, impl.Decline(r.Context(), req.PeerID)
	})
	route("GET /api/v0/peers", func(r *http.Request) (any, error) { return impl.Peers(r.Context()) })
	route("POST /api/v0/peers/assign", func(r *http.Request) (any, error) {
		var req AssignRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, impl.AssignCircles(r.Context(), req)
	})
	route("POST /api/v0/peers/disconnect", func(r *http.Request) (any, error) {
		var req struct {
			PeerID string `json:"peer_id"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, impl.Disconnect(r.Context(), req.PeerID)
	})
	route("POST /api/v0/rotate", func(r *http.Request) (any, error) {
		var req RotateRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.Rotate(r.Context(), req)
	})
	route("POST /api/v0/forks/resolve", func(r *http.Request) (any, error) {
		var req struct {
			PeerID string `json:"peer_id"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		n, err := impl.ResolveFork(r.Context(), req.PeerID)
		if err != nil {
			return nil, err
		}
		return map[string]int{"dropped": n}, nil
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no route %s %s", ErrNotFound, r.Method, r.URL.Path))
	})
	return mux
}

type server struct {
	impl        API
	log         *slog.Logger
	bodyTimeout time.Duration
	// large holds a token per large request being handled.
	large chan struct{}
	// bigSince counts the large requests since memory was last returned.
	bigSince atomic.Int32
}

// returnMemory hands the heap a large request grew back to the system once
// no large request is left: Go would keep it for a while, and a daemon
// that sits idle on a phone should not hold a batch's worth of memory.
func (s *server) returnMemory() {
	if s.bigSince.Add(1) > 0 && len(s.large) == 0 {
		s.bigSince.Store(0)
		debug.FreeOSMemory()
	}
}

// limitBody bounds r's body to limit bytes and its reading to the body
// timeout. Call done before writing the response: once the body was read
// to its end it lifts the deadline, so that handling the request may take
// longer; otherwise (a body left unread, too slow or too large) it closes
// the connection after the response, rather than wait for the rest.
func (s *server) limitBody(w http.ResponseWriter, r *http.Request, limit int64) (done func()) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	rc := http.NewResponseController(w)
	if r.ContentLength == 0 || rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)) != nil {
		return func() {}
	}
	b := &deadlineBody{ReadCloser: r.Body, timeout: s.bodyTimeout}
	r.Body = b
	return func() {
		if b.eof {
			rc.SetReadDeadline(time.Time{})
		} else {
			w.Header().Set("Connection", "close")
		}
	}
}

// errBodyTimeout: a request body did not arrive within the body timeout.
var errBodyTimeout = errors.New("too slow")

// deadlineBody turns the error of a body read past its deadline into one
// that says so, and records whether the body was read to its end.
type deadlineBody struct {
	io.ReadCloser
	timeout time.Duration
	eof     bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w: the request body did not arrive within %v", errBodyTimeout, b.timeout)
	}
	return n, err
}

func (s *server) serve(w http.ResponseWriter, r *http.Request, limit int64, h func(*http.Request) (any, error)) {
	// A browser page can reach a unix socket only through a proxy, but a
	// proxy would forward these headers: refuse anything that looks like it.
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		writeError(w, fmt.Errorf("%w: requests from web pages are refused", ErrForbidden))
		return
	}
	if r.ContentLength > limit {
		writeError(w, tooLarge(limit))
		return
	}
	bodyRead := s.limitBody(w, r, limit)
	v, err := h(r)
	bodyRead()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		if Code(err) == "internal" {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Warn("writing response", "err", err)
	}
}

// export streams impl's export as the body: the total in a header, the
// result, or an error met once the body has begun, in a trailer.
func (s *server) export(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		writeError(w, fmt.Errorf("%w: requests from web pages are refused", ErrForbidden))
		return
	}
	bodyRead := s.limitBody(w, r, MaxSmallBody)
	var req ExportRequest
	err := decode(r, &req)
	bodyRead()
	if err != nil {
		writeError(w, err)
		return
	}
	req.Progress = func(done, total uint64) {
		if done == 0 {
			w.Header().Set(exportTotalHeader, strconv.FormatUint(total, 10))
		}
	}
	w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
	w.Header().Set("Trailer", exportResultHeader+", "+exportErrorHeader)
	bw := &startedWriter{w: w}
	res, err := s.impl.Export(r.Context(), req, bw)
	clear(req.Passphrase)
	switch {
	case err != nil && !bw.started:
		if !errors.Is(err, context.Canceled) {
			w.Header().Del("Trailer")
			writeError(w, err)
		}
	case err != nil:
		s.log.Warn("export failed midway", "err", err)
		b, _ := json.Marshal(Error{Code: Code(err), Message: err.Error()})
		w.Header().Set(exportErrorHeader, string(b))
	default:
		b, _ := json.Marshal(res)
		w.Header().Set(exportResultHeader, string(b))
	}
}

// startedWriter records whether anything was written.
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}

var statusOf = map[string]int{
	"not_found":      http.StatusNotFound,
	"invalid":        http.StatusBadRequest,
	"exists":         http.StatusConflict,
	"ambiguous":      http.StatusConflict,
	"not_empty":      http.StatusConflict,
	"forbidden":      http.StatusForbidden,
	"too_large":      http.StatusRequestEntityTooLarge,
	"unreachable":    http.StatusBadGateway,
	"declined":       http.StatusForbidden,
	"invite_invalid": http.StatusGone,
	"no_log":         http.StatusServiceUnavailable,
}

func writeError(w http.ResponseWriter, err error) {
	code := Code(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Error{Code: code, Message: err.Error()})
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	return decodeEnd(dec)
}

// decodeCards reads a JSON array of cards one card at a time, so that the
// decoder holds one card's text, not the whole body's.
func decodeCards(r *http.Request) ([]graph.Card, error) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if t, err := dec.Token(); err != nil {
		return nil, bodyError(err)
	} else if t != json.Delim('[') {
		return nil, fmt.Errorf("%w: decoding request: want an array of cards", ErrInvalid)
	}
	var cards []graph.Card
	for dec.More() {
		var c graph.Card
		if err := dec.Decode(&c); err != nil {
			return nil, bodyError(err)
		}
		cards = append(cards, c)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bodyError(err)
	}
	return cards, decodeEnd(dec)
}

// decodeEnd checks that nothing follows the request.
func decodeEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge(tooBig.Limit)
		}
		return fmt.Errorf("%w: trailing data after the request", ErrInvalid)
	}
	return nil
}

// bodyError is the error of a request body that did not decode.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(tooBig.Limit)
	case errors.Is(err, errBodyTimeout):
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return fmt.Errorf("%w: decoding request: %v", ErrInvalid, err)
}

// tooLarge says a request body is over limit bytes.
func tooLarge(limit int64) error {
	if limit >= MaxRequestBody {
		return fmt.Errorf("%w: request body over %d bytes (%d MiB); send fewer cards per request", ErrTooLarge, limit, limit>>20)
	}
	return fmt.Errorf("%w: request body over %d bytes (%d KiB) for this request", ErrTooLarge, limit, limit>>10)
}

func uintParam(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a non-negative number", ErrInvalid, s)
	}
	return v, nil
}
