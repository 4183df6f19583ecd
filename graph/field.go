package graph

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors from [NormalizeField] and [NormalizeCard]. The errors they return
// carry a message for people (`email "alice@": missing domain`) and wrap one
// of these for programs; both are also [ErrInvalid].
var (
	// ErrUnknownField: the field's name is not in the registry ([FieldNames]).
	ErrUnknownField error = &kindError{"graph: unknown field", ErrInvalid}
	// ErrInvalidField: a field's value or types break its rules, or a card's
	// fields do (a second value of a single-valued field, no way to name or
	// reach the contact).
	ErrInvalidField error = &kindError{"graph: invalid field", ErrInvalid}
)

// Limits on a field.
const (
	maxValueLen = 4 << 10  // bytes in a value, but for photo
	maxPhotoLen = 48 << 10 // bytes in a photo, which may be a data: URI
	MaxTypes    = 8        // types on one field
	maxTypeLen  = 32       // bytes in one type
)

// quoteLen is how many runes of a value an error message quotes.
const quoteLen = 32

// FieldSpec describes a field of the registry.
type FieldSpec struct {
	Name  string // lower-case vCard 4.0 property name
	Multi bool   // a card may hold several fields of this name
	Typed bool   // takes types (home, work, cell, ...); other fields take none
	Doc   string // one line for help texts and error messages
}

type fieldDef struct {
	FieldSpec
	// check validates a trimmed, non-empty value of at most the size limit
	// and without forbidden control characters, and returns its canonical
	// form or the reason it is invalid.
	check func(v string) (string, error)
}

var (
	registry   = map[string]fieldDef{} // every known field by name
	fieldNames []string                // the keys of registry, sorted
)

func init() {
	for _, d := range []fieldDef{
		{FieldSpec{Name: "adr", Multi: true, Typed: true, Doc: "postal address: po box;extended;street;city;region;postal code;country; types: home, work"}, checkStructured(7, "po box;extended;street;city;region;postal code;country")},
		{FieldSpec{Name: "anniversary", Multi: false, Typed: false, Doc: "anniversary: YYYY-MM-DD, or --MM-DD without the year"}, checkDate},
		{FieldSpec{Name: "bday", Multi: false, Typed: false, Doc: "birthday: YYYY-MM-DD, or --MM-DD without the year"}, checkDate},
		{FieldSpec{Name: "categories", Multi: true, Typed: true, Doc: "comma-separated tags, e.g. friends,climbing"}, checkCategories},
		{FieldSpec{Name: "email", Multi: true, Typed: true, Doc: "email address, e.g. alice@example.com; types: home, work"}, checkEmail},
		{FieldSpec{Name: "fn", Multi: false, Typed: true, Doc: "full name as displayed, e.g. Dr. Asha Rao"}, checkText},
		{FieldSpec{Name: "gender", Multi: false, Typed: false, Doc: "M, F, O, N or U, then optionally ;identity, e.g. O;non-binary"}, checkGender},
		{FieldSpec{Name: "geo", Multi: false, Typed: true, Doc: "location as geo:latitude,longitude, e.g. geo:52.52,13.40"}, checkGeo},
		{FieldSpec{Name: "impp", Multi: true, Typed: true, Doc: "instant-messaging URI, e.g. xmpp:alice@example.com; types: home, work"}, checkIMPP},
		{FieldSpec{Name: "lang", Multi: true, Typed: true, Doc: "language tag, e.g. en or pt-BR"}, checkLang},
		{FieldSpec{Name: "n", Multi: false, Typed: false, Doc: "structured name: family;given;additional;prefix;suffix"}, checkStructured(5, "family;given;additional;prefix;suffix")},
		{FieldSpec{Name: "nickname", Multi: true, Typed: true, Doc: "nickname"}, checkText},
		{FieldSpec{Name: "note", Multi: true, Typed: true, Doc: "free text; newlines allowed"}, checkText},
		{FieldSpec{Name: "org", Multi: true, Typed: true, Doc: "organisation, optionally followed by ;unit;..."}, checkStructured(0, "organisation;unit;...")},
		{FieldSpec{Name: "photo", Multi: false, Typed: true, Doc: "photo as an http(s) URL or a data:image/... URI of at most 48 KiB"}, checkPhoto},
		{FieldSpec{Name: "role", Multi: true, Typed: true, Doc: "role or occupation, e.g. treasurer"}, checkText},
		{FieldSpec{Name: "tel", Multi: true, Typed: true, Doc: "phone number: digits, spaces and + ( ) - .; types: cell, home, work, voice, fax, ..."}, checkTel},
		{FieldSpec{Name: "title", Multi: true, Typed: true, Doc: "job title, e.g. Research Engineer"}, checkText},
		{FieldSpec{Name: "tz", Multi: false, Typed: true, Doc: "time zone: an IANA name (Europe/Berlin) or a UTC offset (+01:00)"}, checkTZ},
		{FieldSpec{Name: "uid", Multi: false, Typed: false, Doc: "the contact's unique id, kept across export and import, e.g. urn:uuid:…"}, checkText},
		{FieldSpec{Name: "url", Multi: true, Typed: true, Doc: "web address (http or https); types: home, work"}, checkURL},
	} {
		registry[d.Name] = d
	}
	fieldNames = make([]string, 0, len(registry))
	for name := range registry {
		fieldNames = append(fieldNames, name)
	}
	slices.Sort(fieldNames)
}

