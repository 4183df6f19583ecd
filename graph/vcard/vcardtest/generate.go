package vcardtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

type name struct{ text, ascii string }

var (
	givenNames = []name{
		{"Alice", "alice"}, {"Bob", "bob"}, {"Chen", "chen"}, {"Dara", "dara"},
		{"Émile", "emile"}, {"Fatima", "fatima"}, {"Gustav", "gustav"},
		{"Hana", "hana"}, {"Ivan", "ivan"}, {"José", "jose"}, {"Kwame", "kwame"},
		{"Lena", "lena"}, {"Mateo", "mateo"}, {"Nadia", "nadia"}, {"Oskar", "oskar"},
		{"Priya", "priya"}, {"Quinn", "quinn"}, {"Rosa", "rosa"}, {"Sven", "sven"},
		{"Tomoko", "tomoko"}, {"Uma", "uma"}, {"Valentina", "valentina"},
		{"Wei", "wei"}, {"Yusuf", "yusuf"}, {"Zoë", "zoe"},
	}
	familyNames = []name{
		{"Andersen", "andersen"}, {"Baker", "baker"}, {"Costa", "costa"},
		{"Dubois", "dubois"}, {"Eze", "eze"}, {"Fischer", "fischer"},
		{"García", "garcia"}, {"Haddad", "haddad"}, {"Ito", "ito"},
		{"Jansen", "jansen"}, {"Kowalski", "kowalski"}, {"Li", "li"},
		{"Müller", "muller"}, {"Nguyễn", "nguyen"}, {"O'Brien", "obrien"},
		{"Patel", "patel"}, {"Rao", "rao"}, {"Santos", "santos"},
		{"Tanaka", "tanaka"}, {"van der Berg", "vanderberg"}, {"Wójcik", "wojcik"},
	}
	orgs = []struct{ name, unit, domain string }{
		{"Acme Corp", "Research", "acme.example"},
		{"Globex", "", "globex.example"},
		{"Initech, Inc.", "Accounting", "initech.example"},
		{"Umbrella Health", "Oncology", "umbrella.example"},
		{"Stark & Sons", "", "stark.example"},
		{"Universität Musterstadt", "Informatik", "uni-musterstadt.example"},
	}
	titles   = []string{"Research Engineer", "Accountant", "Head of Product", "Nurse", "Professor", "Carpenter", "Designer"}
	streets  = []string{"Main St", "Rue de la Paix", "Hauptstraße", "Calle Mayor", "Baker Street", "Nørrebrogade"}
	places   = []struct{ city, region, code, country string }{{"Springfield", "IL", "62701", "USA"}, {"Paris", "", "75002", "France"}, {"Berlin", "", "10115", "Germany"}, {"Madrid", "", "28013", "Spain"}, {"London", "", "NW1 6XE", "United Kingdom"}, {"København", "", "2200", "Denmark"}}
	mailHost = []string{"example.com", "mail.example.org", "example.net"}
	notes    = []string{
		"Met at FOSDEM, Brussels",
		"Allergic to peanuts; prefers tea",
		"Ask about the climbing trip",
		"Former colleague from the Lisbon office, now working on distributed systems and local-first software",
	}
)

// Generate returns n cards of vCard text, the same for the same n and seed:
// a mix of vCard 3.0 (as Apple and Google export) and 4.0, with CRLF and LF
// line endings, folded lines, TYPE parameters in their several spellings,
// and fn, n, one or two emails and phone numbers, adr, org, title, bday,
// note and url. Every card is valid for graph/vcard.Decode.
func Generate(n int, seed int64) []byte {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6b697468))
	var b bytes.Buffer
	b.Grow(n * 520)
	for i := range n {
		c := card{r: r, i: i}
		if r.IntN(2) == 0 {
			c.v3(&b)
		} else {
			c.v4(&b)
		}
	}
	return b.Bytes()
}

