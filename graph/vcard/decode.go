package vcard

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	govcard "github.com/emersion/go-vcard"

	"github.com/kith-p2p/kith/graph"
)

// MaxFileSize is the largest input [Decode] reads.
const MaxFileSize = 64 << 20

// maxCardSize bounds one card (BEGIN to END), so that a broken file cannot
// make Decode hold much more than the cards it returns.
const maxCardSize = 1 << 20

// Errors from [Decode]. An invalid card is reported as a [*CardError],
// which matches ErrInvalidCard.
var (
	// ErrEmpty: the input holds nothing but white space.
	ErrEmpty = errors.New("vcard: empty input")
	// ErrTooLarge: the input is over MaxFileSize.
	ErrTooLarge = errors.New("vcard: input too large")
	// ErrNotVCard: the input is not vCard text (binary, another format, or
	// a line outside BEGIN:VCARD ... END:VCARD).
	ErrNotVCard = errors.New("vcard: not a vCard file")
	// ErrInvalidCard: a card is malformed or breaks the field rules of
	// graph.NormalizeCard.
	ErrInvalidCard = errors.New("vcard: invalid card")
)

// CardError says which card of the input is invalid and why.
type CardError struct {
	Index int    // card number, from 1
	Line  int    // line of the card's BEGIN:VCARD, from 1
	Name  string // the card's FN, if known
	Err   error  // what is wrong, often wrapping graph.ErrInvalidField
}

func (e *CardError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("card %d (line %d): %v", e.Index, e.Line, e.Err)
	}
	name := e.Name
	if utf8.RuneCountInString(name) > 40 {
		name = string([]rune(name)[:40]) + "…"
	}
	return fmt.Sprintf("card %d (line %d, %q): %v", e.Index, e.Line, name, e.Err)
}

// Unwrap returns the cause.
func (e *CardError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidCard.
func (e *CardError) Is(target error) bool { return target == ErrInvalidCard }

// Options tune [Decode]. The zero value is strict.
type Options struct {
	// SkipInvalid makes Decode return the valid cards and list the invalid
	// ones in Result.Skipped, instead of failing at the first invalid card.
	SkipInvalid bool
}

// Result is what [Decode] read.
type Result struct {
	Cards   []graph.Card // valid cards, normalised, in input order
	Skipped []*CardError // invalid cards (with Options.SkipInvalid only)
	// Dropped counts the properties of the returned cards that have no
	// graph field (X-ABLABEL, LABEL, KEY, ...) by upper-case name. Losing
	// them is not an error.
	Dropped map[string]int
}

// Decode reads vCard 3.0 or 4.0 text holding any number of cards, at most
// MaxFileSize bytes, and maps every card to a graph.Card checked by
// graph.NormalizeCard. It streams: besides the result it holds one card's
// text, at most 1 MiB (a bigger card is invalid).
//
// Properties map to the graph field of the same name, with their TYPE
// parameters in any spelling as types (without vCard 3.0's "pref" and
// "internet", and only on fields that take types). Along the way Decode
// unfolds lines, undoes escaping, turns dates into YYYY-MM-DD or --MM-DD
// (Apple's X-APPLE-OMIT-YEAR included), vCard 3.0 GEO into a geo: URI and
// inline base64 PHOTO into a data: URI, www.example.com into
// http://www.example.com, strips tel: URIs to the number
// (parameters such as ;ext= are lost) and skips empty properties (N:;;;;).
// VERSION, PRODID, REV, UID and KIND are ignored; other properties without
// a graph field are counted in Result.Dropped.
//
// Without Options.SkipInvalid the first invalid card (in input order) is
// returned as a [*CardError], with no cards. An input that is empty, too
// large or not vCard at all fails with ErrEmpty, ErrTooLarge or ErrNotVCard
// whatever the options.
func Decode(r io.Reader, opts Options) (*Result, error) {
	if n, ok := knownSize(r); ok && n > MaxFileSize {
		return nil, tooLarge(n)
	}
	cr := &countingReader{r: io.LimitReader(r, MaxFileSize+1)}
	d := &decoder{
		opts: opts,
		lr:   lineReader{br: bufio.NewReaderSize(cr, 64<<10)},
		res:  &Result{Dropped: map[string]int{}},
		jobs: make(chan *cardState, 64),
	}
	// Splitting the input into cards is sequential; decoding the cards runs
	// on every core, and the results are put back in input order.
	workers := runtime.GOMAXPROCS(0)
	outs := make([][]decoded, workers)
	drops := make([]map[string]int, workers)
	var wg sync.WaitGroup
	for i := range workers {
		drops[i] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = d.work(drops[i])
		}()
	}
	err := d.run()
	close(d.jobs)
	wg.Wait()
	if cr.n > MaxFileSize {
		return nil, tooLarge(-1)
	}
	if err != nil {
		return nil, err
	}
	all := slices.Concat(outs...)
	slices.SortFunc(all, func(a, b decoded) int { return a.index - b.index })
	for _, r := range all {
		if r.err != nil {
			if !opts.SkipInvalid {
				return nil, r.err
			}
			d.res.Skipped = append(d.res.Skipped, r.err)
			continue
		}
		d.res.Cards = append(d.res.Cards, r.card)
	}
	for _, m := range drops {
		for k, n := range m {
			d.res.Dropped[k] += n
		}
	}
	return d.res, nil
}