// FieldNames returns the names of every known field, sorted.
func FieldNames() []string { return slices.Clone(fieldNames) }

// LookupField returns the registry entry for a field name (lower-case).
func LookupField(name string) (FieldSpec, bool) {
	d, ok := registry[name]
	return d.FieldSpec, ok
}

// fieldError is a message for people that wraps a sentinel for programs.
type fieldError struct {
	err error // ErrUnknownField or ErrInvalidField
	msg string
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.err }

func invalid(name, value, reason string) error {
	return &fieldError{ErrInvalidField, fmt.Sprintf("%s %s: %s", name, quote(value), reason)}
}

// quote quotes v for an error message, shortened to quoteLen runes.
func quote(v string) string {
	if utf8.RuneCountInString(v) > quoteLen {
		runes := []rune(v)
		v = string(runes[:quoteLen]) + "…"
	}
	return strconv.Quote(v)
}

// NormalizeField returns f in canonical form: the name lower-cased, the
// value trimmed (dates as YYYY-MM-DD or --MM-DD, list and structured
// components trimmed), the types lower-cased and deduplicated. A name is
// known if [LookupField] knows it in lower case. NormalizeField fails with
// an error wrapping [ErrUnknownField] or [ErrInvalidField] that says what
// is wrong, e.g. `email "alice@": missing domain`.
//
// Every value is valid UTF-8 of at most 4 KiB (photo: 48 KiB) without
// control characters; a note may hold newlines and tabs. Only fields with
// FieldSpec.Typed take types.
func NormalizeField(f Field) (Field, error) {
	if f.Raw {
		return normalizeRaw(f)
	}
	name := strings.ToLower(f.Name)
	d, ok := registry[name]
	if !ok {
		return Field{}, &fieldError{ErrUnknownField, fmt.Sprintf("unknown field %s; known fields: %s", quote(f.Name), strings.Join(fieldNames, ", "))}
	}
	v := strings.TrimSpace(f.Value)
	if !utf8.ValidString(v) {
		return Field{}, invalid(name, v, "not valid UTF-8")
	}
	multiline := name == "note" || name == "adr" // a street may take several lines
	if multiline {
		v = strings.ReplaceAll(v, "\r\n", "\n")
	}
	if v == "" {
		return Field{}, invalid(name, v, "empty value")
	}
	limit, limitText := maxValueLen, "4 KiB"
	if name == "photo" {
		limit, limitText = maxPhotoLen, "48 KiB"
	}
	if len(v) > limit {
		return Field{}, invalid(name, v, fmt.Sprintf("%d bytes is over the %s limit", len(v), limitText))
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return Field{}, invalid(name, v, fmt.Sprintf("control character %U is not allowed", r))
		}
	}
	v, err := d.check(v)
	if err != nil {
		return Field{}, invalid(name, strings.TrimSpace(f.Value), err.Error())
	}
	types, err := normalizeTypes(d, f.Types)
	if err != nil {
		return Field{}, invalid(name, v, err.Error())
	}
	out := Field{Name: name, Value: v, Types: types}
	if err := out.normalizeExtras(f); err != nil {
		return Field{}, invalid(name, v, err.Error())
	}
	if i := slices.Index(out.Types, "pref"); i >= 0 {
		// vCard 3.0's way to say preferred: Pref says it.
		out.Types = slices.Delete(out.Types, i, i+1)
		out.Pref = max(out.Pref, 1)
		if len(out.Types) == 0 {
			out.Types = nil
		}
	}
	return out, nil
}

