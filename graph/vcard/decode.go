package vcard

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kith-p2p/kith/graph"
)

// MaxFileSize is the largest input [Decode] reads.
const MaxFileSize = 64 << 20

// maxCardSize bounds one card (BEGIN to END): room for a 10 MB photo in
// base64, which Decode scales down to fit an entry.
const maxCardSize = 16 << 20

// Errors from [Decode]. A broken card is reported as a [*CardError], which
// matches ErrInvalidCard.
var (
	// ErrEmpty: the input holds nothing but white space.
	ErrEmpty = errors.New("vcard: empty input")
	// ErrTooLarge: the input is over MaxFileSize.
	ErrTooLarge = errors.New("vcard: input too large")
	// ErrNotVCard: the input is not vCard text (binary, another format, or
	// text before the first BEGIN:VCARD).
	ErrNotVCard = errors.New("vcard: not a vCard file")
	// ErrInvalidCard: a card is broken: cut off before END:VCARD, over
	// 16 MiB, damaged base64 data, or nothing in it names or reaches a
	// person.
	ErrInvalidCard = errors.New("vcard: invalid card")
)

// CardError says which card of the input is broken and why.
type CardError struct {
	Index int    // card number, from 1
	Line  int    // line of the card's BEGIN:VCARD, from 1
	Name  string // the card's FN, if known
	Err   error  // what is wrong
}

func (e *CardError) Error() string {
	return cardPlace(e.Index, e.Line, e.Name) + ": " + e.Err.Error()
}

func cardPlace(index, line int, name string) string {
	if name == "" {
		return fmt.Sprintf("card %d (line %d)", index, line)
	}
	if utf8.RuneCountInString(name) > 40 {
		name = string([]rune(name)[:40]) + "…"
	}
	return fmt.Sprintf("card %d (line %d, %q)", index, line, name)
}

// Unwrap returns the cause.
func (e *CardError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidCard.
func (e *CardError) Is(target error) bool { return target == ErrInvalidCard }

// Warning is something Decode did to a card that a person may want to
// know: a value kept as written because it failed its field's check, a
// photo scaled down, a line that is no property and was left out.
type Warning struct {
	Card int    // card number, from 1
	Line int    // input line, from 1
	Name string // the card's FN, if known
	Msg  string
}

func (w Warning) String() string {
	return cardPlace(w.Card, w.Line, w.Name) + ": " + w.Msg
}

// Options tune [Decode]. The zero value refuses an input with a broken
// card.
type Options struct {
	// SkipInvalid makes Decode return the readable cards and list the
	// broken ones in Result.Skipped, instead of failing at the first.
	SkipInvalid bool
}

// Result is what [Decode] read.
type Result struct {
	Cards    []graph.Card // readable cards, normalised, in input order
	Skipped  []*CardError // broken cards (with Options.SkipInvalid only)
	Warnings []Warning    // in input order
	// Charset names the encodings the input was converted from
	// ("UTF-16LE", "Windows-1252", "SHIFT_JIS"), or is "" for UTF-8
	// throughout.
	Charset string
}

// Decode reads vCard 2.1, 3.0 or 4.0 text holding any number of cards, at
// most MaxFileSize bytes, and maps every card to a graph.Card that passes
// graph.NormalizeCard. It reads what real address books write: 2.1's bare
// parameters and quoted-printable values with soft line breaks, CHARSET
// parameters and files in UTF-16 or an 8-bit code page, lines folded or
// not, comment lines.
//
// Nothing a card holds is dropped but VERSION, PRODID, REV and PROFILE
// (which describe the file, not the person) and empty values. A property maps to
// the graph field of its name with its TYPE parameters as types, its
// preference (TYPE=pref, PREF=n), its group and its other parameters; a
// property without a field (X-ABLABEL, KEY, RELATED, ...), one whose value
// fails its field's check, and a second value of a single-valued field (an
// ALTID alternative) are kept Raw, as written. Inline photos become data:
// URIs, scaled down to fit an entry. Whatever Decode changed or could not
// read is listed in Result.Warnings.
//
// Without Options.SkipInvalid the first broken card (in input order) is
// returned as a [*CardError], with no cards. An input that is empty, too
// large or not vCard at all fails with ErrEmpty, ErrTooLarge or
// ErrNotVCard whatever the options.
func Decode(r io.Reader, opts Options) (*Result, error) {
	if n, ok := knownSize(r); ok && n > MaxFileSize {
		return nil, tooLarge(n)
	}
	var buf bytes.Buffer
	if n, ok := knownSize(r); ok {
		buf.Grow(int(n) + 1)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, MaxFileSize+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("reading the input: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(-1)
	}
	t, err := toText(data)
	if err != nil {
		return nil, err
	}
	cards, err := split(t.data)
	if err != nil {
		return nil, err
	}
	// Splitting is sequential; decoding the cards runs on every core.
	outs := make([]decoded, len(cards))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(cards)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i] = decodeCard(&t, cards[i])
			}
		}()
	}
	for i := range cards {
		next <- i
	}
	close(next)
	wg.Wait()

	res := &Result{Charset: t.charset}
	charsets := map[string]string{}
	for _, o := range outs {
		if o.err != nil {
			if !opts.SkipInvalid {
				return nil, o.err
			}
			res.Skipped = append(res.Skipped, o.err)
			continue
		}
		res.Cards = append(res.Cards, o.card)
		res.Warnings = append(res.Warnings, o.warnings...)
		for k, c := range o.charsets {
			if _, ok := charsets[k]; !ok {
				charsets[k] = c
			}
		}
	}
	if len(charsets) > 0 {
		res.Charset = strings.Join(append(slices.DeleteFunc([]string{res.Charset}, func(s string) bool { return s == "" }), slices.Sorted(maps.Values(charsets))...), ", ")
	}
	return res, nil
}

