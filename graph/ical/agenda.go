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

// MaxSteps bounds the recurrences one expansion walks through (from
// DTSTART to the end of the window): a daily event of 1970 takes ~21,000
// steps in 2027, a rule every minute since last year half a million.
const MaxSteps = 1_000_000

// maxInstances bounds the instances one event gives one window.
const maxInstances = 100_000

// ErrTooDense: a recurrence would take more than MaxSteps to expand.
var ErrTooDense = errors.New("ical: recurrence too dense to expand")

// Instance is one occurrence of an event in an agenda: its start and end
// in the zone in force (the event's, or the reader's for all-day and
// floating times).
type Instance struct {
	UID     string
	Summary string
	Start   time.Time
	End     time.Time
	AllDay  bool
	// RecurrenceID identifies the instance of a recurring event (its
	// original start); zero for an event that does not repeat.
	RecurrenceID time.Time
	// Comp is the VEVENT it comes from: the master or an override.
	Comp *ical.Component
}

// Instances returns the event's instances that overlap [from, to), by
// start: recurrences expanded (rrule-go) in the zone of DTSTART, so a
// weekly 09:00 meeting stays at 09:00 across a DST change; RDATEs added,
// EXDATEs and cancelled overrides taken out, overrides in place of the
// instances they replace. All-day and floating times are read in local.
// An endless rule is fine: expansion stops at to.
func (e *Event) Instances(from, to time.Time, local *time.Location) (_ []Instance, err error) {
	defer e.recoverRRule(&err)
	if local == nil {
		local = time.Local
	}
	zones := NewZones(e.Zones)
	var out []Instance
	overridden := map[int64]bool{}
	overriddenDay := map[string]bool{}
	for _, o := range e.Overrides {
		rid, err := parseTime(o.Props.Get(ical.PropRecurrenceID), zones, local)
		if err != nil {
			return nil, e.wrap(err)
		}
		overridden[rid.Unix()] = true
		if rid.AllDay {
			overriddenDay[rid.Format(dateLayout)] = true
		}
		if strings.EqualFold(propText(o, ical.PropStatus), "CANCELLED") {
			continue
		}
		in, err := e.single(o, zones, local, rid)
		if err != nil {
			return nil, err
		}
		if overlaps(in, from, to) {
			out = append(out, in)
		}
	}
	if m := e.Master; m != nil && m.Props.Get(ical.PropDateTimeStart) != nil {
		first, err := e.single(m, zones, local, Time{})
		if err != nil {
			return nil, err
		}
		if !e.Recurring() {
			if overlaps(first, from, to) && !overridden[first.Start.Unix()] {
				out = append(out, first)
			}
		} else {
			dur := first.End.Sub(first.Start)
			days := 0
			if first.AllDay {
				days = int((dur + 12*time.Hour) / (24 * time.Hour))
			}
			start, _ := parseTime(m.Props.Get(ical.PropDateTimeStart), zones, local)
			next, err := e.recurrences(m, zones, local, start, from.Add(-dur).AddDate(0, 0, -days-2))
			if err != nil {
				return nil, err
			}
			for steps := 0; ; steps++ {
				t, ok := next()
				if !ok || !t.Before(to) {
					break
				}
				if steps >= MaxSteps {
					return nil, e.wrap(fmt.Errorf("%w: over %d instances before %s", ErrTooDense, MaxSteps, to.Format(time.DateOnly)))
				}
				if overridden[t.Unix()] || first.AllDay && overriddenDay[t.Format(dateLayout)] {
					continue
				}
				in := first
				in.Start, in.RecurrenceID = t, t
				if first.AllDay {
					in.End = t.AddDate(0, 0, days)
				} else {
					in.End = t.Add(dur)
				}
				if overlaps(in, from, to) {
					if len(out) >= maxInstances {
						return nil, e.wrap(fmt.Errorf("%w: over %d instances in the window", ErrTooDense, maxInstances))
					}
					out = append(out, in)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Instance) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// recoverRRule turns a panic of rrule-go (v1.8.2 indexes out of range on
// some rules and dates the fuzzer finds) into an error naming the event.
func (e *Event) recoverRRule(err *error) {
	if r := recover(); r != nil {
		*err = e.wrap(fmt.Errorf("expanding the recurrence: %v", r))
	}
}

func (e *Event) wrap(err error) error {
	return &EventError{UID: e.UID, Summary: e.Summary(), Err: err}
}

func overlaps(in Instance, from, to time.Time) bool {
	if in.End.Equal(in.Start) {
		return !in.Start.Before(from) && in.Start.Before(to)
	}
	return in.Start.Before(to) && in.End.After(from)
}

// single returns the one instance a VEVENT describes: DTSTART (or the
// RECURRENCE-ID), and DTEND, DTSTART + DURATION, a day for a date or
// nothing for a date-time (RFC 5545 §3.6.1).
func (e *Event) single(c *ical.Component, zones *Zones, local *time.Location, rid Time) (Instance, error) {
	p := c.Props.Get(ical.PropDateTimeStart)
	if p == nil {
		p = c.Props.Get(ical.PropRecurrenceID)
	}
	if p == nil {
		return Instance{}, e.wrap(fmt.Errorf("no DTSTART"))
	}
	start, err := parseTime(p, zones, local)
	if err != nil {
		return Instance{}, e.wrap(fmt.Errorf("DTSTART: %w", err))
	}
	in := Instance{UID: e.UID, Summary: propText(c, ical.PropSummary), Start: start.Time, AllDay: start.AllDay, Comp: c}
	if in.Summary == "" {
		in.Summary = e.Summary()
	}
	if !rid.IsZero() {
		in.RecurrenceID = rid.Time
	}
	switch {
	case c.Props.Get(ical.PropDateTimeEnd) != nil:
		end, err := parseTime(c.Props.Get(ical.PropDateTimeEnd), zones, local)
		if err != nil {
			return Instance{}, e.wrap(fmt.Errorf("DTEND: %w", err))
		}
		in.End = end.Time
	case c.Props.Get(ical.PropDuration) != nil:
		d, err := c.Props.Get(ical.PropDuration).Duration()
		if err != nil {
			return Instance{}, e.wrap(fmt.Errorf("DURATION: %w", err))
		}
		if start.AllDay && d%(24*time.Hour) == 0 {
			in.End = start.AddDate(0, 0, int(d/(24*time.Hour)))
		} else {
			in.End = start.Add(d)
		}
	case start.AllDay:
		in.End = start.AddDate(0, 0, 1)
	default:
		in.End = start.Time
	}
	if in.End.Before(in.Start) {
		in.End = in.Start
	}
	return in, nil
}

// recurrences returns an iterator over the master's instance starts, in
// order: the RRULE's, the RDATEs, DTSTART itself, without EXDATEs.
//
// An instance before skipTo is not needed: a DAILY or WEEKLY rule without
// COUNT or BYSETPOS then starts from its last period before skipTo
// instead of from DTSTART (whole periods of wall-clock days, so the time
// of day and the week grid stay), which spares walking years of a series
// that began long ago.
func (e *Event) recurrences(m *ical.Component, zones *Zones, local *time.Location, start Time, skipTo time.Time) (func() (time.Time, bool), error) {
	// One iterator per RRULE (RFC 2445 allowed several) and one of
	// DTSTART and the RDATEs, merged in order.
	var its []func() (time.Time, bool)
	for _, p := range m.Props.Values(ical.PropRecurrenceRule) {
		r, err := parseRule(p.Value, skipStart(p.Value, start.Time, skipTo))
		if errors.Is(err, errRScale) {
			continue
		}
		if err != nil {
			return nil, e.wrap(fmt.Errorf("RRULE %q: %w", p.Value, err))
		}
		its = append(its, r.Iterator())
	}
	dates := &rrule.Set{}
	dates.RDate(start.Time) // DTSTART is always the first instance (RFC 5545 §3.8.5.3)
	for _, p := range m.Props.Values(ical.PropRecurrenceDates) {
		ts, err := parseTimes(&p, zones, local)
		if err != nil {
			return nil, e.wrap(fmt.Errorf("RDATE: %w", err))
		}
		for _, t := range ts {
			if t.AllDay && !start.AllDay {
				t.Time = time.Date(t.Year(), t.Month(), t.Day(), start.Hour(), start.Minute(), start.Second(), 0, start.Location())
			}
			dates.RDate(t.Time)
		}
	}
	its = append(its, dates.Iterator())
	it := merge(its)
	ex := map[int64]bool{}
	exDay := map[string]bool{}
	for _, p := range m.Props.Values(ical.PropExceptionDates) {
		ts, err := parseTimes(&p, zones, local)
		if err != nil {
			return nil, e.wrap(fmt.Errorf("EXDATE: %w", err))
		}
		for _, t := range ts {
			if t.AllDay {
				exDay[t.Format(dateLayout)] = true
			} else {
				ex[t.Unix()] = true
			}
		}
	}
	return func() (time.Time, bool) {
		for {
			t, ok := it()
			if !ok {
				return t, false
			}
			if !ex[t.Unix()] && !exDay[t.Format(dateLayout)] {
				return t, true
			}
		}
	}, nil
}

// spanLimit bounds the instances Span walks to find where a finite
// recurrence ends; one with more is treated as endless.
const spanLimit = 50_000

// Span returns the time the event covers: from the start of its first
// instance to the end of its last; endless for a recurrence without COUNT
// or UNTIL (or with more than 50,000 instances). Floating and all-day
// times may fall anywhere in a 28-hour band, so the span is widened by 14
// hours each side: a store selects events by it, and then Instances.
func (e *Event) Span() (from, to time.Time, endless bool, err error) {
	defer e.recoverRRule(&err)
	zones := NewZones(e.Zones)
	widen := false
	var ins []Instance
	for _, c := range e.parts() {
		if c.Props.Get(ical.PropDateTimeStart) == nil && c.Props.Get(ical.PropRecurrenceID) == nil {
			continue // in no agenda
		}
		in, err := e.single(c, zones, time.UTC, Time{})
		if err != nil {
			return from, to, false, err
		}
		ins = append(ins, in)
		if p := c.Props.Get(ical.PropDateTimeStart); p != nil {
			if t, err := parseTime(p, zones, time.UTC); err == nil && (t.AllDay || t.Floating) {
				widen = true
			}
		}
	}
	if rr := strings.ToUpper(e.RRule()); rr != "" && !strings.Contains(rr, "COUNT=") && !strings.Contains(rr, "UNTIL=") {
		endless = true
	} else if e.Master != nil && e.Recurring() && e.Master.Props.Get(ical.PropDateTimeStart) != nil {
		first := ins[0]
		start, _ := parseTime(e.Master.Props.Get(ical.PropDateTimeStart), zones, time.UTC)
		next, err := e.recurrences(e.Master, zones, time.UTC, start, time.Time{})
		if err != nil {
			return from, to, false, err
		}
		n := 0
		for t, ok := next(); ok; t, ok = next() {
			if n++; n > spanLimit {
				endless = true
				break
			}
			ins = append(ins, Instance{Start: t, End: t.Add(first.End.Sub(first.Start))})
		}
	}
	for i, in := range ins {
		if i == 0 || in.Start.Before(from) {
			from = in.Start
		}
		if i == 0 || in.End.After(to) {
			to = in.End
		}
	}
	if widen {
		from, to = from.Add(-14*time.Hour), to.Add(14*time.Hour)
	}
	return from, to, endless, nil
}

// merge returns the times of its, each in order, in order and without
// repeats.
func merge(its []func() (time.Time, bool)) func() (time.Time, bool) {
	heads := make([]time.Time, len(its))
	live := make([]bool, len(its))
	for i, it := range its {
		heads[i], live[i] = it()
	}
	var last time.Time
	started := false
	return func() (time.Time, bool) {
		for {
			k := -1
			for i := range its {
				if live[i] && (k < 0 || heads[i].Before(heads[k])) {
					k = i
				}
			}
			if k < 0 {
				return time.Time{}, false
			}
			t := heads[k]
			heads[k], live[k] = its[k]()
			if started && t.Equal(last) {
				continue
			}
			last, started = t, true
			return t, true
		}
	}
}

// First returns the instance the master's DTSTART gives (the first of a
// recurring event); ok is false without a master or a DTSTART.
func (e *Event) First(local *time.Location) (in Instance, ok bool) {
	if e.Master == nil || e.Master.Props.Get(ical.PropDateTimeStart) == nil {
		return in, false
	}
	in, err := e.single(e.Master, NewZones(e.Zones), local, Time{})
	return in, err == nil
}

// skipStart returns the start to expand rule from: start, or for a DAILY
// or WEEKLY rule without COUNT or BYSETPOS the last start of a whole
// period (INTERVAL days or weeks, counted in wall-clock days) before
// skipTo.
func skipStart(rule string, start, skipTo time.Time) time.Time {
	if skipTo.IsZero() || !skipTo.After(start) {
		return start
	}
	var freqDays, interval int
	interval = 1
	for _, p := range strings.Split(stripRRule(rule), ";") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "FREQ":
			switch v {
			case "DAILY":
				freqDays = 1
			case "WEEKLY":
				freqDays = 7
			}
		case "INTERVAL":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return start
			}
			interval = n
		case "COUNT", "BYSETPOS":
			return start
		}
	}
	if freqDays == 0 {
		return start
	}
	period := freqDays * interval
	// Wall-clock days from start to skipTo, in start's zone.
	s := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	t := skipTo.In(start.Location())
	d := int(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Sub(s).Hours() / 24)
	k := d / period
	if k <= 0 {
		return start
	}
	return start.AddDate(0, 0, k*period)
}