// Limits on what a field keeps from vCard beyond its value.
const (
	maxRawLen   = maxPhotoLen // bytes in a raw value (KEY, LOGO, SOUND may be data)
	MaxParams   = 16          // parameters on one field (and values of one)
	maxParamLen = 1 << 10     // bytes in one parameter value
	maxNameLen  = 64          // bytes in a property, group or parameter name
)

// normalizeRaw checks a field kept as written: a vCard property name, a
// value of valid UTF-8 without control characters (vCard text escapes its
// newlines), within maxRawLen.
func normalizeRaw(f Field) (Field, error) {
	name := strings.ToLower(f.Name)
	switch name {
	case "begin", "end", "version", "prodid", "rev", "profile":
		return Field{}, &fieldError{ErrInvalidField, fmt.Sprintf("property name %s: vCard's own, not a field", quote(f.Name))}
	}
	if !vcardName(name, true) {
		return Field{}, &fieldError{ErrInvalidField, fmt.Sprintf("property name %s: want letters, digits and '-'", quote(f.Name))}
	}
	v := f.Value
	switch {
	case !utf8.ValidString(v):
		return Field{}, invalid(name, v, "not valid UTF-8")
	case len(v) > maxRawLen:
		return Field{}, invalid(name, v, fmt.Sprintf("%d bytes is over the 48 KiB limit", len(v)))
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return Field{}, invalid(name, v, fmt.Sprintf("control character %U is not allowed", r))
	}
	out := Field{Name: name, Value: v, Raw: true}
	for _, t := range f.Types {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && !slices.Contains(out.Types, t) {
			out.Types = append(out.Types, t)
		}
	}
	if len(out.Types) > MaxTypes {
		return Field{}, invalid(name, v, fmt.Sprintf("%d types is over the limit of %d", len(out.Types), MaxTypes))
	}
	if err := checkParamText(out.Types); err != nil || slices.ContainsFunc(out.Types, func(t string) bool { return strings.ContainsAny(t, ",;:") }) {
		return Field{}, invalid(name, v, "a type holds , ; : or a control character")
	}
	if err := out.normalizeExtras(f); err != nil {
		return Field{}, invalid(name, v, err.Error())
	}
	return out, nil
}

// normalizeExtras copies f's preference, group and parameters into out,
// checked: a group and parameter names are vCard names, parameter values
// are bounded text.
func (out *Field) normalizeExtras(f Field) error {
	if f.Pref < 0 || f.Pref > 100 {
		return fmt.Errorf("preference %d: want 1 (most preferred) to 100", f.Pref)
	}
	out.Pref = f.Pref
	if f.Group != "" {
		if !vcardName(f.Group, false) {
			return fmt.Errorf("group %s: want letters, digits and '-'", quote(f.Group))
		}
		out.Group = f.Group
	}
	if len(f.Params) > MaxParams {
		return fmt.Errorf("%d parameters is over the limit of %d", len(f.Params), MaxParams)
	}
	for _, p := range f.Params {
		name := strings.ToUpper(p.Name)
		switch {
		case !vcardName(name, false):
			return fmt.Errorf("parameter name %s: want letters, digits and '-'", quote(p.Name))
		case name == "ENCODING" && f.Raw && len(p.Values) == 1 && strings.EqualFold(p.Values[0], "b"):
			// Inline base64 of a property Kith has no name for, kept as is.
		case name == "TYPE" || name == "PREF" || name == "ENCODING" || name == "CHARSET":
			return fmt.Errorf("parameter %s belongs in the field itself", name)
		case len(p.Values) > MaxParams:
			return fmt.Errorf("parameter %s: %d values is over the limit of %d", name, len(p.Values), MaxParams)
		}
		if err := checkParamText(p.Values); err != nil {
			return fmt.Errorf("parameter %s: %w", name, err)
		}
		values := slices.Clone(p.Values)
		if len(values) == 0 {
			values = []string{""}
		}
		out.Params = append(out.Params, Param{Name: name, Values: values})
	}
	return nil
}

// ValidParamValue reports whether v is a parameter value (or a type) a
// field may keep: valid UTF-8 of at most 1 KiB, without control characters
// or the double quote vCard cannot escape.
func ValidParamValue(v string) bool { return checkParamText([]string{v}) == nil }