// knownSize returns how many bytes r holds, if it can say cheaply.
func knownSize(r io.Reader) (int64, bool) {
	switch r := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		return int64(r.Len()), true
	case interface{ Stat() (fs.FileInfo, error) }: // os.File
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size(), true
		}
	}
	return 0, false
}

func tooLarge(n int64) error {
	if n < 0 {
		return fmt.Errorf("%w: the input is over the 64 MiB import limit; split the file", ErrTooLarge)
	}
	return fmt.Errorf("%w: %d MB is over the 64 MiB import limit; split the file", ErrTooLarge, (n+999_999)/1_000_000)
}

// rawCard is a card as split from the input: its logical lines, unfolded.
type rawCard struct {
	index, line int
	lines       []string
	nos         []int // input line of each
	err         error // why the card is broken, if it is
}

// split cuts the input into cards of unfolded logical lines. It fails only
// if the input is empty or holds something other than cards outside them.
func split(data []byte) ([]*rawCard, error) {
	var (
		cards    []*rawCard
		card     *rawCard
		pending  []byte // the logical line being unfolded
		pendNo   int    // its first input line, 0 if none
		pendEnc  string // its ENCODING: QUOTED-PRINTABLE or BASE64 join lines
		pendLong bool   // it grew over maxCardSize and was cut
		held     int    // bytes in card
		content  bool
	)
	flush := func() error {
		if pendNo == 0 {
			return nil
		}
		no := pendNo
		pendNo = 0
		content = true
		if pendLong || card != nil && held+len(pending) > maxCardSize {
			// Not a line to hold: say so without copying it.
			if card == nil {
				return fmt.Errorf("%w: line %d: want BEGIN:VCARD, got a line of %s", ErrNotVCard, no, size(len(pending)))
			}
			card.fail(errors.New("the card is over 16 MiB"))
			return nil
		}
		line := string(pending)
		isBegin := keyword(line, "BEGIN:VCARD")
		switch {
		case card == nil && isBegin:
		case card == nil:
			got := line
			if len(got) > 24 {
				got = got[:24]
			}
			return fmt.Errorf("%w: line %d: want BEGIN:VCARD, got %q", ErrNotVCard, no, got)
		case isBegin:
			card.fail(fmt.Errorf("no END:VCARD before the BEGIN:VCARD on line %d", no))
		case keyword(line, "END:VCARD"):
			card = nil
			return nil
		default:
			held += len(line)
			if card.err == nil {
				card.lines = append(card.lines, line)
				card.nos = append(card.nos, no)
			}
			return nil
		}
		card = &rawCard{index: len(cards) + 1, line: no}
		cards = append(cards, card)
		held = 0
		return nil
	}
	no := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		no++
		line = bytes.TrimRight(line, "\r") // some writers end lines in \r\r\n
		// vCard 2.1 writers continue a value on lines that cannot be a
		// property (they hold no ':') in three ways, besides folding.
		cont := pendNo > 0 && len(line) > 0 && bytes.IndexByte(line, ':') < 0 && !keyword(string(line), "END:VCARD")
		switch {
		case pendNo > 0 && pendEnc == "QUOTED-PRINTABLE" && bytes.HasSuffix(pending, []byte("=")) &&
			!keyword(string(line), "END:VCARD") && !keyword(string(line), "BEGIN:VCARD"):
			// A quoted-printable soft line break: the next line goes on as
			// written, leading white space included.
			pending = appendBounded(pending[:len(pending)-1], line, &pendLong)
			continue
		case pendNo > 0 && len(line) > 0 && (line[0] == ' ' || line[0] == '\t'):
			pending = appendBounded(pending, line[1:], &pendLong)
			continue
		case cont && pendEnc == "BASE64" && isBase64Line(line):
			// Inline data whose lines are not indented (Outlook): it goes on
			// to a blank line.
			pending = appendBounded(pending, line, &pendLong)
			continue
		case cont && trailingBackslash(pending):
			// A line break escaped with a backslash (Android reads it so).
			pending = appendBounded(append(pending[:len(pending)-1], `\n`...), line, &pendLong)
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		line = bytes.TrimLeft(line, " \t")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		pendLong = false
		pending = appendBounded(pending[:0], line, &pendLong)
		pendNo = no
		pendEnc = lineEncoding(pending)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if card != nil {
		card.fail(errors.New("the file ends before END:VCARD"))
	}
	if !content {
		return nil, ErrEmpty
	}
	return cards, nil
}

// appendBounded appends line to pending unless that makes it longer than
// a card may be, which it then notes in long.
func appendBounded(pending, line []byte, long *bool) []byte {
	if *long || len(pending)+len(line) > maxCardSize {
		*long = true
		return pending
	}
	return append(pending, line...)
}

// lineEncoding returns the ENCODING a content line's parameters name
// (ENCODING=… or 2.1's bare QUOTED-PRINTABLE and BASE64), upper-case, with
// B as BASE64; "" if none.
func lineEncoding(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i < 0 || indexFold(line[:i], "QUOTED-PRINTABLE") < 0 && indexFold(line[:i], "B") < 0 {
		return "" // the common case, without parsing: no ENCODING=B, BASE64 or QUOTED-PRINTABLE
	}
	l, ok := parseLine(string(line[:i])+":", 0)
	if !ok {
		return ""
	}
	switch enc := strings.ToUpper(l.get("ENCODING")); enc {
	case "B":
		return "BASE64"
	default:
		return enc
	}
}

// isBase64Line reports whether a line holds only base64 characters.
func isBase64Line(line []byte) bool {
	for _, c := range line {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// trailingBackslash reports whether line ends in an unescaped backslash.
func trailingBackslash(line []byte) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func keyword(line, kw string) bool {
	return strings.EqualFold(strings.TrimSpace(line), kw)
}

// findName returns the card's FN as far as it was read, or "".
func (c *rawCard) findName() string {
	for i, s := range c.lines {
		if l, ok := parseLine(s, c.nos[i]); ok && l.name == "FN" && l.get("ENCODING") == "" {
			return strings.TrimSpace(unescapeText(l.value))
		}
	}
	return ""
}

func (c *rawCard) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// decoded is the outcome of one card.
type decoded struct {
	card     graph.Card
	warnings []Warning
	charsets map[string]string // the legacy charsets values were read in, by lower-case name
	err      *CardError
}

// cardDecoder maps the lines of one card to fields.
type cardDecoder struct {
	t        *text
	c        *rawCard
	name     string
	fields   []graph.Field
	nos      []int // the input line of each field
	warnings []Warning
	charsets map[string]string
}

func (d *cardDecoder) warn(no int, format string, args ...any) {
	d.warnings = append(d.warnings, Warning{Card: d.c.index, Line: no, Msg: fmt.Sprintf(format, args...)})
}

func decodeCard(t *text, c *rawCard) (out decoded) {
	d := &cardDecoder{t: t, c: c}
	defer func() {
		// An image decoder that panics on a hostile file must not take the
		// daemon or the CLI with it: the card is broken, no more.
		if r := recover(); r != nil {
			out = decoded{err: &CardError{Index: c.index, Line: c.line, Name: d.name, Err: fmt.Errorf("unreadable data (%v)", r)}}
		}
	}()
	err := c.err
	if err == nil {
		err = d.decode()
	} else {
		d.name = c.findName() // for the message about a card cut off
	}
	if err != nil {
		return decoded{err: &CardError{Index: c.index, Line: c.line, Name: d.name, Err: err}}
	}
	for i := range d.warnings {
		d.warnings[i].Name = d.name
	}
	slices.SortStableFunc(d.warnings, func(a, b Warning) int { return a.Line - b.Line })
	return decoded{card: graph.Card{Fields: d.fields}, warnings: d.warnings, charsets: d.charsets}
}

// decode maps every line of the card, then checks the card as a whole.
func (d *cardDecoder) decode() error {
	for i, s := range d.c.lines {
		no := d.c.nos[i]
		l, why := parseLineWhy(s, no)
		if why != "" && isPropertyName(strings.TrimSpace(s)) {
			continue // a name without a value (Evolution's "FN"): an empty property
		}
		if why != "" {
			d.warn(no, "left out a line (%s): %s", why, quote(s))
			continue
		}
		if err := d.line(l); err != nil {
			return fmt.Errorf("line %d: %w", no, err)
		}
	}
	// Every field passed graph.NormalizeField in add, and singles keeps
	// one value of a single-valued field: the card passes
	// graph.NormalizeCard, which need not run again.
	d.singles()
	if len(d.fields) == 0 {
		return errors.New("a card needs at least one field")
	}
	return d.fit()
}

// cardBudget is how many bytes of fields a card may hold: an entry
// (spec.MaxEntrySize, 64 KiB) also holds its header, signature and the
// sealing of its body.
const cardBudget = 60 << 10

// cardSize estimates a card's size in an entry body.
func cardSize(fields []graph.Field) int {
	n := 0
	for _, f := range fields {
		n += 16 + len(f.Name) + len(f.Value) + len(f.Group)
		for _, t := range f.Types {
			n += 2 + len(t)
		}
		for _, p := range f.Params {
			n += 4 + len(p.Name)
			for _, v := range p.Values {
				n += 2 + len(v)
			}
		}
	}
	return n
}

// fit scales the card's images (photo, logo) down further while the card
// is over cardBudget, largest first, and fails if it still does not fit.
func (d *cardDecoder) fit() error {
	over := cardSize(d.fields) - cardBudget
	if over <= 0 {
		return nil
	}
	var images []int
	for i, f := range d.fields {
		if hasPrefixFold(f.Value, "data:image/") {
			images = append(images, i)
		}
	}
	slices.SortFunc(images, func(a, b int) int { return len(d.fields[b].Value) - len(d.fields[a].Value) })
	for _, i := range images {
		f := &d.fields[i]
		_, b64, _ := strings.Cut(f.Value, ",")
		data, err := decodeBase64(b64)
		if err != nil {
			continue
		}
		limit := max(len(f.Value)-over-1<<10, 4<<10)
		out, w, h, err := shrink(data, limit)
		if err != nil {
			continue
		}
		uri := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(out)
		d.warn(d.nos[i], "%s scaled down to %s (%d×%d JPEG) so that the card fits an entry", strings.ToUpper(f.Name), size(len(out)), w, h)
		over -= len(f.Value) - len(uri)
		f.Value = uri
		if over <= 0 {
			return nil
		}
	}
	return fmt.Errorf("the card holds %s, over the %s one entry holds; split it or remove large fields (KEY, LOGO, SOUND)",
		size(cardSize(d.fields)), size(cardBudget))
}

// singles keeps Raw a second value of a single-valued field (vCard 4.0's
// ALTID alternatives, or a writer's mistake), so the first one stands.
func (d *cardDecoder) singles() {
	seen := map[string]bool{}
	for i, f := range d.fields {
		if f.Raw {
			continue
		}
		if spec, _ := graph.LookupField(f.Name); spec.Multi {
			continue
		}
		if seen[f.Name] {
			_, written := encodeValue(byField[f.Name], f.Value)
			d.fields[i] = rawField(f, written)
			if f.Param("ALTID") == nil {
				d.warn(d.nos[i], "a second %s kept as written: %s", strings.ToUpper(f.Name), quote(f.Value))
			}
			continue
		}
		seen[f.Name] = true
	}
}

// rawField turns a checked field into a Raw one holding value as written.
func rawField(f graph.Field, value string) graph.Field {
	f.Value, f.Raw = value, true
	return f
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return strconv.Quote(s)
}

// structural properties describe the file rather than the person.
func structural(name string) bool {
	switch name {
	case "VERSION", "PRODID", "REV", "PROFILE": // PROFILE:VCARD, vCard 3.0's own
		return true
	}
	return false
}

// line maps one property to a field.
func (d *cardDecoder) line(l contentLine) error {
	if structural(l.name) {
		return nil
	}
	value, binary, err := d.value(l)
	if err != nil {
		return err
	}
	f := graph.Field{Name: strings.ToLower(l.name), Group: l.group}
	d.params(&f, l)
	p, known := byName[l.name]
	switch {
	case binary != nil:
		return d.binary(f, known, binary, l)
	case !known:
		if dataURIs[l.name] && strings.HasPrefix(value, "data:") {
			value = d.fitImage(l.no, l.name, value)
		}
		f.Value, f.Raw = value, true
		d.add(f, l.no, value)
		return nil
	}
	if emptyValue(p, value) {
		return nil
	}
	d.mapValue(f, p, value, l)
	return nil
}

// add appends f once it is valid, or Raw if its value fails its field's
// check, with a warning.
func (d *cardDecoder) add(f graph.Field, no int, written string) {
	if f.Value == "" && written == "" {
		return // an empty value, or an image left out (fitImage warned)
	}
	if f.Name != "note" && strings.Contains(written, "\t") {
		// A tab, where only a note may hold one: a space.
		written, f.Value = strings.ReplaceAll(written, "\t", " "), strings.ReplaceAll(f.Value, "\t", " ")
	}
	nf, err := graph.NormalizeField(f)
	if err == nil {
		if nf.Name == "fn" && d.name == "" {
			d.name = nf.Value
		}
		dropImplied(&nf)
		d.fields = append(d.fields, nf)
		d.nos = append(d.nos, no)
		return
	}
	if !f.Raw {
		if nr, err2 := graph.NormalizeField(rawField(f, written)); err2 == nil {
			d.warn(no, "%v; kept as written", err)
			d.fields = append(d.fields, nr)
			d.nos = append(d.nos, no)
			return
		}
	}
	d.warn(no, "left out %s: %v", strings.ToUpper(f.Name), err)
}

// dropImplied removes a VALUE parameter that a checked field's value
// implies, which Encode writes for it: VALUE=uri on a tel: URI, VALUE=
// utc-offset on an offset.
func dropImplied(f *graph.Field) {
	v := f.Param("VALUE")
	if len(v) != 1 {
		return
	}
	if f.Name == "tel" && strings.EqualFold(v[0], "uri") && hasPrefixFold(f.Value, "tel:") ||
		f.Name == "tz" && strings.EqualFold(v[0], "utc-offset") && (f.Value[0] == '+' || f.Value[0] == '-') {
		f.Params = slices.DeleteFunc(f.Params, func(p graph.Param) bool { return p.Name == "VALUE" })
		if len(f.Params) == 0 {
			f.Params = nil
		}
	}
}

// stripControl removes control characters from s, but for tabs.
func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' {
			return -1
		}
		return r
	}, s)
}

