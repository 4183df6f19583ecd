package dav

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"

	goical "github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"github.com/kith-p2p/kith/graph/ical"
	"github.com/kith-p2p/kith/node/api"
)

// Calendar is what the CalDAV server needs of the node: the calendar's
// part of node/api.API.
type Calendar interface {
	ExportEvents(ctx context.Context, uids []string) (*api.EventExport, error)
	ImportEvents(ctx context.Context, req api.ImportEventsRequest) (*api.EventImportResult, error)
	RemoveEvent(ctx context.Context, uid string) error
	RSVPEvent(ctx context.Context, uid, answer string) (*api.Event, error)
	ID(ctx context.Context) (*api.Identity, error)
	// Invitations returns the events my connections invite me to (uids,
	// or all), with their attendees' answers as PARTSTATs (node.Node has
	// it; node/api.API does not).
	Invitations(ctx context.Context, uids []string) ([]*api.Event, error)
}

// The calendar's paths, as the address book's.
const (
	calPrefix       = "/caldav"
	calPrincipal    = calPrefix + "/" + Username + "/"
	calHomeSetPath  = calPrincipal + "calendars/"
	calendarPath    = calHomeSetPath + "events/"
	eventExt        = ".ics"
	maxCalendarBody = MaxBody
)

// calBackend is caldav.Backend over a [Calendar]: my events, one
// resource per UID, written and read through graph/ical (the code of
// `kith events import` and `export`).
type calBackend struct {
	cal Calendar
	mu  sync.Mutex // an ETag check and the write it guards are one step
}

var _ caldav.Backend = (*calBackend)(nil)

// eventName is an event's resource name: its UID when that is a safe
// name, else a hash of it.
func eventName(uid string) string {
	if safeName.MatchString(uid) {
		return uid
	}
	sum := sha256.Sum256([]byte(uid))
	return "uid-" + hex.EncodeToString(sum[:16])
}

// servedEvent is one event as served.
type servedEvent struct {
	uid  string
	data []byte // graph/ical's encoding
	etag string
	from string // the organizer's peer ID for an invitation; "" for mine
}

func (s *servedEvent) object() (*caldav.CalendarObject, error) {
	cal, err := goical.NewDecoder(bytes.NewReader(s.data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("re-reading event %s: %w", s.uid, err)
	}
	return &caldav.CalendarObject{Path: calendarPath + eventName(s.uid) + eventExt, ETag: s.etag, Data: cal}, nil
}

// events returns my events and my invitations (uids, or all) as served;
// api.ErrNotFound when uids name none.
func (b *calBackend) events(ctx context.Context, uids []string) ([]*servedEvent, error) {
	exp, err := b.cal.ExportEvents(ctx, uids)
	if errors.Is(err, api.ErrNotFound) && len(uids) > 0 {
		// Not mine: maybe an invitation.
		exp, err = &api.EventExport{}, nil
	}
	if err != nil {
		return nil, err
	}
	out, err := servedEvents(exp.ICS, "")
	if err != nil {
		return nil, err
	}
	if len(uids) > 0 && len(out) == len(uids) {
		return out, nil
	}
	invs, err := b.cal.Invitations(ctx, uids)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		evs, err := servedEvents(inv.ICS, inv.From)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	if len(uids) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("%w: no event %v", api.ErrNotFound, uids)
	}
	return out, nil
}

// servedEvents reads iCalendar text as the events it serves, each written
// by graph/ical; from is their organizer's peer ID for invitations.
func servedEvents(text, from string) ([]*servedEvent, error) {
	if text == "" {
		return nil, nil
	}
	res, err := ical.Decode(strings.NewReader(text), ical.Options{})
	if err != nil {
		return nil, fmt.Errorf("reading my events back: %w", err)
	}
	out := make([]*servedEvent, 0, len(res.Events))
	for _, ev := range res.Events {
		data, err := ical.EncodeEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", ev.UID, err)
		}
		sum := sha256.Sum256(data)
		out = append(out, &servedEvent{uid: ev.UID, data: data, etag: hex.EncodeToString(sum[:16]), from: from})
	}
	return out, nil
}

