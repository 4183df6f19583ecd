package ical

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-ical"
	"golang.org/x/text/encoding/charmap"
)

// MaxFileSize is the largest input [Decode] reads.
const MaxFileSize = 64 << 20

// MaxLineSize bounds one content line, unfolded.
const MaxLineSize = 1 << 20

// maxDepth bounds the nesting of components.
const maxDepth = 8

// Errors from [Decode]. A broken event is reported as an [*EventError],
// which matches ErrInvalidEvent.
var (
	// ErrEmpty: the input holds nothing but white space.
	ErrEmpty = errors.New("ical: empty input")
	// ErrTooLarge: the input, or one line of it, is over its limit.
	ErrTooLarge = errors.New("ical: input too large")
	// ErrNotICal: the input is not iCalendar text (no BEGIN:VCALENDAR first).
	ErrNotICal = errors.New("ical: not an iCalendar file")
	// ErrInvalidEvent: an event is broken: cut off before its END, a line
	// that is no content line, a date that does not parse, no DTSTART.
	ErrInvalidEvent = errors.New("ical: invalid event")
)

// EventError says which event of the input is broken, where and why.
type EventError struct {
	Line    int    // the line of the problem (or of the event's BEGIN), from 1
	UID     string // the event's UID, if known
	Summary string // its SUMMARY, if known
	Err     error
}

func (e *EventError) Error() string {
	return place(e.Line, e.UID, e.Summary) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *EventError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidEvent.
func (e *EventError) Is(target error) bool { return target == ErrInvalidEvent }

func place(line int, uid, summary string) string {
	s := fmt.Sprintf("line %d", line)
	if uid != "" {
		s += fmt.Sprintf(": event %q", clip(uid))
	} else {
		s += ": event"
	}
	if summary != "" {
		s += fmt.Sprintf(" (%q)", clip(summary))
	}
	return s
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		return string([]rune(s)[:60]) + "…"
	}
	return s
}

// Warning is something Decode did that a person may want to know: a
// component that is no event left out, a UID made up, a duplicate.
type Warning struct {
	Line int
	UID  string
	Msg  string
}

func (w Warning) String() string { return place(w.Line, w.UID, "") + ": " + w.Msg }

// Options tune [Decode]. The zero value refuses an input with a broken
// event.
type Options struct {
	// SkipInvalid makes Decode return the readable events and list the
	// broken ones in Result.Skipped instead of failing at the first.
	SkipInvalid bool
}

// Result is what [Decode] read.
type Result struct {
	Events   []*Event      // by UID, in input order of their first component
	Skipped  []*EventError // with Options.SkipInvalid only
	Warnings []Warning
}

// line is one unfolded content line and where it started.
type line struct {
	text string
	no   int
}

// block is one component of a VCALENDAR with its nested ones.
type block struct {
	name  string
	lines []line // BEGIN to END
}