// params copies a property's parameters into f: TYPE into Types (without
// 3.0's "pref", which is Pref, and "internet", which says nothing), PREF
// into Pref, the rest verbatim; ENCODING and CHARSET are undone by value.
func (d *cardDecoder) params(f *graph.Field, l contentLine) {
	for _, p := range l.params {
		switch p.name {
		case "ENCODING", "CHARSET":
		case "TYPE":
			for _, v := range p.values {
				for _, t := range strings.Split(v, ",") {
					t = strings.ToLower(strings.TrimSpace(t))
					switch {
					case t == "pref":
						f.Pref = 1
					case t == "" || t == "internet" && f.Name == "email":
					case slices.Contains(f.Types, t):
					case len(f.Types) == graph.MaxTypes || !graph.ValidParamValue(t) || strings.ContainsAny(t, ";:"):
						d.warn(l.no, "%s: left out the type %s (at most %d types of at most 32 characters)", l.name, quote(t), graph.MaxTypes)
					default:
						f.Types = append(f.Types, t)
					}
				}
			}
		case "PREF":
			if n, err := strconv.Atoi(strings.TrimSpace(firstOf(p.values))); err == nil && n >= 1 && n <= 100 {
				f.Pref = n
			} else {
				f.Pref = 1
			}
		default:
			switch {
			case len(f.Params) == graph.MaxParams || !isName(p.name) || len(p.values) > graph.MaxParams || slices.ContainsFunc(p.values, func(v string) bool { return !graph.ValidParamValue(v) }):
				d.warn(l.no, "%s: left out the parameter %s (a bad name, too many, or values over 1 KiB)", l.name, quote(p.name))
			default:
				f.Params = append(f.Params, graph.Param{Name: p.name, Values: p.values})
			}
		}
	}
}