// find returns the event served as name, or nil.
func (b *calBackend) find(ctx context.Context, name string) (*servedEvent, error) {
	if safeName.MatchString(name) && !strings.HasPrefix(name, "uid-") {
		evs, err := b.events(ctx, []string{name})
		if errors.Is(err, api.ErrNotFound) {
			return nil, nil
		}
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		return evs[0], nil
	}
	evs, err := b.events(ctx, nil)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if eventName(ev.uid) == name {
			return ev, nil
		}
	}
	return nil, nil
}

func eventObjectName(p string) (string, error) {
	dir, file := path.Split(p)
	if dir != calendarPath {
		return "", notFound("no calendar at %s (it is %s)", dir, calendarPath)
	}
	name, ok := strings.CutSuffix(file, eventExt)
	if !ok || !safeName.MatchString(name) {
		return "", webdav.NewHTTPError(http.StatusBadRequest,
			fmt.Errorf("%q is not an event's name: use letters, digits and _ . @ + - (at most 200), ending in %s", file, eventExt))
	}
	return name, nil
}

// CurrentUserPrincipal implements webdav.UserPrincipalBackend.
func (b *calBackend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return principal, nil
}

// CalendarHomeSetPath implements caldav.Backend.
func (b *calBackend) CalendarHomeSetPath(ctx context.Context) (string, error) {
	return calHomeSetPath, nil
}

func theCalendar() caldav.Calendar {
	return caldav.Calendar{
		Path:                  calendarPath,
		Name:                  "Kith",
		Description:           "My events",
		MaxResourceSize:       maxCalendarBody,
		SupportedComponentSet: []string{goical.CompEvent},
	}
}

// CreateCalendar implements caldav.Backend: there is one.
func (b *calBackend) CreateCalendar(ctx context.Context, c *caldav.Calendar) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("kith serves one calendar; new ones cannot be made"))
}

// ListCalendars implements caldav.Backend.
func (b *calBackend) ListCalendars(ctx context.Context) ([]caldav.Calendar, error) {
	return []caldav.Calendar{theCalendar()}, nil
}

// GetCalendar implements caldav.Backend.
func (b *calBackend) GetCalendar(ctx context.Context, p string) (*caldav.Calendar, error) {
	if strings.TrimSuffix(p, "/")+"/" != calendarPath {
		return nil, notFound("no calendar at %s (it is %s)", p, calendarPath)
	}
	c := theCalendar()
	return &c, nil
}

// GetCalendarObject implements caldav.Backend.
func (b *calBackend) GetCalendarObject(ctx context.Context, p string, req *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	name, err := eventObjectName(p)
	if err != nil {
		return nil, err
	}
	ev, err := b.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, notFound("no event %s", p)
	}
	return ev.object()
}