// Decode reads iCalendar text (RFC 5545) of at most MaxFileSize bytes:
// one or more VCALENDARs, lines folded or not, CRLF or LF, UTF-8 (or, if
// the input is not UTF-8, Windows-1252). It returns one [Event] per UID:
// the VEVENT without RECURRENCE-ID and its overrides, with the
// VTIMEZONEs they name. Every property is kept as written. VTODO,
// VJOURNAL, VFREEBUSY and unknown components are left out with a warning.
//
// The content lines are checked here, so that each error names its line
// and event; go-ical then parses each event's lines into components.
func Decode(r io.Reader, opts Options) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading iCalendar: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: over %d MiB", ErrTooLarge, MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var res Result
	if !utf8.Valid(data) {
		if d, err := charmap.Windows1252.NewDecoder().Bytes(data); err == nil {
			data = d
			res.Warnings = append(res.Warnings, Warning{Line: 1, Msg: "the file is not UTF-8: read as Windows-1252"})
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	// CRLF, LF, or CR alone (old Mac files): all end a line.
	data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	lines, err := unfold(data)
	if err != nil {
		return nil, err
	}
	blocks, err := split(lines, &res)
	if err != nil {
		return nil, err
	}
	var zones []*ical.Component
	type group struct {
		uid   string
		comps []*ical.Component
		first int
	}
	var groups []*group
	byUID := map[string]*group{}
	places := map[*ical.Component]where{}
	for _, b := range blocks {
		if b.name != ical.CompEvent && b.name != ical.CompTimezone {
			res.Warnings = append(res.Warnings, Warning{Line: b.lines[0].no, Msg: fmt.Sprintf("%s left out: Kith keeps events only", b.name)})
			continue
		}
		comp, err := parseBlock(b)
		if err != nil {
			if !opts.SkipInvalid || b.name != ical.CompEvent {
				return nil, err
			}
			res.Skipped = append(res.Skipped, err.(*EventError))
			continue
		}
		places[comp] = whereOf(b.lines)
		if b.name == ical.CompTimezone {
			zones = append(zones, comp)
			continue
		}
		uid := propText(comp, ical.PropUID)
		if uid == "" {
			// A stable UID of its own, so that importing the file twice
			// finds the same event.
			sum := sha256.Sum256([]byte(joinLines(b.lines)))
			uid = "kith-" + hex.EncodeToString(sum[:16])
			comp.Props.SetText(ical.PropUID, uid)
			res.Warnings = append(res.Warnings, Warning{Line: b.lines[0].no, UID: uid, Msg: "the event has no UID: gave it one"})
		}
		g := byUID[uid]
		if g == nil {
			g = &group{uid: uid, first: b.lines[0].no}
			byUID[uid] = g
			groups = append(groups, g)
		}
		g.comps = append(g.comps, comp)
	}
	for _, g := range groups {
		ev, warns, err := assemble(g.uid, g.first, g.comps, zones, places)
		res.Warnings = append(res.Warnings, warns...)
		if err == nil {
			err = ev.Check()
		}
		if err == nil {
			res.Warnings = append(res.Warnings, ev.lint()...)
		}
		ev.where = nil
		if err != nil {
			var ee *EventError
			if !errors.As(err, &ee) {
				ee = &EventError{Line: g.first, UID: g.uid, Err: err}
			}
			if ee.Line == 0 {
				ee.Line = g.first
			}
			if !opts.SkipInvalid {
				return nil, ee
			}
			res.Skipped = append(res.Skipped, ee)
			continue
		}
		res.Events = append(res.Events, ev)
	}
	return &res, nil
}

// unfold splits data into content lines, joining folded ones (a line
// that begins with a space or a tab continues the one before).
func unfold(data []byte) ([]line, error) {
	var out []line
	no := 0
	for len(data) > 0 {
		no++
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimRight(l, "\r")
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			last := &out[len(out)-1]
			if len(last.text)+len(l) > MaxLineSize {
				return nil, fmt.Errorf("%w: line %d is over %d KiB", ErrTooLarge, last.no, MaxLineSize>>10)
			}
			last.text += string(l[1:])
			continue
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if len(l) > MaxLineSize {
			return nil, fmt.Errorf("%w: line %d is over %d KiB", ErrTooLarge, no, MaxLineSize>>10)
		}
		out = append(out, line{text: string(l), no: no})
	}
	return out, nil
}

// split checks the BEGIN/END structure and returns the components that
// VCALENDARs hold, each with its lines.
func split(lines []line, res *Result) ([]block, error) {
	var blocks []block
	var stack []string // open components, outermost first
	seenCalendar := false
	start := 0
	var startUID, startSummary string
	for i, l := range lines {
		name, value, isBegin, isEnd := structural(l.text)
		if len(stack) == 1 && !isBegin {
			if isEnd && value == ical.CompCalendar {
				stack = stack[:0]
				continue
			} else if !isEnd {
				if _, err := checkLine(l.text); err != nil {
					return nil, fmt.Errorf("%w: line %d: %w", ErrInvalidEvent, l.no, err)
				}
				continue // a calendar property (PRODID, METHOD, X-WR-CALNAME)
			}
		}
		switch {
		case len(stack) == 0:
			if !isBegin || value != ical.CompCalendar {
				if !seenCalendar {
					return nil, fmt.Errorf("%w: line %d: want BEGIN:VCALENDAR, have %q", ErrNotICal, l.no, clip(l.text))
				}
				res.Warnings = append(res.Warnings, Warning{Line: l.no, Msg: fmt.Sprintf("left out %q after END:VCALENDAR", clip(l.text))})
				continue
			}
			seenCalendar = true
			stack = append(stack, value)
		case isBegin:
			if len(stack) >= maxDepth {
				return nil, &EventError{Line: l.no, UID: startUID, Summary: startSummary, Err: fmt.Errorf("components nested over %d deep", maxDepth)}
			}
			if len(stack) == 1 {
				start, startUID, startSummary = i, "", ""
			}
			stack = append(stack, value)
		case isEnd:
			if len(stack) == 1 {
				return nil, fmt.Errorf("%w: line %d: END:%s closes no component", ErrInvalidEvent, l.no, value)
			}
			if value != stack[len(stack)-1] {
				return nil, &EventError{Line: l.no, UID: startUID, Summary: startSummary,
					Err: fmt.Errorf("END:%s where END:%s belongs (the component from line %d is not closed)", value, stack[len(stack)-1], lines[start].no)}
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 1 {
				blocks = append(blocks, block{name: value, lines: lines[start : i+1]})
			}
		default:
			if len(stack) == 2 {
				switch name {
				case ical.PropUID:
					startUID = unescape(value)
				case ical.PropSummary:
					startSummary = unescape(value)
				}
			}
		}
	}
	if len(stack) > 1 {
		return nil, &EventError{Line: lines[start].no, UID: startUID, Summary: startSummary,
			Err: fmt.Errorf("%s is cut off: no END:%s before the end of the file", stack[len(stack)-1], stack[len(stack)-1])}
	}
	if len(stack) == 1 {
		res.Warnings = append(res.Warnings, Warning{Line: lines[len(lines)-1].no, Msg: "no END:VCALENDAR at the end of the file"})
	}
	if len(lines) == 0 {
		return nil, ErrEmpty
	}
	return blocks, nil
}

// structural returns a line's property name (upper case) and its value,
// and whether it is a BEGIN or an END (then value is the component name,
// upper case).
func structural(s string) (name, value string, begin, end bool) {
	i := strings.IndexAny(s, ";:")
	if i < 0 {
		return strings.ToUpper(s), "", false, false
	}
	name = strings.ToUpper(s[:i])
	value = s[i+1:]
	if s[i] == ';' {
		if j := valueStart(s); j >= 0 {
			value = s[j:]
		}
	}
	switch name {
	case "BEGIN":
		return name, strings.ToUpper(strings.TrimSpace(value)), true, false
	case "END":
		return name, strings.ToUpper(strings.TrimSpace(value)), false, true
	}
	return name, value, false, false
}

// valueStart returns the index after the colon that ends a line's name
// and parameters (quoted parameter values may hold colons), or -1.
func valueStart(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return i + 1
			}
		}
	}
	return -1
}