// decoded is the outcome of one card.
type decoded struct {
	index int
	card  graph.Card
	err   *CardError
}

// work decodes the cards sent on d.jobs until it is closed, with a parser
// of its own, counting dropped properties in dropped.
func (d *decoder) work(dropped map[string]int) []decoded {
	w := &decoder{opts: d.opts, res: &Result{Dropped: dropped}}
	var out []decoded
	for c := range d.jobs {
		card, err := w.decode(c)
		r := decoded{index: c.index, card: card}
		if err != nil {
			if c.name == "" {
				c.name = c.findName()
			}
			r.err = &CardError{Index: c.index, Line: c.line, Name: c.name, Err: err}
		}
		out = append(out, r)
	}
	return out
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

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// lineReader reads physical lines.
type lineReader struct {
	br  *bufio.Reader
	no  int // number of the last line read, from 1
	buf []byte
}

// next returns the next line without its line ending, valid until the next
// call, and whether it was cut at max bytes. It returns io.EOF after the
// last line.
func (lr *lineReader) next(max int) (line []byte, long bool, err error) {
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		read = read || len(chunk) > 0
		if room := max - len(lr.buf); len(chunk) > room {
			chunk, long = chunk[:room], true
		}
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && !read:
			return nil, false, io.EOF
		case err != nil && err != io.EOF:
			return nil, false, fmt.Errorf("reading line %d: %w", lr.no+1, err)
		}
		lr.no++
		return bytes.TrimRight(lr.buf, "\r\n"), long, nil
	}
}

// decoder splits the input into cards, tracking line numbers, and decodes
// each card as it ends.
type decoder struct {
	opts Options
	lr   lineReader
	res  *Result

	// pending is the logical line being unfolded.
	pending     []byte
	pendingNo   int // its first line, 0 if there is none
	pendingLong bool

	content bool       // a logical line was seen
	cards   int        // cards begun
	card    *cardState // the card being read (&cardBuf), or nil
	cardBuf cardState

	src  strings.Reader   // the text of the card go-vcard reads
	vdec *govcard.Decoder // reads src

	jobs chan *cardState // finished cards, for the workers to decode
}

func (d *decoder) run() error {
	head, _ := d.lr.br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}), bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return fmt.Errorf("%w: line 1: the text is UTF-16; save it as UTF-8", ErrNotVCard)
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		_, _ = d.lr.br.Discard(3)
	}
	for {
		line, long, err := d.lr.next(maxCardSize + 1)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && d.pendingNo > 0 {
			if room := maxCardSize + 1 - len(d.pending); len(line)-1 > room {
				line, d.pendingLong = line[:room+1], true
			}
			d.pending = append(d.pending, line[1:]...)
			d.pendingLong = d.pendingLong || long
			continue
		}
		if err := d.flush(); err != nil {
			return err
		}
		line = bytes.TrimLeft(line, " \t")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d.pending = append(d.pending[:0], line...)
		d.pendingNo, d.pendingLong = d.lr.no, long
	}
	if err := d.flush(); err != nil {
		return err
	}
	if d.card != nil {
		d.card.fail(errors.New("no END:VCARD"))
		if err := d.finish(); err != nil {
			return err
		}
	}
	if !d.content {
		return ErrEmpty
	}
	return nil
}

