package ical

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// Event is one calendar event as iCalendar has it: every VEVENT of one
// UID (the master, which holds the recurrence rule, and the overrides of
// single instances, each with a RECURRENCE-ID) and the VTIMEZONEs they
// name. The components keep every property and parameter as written
// (go-ical's model); the methods read the ones Kith understands. An
// Event is not safe for concurrent mutation.
type Event struct {
	UID       string
	Master    *ical.Component   // the VEVENT without RECURRENCE-ID; nil if only overrides are known
	Overrides []*ical.Component // VEVENTs with RECURRENCE-ID, in the order of it
	Zones     []*ical.Component // VTIMEZONEs named by a TZID parameter, by TZID

	where map[*ical.Component]where // input lines, while decoding
}

// Attendee is an ATTENDEE (or the ORGANIZER) of an event.
type Attendee struct {
	Address  string `json:"address"`            // the calendar address, usually mailto:
	Name     string `json:"name,omitempty"`     // CN
	PartStat string `json:"partstat,omitempty"` // NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE, DELEGATED
	Role     string `json:"role,omitempty"`     // REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR, …
	RSVP     bool   `json:"rsvp,omitempty"`     // a reply is expected
	Peer     string `json:"peer,omitempty"`     // X-KITH-PEER: the attendee's Kith peer ID
}

// Main returns the component that describes the event: the master, or the
// first override when there is no master.
func (e *Event) Main() *ical.Component {
	if e.Master != nil {
		return e.Master
	}
	if len(e.Overrides) > 0 {
		return e.Overrides[0]
	}
	return nil
}

// Text returns the unescaped text of the main component's property name.
func (e *Event) Text(name string) string {
	c := e.Main()
	if c == nil {
		return ""
	}
	return propText(c, name)
}

// Summary returns the SUMMARY.
func (e *Event) Summary() string { return e.Text(ical.PropSummary) }

// Location returns the LOCATION.
func (e *Event) Location() string { return e.Text(ical.PropLocation) }

// Description returns the DESCRIPTION.
func (e *Event) Description() string { return e.Text(ical.PropDescription) }

// Status returns the STATUS (TENTATIVE, CONFIRMED, CANCELLED) or "".
func (e *Event) Status() string { return strings.ToUpper(e.Text(ical.PropStatus)) }

// Sequence returns the SEQUENCE, the revision number the organizer
// raises on each significant change (0 when absent or unreadable).
func (e *Event) Sequence() int {
	s := 0
	for _, c := range e.parts() {
		s = max(s, sequence(c))
	}
	return s
}

func sequence(c *ical.Component) int {
	p := c.Props.Get(ical.PropSequence)
	if p == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(p.Value))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// SetSequence sets the SEQUENCE of the master and the overrides.
func (e *Event) SetSequence(n int) {
	for _, c := range e.parts() {
		p := ical.NewProp(ical.PropSequence)
		p.Value = strconv.Itoa(n)
		c.Props.Set(p)
	}
}

// Organizer returns the ORGANIZER, if any.
func (e *Event) Organizer() *Attendee {
	c := e.Main()
	if c == nil {
		return nil
	}
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		a := attendee(p)
		return &a
	}
	return nil
}

// Attendees returns the ATTENDEEs of the main component.
func (e *Event) Attendees() []Attendee {
	c := e.Main()
	if c == nil {
		return nil
	}
	var out []Attendee
	for _, p := range c.Props.Values(ical.PropAttendee) {
		out = append(out, attendee(&p))
	}
	return out
}

func attendee(p *ical.Prop) Attendee {
	return Attendee{
		Address:  p.Value,
		Name:     p.Params.Get(ical.ParamCommonName),
		PartStat: strings.ToUpper(p.Params.Get(ical.ParamParticipationStatus)),
		Role:     strings.ToUpper(p.Params.Get(ical.ParamRole)),
		RSVP:     strings.EqualFold(p.Params.Get(ical.ParamRSVP), "TRUE"),
		Peer:     p.Params.Get("X-KITH-PEER"),
	}
}