func firstOf(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// value undoes a property's transfer encoding and charset. It returns the
// decoded bytes of base64 data separately, as binary.
func (d *cardDecoder) value(l contentLine) (value string, binary []byte, err error) {
	enc := strings.ToUpper(l.get("ENCODING"))
	if (enc == "" || enc == "8BIT" || enc == "7BIT") && d.t.fallback == nil && l.get("CHARSET") == "" {
		return d.clean(l, l.value), nil, nil // UTF-8 text, as almost every file is
	}
	raw := []byte(l.value)
	switch enc {
	case "", "8BIT", "7BIT":
	case "B", "BASE64":
		b, err := decodeBase64(l.value)
		if err != nil {
			return "", nil, fmt.Errorf("%s: the base64 data is damaged (%v)", l.name, err)
		}
		return "", b, nil
	case "QUOTED-PRINTABLE":
		raw = decodeQP(raw)
	default:
		d.warn(l.no, "%s: unknown ENCODING=%s; kept as written", l.name, enc)
	}
	v, charset, ok := d.t.convert(raw, l.get("CHARSET"))
	switch {
	case !ok:
		d.warn(l.no, "%s: bytes that are not text in any charset replaced with \uFFFD", l.name)
	case charset != "" && v != string(raw):
		if d.charsets == nil {
			d.charsets = map[string]string{}
		}
		if _, ok := d.charsets[strings.ToLower(charset)]; !ok {
			d.charsets[strings.ToLower(charset)] = charset
		}
	}
	if enc == "QUOTED-PRINTABLE" {
		// Quoted-printable text is not escaped, but may hold line breaks.
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
		v = qpToText(v)
	}
	return d.clean(l, v), nil, nil
}

// clean removes control characters (but tabs) from a value as written: a
// broken export. It warns, and runs before unescaping, so that the value
// and its written form stay one text.
func (d *cardDecoder) clean(l contentLine, v string) string {
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) < 0 {
		return v
	}
	d.warn(l.no, "%s: removed control characters from %s", l.name, quote(v))
	return stripControl(v)
}

// qpToText escapes the line breaks of a decoded quoted-printable value,
// which vCard 2.1 writes unescaped, so that it reads like any other vCard
// text value.
func qpToText(v string) string { return strings.ReplaceAll(v, "\n", `\n`) }

// decodeBase64 reads base64 with any white space in it, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	return decodeStdBase64(s)
}

// decodeQP decodes quoted-printable bytes leniently: "=XX" is a byte, an
// "=" not followed by two hex digits stays as it is.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '=' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
