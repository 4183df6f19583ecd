package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/kith-p2p/kith/graph/cal"
	"github.com/kith-p2p/kith/graph/ical"
)

// Events is the calendar part of [API] (graph/cal): my events, in my log.
type Events interface {
	// AddEvent writes a new event.
	AddEvent(ctx context.Context, in EventInput) (*Event, error)
	// EditEvent changes my event uid: what in sets; a change of time
	// raises its SEQUENCE. ErrNotFound for an unknown or removed UID.
	EditEvent(ctx context.Context, uid string, in EventInput) (*Event, error)
	// RemoveEvent removes my event uid.
	RemoveEvent(ctx context.Context, uid string) error
	// Event returns my event uid, with its iCalendar text.
	Event(ctx context.Context, uid string) (*Event, error)
	// Agenda returns the instances of my events that overlap [from, to),
	// recurrences expanded, by start; all-day and floating times are read
	// in tz (an IANA zone; "" is UTC). At most cal.MaxWindow.
	Agenda(ctx context.Context, from, to time.Time, tz string) ([]Instance, error)
	// ImportEvents imports iCalendar text, all or nothing unless
	// req.SkipInvalid; a broken event is ErrInvalid naming it and its line.
	ImportEvents(ctx context.Context, req ImportEventsRequest) (*EventImportResult, error)
	// ExportEvents returns my events (uids, or all) as iCalendar text.
	ExportEvents(ctx context.Context, uids []string) (*EventExport, error)
	// InviteEvent invites connections (peer IDs or names) to my event uid:
	// they become its attendees and it is sealed to them.
	InviteEvent(ctx context.Context, uid string, peers []string) (*Event, error)
	// CancelEvent cancels my event uid (STATUS:CANCELLED, SEQUENCE raised):
	// it leaves my agenda and my attendees'.
	CancelEvent(ctx context.Context, uid string) (*Event, error)
	// RSVPEvent answers the invitation uid: accept, decline or tentative.
	RSVPEvent(ctx context.Context, uid, answer string) (*Event, error)

	// FreeBusy asks the connection ref (peer ID or name) for its busy
	// blocks in [from, to) (at most 62 days): ErrForbidden if it does not
	// allow any circle I am in, ErrUnreachable if it cannot be reached.
	FreeBusy(ctx context.Context, ref string, from, to time.Time) (*FreeBusy, error)
	// SetFreeBusy allows circle to ask my free/busy, or denies it again.
	SetFreeBusy(ctx context.Context, circle string, allow bool) (*FreeBusyPolicy, error)
	// FreeBusyPolicy lists the circles allowed to ask my free/busy.
	FreeBusyPolicy(ctx context.Context) (*FreeBusyPolicy, error)
}

// FreeBusy is a connection's busy blocks in a window.
type FreeBusy struct {
	Peer string      `json:"peer"`
	From time.Time   `json:"from"`
	To   time.Time   `json:"to"`
	Busy []BusyBlock `json:"busy"`
}

// BusyBlock is a time a connection is busy: no title, merged.
type BusyBlock struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// FreeBusyPolicy is who may ask my free/busy.
type FreeBusyPolicy struct {
	Circles []string `json:"circles"`
}