// Alarms returns the VALARM components of the main component.
func (e *Event) Alarms() []*ical.Component {
	c := e.Main()
	if c == nil {
		return nil
	}
	var out []*ical.Component
	for _, ch := range c.Children {
		if ch.Name == ical.CompAlarm {
			out = append(out, ch)
		}
	}
	return out
}

// RRule returns the RRULE value of the master, or "".
func (e *Event) RRule() string {
	if e.Master == nil {
		return ""
	}
	if p := e.Master.Props.Get(ical.PropRecurrenceRule); p != nil {
		return p.Value
	}
	return ""
}

// Recurring reports whether the event repeats (RRULE or RDATE).
func (e *Event) Recurring() bool {
	return e.Master != nil && (e.Master.Props.Get(ical.PropRecurrenceRule) != nil || e.Master.Props.Get(ical.PropRecurrenceDates) != nil)
}

// parts returns the master and the overrides.
func (e *Event) parts() []*ical.Component {
	var out []*ical.Component
	if e.Master != nil {
		out = append(out, e.Master)
	}
	return append(out, e.Overrides...)
}

// zoneIDs returns the TZIDs the event's properties name.
func (e *Event) zoneIDs() map[string]bool {
	ids := map[string]bool{}
	var walk func(c *ical.Component)
	walk = func(c *ical.Component) {
		for _, ps := range c.Props {
			for _, p := range ps {
				if id := p.Params.Get(ical.PropTimezoneID); id != "" {
					ids[id] = true
				}
			}
		}
		for _, ch := range c.Children {
			walk(ch)
		}
	}
	for _, c := range e.parts() {
		walk(c)
	}
	return ids
}

func (e *Event) sortParts() {
	slices.SortStableFunc(e.Overrides, func(a, b *ical.Component) int {
		return strings.Compare(a.Props.Get(ical.PropRecurrenceID).Value, b.Props.Get(ical.PropRecurrenceID).Value)
	})
	slices.SortStableFunc(e.Zones, func(a, b *ical.Component) int {
		return strings.Compare(a.Props.Get(ical.PropTimezoneID).Value, b.Props.Get(ical.PropTimezoneID).Value)
	})
}

// atMostOne are the VEVENT properties RFC 5545 §3.6.1 allows once.
var atMostOne = []string{ical.PropDateTimeStamp, ical.PropDateTimeStart, ical.PropClass, ical.PropCreated,
	ical.PropDescription, ical.PropGeo, ical.PropLastModified, ical.PropLocation, ical.PropOrganizer, ical.PropPriority,
	ical.PropSequence, ical.PropStatus, ical.PropSummary, ical.PropTransparency, ical.PropURL, ical.PropRecurrenceID,
	ical.PropDateTimeEnd, ical.PropDuration, ical.PropColor}