// flush handles the pending logical line, if any.
func (d *decoder) flush() error {
	if d.pendingNo == 0 {
		return nil
	}
	text, no, long := d.pending, d.pendingNo, d.pendingLong
	d.pendingNo = 0
	d.content = true
	isBegin := !long && isKeyword(text, "BEGIN:VCARD")
	switch {
	case d.card == nil && isBegin:
		d.begin(no)
	case d.card == nil:
		got := text
		if len(got) > 24 {
			got = got[:24]
		}
		return fmt.Errorf("%w: line %d: want BEGIN:VCARD, got %q", ErrNotVCard, no, got)
	case isBegin:
		d.card.fail(fmt.Errorf("no END:VCARD before the BEGIN:VCARD on line %d", no))
		if err := d.finish(); err != nil {
			return err
		}
		d.begin(no)
	case !long && isKeyword(text, "END:VCARD"):
		return d.finish()
	default:
		d.card.add(no, text, long)
	}
	return nil
}

func isKeyword(text []byte, kw string) bool {
	return len(text) >= len(kw) && bytes.EqualFold(bytes.TrimSpace(text), []byte(kw))
}

func (d *decoder) begin(no int) {
	d.cards++
	c := &d.cardBuf // reuse the buffers of the previous card
	*c = cardState{index: d.cards, line: no, text: append(c.text[:0], beginLine...), starts: c.starts[:0], nos: c.nos[:0]}
	d.card = c
}

// finish hands the current card to the workers (see Decode).
func (d *decoder) finish() error {
	c := d.card
	d.card = nil
	d.jobs <- &cardState{index: c.index, line: c.line, name: c.name, text: slices.Clone(c.text),
		starts: slices.Clone(c.starts), nos: slices.Clone(c.nos), err: c.err}
	return nil
}

const (
	beginLine = "BEGIN:VCARD\r\n"
	endLine   = "END:VCARD\r\n"
)

// cardState is a card being read: its text from BEGIN:VCARD, one unfolded
// content line after another, each ending in CRLF.
type cardState struct {
	index, line int
	name        string // FN, once known
	text        []byte
	starts      []int // where each content line starts in text
	nos         []int // the input line number of each content line
	err         error // the first problem found while reading
}

func (c *cardState) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *cardState) add(no int, line []byte, long bool) {
	if long || len(c.text)+len(line)+2 > maxCardSize {
		c.fail(errors.New("the card is over 1 MiB"))
	}
	if c.err != nil {
		return
	}
	c.starts = append(c.starts, len(c.text))
	c.nos = append(c.nos, no)
	c.text = append(c.text, line...)
	c.text = append(c.text, "\r\n"...)
}

// lines returns the content lines of text, a copy of c.text.
func (c *cardState) lines(text string) []string {
	lines := make([]string, len(c.starts))
	for i, start := range c.starts {
		end := len(text) - len(endLine)
		if i+1 < len(c.starts) {
			end = c.starts[i+1]
		}
		lines[i] = text[start : end-2]
	}
	return lines
}

// findName returns the value of an FN line read so far, for an error
// message about a card that could not be decoded.
func (c *cardState) findName() string {
	for _, line := range c.lines(string(c.text) + endLine) {
		if key, rest := splitKey(line); key == "FN" && strings.HasPrefix(rest, ":") {
			return unescapeText(rest[1:])
		}
	}
	return ""
}

// splitKey returns a content line's property name, upper-cased and without
// its group, as go-vcard finds it, and the rest of the line from the ';' or
// ':' after the name ("" if there is neither).
func splitKey(line string) (key, rest string) {
	s := line
	if i := strings.IndexAny(s, ".;:"); i >= 0 && s[i] == '.' {
		s = s[i+1:]
	}
	i := strings.IndexAny(s, ";:")
	if i < 0 {
		return strings.ToUpper(s), ""
	}
	return strings.ToUpper(s[:i]), s[i:]
}

