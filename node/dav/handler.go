package dav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// MaxBody bounds any request body: one card (a PUT) or an XML query.
const MaxBody = MaxCard

// maxConcurrent bounds the requests served at once (the others wait).
const maxConcurrent = 8

// Source is what the server serves: the node's address book and
// calendar (node/api.API has both).
type Source interface {
	Book
	Calendar
}

// Handler serves the address book and the calendar of src to whoever
// knows the app password whose bcrypt hash is hash.
func Handler(src Source, hash string, log *slog.Logger) *PasswordHandler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cb, calb := &cardBackend{book: src}, &calBackend{cal: src}
	h := &PasswordHandler{
		backend:    cb,
		calBackend: calb,
		cardSync:   newSyncLog(),
		calSync:    newSyncLog(),
		card:       &carddav.Handler{Backend: cb, Prefix: cardPrefix},
		cal:        &caldav.Handler{Backend: calb, Prefix: calPrefix},
		log:        log,
		slots:      make(chan struct{}, maxConcurrent),
	}
	h.SetPassword(hash)
	return h
}

// PasswordHandler is the server's handler, behind its app password.
type PasswordHandler struct {
	auth       atomic.Pointer[auth]
	backend    *cardBackend
	calBackend *calBackend
	cardSync   *syncLog // the address book's changes, for sync-collection
	calSync    *syncLog // the calendar's
	card       http.Handler
	cal        http.Handler
	slots      chan struct{} // bounds the requests served at once
	log        *slog.Logger
}

// SetPassword makes the password whose bcrypt hash is hash the only one
// accepted, from the next request on.
func (h *PasswordHandler) SetPassword(hash string) { h.auth.Store(newAuth(hash)) }

func (h *PasswordHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.auth.Load().check(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Kith", charset="UTF-8"`)
		http.Error(w, "the user name is kith and the password is the app password `kith dav enable` printed (`kith dav password` makes a new one)", http.StatusUnauthorized)
		return
	}
	// A bounded number of requests at once, each with a bounded body:
	// many parallel clients wait rather than fill the memory.
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-r.Context().Done():
		return
	}
	if err := checkPath(r); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Read the body whole, bounded: an oversized one gets 413 here rather
	// than a parse error from deep inside the XML or vCard decoder.
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > MaxBody {
			http.Error(w, fmt.Sprintf("the request body is %d bytes; at most %d are accepted", r.ContentLength, MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("the request body is over %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if askV4(r, body) {
			r = r.WithContext(context.WithValue(r.Context(), v4Key{}, true))
		}
		if r.Method == "PROPPATCH" {
			servePropPatch(w, r, body)
			return
		}
		if names, ok := wantsCtag(r, body); ok {
			h.serveCtag(w, r, names)
			return
		}
		if wantsSync(r, body) {
			h.serveSync(w, r, body)
			return
		}
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, calPrefix+"/") {
			// The event is read by graph/ical from these bytes.
			r = r.WithContext(context.WithValue(r.Context(), icsKey{}, body))
		} else if r.Method == http.MethodPut {
			// The card is read here, from the bytes the client sent,
			// by graph/vcard (go-webdav's own reading is only a check).
			card, err := readCard(body)
			if err != nil {
				http.Error(w, err.Error(), err.status)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), cardKey{}, card))
		}
	}
	if r.URL.Path == "/" || strings.TrimSuffix(r.URL.Path, "/")+"/" == principal {
		switch r.Method {
		case "PROPFIND":
			body, _ := io.ReadAll(r.Body)
			servePrincipal(w, r, body)
		case http.MethodOptions:
			w.Header().Set("DAV", "1, 3, addressbook, calendar-access")
			w.Header().Set("Allow", "OPTIONS, PROPFIND")
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "OPTIONS, PROPFIND")
			http.Error(w, fmt.Sprintf("%s is the principal: PROPFIND it to find the address book and the calendar", r.URL.Path), http.StatusMethodNotAllowed)
		}
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && askV4(r, nil) {
		r = r.WithContext(context.WithValue(r.Context(), v4Key{}, true))
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, r))
	if r.Method == http.MethodPut {
		// go-webdav answers every PUT 201; an update is 204 (RFC 4918
		// section 9.7.1), which the backend tells through out.
		out := &putOutcome{}
		r = r.WithContext(context.WithValue(r.Context(), putKey{}, out))
		w = &putWriter{ResponseWriter: w, out: out}
	}
	switch {
	case r.URL.Path == "/.well-known/carddav":
		http.Redirect(w, r, principal, http.StatusPermanentRedirect)
	case r.URL.Path == "/.well-known/caldav":
		http.Redirect(w, r, principal, http.StatusPermanentRedirect)
	case r.URL.Path == calPrefix || strings.HasPrefix(r.URL.Path, calPrefix+"/"):
		h.cal.ServeHTTP(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, bookPath) && len(r.URL.Path) > len(bookPath):
		h.serveCard(w, r)
	case r.Method == "REPORT" && strings.TrimSuffix(r.URL.Path, "/")+"/" == bookPath:
		h.serveCardReport(w, r, body)
	case r.URL.Path == "/" || r.URL.Path == cardPrefix || strings.HasPrefix(r.URL.Path, cardPrefix+"/"):
		h.card.ServeHTTP(w, r)
	default:
		http.Error(w, fmt.Sprintf("nothing at %s: the address book is at %s", r.URL.Path, bookPath), http.StatusNotFound)
	}
}

// checkPath refuses paths that are not plain: dot segments, empty
// segments, encoded slashes or backslashes, control characters.
func checkPath(r *http.Request) error {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") || len(p) > 1024 {
		return fmt.Errorf("the path %q is not a resource of this server", p)
	}
	raw := r.URL.EscapedPath()
	if strings.Contains(strings.ToLower(raw), "%2f") || strings.Contains(strings.ToLower(raw), "%5c") || strings.Contains(raw, `\`) {
		return fmt.Errorf("the path %q holds an encoded slash or a backslash", p)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p[1:], "/"), "/") {
		if p == "/" {
			break
		}
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("the path %q has an empty or dot segment", p)
		}
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("the path %q holds a control character", p)
		}
	}
	return nil
}

type putKey struct{}

// putOutcome is what a PUT did: replaced a resource, or made a new one.
type putOutcome struct{ replaced bool }

// replaced notes that the PUT ctx serves replaced a resource.
func replaced(ctx context.Context) {
	if out, ok := ctx.Value(putKey{}).(*putOutcome); ok {
		out.replaced = true
	}
}

// putWriter answers 204 No Content rather than go-webdav's 201 Created
// when the PUT replaced a resource (the ETag header stays).
type putWriter struct {
	http.ResponseWriter
	out *putOutcome
}

func (w *putWriter) WriteHeader(code int) {
	if code == http.StatusCreated && w.out.replaced {
		code = http.StatusNoContent
	}
	w.ResponseWriter.WriteHeader(code)
}