// Check validates what Kith reads of the event: one UID; VEVENTs only,
// with VALARMs only inside; dates and times that parse; DTEND not before
// DTSTART; a DURATION and a recurrence rule that parse. An error is an
// [*EventError] naming the line when the event was decoded. What real
// files get wrong but can still be read (no DTSTART, a property twice,
// DTEND and DURATION both) is not an error: see [Decode]'s warnings.
func (e *Event) Check() error {
	if e.UID == "" {
		return e.errorf(nil, "", "no UID")
	}
	if e.Main() == nil {
		return e.errorf(nil, "", "no VEVENT")
	}
	zones := NewZones(e.Zones)
	for _, c := range e.parts() {
		if c.Name != ical.CompEvent {
			return e.errorf(c, "", "a %s is no event", c.Name)
		}
		if n := len(c.Props[ical.PropUID]); n != 1 || propText(c, ical.PropUID) != e.UID {
			return e.errorf(c, ical.PropUID, "UID %q (%d of them), want one: %q", propText(c, ical.PropUID), n, e.UID)
		}
		for _, ch := range c.Children {
			if ch.Name != ical.CompAlarm {
				return e.errorf(c, "", "a %s inside the event (only VALARM may be)", ch.Name)
			}
		}
		start := c.Props.Get(ical.PropDateTimeStart)
		if start == nil {
			start = c.Props.Get(ical.PropRecurrenceID)
		}
		var st Time
		if start != nil {
			var err error
			if st, err = parseTime(start, zones, time.UTC); err != nil {
				return e.errorf(c, start.Name, "%s: %v", start.Name, err)
			}
		}
		for _, name := range []string{ical.PropRecurrenceID, ical.PropDateTimeEnd} {
			if p := c.Props.Get(name); p != nil {
				t, err := parseTime(p, zones, time.UTC)
				if err != nil {
					return e.errorf(c, name, "%s: %v", name, err)
				}
				if name == ical.PropDateTimeEnd && start != nil && t.Before(st.Time) {
					return e.errorf(c, name, "DTEND %s is before DTSTART %s", p.Value, start.Value)
				}
			}
		}
		if p := c.Props.Get(ical.PropDuration); p != nil {
			if _, err := p.Duration(); err != nil {
				return e.errorf(c, ical.PropDuration, "DURATION %q: %v", p.Value, err)
			}
		}
		for _, name := range []string{ical.PropExceptionDates, ical.PropRecurrenceDates} {
			for _, p := range c.Props.Values(name) {
				if _, err := parseTimes(&p, zones, time.UTC); err != nil {
					return e.errorf(c, name, "%s: %v", name, err)
				}
			}
		}
		for _, p := range c.Props.Values(ical.PropRecurrenceRule) {
			if start == nil {
				return e.errorf(c, ical.PropRecurrenceRule, "RRULE without DTSTART")
			}
			if _, err := parseRule(p.Value, st.Time); err != nil && !errors.Is(err, errRScale) {
				return e.errorf(c, ical.PropRecurrenceRule, "RRULE %q: %v", p.Value, err)
			}
		}
	}
	return nil
}

// lint returns what a checked event gets wrong that Kith reads anyway.
func (e *Event) lint() []Warning {
	var out []Warning
	warn := func(c *ical.Component, prop, format string, args ...any) {
		w := Warning{UID: e.UID, Msg: fmt.Sprintf(format, args...)}
		if p, ok := e.where[c]; ok {
			w.Line = p.begin
			if n, ok := p.props[prop]; ok {
				w.Line = n
			}
		}
		out = append(out, w)
	}
	for _, c := range e.parts() {
		for _, name := range atMostOne {
			if n := len(c.Props[name]); n > 1 {
				warn(c, name, "%d %s properties: the first is read, all are kept", n, name)
			}
		}
		if c.Props.Get(ical.PropDateTimeStart) == nil && c.Props.Get(ical.PropRecurrenceID) == nil {
			warn(c, "", "no DTSTART: kept, but in no agenda")
		}
		if c.Props.Get(ical.PropDateTimeEnd) != nil && c.Props.Get(ical.PropDuration) != nil {
			warn(c, ical.PropDuration, "both DTEND and DURATION: DTEND is read")
		}
		for _, p := range c.Props.Values(ical.PropRecurrenceRule) {
			if _, err := parseRule(p.Value, time.Now()); errors.Is(err, errRScale) {
				warn(c, ical.PropRecurrenceRule, "RRULE %q: %v: only DTSTART is in agendas", p.Value, err)
			}
		}
		if len(c.Props[ical.PropRecurrenceRule]) > 1 {
			warn(c, ical.PropRecurrenceRule, "several RRULEs (RFC 2445): their instances are joined")
		}
	}
	return out
}

func (e *Event) errorf(c *ical.Component, prop, format string, args ...any) error {
	ee := &EventError{UID: e.UID, Summary: e.Summary(), Err: fmt.Errorf(format, args...)}
	if w, ok := e.where[c]; ok {
		ee.Line = w.begin
		if n, ok := w.props[prop]; ok {
			ee.Line = n
		}
	}
	return ee
}

// Time is a DTSTART, DTEND, RECURRENCE-ID, EXDATE or RDATE value: an
// instant in its zone, a date (all-day) or a floating time (the same
// wall-clock time in every zone), both of which are read in the zone
// given to the reader.
type Time struct {
	time.Time
	AllDay   bool
	Floating bool
	TZID     string // the TZID parameter, if any
}