// decode parses a card with go-vcard and maps it to a normalised
// graph.Card, counting its dropped properties if it is valid.
func (d *decoder) decode(c *cardState) (graph.Card, error) {
	if c.err != nil {
		return graph.Card{}, c.err
	}
	text := string(append(c.text, endLine...))
	lines := c.lines(text)
	vc, err := d.parse(text, len(lines))
	if err != nil {
		return graph.Card{}, findMalformed(lines, c.nos, err)
	}
	fields := make([]graph.Field, 0, len(lines))
	var drops []string
	for i, line := range lines {
		key, _ := splitKey(line)
		fs := vc[key]
		if len(fs) == 0 {
			return graph.Card{}, findMalformed(lines, c.nos, errors.New("go-vcard lost a property"))
		}
		vf := fs[0]
		vc[key] = fs[1:]
		if !validName(key) {
			return graph.Card{}, fmt.Errorf("line %d: malformed property %s", c.nos[i], quote(line))
		}
		if structural(key) {
			continue
		}
		p, ok := byName[key]
		if !ok {
			drops = append(drops, key)
			continue
		}
		raw, ok := rawValue(line, vf.Value)
		if !ok {
			// go-vcard took part of the value for a parameter, as it does
			// with vCard 2.1's TEL;HOME:... (no TYPE=).
			return graph.Card{}, fmt.Errorf("line %d: malformed property %s", c.nos[i], quote(line))
		}
		f, err := mapField(p, raw, vf.Params)
		if err != nil {
			return graph.Card{}, fmt.Errorf("line %d: %w", c.nos[i], err)
		}
		if f.Name == "fn" && f.Value != "" {
			c.name = f.Value
		}
		if !emptyValue(p, f.Value) {
			fields = append(fields, f)
		}
	}
	card, err := graph.NormalizeCard(graph.Card{Fields: fields})
	if err != nil {
		return graph.Card{}, err
	}
	for _, k := range drops {
		d.res.Dropped[k]++
	}
	return card, nil
}

// parse parses the text of a card with n content lines with go-vcard,
// failing if go-vcard rejects the card or skips a line (it skips lines it
// cannot parse). The go-vcard decoder is reused from card to card while it
// reads every card to its end.
func (d *decoder) parse(text string, n int) (govcard.Card, error) {
	d.src.Reset(text)
	if d.vdec == nil {
		d.vdec = govcard.NewDecoder(&d.src)
	}
	vc, err := d.vdec.Decode()
	if err == nil {
		got := 0
		for _, fs := range vc {
			got += len(fs)
		}
		if got != n {
			err = fmt.Errorf("%d of %d properties parsed", got, n)
		}
	}
	if err != nil {
		d.vdec = nil // it may hold text of this card
		return nil, err
	}
	return vc, nil
}

// findMalformed finds the first line that go-vcard cannot parse on its own.
func findMalformed(lines []string, nos []int, cause error) error {
	var d decoder
	for i, l := range lines {
		if _, err := d.parse(beginLine+l+"\r\n"+endLine, 1); err != nil {
			return fmt.Errorf("line %d: malformed property %s", nos[i], quote(l))
		}
	}
	return fmt.Errorf("malformed card: %w", cause)
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return strconv.Quote(s)
}

