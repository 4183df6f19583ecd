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
	"strconv"

	"github.com/kith-p2p/kith/graph"
)

// MaxRequestBody bounds a request body (a batch of cards).
const MaxRequestBody = 32 << 20

// Handler serves impl under /api/v0/.
func Handler(impl API, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{impl: impl, log: log.With("subsystem", "api")}
	mux := http.NewServeMux()
	route := func(pattern string, h func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h) })
	}
	mux.HandleFunc("POST /api/v0/export", s.export)
	eventRoutes(route, impl)
	davRoutes(route, impl)
	route("GET /api/v0/id", func(r *http.Request) (any, error) { return impl.ID(r.Context()) })
	route("GET /api/v0/status", func(r *http.Request) (any, error) { return impl.Status(r.Context()) })
	route("POST /api/v0/check", func(r *http.Request) (any, error) { return impl.Check(r.Context()) })
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
	route("POST /api/v0/contacts", func(r *http.Request) (any, error) {
		var cards []graph.Card
		if err := decode(r, &cards); err != nil {
			return nil, err
		}
		return impl.AddContacts(r.Context(), cards)
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
	impl API
	log  *slog.Logger
}

func (s *server) serve(w http.ResponseWriter, r *http.Request, h func(*http.Request) (any, error)) {
	// A browser page can reach a unix socket only through a proxy, but a
	// proxy would forward these headers: refuse anything that looks like it.
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		writeError(w, fmt.Errorf("%w: requests from web pages are refused", ErrForbidden))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
	v, err := h(r)
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
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
	var req ExportRequest
	if err := decode(r, &req); err != nil {
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
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("%w: request body over %d bytes", ErrTooLarge, MaxRequestBody)
		}
		return fmt.Errorf("%w: decoding request: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the request", ErrInvalid)
	}
	return nil
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
