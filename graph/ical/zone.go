package ical

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the IANA database in the binary: a phone may have no zoneinfo

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// zoneHorizon is how far a VTIMEZONE's rules are expanded: past it the
// last offset holds.
var zoneHorizon = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// maxTransitions bounds the transitions taken from one VTIMEZONE.
const maxTransitions = 2000

// Zones resolves the TZID parameters of an event to locations. The zero
// value knows no VTIMEZONE and resolves IANA and Windows names only. Not
// safe for concurrent use (it caches).
type Zones struct {
	defs  map[string]*ical.Component // VTIMEZONE by TZID
	cache map[string]*time.Location
}

// NewZones returns the resolver of the VTIMEZONE components defs.
func NewZones(defs []*ical.Component) *Zones {
	z := &Zones{defs: map[string]*ical.Component{}}
	for _, d := range defs {
		if id := d.Props.Get(ical.PropTimezoneID); id != nil {
			z.defs[id.Value] = d
		}
	}
	return z
}

// Resolve returns the location a TZID names, in this order: an IANA name
// ("Europe/Berlin", "US/Central"), a Windows name as Outlook writes it
// ("W. Europe Standard Time", mapped by CLDR's table), the rules of the
// event's own VTIMEZONE of that TZID, an IANA name at the end of a
// vendor prefix ("/mozilla.org/20050126_1/Europe/Berlin"). IANA comes
// before the VTIMEZONE because the database knows rule changes an old
// file does not. ok is false when nothing names a zone.
func (z *Zones) Resolve(tzid string) (loc *time.Location, ok bool) {
	if l, ok := z.cache[tzid]; ok {
		return l, l != nil
	}
	loc = z.resolve(tzid)
	if z.cache == nil {
		z.cache = map[string]*time.Location{}
	}
	z.cache[tzid] = loc
	return loc, loc != nil
}

func (z *Zones) resolve(tzid string) *time.Location {
	name := strings.TrimSpace(strings.Trim(tzid, `"`))
	if l := ianaZone(name); l != nil {
		return l
	}
	if iana, ok := windowsZones[name]; ok {
		if l := ianaZone(iana); l != nil {
			return l
		}
	}
	if d := z.defs[tzid]; d != nil {
		if l, err := zoneFromVTimezone(tzid, d); err == nil {
			return l
		}
	}
	for i := range len(name) {
		if name[i] == '/' && i+1 < len(name) {
			if l := ianaZone(name[i+1:]); l != nil && strings.Contains(name[i+1:], "/") {
				return l
			}
		}
	}
	return nil
}

// ianaZone loads an IANA zone by name; nil for anything else (and for
// "Local", which names this machine's zone, not the event's).
func ianaZone(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 || strings.Contains(name, "..") || strings.ContainsAny(name, " \\") {
		return nil
	}
	if l, ok := ianaCache.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	ianaCache.Store(name, l)
	return l
}

// ianaCache holds the zones loaded: loading one parses its tzdata (tens of
// microseconds), and an agenda resolves a zone per event.
var ianaCache sync.Map

type transition struct {
	at     int64 // Unix seconds
	from   int   // seconds east of UTC before it
	offset int   // seconds east of UTC after it
	dst    bool
	name   string
}