// checkLine checks that s is a content line as RFC 5545 §3.1 has it:
// name *(";" param) ":" value, a param being name "=" value *("," value),
// each value quoted or free of `";:,`. It returns the property name.
// go-ical's parser panics on some lines that break this (a parameter
// without "=" at the end of a line); nothing reaches it unchecked.
func checkLine(s string) (string, error) {
	i := 0
	name := func() (string, error) {
		j := i
		for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '-' || s[i] == '_' || s[i] == '.' || s[i] == '/') {
			i++
		}
		if i == j {
			return "", fmt.Errorf("not a content line: %q", clip(s))
		}
		return s[j:i], nil
	}
	prop, err := name()
	if err != nil {
		return "", err
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return "", fmt.Errorf("%s: a control character (%U) in the line", prop, r)
		}
	}
	for i < len(s) && s[i] == ';' {
		i++
		if _, err := name(); err != nil {
			return "", fmt.Errorf("%s: a parameter without a name", prop)
		}
		if i >= len(s) || s[i] != '=' {
			return "", fmt.Errorf("%s: a parameter without \"=\"", prop)
		}
		i++
		for {
			if i < len(s) && s[i] == '"' {
				j := strings.IndexByte(s[i+1:], '"')
				if j < 0 {
					return "", fmt.Errorf("%s: a parameter value whose quote is not closed", prop)
				}
				i += j + 2
			} else {
				for i < len(s) && !strings.ContainsRune("\";:,", rune(s[i])) {
					i++
				}
				if i < len(s) && s[i] == '"' {
					return "", fmt.Errorf("%s: a quote inside a parameter value", prop)
				}
			}
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			break
		}
	}
	if i >= len(s) || s[i] != ':' {
		return "", fmt.Errorf("%s: no \":\" before the value", prop)
	}
	return strings.ToUpper(prop), nil
}