type card struct {
	r *rand.Rand
	i int
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (c card) v3(b *bytes.Buffer) {
	r := c.r
	eol := "\r\n"
	if r.IntN(3) == 0 {
		eol = "\n"
	}
	w := lineWriter{b: b, eol: eol}
	given, family, org := pick(r, givenNames), pick(r, familyNames), pick(r, orgs)
	w.line("BEGIN:VCARD")
	w.line("VERSION:3.0")
	w.line("PRODID:-//Apple Inc.//macOS 14.4//EN")
	w.line("N:" + esc(family.text) + ";" + esc(given.text) + ";;;")
	w.line("FN:" + esc(given.text+" "+family.text))
	w.line("ORG:" + esc(org.name) + ";" + esc(org.unit))
	w.line("TITLE:" + esc(pick(r, titles)))
	w.line(fmt.Sprintf("EMAIL;TYPE=INTERNET,WORK,pref:%s.%s@%s", given.ascii, family.ascii, org.domain))
	if r.IntN(2) == 0 {
		w.line(fmt.Sprintf("item1.EMAIL;type=INTERNET;type=HOME:%s%d@%s", given.ascii, c.i, pick(r, mailHost)))
		w.line("item1.X-ABLabel:_$!<Home>!$_")
	}
	w.line("TEL;TYPE=CELL,VOICE:" + c.phone())
	if r.IntN(2) == 0 {
		w.line("TEL;type=WORK;type=VOICE:" + c.phone())
	}
	p := pick(r, places)
	w.line(fmt.Sprintf("ADR;TYPE=HOME:;;%d %s;%s;%s;%s;%s", 1+r.IntN(200), esc(pick(r, streets)), p.city, p.region, p.code, p.country))
	if r.IntN(4) == 0 {
		w.line(fmt.Sprintf("BDAY;X-APPLE-OMIT-YEAR=1604:1604-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)))
	} else {
		w.line(fmt.Sprintf("BDAY;VALUE=date:%04d-%02d-%02d", 1940+r.IntN(70), 1+r.IntN(12), 1+r.IntN(28)))
	}
	w.line("NOTE:" + esc(pick(r, notes)))
	w.line("URL:http\\://www." + org.domain + "/~" + given.ascii)
	w.line(fmt.Sprintf("UID:%08x-3a0f-4d5e-9b1c-%012x", c.i, r.Uint64()&0xffffffffffff))
	w.line("END:VCARD")
}

func (c card) v4(b *bytes.Buffer) {
	r := c.r
	w := lineWriter{b: b, eol: "\r\n"}
	given, family, org := pick(r, givenNames), pick(r, familyNames), pick(r, orgs)
	w.line("BEGIN:VCARD")
	w.line("VERSION:4.0")
	w.line("FN:" + esc(given.text+" "+family.text))
	w.line("N:" + esc(family.text) + ";" + esc(given.text) + ";;;")
	w.line("EMAIL;TYPE=work:" + given.ascii + "." + family.ascii + "@" + org.domain)
	if r.IntN(2) == 0 {
		w.line("EMAIL;TYPE=home;PREF=1:" + given.ascii + fmt.Sprint(c.i) + "@" + pick(r, mailHost))
	}
	w.line("TEL;VALUE=uri;TYPE=\"cell,voice\":tel:" + strings.ReplaceAll(c.phone(), " ", "-"))
	if r.IntN(2) == 0 {
		w.line("TEL;TYPE=home:" + c.phone())
	}
	p := pick(r, places)
	w.line(fmt.Sprintf("ADR;TYPE=work:;Floor %d;%d %s;%s;%s;%s;%s", 1+r.IntN(9), 1+r.IntN(200), esc(pick(r, streets)), p.city, p.region, p.code, p.country))
	if org.unit != "" {
		w.line("ORG:" + esc(org.name) + ";" + esc(org.unit))
	} else {
		w.line("ORG:" + esc(org.name))
	}
	w.line("TITLE:" + esc(pick(r, titles)))
	if r.IntN(4) == 0 {
		w.line(fmt.Sprintf("BDAY:--%02d%02d", 1+r.IntN(12), 1+r.IntN(28)))
	} else {
		w.line(fmt.Sprintf("BDAY:%04d%02d%02d", 1940+r.IntN(70), 1+r.IntN(12), 1+r.IntN(28)))
	}
	w.line("NOTE:" + esc(pick(r, notes)+"\n"+pick(r, notes)))
	w.line("URL;TYPE=home:https://" + given.ascii + "." + family.ascii + ".example/")
	w.line(fmt.Sprintf("REV:2024%02d%02dT101500Z", 1+r.IntN(12), 1+r.IntN(28)))
	w.line("END:VCARD")
}

func (c card) phone() string {
	return fmt.Sprintf("+%d %03d %03d %04d", 1+c.r.IntN(98), c.r.IntN(1000), c.r.IntN(1000), c.r.IntN(10000))
}

var escaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, ",", `\,`, ";", `\;`)

// esc escapes a text value or a component of a structured one.
func esc(s string) string { return escaper.Replace(s) }

// lineWriter writes content lines folded at 75 octets, as exporters do.
type lineWriter struct {
	b   *bytes.Buffer
	eol string
}

func (w lineWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		w.b.WriteString(s[:cut])
		w.b.WriteString(w.eol)
		w.b.WriteByte(' ')
		s = s[cut:]
		limit = 74
	}
	w.b.WriteString(s)
	w.b.WriteString(w.eol)
}