// zoneFromVTimezone builds a location from a VTIMEZONE's STANDARD and
// DAYLIGHT rules: their onsets are expanded (rrule-go) up to zoneHorizon
// and written as TZif data, which the time package loads.
func zoneFromVTimezone(tzid string, d *ical.Component) (*time.Location, error) {
	var ts []transition
	for _, c := range d.Children {
		if c.Name != ical.CompTimezoneStandard && c.Name != ical.CompTimezoneDaylight {
			continue
		}
		from, err1 := utcOffset(c.Props.Get(ical.PropTimezoneOffsetFrom))
		to, err2 := utcOffset(c.Props.Get(ical.PropTimezoneOffsetTo))
		if err2 != nil {
			return nil, fmt.Errorf("VTIMEZONE %s: TZOFFSETTO: %w", tzid, err2)
		}
		if err1 != nil {
			from = to
		}
		start := c.Props.Get(ical.PropDateTimeStart)
		if start == nil {
			return nil, fmt.Errorf("VTIMEZONE %s: %s without DTSTART", tzid, c.Name)
		}
		wall, err := time.ParseInLocation("20060102T150405", strings.TrimSuffix(start.Value, "Z"), time.UTC)
		if err != nil {
			return nil, fmt.Errorf("VTIMEZONE %s: DTSTART: %w", tzid, err)
		}
		name, _ := c.Props.Text(ical.PropTimezoneName)
		dst := c.Name == ical.CompTimezoneDaylight
		add := func(w time.Time) {
			ts = append(ts, transition{at: w.Unix() - int64(from), from: from, offset: to, dst: dst, name: name})
		}
		onsets := []time.Time{wall}
		if r := c.Props.Get(ical.PropRecurrenceRule); r != nil {
			opt, err := rrule.StrToROptionInLocation(stripRRule(r.Value), time.UTC)
			if err != nil {
				return nil, fmt.Errorf("VTIMEZONE %s: RRULE: %w", tzid, err)
			}
			opt.Dtstart = wall
			rule, err := rrule.NewRRule(*opt)
			if err != nil {
				return nil, fmt.Errorf("VTIMEZONE %s: RRULE: %w", tzid, err)
			}
			next := rule.Iterator()
			onsets = onsets[:0]
			for t, ok := next(); ok && t.Before(zoneHorizon) && len(onsets) < maxTransitions; t, ok = next() {
				onsets = append(onsets, t)
			}
		}
		for _, p := range c.Props.Values(ical.PropRecurrenceDates) {
			for _, v := range strings.Split(p.Value, ",") {
				if w, err := time.ParseInLocation("20060102T150405", strings.TrimSuffix(v, "Z"), time.UTC); err == nil {
					onsets = append(onsets, w)
				}
			}
		}
		for _, w := range onsets {
			add(w)
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("VTIMEZONE %s: no STANDARD or DAYLIGHT rule", tzid)
	}
	slices.SortStableFunc(ts, func(a, b transition) int { return int(a.at - b.at) })
	if len(ts) > maxTransitions {
		ts = ts[:maxTransitions]
	}
	return time.LoadLocationFromTZData(tzid, tzif(ts))
}

// utcOffset parses a UTC-OFFSET value ("+0100", "-053000").
func utcOffset(p *ical.Prop) (int, error) {
	if p == nil {
		return 0, fmt.Errorf("missing")
	}
	v := strings.TrimSpace(p.Value)
	if len(v) != 5 && len(v) != 7 || v[0] != '+' && v[0] != '-' {
		return 0, fmt.Errorf("bad UTC offset %q", v)
	}
	n := 0
	for i, r := range v[1:] {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad UTC offset %q", v)
		}
		d := int(r - '0')
		switch i {
		case 0:
			n += d * 36000
		case 1:
			n += d * 3600
		case 2:
			n += d * 600
		case 3:
			n += d * 60
		case 4:
			n += d * 10
		case 5:
			n += d
		}
	}
	if n >= 24*3600 {
		return 0, fmt.Errorf("bad UTC offset %q", v)
	}
	if v[0] == '-' {
		n = -n
	}
	return n, nil
}

// tzif writes transitions as TZif version 2 data (RFC 8536): an empty
// version 1 block, then 64-bit transition times. The first local time
// type is the offset before the first transition.
func tzif(ts []transition) []byte {
	type ttype struct {
		offset int
		dst    bool
		name   string
	}
	var types []ttype
	var chars []byte
	abbr := map[string]int{}
	typeOf := func(t ttype) byte {
		if i := slices.Index(types, t); i >= 0 {
			return byte(i)
		}
		if n := nameOr(t.name); !hasKey(abbr, n) {
			abbr[n] = len(chars)
			chars = append(append(chars, n...), 0)
		}
		types = append(types, t)
		return byte(len(types) - 1)
	}
	// The time before the first transition: its "from" side, as standard time.
	typeOf(ttype{offset: ts[0].from, dst: false, name: ""})
	idx := make([]byte, len(ts))
	for i, t := range ts {
		if len(types) >= 255 {
			idx = idx[:i]
			ts = ts[:i]
			break
		}
		idx[i] = typeOf(ttype{offset: t.offset, dst: t.dst, name: t.name})
	}
	be := binary.BigEndian
	var b []byte
	header := func(ntime, ntype, nchar int) {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, n := range []int{0, 0, 0, ntime, ntype, nchar} {
			b = be.AppendUint32(b, uint32(n))
		}
	}
	header(0, 0, 0)
	header(len(ts), len(types), len(chars))
	for _, t := range ts {
		b = be.AppendUint64(b, uint64(t.at))
	}
	b = append(b, idx...)
	for _, t := range types {
		b = be.AppendUint32(b, uint32(int32(t.offset)))
		dst := byte(0)
		if t.dst {
			dst = 1
		}
		b = append(b, dst, byte(abbr[nameOr(t.name)]))
	}
	b = append(b, chars...)
	return b
}

func nameOr(s string) string {
	if s == "" || len(s) > 16 {
		return "-"
	}
	return s
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}
