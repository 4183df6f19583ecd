// Package cal is the calendar, network-free: my events, kept in my log
// as `event` records (key = the iCalendar UID, the body the event's
// iCalendar text), and the agenda they make.
//
// [Calendar] is the service. It reads a [Store], decides, and writes
// drafts through a [Writer] (the node's log writer, which seals, signs,
// stores and announces them); every read-modify-write of my events runs
// under its lock. Its types carry the local API's JSON names and its
// errors wrap graph's kinds (graph.ErrNotFound, graph.ErrInvalid, …),
// which are the API's sentinels. graph/ical reads and writes the text.
//
// An event is sealed to me (audience self) until I invite connections to
// it; then to me and its attendees, who read it from my log (invite.go).
//
// A *Calendar is safe for concurrent use.
package cal

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/ical"
)

// Store is what the calendar reads: my log's records, folded.
type Store interface {
	// Record returns the record (identity, kind, key), tombstones
	// included; graph.ErrNotFound if there is none.
	Record(ctx context.Context, identity peer.ID, kind, key string) (*graph.Record, error)
	// Records returns identity's live records of kind.
	Records(ctx context.Context, identity peer.ID, kind string) ([]*graph.Record, error)
	// Head returns the head of author's log.
	Head(ctx context.Context, author peer.ID) (graph.Head, error)
}

// Writer appends entries to my log.
type Writer interface {
	Append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error)
	// CanWrite returns why nothing can be written now, or nil.
	CanWrite() error
}

// MaxWindow bounds an agenda's window.
const MaxWindow = 5 * 366 * 24 * time.Hour

// Calendar is my calendar. See the package documentation.
type Calendar struct {
	self  peer.ID
	store Store
	w     Writer
	now   func() time.Time

	// mu guards the read-modify-write of my events and the fields below.
	mu sync.Mutex
	// cache holds my events parsed, by UID, as of my log's head cacheHead:
	// an agenda reads it instead of parsing every record.
	cache     map[string]*cached
	cacheHead uint64
}

// cached is one event record, parsed, with the span it covers.
type cached struct {
	cid      string
	ics      string
	seq      uint64        // the record's SEQUENCE (ev.sq)
	version  graph.Version // the record's entry
	ev       *ical.Event
	from, to time.Time
	endless  bool
	undated  bool // no instance anywhere (no DTSTART, or unreadable)
}

// New returns the calendar of self. now may be nil (time.Now).
func New(self peer.ID, s Store, w Writer, now func() time.Time) *Calendar {
	if now == nil {
		now = time.Now
	}
	return &Calendar{self: self, store: s, w: w, now: now}
}

// Input is what a person sets on an event (`kith events add`, `edit`);
// nil and "" fields are left alone by an edit.
type Input struct {
	Summary     *string `json:"summary,omitempty"`
	Location    *string `json:"location,omitempty"`
	Description *string `json:"description,omitempty"`
	// Start is a wall-clock time in TZ: "2026-12-03T12:30" (seconds
	// optional), or a date "2026-12-03" for an all-day event.
	Start string `json:"start,omitempty"`
	// End is like Start; Duration ("1h30m", "2d" for all-day) is the
	// other way to give it. Neither: an hour (a day all-day), or, on an
	// edit, the event's duration so far.
	End      string `json:"end,omitempty"`
	Duration string `json:"duration,omitempty"`
	// TZ is the IANA zone of Start and End ("Europe/Berlin"); "" is UTC.
	TZ     string  `json:"tz,omitempty"`
	AllDay *bool   `json:"all_day,omitempty"`
	RRule  *string `json:"rrule,omitempty"` // "FREQ=WEEKLY;COUNT=4"; "" removes it
}

