package ical

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// ProdID is the PRODID of what Kith writes.
const ProdID = "-//Kith//Kith Calendar//EN"

// Encode writes events as one VCALENDAR (VERSION 2.0): the VTIMEZONEs
// they name (one per TZID), then each event's master and overrides.
// Properties come out sorted by name, as go-ical's encoder sorts them,
// each with its parameters (sorted, quoted where needed) and its value as
// read, so export → import → export gives the same bytes; lines are
// folded at 75 octets (RFC 5545 §3.1). The writing is this package's:
// go-ical's encoder refuses what real files hold and Kith keeps (two
// RRULEs as RFC 2445 allowed, a property twice).
func Encode(w io.Writer, events []*Event) error {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, ProdID)
	seen := map[string]bool{}
	for _, e := range events {
		for _, z := range e.Zones {
			id := z.Props.Get(ical.PropTimezoneID).Value
			if !seen[id] {
				seen[id] = true
				cal.Children = append(cal.Children, z)
			}
		}
	}
	for _, e := range events {
		for _, c := range e.parts() {
			cal.Children = append(cal.Children, c)
		}
	}
	fw := &folder{w: bufio.NewWriter(w)}
	if err := writeComponent(fw.w, cal.Component, fw); err != nil {
		return fmt.Errorf("encoding iCalendar: %w", err)
	}
	return fw.w.Flush()
}

func writeComponent(bw *bufio.Writer, c *ical.Component, fw *folder) error {
	fw.line("BEGIN:" + c.Name)
	for _, name := range slices.Sorted(maps.Keys(c.Props)) {
		for _, p := range c.Props[name] {
			var b strings.Builder
			b.WriteString(p.Name)
			for _, pn := range slices.Sorted(maps.Keys(p.Params)) {
				b.WriteString(";" + pn + "=")
				for i, v := range p.Params[pn] {
					if i > 0 {
						b.WriteByte(',')
					}
					if strings.ContainsAny(v, "\"\r\n") {
						return fmt.Errorf("%s: parameter %s holds a quote or a line break", p.Name, pn)
					}
					if strings.ContainsAny(v, ";:,") {
						b.WriteString(`"` + v + `"`)
					} else {
						b.WriteString(v)
					}
				}
			}
			if strings.ContainsAny(p.Value, "\r\n") {
				return fmt.Errorf("%s: the value holds a line break", p.Name)
			}
			b.WriteString(":" + p.Value)
			fw.line(b.String())
		}
	}
	for _, ch := range c.Children {
		if err := writeComponent(bw, ch, fw); err != nil {
			return err
		}
	}
	fw.line("END:" + c.Name)
	return nil
}