// ListCalendarObjects implements caldav.Backend.
func (b *calBackend) ListCalendarObjects(ctx context.Context, p string, req *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	if _, err := b.GetCalendar(ctx, p); err != nil {
		return nil, err
	}
	evs, err := b.events(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := make([]caldav.CalendarObject, 0, len(evs))
	for _, ev := range evs {
		o, err := ev.object()
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, nil
}

// QueryCalendarObjects implements caldav.Backend.
func (b *calBackend) QueryCalendarObjects(ctx context.Context, p string, q *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	all, err := b.ListCalendarObjects(ctx, p, &q.CompRequest)
	if err != nil {
		return nil, err
	}
	return caldav.Filter(q, all)
}

type icsKey struct{}

// readEvent reads the one event of a PUT through graph/ical.
func readEvent(body []byte) (*ical.Event, *statusError) {
	res, err := ical.Decode(bytes.NewReader(body), ical.Options{})
	if err != nil {
		return nil, &statusError{http.StatusBadRequest, fmt.Errorf("reading the iCalendar: %v; nothing was changed", err)}
	}
	if len(res.Events) != 1 {
		return nil, &statusError{http.StatusBadRequest, fmt.Errorf("an event resource holds one event (one UID), not %d; nothing was changed", len(res.Events))}
	}
	return res.Events[0], nil
}

// PutCalendarObject implements caldav.Backend: the event is imported as
// `kith events import` does, from the bytes the client sent.
func (b *calBackend) PutCalendarObject(ctx context.Context, p string, in *goical.Calendar, opts *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	name, err := eventObjectName(p)
	if err != nil {
		return nil, err
	}
	raw, ok := ctx.Value(icsKey{}).([]byte)
	if !ok {
		var buf bytes.Buffer
		if err := goical.NewEncoder(&buf).Encode(in); err != nil {
			return nil, webdav.NewHTTPError(http.StatusBadRequest, fmt.Errorf("reading the iCalendar: %v", err))
		}
		raw = buf.Bytes()
	}
	ev, serr := readEvent(raw)
	if serr != nil {
		return nil, webdav.NewHTTPError(serr.status, serr.err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, err := b.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.uid != ev.UID {
		return nil, webdav.NewHTTPError(http.StatusConflict, fmt.Errorf("the event's UID %s is not the one at %s (%s): a UID cannot change", ev.UID, p, cur.uid))
	}
	if cur == nil {
		// A new resource: its UID must not be another's.
		if other, err := b.find(ctx, eventName(ev.UID)); err != nil {
			return nil, err
		} else if other != nil && other.uid == ev.UID {
			return nil, caldav.NewPreconditionError(caldav.PreconditionNoUIDConflict)
		}
	}
	var held *served
	if cur != nil {
		held = &served{etag: cur.etag}
	}
	if err := checkMatch(held, opts.IfMatch, opts.IfNoneMatch); err != nil {
		return nil, err
	}
	if cur != nil && cur.from != "" {
		// An invitation: the client answers it (see rsvp.go).
		if err := b.answer(ctx, cur, ev); err != nil {
			return nil, err
		}
		replaced(ctx)
		now, err := b.find(ctx, name)
		if err != nil {
			return nil, err
		}
		if now == nil {
			return nil, fmt.Errorf("invitation %s not found after the answer", ev.UID)
		}
		return now.object()
	}
	res, err := b.cal.ImportEvents(ctx, api.ImportEventsRequest{ICS: string(raw)})
	if err != nil {
		return nil, httpError(err)
	}
	if res.Older > 0 {
		return nil, webdav.NewHTTPError(http.StatusConflict, fmt.Errorf("the calendar holds a later version of %s (a higher SEQUENCE); nothing was changed: read it again", ev.UID))
	}
	if cur != nil {
		replaced(ctx)
	}
	now, err := b.find(ctx, eventName(ev.UID))
	if err != nil {
		return nil, err
	}
	if now == nil {
		return nil, fmt.Errorf("event %s not found after its import", ev.UID)
	}
	return now.object()
}

// DeleteCalendarObject implements caldav.Backend.
func (b *calBackend) DeleteCalendarObject(ctx context.Context, p string) error {
	name, err := eventObjectName(p)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ev, err := b.find(ctx, name)
	if err != nil {
		return err
	}
	if ev == nil {
		return notFound("no event %s", p)
	}
	if ev.from != "" {
		return webdav.NewHTTPError(http.StatusForbidden, fmt.Errorf("%s is an invitation from %s, who alone can remove it; decline it instead (set the PARTSTAT of your ATTENDEE line to DECLINED, or `kith events rsvp %s decline`)", p, ev.from, ev.uid))
	}
	if r := requestOf(ctx); r != nil {
		if err := checkMatch(&served{etag: ev.etag}, webdav.ConditionalMatch(r.Header.Get("If-Match")), webdav.ConditionalMatch(r.Header.Get("If-None-Match"))); err != nil {
			return err
		}
	}
	return httpError(b.cal.RemoveEvent(ctx, ev.uid))
}