var govcardUnescaper = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\,`, ",")

// rawValue finds in line the escaped text that go-vcard unescaped to
// parsed: the text after the ':' that ends the parameters. Only that colon
// yields a suffix that unescapes to parsed; earlier colons give longer
// text, later ones shorter. It reports false if there is no such colon,
// which means go-vcard misread the line.
func rawValue(line, parsed string) (string, bool) {
	for i := 0; ; {
		j := strings.IndexByte(line[i:], ':')
		if j < 0 {
			return "", false
		}
		i += j + 1
		cand := line[i:]
		if len(cand) < len(parsed) {
			return "", false
		}
		if cand == parsed || strings.IndexByte(cand, '\\') >= 0 && govcardUnescaper.Replace(cand) == parsed {
			return cand, true
		}
	}
}

// mapField turns a vCard property's raw value and parameters into a field.
func mapField(p property, raw string, params govcard.Params) (graph.Field, error) {
	f := graph.Field{Name: p.field}
	switch enc := strings.ToLower(params.Get("ENCODING")); {
	case enc == "" || enc == "8bit" || enc == "7bit":
	case (enc == "b" || enc == "base64") && p.field == "photo":
		f.Value = dataURI(raw, params)
		return f, nil
	case enc == "quoted-printable":
		return f, fmt.Errorf("%s: quoted-printable is not supported; export as vCard 3.0 or 4.0", p.name)
	default:
		return f, fmt.Errorf("%s: ENCODING=%s is not supported", p.name, enc)
	}
	switch p.kind {
	case kindText, kindList:
		f.Value = unescapeText(raw)
	case kindStructured:
		parts := splitStructured(raw)
		for i, part := range parts {
			part = unescapeText(part)
			part = strings.ReplaceAll(part, ";", ",")
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(part, "\r\n", "\n"), "\n", ", ")
		}
		f.Value = strings.Join(parts, ";")
	case kindURI:
		f.Value = unescapeURI(raw)
		switch {
		case p.field == "geo" && !hasPrefixFold(f.Value, "geo:") && strings.Count(f.Value, ";") == 1:
			f.Value = "geo:" + strings.Replace(f.Value, ";", ",", 1) // vCard 3.0: lat;lon
		case p.field == "url" && strings.HasPrefix(strings.ToLower(f.Value), "www."):
			f.Value = "http://" + f.Value // as address books show it
		}
	case kindTel:
		f.Value = strings.TrimSpace(unescapeText(raw))
		if hasPrefixFold(f.Value, "tel:") {
			// A tel: URI. Its parameters (;ext=, ;phone-context=) have no
			// place in a graph phone number and are left out.
			f.Value, _, _ = strings.Cut(f.Value[len("tel:"):], ";")
		}
	case kindDate:
		v := strings.TrimSpace(unescapeText(raw))
		if i := strings.IndexByte(v, 'T'); i > 0 {
			v = v[:i] // a date-time; keep the date
		}
		if y := params.Get("X-APPLE-OMIT-YEAR"); y != "" && len(v) > 4 && v[:4] == y {
			v = "--" + strings.TrimPrefix(v[4:], "-")
		}
		f.Value = v
	case kindTZ:
		f.Value = unescapeText(raw)
	}
	if spec, _ := graph.LookupField(p.field); spec.Typed {
		f.Types = importTypes(params.Types())
	}
	return f, nil
}

// validName reports whether a property name is a word of letters, digits,
// '-' and '_' (which some writers use in X- names).
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// emptyValue reports whether a value holds nothing; exporters write empty
// properties (NOTE:, N:;;;;) that Decode skips rather than reject.
func emptyValue(p property, v string) bool {
	if p.kind == kindStructured {
		return strings.Trim(v, "; \t") == ""
	}
	return strings.TrimSpace(v) == ""
}

// importTypes lower-cases TYPE parameters and keeps those that say
// something: "pref" and "internet" (vCard 3.0) go, as do labels that are
// not a plain word.
func importTypes(types []string) []string {
	var out []string
	for _, t := range types {
		for _, t := range strings.Split(t, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "" || t == "pref" || t == "internet" || len(t) > 32 || strings.IndexFunc(t, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
			}) >= 0 {
				continue
			}
			out = append(out, t)
		}
	}
	return out
}

// dataURI turns a vCard 3.0 inline base64 photo into a data: URI.
func dataURI(raw string, params govcard.Params) string {
	data := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, raw)
	media := ""
	for _, t := range params.Types() {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case strings.HasPrefix(t, "image/"):
			media = t
		case t == "jpeg" || t == "jpg" || t == "png" || t == "gif" || t == "webp":
			media = "image/" + strings.Replace(t, "jpg", "jpeg", 1)
		}
	}
	if media == "" {
		switch {
		case strings.HasPrefix(data, "iVBOR"):
			media = "image/png"
		case strings.HasPrefix(data, "R0lGOD"):
			media = "image/gif"
		default:
			media = "image/jpeg"
		}
	}
	return "data:" + media + ";base64," + data
}