// checkParamText checks parameter values: valid UTF-8 within maxParamLen,
// without control characters or the double quote vCard cannot escape.
func checkParamText(vs []string) error {
	for _, v := range vs {
		switch {
		case len(v) > maxParamLen:
			return fmt.Errorf("a value of %d bytes is over the 1 KiB limit", len(v))
		case !utf8.ValidString(v):
			return errors.New("a value is not valid UTF-8")
		case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == '"' }) >= 0:
			return fmt.Errorf("value %s holds a control character or '\"'", quote(v))
		}
	}
	return nil
}

// ValidName reports whether s is a vCard name: 1 to 64 ASCII letters,
// digits, '-' and '_' (which some writers use in X- names); a property name
// may also hold '/' (KDE's X-messaging/skype-All) and be up to 256 long.
func ValidName(s string, property bool) bool { return vcardName(s, property) }

func vcardName(s string, property bool) bool {
	limit := maxNameLen
	if property {
		limit = 4 * maxNameLen
	}
	if s == "" || len(s) > limit {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isASCIILetter(c) || c >= '0' && c <= '9' || c == '-' || c == '_' || property && c == '/') {
			return false
		}
	}
	return true
}

func normalizeTypes(d fieldDef, types []string) ([]string, error) {
	var out []string
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if !d.Typed {
			return nil, fmt.Errorf("%s takes no types (got %s)", d.Name, quote(t))
		}
		if len(t) > maxTypeLen || !utf8.ValidString(t) || strings.IndexFunc(t, func(r rune) bool {
			return unicode.IsControl(r) || strings.ContainsRune("\",;:", r)
		}) >= 0 {
			return nil, fmt.Errorf("type %s: want a label of at most %d bytes without , ; : or \"", quote(t), maxTypeLen)
		}
		out = append(out, t)
	}
	if len(out) > MaxTypes {
		return nil, fmt.Errorf("%d types is over the limit of %d", len(out), MaxTypes)
	}
	return out, nil
}

// NormalizeCard normalises every field of c ([NormalizeField]), rejects a
// second value of a single-valued field (Raw fields aside) and requires at
// least one field: a card holding only an address is still something a
// person wrote down. Errors wrap [ErrUnknownField] or [ErrInvalidField].
func NormalizeCard(c Card) (Card, error) {
	out := Card{Fields: make([]Field, 0, len(c.Fields))}
	for _, f := range c.Fields {
		nf, err := NormalizeField(f)
		if err != nil {
			return Card{}, err
		}
		if nf.Raw {
			out.Fields = append(out.Fields, nf)
			continue
		}
		if !registry[nf.Name].Multi && slices.ContainsFunc(out.Fields, func(g Field) bool { return g.Name == nf.Name && !g.Raw }) {
			return Card{}, &fieldError{ErrInvalidField, fmt.Sprintf("%s %s: a card has at most one %s", nf.Name, quote(nf.Value), nf.Name)}
		}
		out.Fields = append(out.Fields, nf)
	}
	if len(out.Fields) == 0 {
		return Card{}, &fieldError{ErrInvalidField, "a card needs at least one field"}
	}
	return out, nil
}

// CheckReceived checks a card someone else wrote (a friend's, as it came
// out of a signed entry) with the rules local input passes
// ([NormalizeField], and at most one value of a single-valued field). A
// field that passes comes back normalised. One that fails is kept as it
// was sent, so that nothing is lost, but marked: Raw, so that nothing
// uses it as if valid (not the name shown, not an address to mail), and
// Invalid saying why. The signed entry is never changed; this runs on the
// card as it is read.
func CheckReceived(c Card) Card {
	out := Card{Fields: make([]Field, 0, len(c.Fields))}
	for _, f := range c.Fields {
		nf, err := NormalizeField(f)
		if err == nil && !nf.Raw && !registry[nf.Name].Multi && slices.ContainsFunc(out.Fields, func(g Field) bool { return g.Name == nf.Name && !g.Raw }) {
			err = &fieldError{ErrInvalidField, fmt.Sprintf("%s %s: a card has at most one %s", nf.Name, quote(nf.Value), nf.Name)}
		}
		if err != nil {
			f.Raw, f.Invalid = true, err.Error()
			out.Fields = append(out.Fields, f)
			continue
		}
		out.Fields = append(out.Fields, nf)
	}
	return out
}

// Validators. Each gets a trimmed, non-empty value.

func checkText(v string) (string, error) { return v, nil }