// Event is one event as `kith events show` prints it.
type Event struct {
	UID         string          `json:"uid"`
	Summary     string          `json:"summary"`
	Location    string          `json:"location,omitempty"`
	Description string          `json:"description,omitempty"`
	Start       *time.Time      `json:"start,omitempty"` // in its zone; nil: no DTSTART
	End         *time.Time      `json:"end,omitempty"`
	AllDay      bool            `json:"all_day"`
	TZ          string          `json:"tz,omitempty"`
	RRule       string          `json:"rrule,omitempty"`
	Status      string          `json:"status,omitempty"`
	Sequence    int             `json:"sequence"`
	Organizer   *ical.Attendee  `json:"organizer,omitempty"`
	Attendees   []ical.Attendee `json:"attendees,omitempty"`
	Overrides   int             `json:"overrides,omitempty"` // instances changed or cancelled
	Alarms      int             `json:"alarms,omitempty"`
	ICS         string          `json:"ics"` // the iCalendar text as stored
	// From is the organizer's peer ID when the event is an invitation from
	// a connection's log ("" for my own events).
	From string `json:"from,omitempty"`
	// Replies are the Kith attendees' answers, from their own logs.
	Replies []Reply `json:"replies,omitempty"`
}

// Instance is one occurrence in an agenda.
type Instance struct {
	UID      string    `json:"uid"`
	Summary  string    `json:"summary"`
	Start    time.Time `json:"start"` // RFC 3339 with the offset in force
	End      time.Time `json:"end"`
	AllDay   bool      `json:"all_day"`
	Location string    `json:"location,omitempty"`
	// RecurrenceID is the original start of an instance of a recurring
	// event (what an edit of that one instance names).
	RecurrenceID *time.Time `json:"recurrence_id,omitempty"`
	// From is the organizer's peer ID for an invitation ("" for mine).
	From string `json:"from,omitempty"`
}