const (
	dateLayout     = "20060102"
	dateTimeLayout = "20060102T150405"
)

// parseTime parses one date or date-time value of p.
func parseTime(p *ical.Prop, zones *Zones, local *time.Location) (Time, error) {
	return parseValue(strings.TrimSpace(p.Value), p, zones, local)
}

func parseValue(v string, p *ical.Prop, zones *Zones, local *time.Location) (Time, error) {
	if strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE") || len(v) == len(dateLayout) || len(v) == len(dateLayout)+1 && v[8] == 'Z' {
		t, err := time.ParseInLocation(dateLayout, strings.TrimSuffix(v, "Z"), local)
		if err != nil {
			return Time{}, fmt.Errorf("bad date %q (want YYYYMMDD)", v)
		}
		if t.Year() < 1 {
			return Time{}, fmt.Errorf("bad date %q: year 0", v)
		}
		return Time{Time: t, AllDay: true}, nil
	}
	if z, ok := strings.CutSuffix(v, "Z"); ok {
		t, err := time.ParseInLocation(dateTimeLayout, z, time.UTC)
		if err != nil || t.Year() < 1 {
			return Time{}, fmt.Errorf("bad date-time %q (want YYYYMMDDThhmmssZ)", v)
		}
		return Time{Time: t}, nil
	}
	tzid := p.Params.Get(ical.PropTimezoneID)
	loc, floating := local, true
	if tzid != "" {
		if l, ok := zones.Resolve(tzid); ok {
			loc, floating = l, false
		}
	}
	t, err := time.ParseInLocation(dateTimeLayout, v, loc)
	if err != nil || t.Year() < 1 {
		return Time{}, fmt.Errorf("bad date-time %q (want YYYYMMDDThhmmss)", v)
	}
	return Time{Time: t, Floating: floating, TZID: tzid}, nil
}

// parseTimes parses the comma-separated values of an EXDATE or RDATE (a
// PERIOD gives its start).
func parseTimes(p *ical.Prop, zones *Zones, local *time.Location) ([]Time, error) {
	var out []Time
	for _, v := range strings.Split(p.Value, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if start, _, ok := strings.Cut(v, "/"); ok {
			v = start
		}
		t, err := parseValue(v, p, zones, local)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// errRScale: an RRULE in a calendar scale other than the Gregorian
// (RFC 7529), which rrule-go cannot expand.
var errRScale = errors.New("a non-Gregorian RSCALE")

// stripRRule cleans an RRULE value for rrule-go: white space and
// backslashes (some writers escape its ";") out, RFC 7529's RSCALE=GREGORIAN
// and SKIP and X- extensions dropped.
func stripRRule(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\\' || r == '\t' {
			return -1
		}
		return r
	}, v)
	parts := strings.Split(strings.TrimPrefix(strings.ToUpper(v), "RRULE:"), ";")
	out := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if k == "RSCALE" || k == "SKIP" || strings.HasPrefix(k, "X-") || k == "" {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ";")
}

// parseRule parses an RRULE value for a DTSTART; UNTIL without a zone is
// read in DTSTART's.
func parseRule(v string, start time.Time) (r *rrule.RRule, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("rrule-go: %v", p)
		}
	}()
	if i := strings.Index(strings.ToUpper(v), "RSCALE="); i >= 0 && !strings.HasPrefix(strings.ToUpper(v[i+7:]), "GREGORIAN") {
		return nil, errRScale
	}
	opt, err := rrule.StrToROptionInLocation(stripRRule(v), start.Location())
	if err != nil {
		return nil, err
	}
	if opt.Interval < 0 || opt.Count < 0 {
		return nil, fmt.Errorf("negative INTERVAL or COUNT")
	}
	opt.Dtstart = start
	if !opt.Until.IsZero() && len(untilValue(v)) == len(dateLayout) {
		// A date UNTIL includes that whole day.
		opt.Until = opt.Until.AddDate(0, 0, 1).Add(-time.Second)
	}
	return rrule.NewRRule(*opt)
}

func untilValue(v string) string {
	for _, p := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "UNTIL") {
			return strings.TrimSpace(val)
		}
	}
	return ""
}