// checkStructured checks a ';'-separated value of at most max components (0:
// any number), not all empty, and trims each component.
func checkStructured(max int, shape string) func(string) (string, error) {
	return func(v string) (string, error) {
		parts := strings.Split(v, ";")
		if max > 0 && len(parts) > max {
			return "", fmt.Errorf("%d components is over %d: want %s", len(parts), max, shape)
		}
		empty := true
		for i, p := range parts {
			parts[i] = strings.TrimSpace(p)
			if parts[i] != "" {
				empty = false
			}
		}
		if empty {
			return "", fmt.Errorf("every component is empty: want %s", shape)
		}
		return strings.Join(parts, ";"), nil
	}
}

func checkEmail(v string) (string, error) {
	at := strings.LastIndexByte(v, '@')
	switch {
	case at < 0:
		return "", errors.New("missing @")
	case at == 0:
		return "", errors.New("missing the part before @")
	case at == len(v)-1:
		return "", errors.New("missing domain")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return "", errors.New("want a bare address such as alice@example.com")
	}
	return v, nil
}

// checkTel accepts a phone number as people and phones write it: digits
// with spaces and + ( ) - . /, an extension (x12, ext. 12), pause and wait
// marks (p, w, ',', ';'), * and #, letters of a vanity number; or a tel:
// URI (tel:+1-555-0100;ext=12).
func checkTel(v string) (string, error) {
	if hasPrefixFold(v, "tel:") {
		if strings.IndexFunc(v, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 || strings.ContainsAny(v, " \\\"<>") {
			return "", errors.New("want a tel: URI such as tel:+1-555-0100")
		}
		return "tel:" + v[4:], nil
	}
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r < utf8.RuneSelf && isASCIILetter(byte(r)), strings.ContainsRune(" +()-./*#,;", r):
		default:
			return "", errors.New("a phone number has digits, spaces and + ( ) - . / * # , ; and letters only")
		}
	}
	if digits == 0 {
		return "", errors.New("a phone number needs digits")
	}
	return v, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

const dateWant = "want YYYY-MM-DD, --MM-DD or YYYYMMDD"

// clockRE is the time of an RFC 6350 date-time, basic or extended, with
// an optional fraction and zone: 10, 1030, 10:30:00, 103000Z, 10:30-05:00.
var clockRE = regexp.MustCompile(`^\d\d(:?\d\d(:?\d\d(\.\d+)?)?)?(Z|[+-]\d\d(:?\d\d)?)?$`)

// checkDate accepts YYYY-MM-DD, YYYYMMDD, --MM-DD and --MMDD and returns
// YYYY-MM-DD or --MM-DD.
func checkDate(v string) (string, error) {
	if date, clock, ok := strings.Cut(v, "T"); ok {
		// A date and time (RFC 6350 date-time): the date checked, the time
		// kept as written if it looks like one.
		d, err := checkDate(date)
		if err != nil || !clockRE.MatchString(clock) {
			return "", errors.New(dateWant + ", optionally followed by Thh:mm:ss")
		}
		return d + "T" + clock, nil
	}
	var year, month, day string
	switch {
	case len(v) == 10 && v[4] == '-' && v[7] == '-':
		year, month, day = v[:4], v[5:7], v[8:]
	case len(v) == 8 && !strings.HasPrefix(v, "--"):
		year, month, day = v[:4], v[4:6], v[6:]
	case len(v) == 7 && strings.HasPrefix(v, "--") && v[4] == '-':
		month, day = v[2:4], v[5:]
	case len(v) == 6 && strings.HasPrefix(v, "--"):
		month, day = v[2:4], v[4:]
	default:
		return "", errors.New(dateWant)
	}
	y := 2000 // a leap year, so that --02-29 is a date
	if year != "" {
		var ok bool
		if y, ok = digitsValue(year); !ok || y == 0 {
			return "", errors.New(dateWant)
		}
	}
	m, okM := digitsValue(month)
	d, okD := digitsValue(day)
	if !okM || !okD || m < 1 || m > 12 || d < 1 || d > time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return "", errors.New(dateWant)
	}
	if year == "" {
		return fmt.Sprintf("--%02d-%02d", m, d), nil
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), nil
}

// digitsValue parses a string of ASCII digits only.
func digitsValue(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s != ""
}

func checkGender(v string) (string, error) {
	sex, identity, _ := strings.Cut(v, ";")
	sex = strings.ToUpper(strings.TrimSpace(sex))
	identity = strings.TrimSpace(identity)
	if len(sex) > 1 || !strings.Contains("MFONU", sex) || strings.Contains(identity, ";") || sex == "" && identity == "" {
		return "", errors.New("want M, F, O, N or U, then optionally ;identity (e.g. F or O;non-binary)")
	}
	if identity == "" {
		return sex, nil
	}
	return sex + ";" + identity, nil
}