func joinLines(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.text)
		b.WriteString("\r\n")
	}
	return b.String()
}

// parseBlock checks a component's lines and parses them with go-ical.
func parseBlock(b block) (*ical.Component, error) {
	uid, summary := "", ""
	for _, l := range b.lines[1:] {
		name, value, _, _ := structural(l.text)
		switch name {
		case ical.PropUID:
			if uid == "" {
				uid = unescape(value)
			}
		case ical.PropSummary:
			if summary == "" {
				summary = unescape(value)
			}
		}
	}
	for _, l := range b.lines {
		if _, err := checkLine(l.text); err != nil {
			return nil, &EventError{Line: l.no, UID: uid, Summary: summary, Err: err}
		}
	}
	text := "BEGIN:VCALENDAR\r\n" + joinLines(b.lines) + "END:VCALENDAR\r\n"
	cal, err := ical.NewDecoder(strings.NewReader(text)).Decode()
	if err != nil {
		return nil, &EventError{Line: b.lines[0].no, UID: uid, Summary: summary, Err: err}
	}
	if len(cal.Children) != 1 {
		return nil, &EventError{Line: b.lines[0].no, UID: uid, Summary: summary, Err: fmt.Errorf("want one component, have %d", len(cal.Children))}
	}
	return cal.Children[0], nil
}

// where is where a decoded component was in its input, for errors.
type where struct {
	begin int            // the line of its BEGIN
	props map[string]int // the first line of each property name
}

func whereOf(ls []line) where {
	w := where{begin: ls[0].no, props: map[string]int{}}
	for _, l := range ls {
		name, _, _, _ := structural(l.text)
		if _, ok := w.props[name]; !ok {
			w.props[name] = l.no
		}
	}
	return w
}

func unescape(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	p := ical.Prop{Value: v}
	s, err := p.Text()
	if err != nil {
		return v
	}
	return s
}

func propText(c *ical.Component, name string) string {
	p := c.Props.Get(name)
	if p == nil {
		return ""
	}
	return unescape(p.Value)
}

// assemble makes the event of uid from its components: one master (the
// one without RECURRENCE-ID; of two, the higher SEQUENCE, then the later
// one) and its overrides, and the VTIMEZONEs they name.
func assemble(uid string, first int, comps []*ical.Component, zones []*ical.Component, places map[*ical.Component]where) (*Event, []Warning, error) {
	ev := &Event{UID: uid, where: map[*ical.Component]where{}}
	for _, c := range comps {
		ev.where[c] = places[c]
	}
	var warns []Warning
	for _, c := range comps {
		stamp(c)
		if c.Props.Get(ical.PropRecurrenceID) != nil {
			ev.Overrides = append(ev.Overrides, c)
			continue
		}
		if ev.Master != nil {
			keep := c
			if sequence(ev.Master) > sequence(c) {
				keep = ev.Master
			}
			warns = append(warns, Warning{Line: places[c].begin, UID: uid, Msg: "a second event with this UID: kept the one with the higher SEQUENCE (the later on a tie)"})
			ev.Master = keep
			continue
		}
		ev.Master = c
	}
	// An override of the same RECURRENCE-ID twice: the later one.
	ev.Overrides = dedupOverrides(ev.Overrides)
	used := ev.zoneIDs()
	for _, z := range zones {
		if id := z.Props.Get(ical.PropTimezoneID); id != nil && used[id.Value] {
			if !slices.ContainsFunc(ev.Zones, func(c *ical.Component) bool { return c.Props.Get(ical.PropTimezoneID).Value == id.Value }) {
				ev.Zones = append(ev.Zones, z)
			}
		}
	}
	ev.sortParts()
	return ev, warns, nil
}

func dedupOverrides(os []*ical.Component) []*ical.Component {
	seen := map[string]int{}
	var out []*ical.Component
	for _, o := range os {
		k := o.Props.Get(ical.PropRecurrenceID).Value
		if i, ok := seen[k]; ok {
			if sequence(o) >= sequence(out[i]) {
				out[i] = o
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, o)
	}
	return out
}