// EncodeEvent returns e as iCalendar text (see [Encode]).
func EncodeEvent(e *Event) ([]byte, error) {
	var b bytes.Buffer
	if err := Encode(&b, []*Event{e}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// stamp gives a VEVENT without DTSTAMP (which RFC 5545 requires) one: its LAST-MODIFIED or CREATED if in UTC,
// else the Unix epoch, so that the same input always encodes the same.
func stamp(c *ical.Component) {
	if c.Props.Get(ical.PropDateTimeStamp) != nil {
		return
	}
	v := "19700101T000000Z"
	for _, name := range []string{ical.PropLastModified, ical.PropCreated} {
		if p := c.Props.Get(name); p != nil && strings.HasSuffix(p.Value, "Z") && len(p.Value) == len(dateTimeLayout)+1 {
			v = p.Value
			break
		}
	}
	p := ical.NewProp(ical.PropDateTimeStamp)
	p.Value = v
	c.Props.Set(p)
}

// folder writes content lines folded at 75 octets, never inside a UTF-8
// sequence.
type folder struct {
	w *bufio.Writer
}

func (f *folder) line(s string) {
	col := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		if col+size > 75 {
			f.w.WriteString("\r\n ")
			col = 1
		}
		f.w.WriteString(s[i : i+size])
		col += size
		i += size
	}
	f.w.WriteString("\r\n")
}

// Fields are what a person sets on an event they write: `kith events add`
// and `edit`. A zero field is left alone by [Event.Apply].
type Fields struct {
	Summary     *string
	Location    *string
	Description *string
	// Start and End: an instant in the event's zone (its Location() names
	// the zone: an IANA zone, or UTC), or a date at midnight with AllDay.
	Start *time.Time
	End   *time.Time
	// AllDay makes Start and End dates (End is the day after the last).
	AllDay *bool
	// RRule is a recurrence rule ("FREQ=WEEKLY;COUNT=4"); "" removes it.
	RRule *string
}

// NewEvent returns an event of uid set to f; it needs a summary and a
// start. now stamps it (DTSTAMP, CREATED).
func NewEvent(uid string, f Fields, now time.Time) (*Event, error) {
	if f.Summary == nil || strings.TrimSpace(*f.Summary) == "" {
		return nil, fmt.Errorf("an event needs a summary")
	}
	if f.Start == nil {
		return nil, fmt.Errorf("an event needs a start")
	}
	c := ical.NewEvent()
	c.Props.SetText(ical.PropUID, uid)
	stamp := now.UTC().Format(dateTimeLayout + "Z")
	for _, name := range []string{ical.PropDateTimeStamp, ical.PropCreated, ical.PropLastModified} {
		p := ical.NewProp(name)
		p.Value = stamp
		c.Props.Set(p)
	}
	e := &Event{UID: uid, Master: c.Component}
	if err := e.Apply(f, now); err != nil {
		return nil, err
	}
	return e, nil
}

// Apply sets f's fields on the master, raises SEQUENCE when the time
// changes (RFC 5546 §2.1.4) and sets LAST-MODIFIED to now. It checks the
// result.
func (e *Event) Apply(f Fields, now time.Time) error {
	m := e.Master
	if m == nil {
		return fmt.Errorf("event %q has no master VEVENT to edit (only overrides of single instances)", e.UID)
	}
	setText := func(name string, v *string) {
		if v == nil {
			return
		}
		if *v == "" {
			m.Props.Del(name)
			return
		}
		m.Props.SetText(name, *v)
	}
	setText(ical.PropSummary, f.Summary)
	setText(ical.PropLocation, f.Location)
	setText(ical.PropDescription, f.Description)
	timing := f.Start != nil || f.End != nil || f.AllDay != nil || f.RRule != nil
	if timing {
		hadStart := m.Props.Get(ical.PropDateTimeStart) != nil
		zones := NewZones(e.Zones)
		start, _ := parseTime(orEmpty(m.Props.Get(ical.PropDateTimeStart)), zones, time.UTC)
		cur, _ := e.single(m, zones, time.UTC, Time{})
		allDay := start.AllDay
		if f.AllDay != nil {
			allDay = *f.AllDay
		}
		st := start.Time
		if f.Start != nil {
			st = *f.Start
		}
		end := st.Add(cur.End.Sub(cur.Start))
		if f.End != nil {
			end = *f.End
		} else if allDay && !end.After(st) {
			end = st.AddDate(0, 0, 1)
		}
		if end.Before(st) {
			return fmt.Errorf("the end (%s) is before the start (%s)", end.Format(time.DateTime), st.Format(time.DateTime))
		}
		m.Props.Del(ical.PropDuration)
		m.Props.Set(timeProp(ical.PropDateTimeStart, st, allDay))
		m.Props.Set(timeProp(ical.PropDateTimeEnd, end, allDay))
		if f.RRule != nil {
			if *f.RRule == "" {
				m.Props.Del(ical.PropRecurrenceRule)
			} else {
				p := ical.NewProp(ical.PropRecurrenceRule)
				p.Value = strings.ToUpper(strings.TrimPrefix(*f.RRule, "RRULE:"))
				m.Props.Set(p)
			}
		}
		if hadStart {
			e.SetSequence(e.Sequence() + 1)
		}
		e.Zones = nil // Kith writes IANA zone names, which every reader resolves
	}
	p := ical.NewProp(ical.PropLastModified)
	p.Value = now.UTC().Format(dateTimeLayout + "Z")
	m.Props.Set(p)
	return e.Check()
}

func orEmpty(p *ical.Prop) *ical.Prop {
	if p == nil {
		return &ical.Prop{Params: ical.Params{}}
	}
	return p
}

// timeProp writes t as a date (all-day), a UTC date-time, or a date-time
// with the TZID of its IANA location.
func timeProp(name string, t time.Time, allDay bool) *ical.Prop {
	p := ical.NewProp(name)
	switch {
	case allDay:
		p.Params.Set(ical.ParamValue, "DATE")
		p.Value = t.Format(dateLayout)
	case t.Location() == time.UTC:
		p.Value = t.Format(dateTimeLayout + "Z")
	default:
		p.Params.Set(ical.PropTimezoneID, t.Location().String())
		p.Value = t.Format(dateTimeLayout)
	}
	return p
}