type freeBusyQuery struct {
	Peer string    `json:"peer"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type freeBusySet struct {
	Circle string `json:"circle"`
	Allow  bool   `json:"allow"`
}

// FreeBusy implements API.
func (c *Client) FreeBusy(ctx context.Context, ref string, from, to time.Time) (*FreeBusy, error) {
	var v FreeBusy
	return &v, c.do(ctx, "POST", "/freebusy/query", freeBusyQuery{Peer: ref, From: from, To: to}, &v)
}

// SetFreeBusy implements API.
func (c *Client) SetFreeBusy(ctx context.Context, circle string, allow bool) (*FreeBusyPolicy, error) {
	var v FreeBusyPolicy
	return &v, c.do(ctx, "POST", "/freebusy/policy", freeBusySet{Circle: circle, Allow: allow}, &v)
}

// FreeBusyPolicy implements API.
func (c *Client) FreeBusyPolicy(ctx context.Context) (*FreeBusyPolicy, error) {
	var v FreeBusyPolicy
	return &v, c.do(ctx, "GET", "/freebusy/policy", nil, &v)
}

// EventInput is what `kith events add` and `edit` set.
type EventInput = cal.Input

// Event is one of my events.
type Event = cal.Event

// Instance is one occurrence in an agenda.
type Instance = cal.Instance

// Attendee is an ATTENDEE or the ORGANIZER of an event.
type Attendee = ical.Attendee

// Reply is an attendee's answer to an event.
type Reply = cal.Reply

// EventImportResult is what an import did.
type EventImportResult = cal.ImportResult

// ImportEventsRequest carries an iCalendar file.
type ImportEventsRequest struct {
	ICS         string `json:"ics"`
	SkipInvalid bool   `json:"skip_invalid,omitempty"`
}

// EventExport is an iCalendar file.
type EventExport struct {
	ICS string `json:"ics"`
}

type agendaQuery struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	TZ   string    `json:"tz,omitempty"`
}

// eventRoutes adds the calendar's routes.
func eventRoutes(route func(string, func(*http.Request) (any, error)), impl Events) {
	route("POST /api/v0/events", func(r *http.Request) (any, error) {
		var in EventInput
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return impl.AddEvent(r.Context(), in)
	})
	route("GET /api/v0/events/{uid}", func(r *http.Request) (any, error) { return impl.Event(r.Context(), r.PathValue("uid")) })
	route("PATCH /api/v0/events/{uid}", func(r *http.Request) (any, error) {
		var in EventInput
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return impl.EditEvent(r.Context(), r.PathValue("uid"), in)
	})
	route("DELETE /api/v0/events/{uid}", func(r *http.Request) (any, error) {
		return nil, impl.RemoveEvent(r.Context(), r.PathValue("uid"))
	})
	route("POST /api/v0/agenda", func(r *http.Request) (any, error) {
		var q agendaQuery
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		return impl.Agenda(r.Context(), q.From, q.To, q.TZ)
	})
	route("POST /api/v0/events/import", func(r *http.Request) (any, error) {
		var req ImportEventsRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.ImportEvents(r.Context(), req)
	})
	route("POST /api/v0/events/export", func(r *http.Request) (any, error) {
		var req struct {
			UIDs []string `json:"uids"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.ExportEvents(r.Context(), req.UIDs)
	})
	route("POST /api/v0/events/{uid}/invite", func(r *http.Request) (any, error) {
		var req inviteRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.InviteEvent(r.Context(), r.PathValue("uid"), req.Peers)
	})
	route("POST /api/v0/freebusy/query", func(r *http.Request) (any, error) {
		var q freeBusyQuery
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		return impl.FreeBusy(r.Context(), q.Peer, q.From, q.To)
	})
	route("POST /api/v0/freebusy/policy", func(r *http.Request) (any, error) {
		var q freeBusySet
		if err := decode(r, &q); err != nil {
			return nil, err
		}
		return impl.SetFreeBusy(r.Context(), q.Circle, q.Allow)
	})
	route("GET /api/v0/freebusy/policy", func(r *http.Request) (any, error) { return impl.FreeBusyPolicy(r.Context()) })
	route("POST /api/v0/events/{uid}/cancel", func(r *http.Request) (any, error) {
		return impl.CancelEvent(r.Context(), r.PathValue("uid"))
	})
	route("POST /api/v0/events/{uid}/rsvp", func(r *http.Request) (any, error) {
		var req rsvpRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return impl.RSVPEvent(r.Context(), r.PathValue("uid"), req.Answer)
	})
}

type inviteRequest struct {
	Peers []string `json:"peers"`
}

type rsvpRequest struct {
	Answer string `json:"answer"`
}

// InviteEvent implements API.
func (c *Client) InviteEvent(ctx context.Context, uid string, peers []string) (*Event, error) {
	var v Event
	return &v, c.do(ctx, "POST", "/events/"+url.PathEscape(uid)+"/invite", inviteRequest{Peers: peers}, &v)
}

// CancelEvent implements API.
func (c *Client) CancelEvent(ctx context.Context, uid string) (*Event, error) {
	var v Event
	return &v, c.do(ctx, "POST", "/events/"+url.PathEscape(uid)+"/cancel", nil, &v)
}

// RSVPEvent implements API.
func (c *Client) RSVPEvent(ctx context.Context, uid, answer string) (*Event, error) {
	var v Event
	return &v, c.do(ctx, "POST", "/events/"+url.PathEscape(uid)+"/rsvp", rsvpRequest{Answer: answer}, &v)
}

// AddEvent implements API.
func (c *Client) AddEvent(ctx context.Context, in EventInput) (*Event, error) {
	var v Event
	return &v, c.do(ctx, "POST", "/events", in, &v)
}

// EditEvent implements API.
func (c *Client) EditEvent(ctx context.Context, uid string, in EventInput) (*Event, error) {
	var v Event
	return &v, c.do(ctx, "PATCH", "/events/"+url.PathEscape(uid), in, &v)
}

// RemoveEvent implements API.
func (c *Client) RemoveEvent(ctx context.Context, uid string) error {
	return c.do(ctx, "DELETE", "/events/"+url.PathEscape(uid), nil, nil)
}

// Event implements API.
func (c *Client) Event(ctx context.Context, uid string) (*Event, error) {
	var v Event
	return &v, c.do(ctx, "GET", "/events/"+url.PathEscape(uid), nil, &v)
}

// Agenda implements API.
func (c *Client) Agenda(ctx context.Context, from, to time.Time, tz string) ([]Instance, error) {
	var v []Instance
	return v, c.do(ctx, "POST", "/agenda", agendaQuery{From: from, To: to, TZ: tz}, &v)
}

// ImportEvents implements API.
func (c *Client) ImportEvents(ctx context.Context, req ImportEventsRequest) (*EventImportResult, error) {
	var v EventImportResult
	return &v, c.do(ctx, "POST", "/events/import", req, &v)
}

// ExportEvents implements API.
func (c *Client) ExportEvents(ctx context.Context, uids []string) (*EventExport, error) {
	var v EventExport
	return &v, c.do(ctx, "POST", "/events/export", map[string][]string{"uids": uids}, &v)
}