// ImportResult is what [Calendar.Import] did.
type ImportResult struct {
	Added     int      `json:"added"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Older     int      `json:"older"`   // a lower SEQUENCE than the one held: kept mine
	Skipped   []string `json:"skipped"` // broken events (SkipInvalid): what is wrong, where
	Warnings  []string `json:"warnings"`
}

// Wins reports whether a version of an event (its SEQUENCE seq and the
// version v of the entry that writes it) replaces the held one: the
// higher SEQUENCE wins, then graph.Version.After (time, author, log seq).
// spec/SPEC.md "Events" states the rule; spec/testdata/events.json holds
// its vectors.
func Wins(seq uint64, v graph.Version, heldSeq uint64, held graph.Version) bool {
	if seq != heldSeq {
		return seq > heldSeq
	}
	return v.After(held)
}

// zone loads an IANA zone; "" is UTC.
func zone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, graph.Invalidf("unknown time zone %q: give an IANA name such as Europe/Berlin or America/New_York", name)
	}
	return l, nil
}

// parseWall parses "2006-01-02T15:04[:05]" (a space for the T works too)
// or, allDay, "2006-01-02".
func parseWall(s string, loc *time.Location, allDay bool) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if allDay || len(s) == len(time.DateOnly) {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return t, true, graph.Invalidf("date %q: want YYYY-MM-DD", s)
		}
		return t, true, nil
	}
	s = strings.Replace(s, " ", "T", 1)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, graph.Invalidf("time %q: want YYYY-MM-DD HH:MM (or a date YYYY-MM-DD for an all-day event)", s)
}

// parseDuration parses a Go duration ("1h30m") or whole days ("2d").
func parseDuration(s string) (time.Duration, int, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == d {
			return 0, n, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, 0, graph.Invalidf("duration %q: want e.g. 45m, 1h30m or 2d", s)
	}
	return d, 0, nil
}

// fields turns an input into ical.Fields; cur is the event being edited
// (nil for a new one).
func (in Input) fields(cur *ical.Event) (ical.Fields, error) {
	f := ical.Fields{Summary: in.Summary, Location: in.Location, Description: in.Description, AllDay: in.AllDay, RRule: in.RRule}
	if in.RRule != nil && *in.RRule != "" {
		r := strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(*in.RRule), "RRULE:"))
		if !strings.Contains(r, "FREQ=") {
			return f, graph.Invalidf("recurrence rule %q: it needs a FREQ, e.g. FREQ=WEEKLY;COUNT=4", *in.RRule)
		}
		f.RRule = &r
	}
	if in.Start == "" && in.End == "" && in.Duration == "" && in.TZ == "" {
		return f, nil
	}
	loc, err := zone(in.TZ)
	if err != nil {
		return f, err
	}
	allDay := in.AllDay != nil && *in.AllDay
	var start time.Time
	switch {
	case in.Start != "":
		t, isDate, err := parseWall(in.Start, loc, allDay)
		if err != nil {
			return f, err
		}
		if isDate && in.AllDay == nil {
			allDay = true
			f.AllDay = &allDay
		}
		start = t
		f.Start = &start
	case cur != nil:
		// A new zone or end for the start the event has.
		first, ok := cur.First(loc)
		if !ok {
			return f, graph.Invalidf("the event has no start to keep: give --at")
		}
		start = first.Start.In(loc)
		if in.TZ != "" {
			start = time.Date(start.Year(), start.Month(), start.Day(), start.Hour(), start.Minute(), start.Second(), 0, loc)
		}
		f.Start = &start
	default:
		return f, graph.Invalidf("an event needs a start (--at)")
	}
	switch {
	case in.End != "":
		t, _, err := parseWall(in.End, loc, allDay)
		if err != nil {
			return f, err
		}
		if allDay {
			t = t.AddDate(0, 0, 1) // the last day, inclusive
		}
		f.End = &t
	case in.Duration != "":
		d, days, err := parseDuration(in.Duration)
		if err != nil {
			return f, err
		}
		var t time.Time
		if days > 0 {
			t = start.AddDate(0, 0, days)
		} else {
			t = start.Add(d)
		}
		f.End = &t
	case cur == nil && !allDay:
		t := start.Add(time.Hour)
		f.End = &t
	}
	if f.End != nil && f.End.Before(start) {
		return f, graph.Invalidf("the end %s is before the start %s", f.End.Format(time.DateTime), start.Format(time.DateTime))
	}
	return f, nil
}

// newUID returns a random UID: a version 4 UUID at kith.
func newUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x@kith", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// draft is the record of ev, sealed to me.
func draft(ev *ical.Event) (graph.Draft, error) {
	text, err := ical.EncodeEvent(ev)
	if err != nil {
		return graph.Draft{}, graph.Invalidf("event %q: %v", ev.UID, err)
	}
	if len(text) > graph.MaxEventICS {
		return graph.Draft{}, fmt.Errorf("%w: event %q (%q) is %d KiB as iCalendar, over the %d KiB an entry holds; shorten its description or attachments",
			graph.ErrTooLarge, ev.UID, ev.Summary(), len(text)>>10, graph.MaxEventICS>>10)
	}
	if len(ev.UID) > 256 {
		return graph.Draft{}, graph.Invalidf("event UID %q… is over 256 bytes", ev.UID[:40])
	}
	return graph.Draft{
		Body: graph.Body{Kind: graph.KindEvent, Key: ev.UID, Event: &graph.Event{ICS: string(text), Seq: uint64(ev.Sequence())}},
		To:   graph.Audience{Self: true},
	}, nil
}

// parse reads an event record.
func parse(r *graph.Record) (*ical.Event, error) {
	if r.Body.Event == nil {
		return nil, fmt.Errorf("event record %q has no iCalendar text", r.Key)
	}
	res, err := ical.Decode(strings.NewReader(r.Body.Event.ICS), ical.Options{})
	if err != nil {
		return nil, fmt.Errorf("reading event record %q: %w", r.Key, err)
	}
	for _, e := range res.Events {
		if e.UID == r.Key {
			return e, nil
		}
	}
	return nil, fmt.Errorf("event record %q holds no event of that UID", r.Key)
}

// liveLocked returns my event uid, parsed; graph.ErrNotFound if there is
// none or it was removed.
func (c *Calendar) liveLocked(ctx context.Context, uid string) (*ical.Event, *graph.Record, error) {
	r, err := c.store.Record(ctx, c.self, graph.KindEvent, uid)
	if err != nil {
		if errors.Is(err, graph.ErrNotFound) {
			return nil, nil, graph.NotFoundf("no event %q (kith events list shows the UIDs)", uid)
		}
		return nil, nil, err
	}
	if r.Body.Del {
		return nil, r, graph.NotFoundf("event %q was removed", uid)
	}
	ev, err := parse(r)
	return ev, r, err
}

// appendLocked writes drafts and brings the cache up to date with them
// when it was up to date before (an agenda after an edit then parses one
// event, not all); otherwise the next agenda rebuilds it.
func (c *Calendar) appendLocked(ctx context.Context, drafts ...graph.Draft) error {
	h, err := c.store.Head(ctx, c.self)
	valid := err == nil && c.cache != nil && c.cacheHead == h.Seq
	entries, err := c.w.Append(ctx, drafts...)
	if err != nil || !valid || len(entries) == 0 {
		c.cacheHead = 0 // stale: entries parsed are still reused by CID
		return err
	}
	// A copy: an agenda may be reading the map it had outside the lock.
	c.cache = maps.Clone(c.cache)
	for _, e := range entries {
		b := e.Body
		if b == nil || b.Kind != graph.KindEvent {
			continue
		}
		if b.Del {
			delete(c.cache, b.Key)
			continue
		}
		c.cache[b.Key] = newCached(&graph.Record{Identity: e.Identity, Kind: b.Kind, Key: b.Key, Version: graph.VersionOf(e), CID: e.CID, Body: b})
	}
	c.cacheHead = entries[len(entries)-1].Seq
	return nil
}

// newCached parses an event record for the cache.
func newCached(r *graph.Record) *cached {
	ce := &cached{cid: r.CID.String(), undated: true, ics: r.Body.Event.ICS, seq: r.Body.Event.Seq, version: r.Version}
	if ev, err := parse(r); err == nil {
		ce.ev = ev
		if from, to, endless, err := ev.Span(); err == nil && !from.IsZero() {
			ce.from, ce.to, ce.endless, ce.undated = from, to, endless, false
		}
	}
	return ce
}

// Add writes a new event and returns it.
func (c *Calendar) Add(ctx context.Context, in Input) (*Event, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	f, err := in.fields(nil)
	if err != nil {
		return nil, err
	}
	if f.Summary == nil || strings.TrimSpace(*f.Summary) == "" {
		return nil, graph.Invalidf("an event needs a summary")
	}
	ev, err := ical.NewEvent(newUID(), f, c.now())
	if err != nil {
		return nil, graph.Invalidf("%v", err)
	}
	d, err := draft(ev)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.appendLocked(ctx, d); err != nil {
		return nil, err
	}
	return view(ev, d.Body.Event.ICS), nil
}

// Edit changes my event uid: what in sets, the rest kept. A change of
// time raises its SEQUENCE.
func (c *Calendar) Edit(ctx context.Context, uid string, in Input) (*Event, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, r, err := c.liveLocked(ctx, uid)
	if err != nil {
		return nil, err
	}
	f, err := in.fields(ev)
	if err != nil {
		return nil, err
	}
	if p, ok := peerOf(ev.Organizer()); ok && p != c.self {
		return nil, graph.Invalidf("event %q is organized by %s: only its organizer edits it", uid, p)
	}
	if err := ev.Apply(f, c.now()); err != nil {
		return nil, graph.Invalidf("%v", err)
	}
	d, err := c.sealedDraft(ctx, ev)
	if err != nil {
		return nil, err
	}
	if d.Body.Event.ICS == r.Body.Event.ICS {
		return c.withReplies(ctx, c.self, view(ev, d.Body.Event.ICS))
	}
	if err := c.appendLocked(ctx, d); err != nil {
		return nil, err
	}
	return c.withReplies(ctx, c.self, view(ev, d.Body.Event.ICS))
}

// Remove removes my event uid (a tombstone), sealed to its attendees as
// the event was, so that it leaves their agendas too.
func (c *Calendar) Remove(ctx context.Context, uid string) error {
	if err := c.w.CanWrite(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, _, err := c.liveLocked(ctx, uid)
	if err != nil {
		return err
	}
	to, err := c.audience(ctx, ev)
	if err != nil {
		return err
	}
	return c.appendLocked(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindEvent, Key: uid, Del: true}, To: to})
}

// Show returns my event uid, or else the invitation uid from a
// connection's log, with the attendees' answers.
func (c *Calendar) Show(ctx context.Context, uid string) (*Event, error) {
	c.mu.Lock()
	ev, r, err := c.liveLocked(ctx, uid)
	c.mu.Unlock()
	if errors.Is(err, graph.ErrNotFound) && (r == nil || !r.Body.Del) {
		inv, ierr := c.invitation(ctx, uid)
		if ierr != nil {
			return nil, err
		}
		return c.withReplies(ctx, inv.org, invitedView(inv))
	}
	if err != nil {
		return nil, err
	}
	return c.withReplies(ctx, c.self, view(ev, r.Body.Event.ICS))
}

func view(ev *ical.Event, text string) *Event {
	v := &Event{UID: ev.UID, Summary: ev.Summary(), Location: ev.Location(), Description: ev.Description(),
		RRule: ev.RRule(), Status: ev.Status(), Sequence: ev.Sequence(), Organizer: ev.Organizer(), Attendees: ev.Attendees(),
		Overrides: len(ev.Overrides), Alarms: len(ev.Alarms()), ICS: text}
	if first, ok := ev.First(time.UTC); ok {
		v.Start, v.End, v.AllDay = &first.Start, &first.End, first.AllDay
		if !first.AllDay {
			v.TZ = first.Start.Location().String()
		}
	}
	return v
}

// eventsLocked returns my events, parsed, from the cache while my log's
// head has not moved since it was built.
func (c *Calendar) eventsLocked(ctx context.Context) (map[string]*cached, error) {
	h, err := c.store.Head(ctx, c.self)
	if err != nil {
		return nil, err
	}
	if c.cache != nil && c.cacheHead == h.Seq && h.Seq != 0 {
		return c.cache, nil
	}
	rs, err := c.store.Records(ctx, c.self, graph.KindEvent)
	if err != nil {
		return nil, err
	}
	next := make(map[string]*cached, len(rs))
	for _, r := range rs {
		id := r.CID.String()
		if old := c.cache[r.Key]; old != nil && old.cid == id {
			next[r.Key] = old
			continue
		}
		next[r.Key] = newCached(r)
	}
	c.cache, c.cacheHead = next, h.Seq
	return next, nil
}

// List returns the agenda from from to to: every instance of my events
// that overlaps the window, by start; all-day and floating times in tz
// (an IANA name; "" is UTC).
func (c *Calendar) List(ctx context.Context, from, to time.Time, tz string) ([]Instance, error) {
	loc, err := zone(tz)
	if err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, graph.Invalidf("the agenda's end %s is not after its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxWindow {
		return nil, fmt.Errorf("%w: an agenda of %d days; at most %d", graph.ErrTooLarge, int(to.Sub(from).Hours()/24), int(MaxWindow.Hours()/24))
	}
	c.mu.Lock()
	events, err := c.eventsLocked(ctx)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var out []Instance
	for _, ce := range events {
		if ce.undated || ce.ev.Status() == "CANCELLED" || !ce.from.Before(to) || !ce.endless && !ce.to.After(from) && !ce.to.Equal(ce.from) {
			continue
		}
		ins, err := ce.ev.Instances(from, to, loc)
		if err != nil {
			continue // an event too dense to expand is left out of agendas, not the agenda out
		}
		loc := ce.ev.Location()
		for _, in := range ins {
			it := Instance{UID: in.UID, Summary: in.Summary, Start: in.Start, End: in.End, AllDay: in.AllDay, Location: loc}
			if !in.RecurrenceID.IsZero() {
				rid := in.RecurrenceID
				it.RecurrenceID = &rid
			}
			out = append(out, it)
		}
	}
	invs, err := c.invitations(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if inv.ev.Status() == "CANCELLED" {
			continue
		}
		ins, err := inv.ev.Instances(from, to, loc)
		if err != nil {
			continue
		}
		for _, in := range ins {
			it := Instance{UID: in.UID, Summary: in.Summary, Start: in.Start, End: in.End, AllDay: in.AllDay, Location: inv.ev.Location(), From: inv.org.String()}
			if !in.RecurrenceID.IsZero() {
				rid := in.RecurrenceID
				it.RecurrenceID = &rid
			}
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b Instance) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.UID, b.UID))
	})
	return out, nil
}

// Import reads iCalendar text and writes its events, all in one append:
// a new UID is added, a known one replaced, unless the file's SEQUENCE is
// lower than mine (an older version: kept mine) or the text is the same.
// A broken event fails the import, naming it and its line, unless
// skipInvalid. progress, if not nil, hears how many events are done.
func (c *Calendar) Import(ctx context.Context, data []byte, skipInvalid bool, progress func(done, total int)) (*ImportResult, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	res, err := ical.Decode(bytes.NewReader(data), ical.Options{SkipInvalid: skipInvalid})
	if err != nil {
		return nil, graph.Invalidf("%v", err)
	}
	out := &ImportResult{Skipped: []string{}, Warnings: []string{}}
	for _, s := range res.Skipped {
		out.Skipped = append(out.Skipped, s.Error())
	}
	for _, w := range res.Warnings {
		out.Warnings = append(out.Warnings, w.String())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	events, err := c.eventsLocked(ctx)
	if err != nil {
		return nil, err
	}
	// What this import writes comes after every entry held: only a lower
	// SEQUENCE loses to the held version.
	next := graph.Version{Time: math.MaxInt64}
	var drafts []graph.Draft
	for i, ev := range res.Events {
		if progress != nil && (i%500 == 0 || i == len(res.Events)-1) {
			progress(i+1, len(res.Events))
		}
		d, err := c.sealedDraft(ctx, ev)
		if err != nil {
			if skipInvalid {
				out.Skipped = append(out.Skipped, err.Error())
				continue
			}
			return nil, err
		}
		cur := events[ev.UID]
		switch {
		case cur == nil || cur.ev == nil:
			out.Added++
		case !Wins(d.Body.Event.Seq, next, cur.seq, cur.version):
			out.Older++
			continue
		default:
			if cur.ics == d.Body.Event.ICS {
				out.Unchanged++
				continue
			}
			out.Updated++
		}
		drafts = append(drafts, d)
	}
	if len(drafts) > 0 {
		if err := c.appendLocked(ctx, drafts...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Export writes my events (those of uids, or all) as one iCalendar file.
func (c *Calendar) Export(ctx context.Context, uids []string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var evs []*ical.Event
	if len(uids) > 0 {
		for _, uid := range uids {
			ev, _, err := c.liveLocked(ctx, uid)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
	} else {
		events, err := c.eventsLocked(ctx)
		if err != nil {
			return nil, err
		}
		for _, uid := range slices.Sorted(maps.Keys(events)) {
			if ce := events[uid]; ce.ev != nil {
				evs = append(evs, ce.ev)
			}
		}
	}
	var b bytes.Buffer
	if err := ical.Encode(&b, evs); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