func checkGeo(v string) (string, error) {
	const want = "want geo:latitude,longitude (e.g. geo:52.52,13.40)"
	if len(v) < 4 || !strings.EqualFold(v[:4], "geo:") {
		return "", errors.New(want)
	}
	parts := strings.Split(v[4:], ",")
	if len(parts) != 2 {
		return "", errors.New(want)
	}
	var coord [2]float64
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789.+-") != "" {
			return "", errors.New(want)
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return "", errors.New(want)
		}
		coord[i] = f
	}
	if !(coord[0] >= -90 && coord[0] <= 90) || !(coord[1] >= -180 && coord[1] <= 180) {
		return "", errors.New("latitude must be within ±90 and longitude within ±180")
	}
	return "geo:" + v[4:], nil
}

// checkWebURL accepts an absolute http or https URL with a host.
func checkWebURL(v string) bool {
	if strings.ContainsAny(v, " \\\"<>") {
		return false
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

func checkURL(v string) (string, error) {
	if !checkWebURL(v) {
		return "", errors.New("want an absolute http(s) URL")
	}
	return v, nil
}

func checkPhoto(v string) (string, error) {
	const want = "want an http(s) URL or a data:image/...;base64 URI"
	if len(v) >= 5 && strings.EqualFold(v[:5], "data:") {
		header, data, ok := strings.Cut(v[5:], ",")
		media, params, _ := strings.Cut(header, ";")
		if !ok || !strings.HasPrefix(strings.ToLower(media), "image/") || !strings.EqualFold(params, "base64") {
			return "", errors.New(want)
		}
		if _, err := base64.StdEncoding.DecodeString(data); err != nil || data == "" {
			return "", errors.New("the data: URI holds no valid base64")
		}
		return v, nil
	}
	if len(v) > maxValueLen {
		return "", fmt.Errorf("%d bytes is over the 4 KiB limit for a URL", len(v))
	}
	if !checkWebURL(v) {
		return "", errors.New(want)
	}
	return v, nil
}

func checkIMPP(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || strings.ContainsAny(v, " \\\"<>") || u.Scheme == "" || u.Opaque == "" && u.Host == "" && u.Path == "" {
		return "", errors.New("want a URI such as xmpp:alice@example.com")
	}
	return v, nil
}

func checkCategories(v string) (string, error) {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		if parts[i] = strings.TrimSpace(p); parts[i] == "" {
			return "", errors.New("empty category: want comma-separated tags")
		}
	}
	return strings.Join(parts, ","), nil
}

// checkTZ accepts an IANA zone name (not checked against a database) or a
// UTC offset ±hh, ±hhmm or ±hh:mm, returned as ±hh:mm.
func checkTZ(v string) (string, error) {
	const want = "want an IANA zone like Europe/Berlin or an offset like +01:00"
	if v[0] == '+' || v[0] == '-' {
		var hh, mm string
		switch {
		case len(v) == 3:
			hh, mm = v[1:3], "00"
		case len(v) == 5:
			hh, mm = v[1:3], v[3:]
		case len(v) == 6 && v[3] == ':':
			hh, mm = v[1:3], v[4:]
		default:
			return "", errors.New(want)
		}
		h, okH := digitsValue(hh)
		m, okM := digitsValue(mm)
		if !okH || !okM || h > 14 || m > 59 {
			return "", errors.New(want)
		}
		return fmt.Sprintf("%c%02d:%02d", v[0], h, m), nil
	}
	for i, part := range strings.Split(v, "/") {
		if part == "" || i == 0 && !isASCIILetter(part[0]) || strings.IndexFunc(part, func(r rune) bool {
			return !(r < utf8.RuneSelf && isASCIILetter(byte(r)) || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '+')
		}) >= 0 {
			return "", errors.New(want)
		}
	}
	return v, nil
}

func checkLang(v string) (string, error) {
	for i, part := range strings.Split(v, "-") {
		ok := len(part) >= 1 && len(part) <= 8
		for j := 0; ok && j < len(part); j++ {
			ok = isASCIILetter(part[j]) || i > 0 && part[j] >= '0' && part[j] <= '9'
		}
		if !ok || i == 0 && len(part) < 2 {
			return "", errors.New("want a language tag like en or pt-BR")
		}
	}
	return v, nil
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
