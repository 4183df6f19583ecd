package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
	"github.com/kith-p2p/kith/node/api"
)

const (
	goodCard   = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Good One\r\nEMAIL:good@example.org\r\nEND:VCARD\r\n"
	brokenCard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\nPHOTO;ENCODING=b:qgEP:ASDF==\r\nEND:VCARD\r\n"
	v3Card     = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;;;\r\nFN:Grace Hopper\r\nTEL;TYPE=CELL:+1-555-0100\r\nX-ABLABEL:navy\r\nEND:VCARD\r\n"
)

// good returns a valid card without a UID, one per n.
func good(n int) string {
	return fmt.Sprintf("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Good %d\r\nEMAIL:good%d@example.org\r\nEND:VCARD\r\n", n, n)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func contactCount(t *testing.T, d *testDaemon) int {
	t.Helper()
	var cs []api.Contact
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &cs)
	return len(cs)
}

func TestImport(t *testing.T) {
	d := startDaemon(t)
	big := filepath.Join(t.TempDir(), "big.vcf")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(vcard.MaxFileSize + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()

	// Each case imports into the same daemon; added is how many contacts
	// the case adds.
	tests := []struct {
		name     string
		args     []string
		stdin    string
		want     int
		added    int
		inStdout []string
		inStderr []string
	}{
		{
			name: "broken card refuses the whole file",
			args: []string{"contacts", "import", writeFile(t, "mixed.vcf", []byte(goodCard+brokenCard+goodCard))},
			want: exitInvalid, inStderr: []string{"card 2", "line 6", "base64", "nothing was imported", "--skip-invalid"},
		},
		{
			name: "skip invalid imports the rest",
			args: []string{"contacts", "import", "--skip-invalid", writeFile(t, "mixed.vcf", []byte(good(1)+brokenCard+good(2)))},
			want: exitOK, added: 2,
			inStdout: []string{"imported 2 new, 0 updated", "skipped 1 invalid card"},
			inStderr: []string{"card 2 (line 6", "base64 data is damaged"},
		},
		{
			name: "flag after the file",
			args: []string{"contacts", "import", writeFile(t, "one.vcf", []byte(good(3))), "--skip-invalid"},
			want: exitOK, added: 1, inStdout: []string{"imported 1 new, 0 updated"},
		},
		{
			name: "vCard 3.0 with an extension property",
			args: []string{"contacts", "import", writeFile(t, "v3.vcf", []byte(v3Card))},
			want: exitOK, added: 1, inStdout: []string{"imported 1 new, 0 updated"},
		},
		{
			name: "a value that fails its check is kept, with a warning",
			args: []string{"contacts", "import", writeFile(t, "warn.vcf", []byte("BEGIN:VCARD\r\nFN:Half\r\nEMAIL:half@\r\nEND:VCARD\r\n"))},
			want: exitOK, added: 1, inStdout: []string{"imported 1 new, 0 updated"},
			inStderr: []string{"1 warning", `card 1 (line 3, "Half"): email "half@": missing domain; kept as written`},
		},
		{
			name: "a legacy charset is converted and said",
			args: []string{"contacts", "import", writeFile(t, "ansi.vcf", []byte("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:J\xfcrgen M\xfcller\r\nEND:VCARD\r\n"))},
			want: exitOK, added: 1, inStdout: []string{"imported 1 new, 0 updated"}, inStderr: []string{"read as Windows-1252"},
		},
		{
			name:  "stdin",
			args:  []string{"contacts", "import", "-"},
			stdin: good(4) + good(5),
			want:  exitOK, added: 2, inStdout: []string{"imported 2 new, 0 updated"},
		},
		{
			// Cards without a UID are found again by the UID their content
			// gives them: a second run (after one that stopped half way)
			// adds nothing twice.
			name:  "the same cards again",
			args:  []string{"contacts", "import", "-"},
			stdin: good(4) + good(5) + good(1),
			want:  exitOK, inStdout: []string{"imported 0 new, 0 updated, 3 unchanged"},
		},
		{
			name: "every card invalid",
			args: []string{"contacts", "import", "--skip-invalid", writeFile(t, "bad.vcf", []byte(brokenCard))},
			want: exitInvalid, inStderr: []string{"every card is invalid"},
		},
		{
			name: "empty file",
			args: []string{"contacts", "import", writeFile(t, "empty.vcf", nil)},
			want: exitInvalid, inStderr: []string{"empty.vcf", "empty"},
		},
		{
			name: "garbage file",
			args: []string{"contacts", "import", writeFile(t, "garbage.bin", bytes.Repeat([]byte{0x00, 0xff, 0x13, 0x37}, 4096))},
			want: exitInvalid, inStderr: []string{"garbage.bin", "not a vCard"},
		},
		{
			name: "too large, refused before reading",
			args: []string{"contacts", "import", big},
			want: exitInvalid, inStderr: []string{"big.vcf", "64 MiB"},
		},
		{
			name: "directory",
			args: []string{"contacts", "import", t.TempDir()},
			want: exitInvalid, inStderr: []string{"directory"},
		},
		{
			name: "no such file",
			args: []string{"contacts", "import", filepath.Join(t.TempDir(), "nope.vcf")},
			want: exitNotFound, inStderr: []string{"no file"},
		},
		{
			name: "missing file argument",
			args: []string{"contacts", "import"},
			want: exitUsage, inStderr: []string{"missing FILE"},
		},
	}
	count := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := kithIn(t, d.home, strings.NewReader(tc.stdin), tc.args...)
			if r.code != tc.want {
				t.Errorf("kith %s = exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), r.code, tc.want, r.stdout, r.stderr)
			}
			for _, w := range tc.inStdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout = %q, want it to contain %q", r.stdout, w)
				}
			}
			for _, w := range tc.inStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr = %q, want it to contain %q", r.stderr, w)
				}
			}
			count += tc.added
			if got := contactCount(t, d); got != count {
				t.Errorf("after kith %s: %d contacts, want %d", strings.Join(tc.args, " "), got, count)
			}
		})
	}
}

// TestImportExportRoundTrip imports generated cards (in batches: more than
// importBatch of them), exports them and compares the two files field by
// field.
func TestImportExportRoundTrip(t *testing.T) {
	d := startDaemon(t)
	const n = importBatch + 250
	in := writeFile(t, "people.vcf", vcardtest.Generate(n, 7))
	out := d.ok(t, "contacts", "import", in)
	if !strings.Contains(out, "imported 1250 new, 0 updated") {
		t.Errorf("kith contacts import: stdout = %q, want imported 1250 new, 0 updated", out)
	}

	exported := filepath.Join(t.TempDir(), "out.vcf")
	d.ok(t, "contacts", "export", "-o", exported)
	if fi, err := os.Stat(exported); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("exported file: %v, mode %v; want it with mode 0600", err, fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(exported), ".out.vcf.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	stdout := d.ok(t, "contacts", "export")
	if file, _ := os.ReadFile(exported); stdout != string(file) {
		t.Errorf("kith contacts export to stdout differs from -o FILE (%d vs %d bytes)", len(stdout), len(file))
	}

	want, got := decodeFile(t, in), decodeFile(t, exported)
	if len(got) != len(want) {
		t.Fatalf("exported %d cards, imported %d", len(got), len(want))
	}
	key := func(c graph.Card) string { return strings.Join(fieldSet(c), "\n") }
	slices.SortFunc(want, func(a, b graph.Card) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(got, func(a, b graph.Card) int { return strings.Compare(key(a), key(b)) })
	for i := range want {
		wf, gf := fieldSet(want[i]), fieldSet(got[i])
		if !slices.Equal(wf, gf) {
			t.Errorf("card %q changed in the round trip:\n got %q\nwant %q", want[i].DisplayName(), gf, wf)
		}
	}

	// One card, with its UID.
	var cs []api.Contact
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &cs)
	one := d.ok(t, "contacts", "show", cs[0].ID, "--vcard")
	if !strings.HasPrefix(one, "BEGIN:VCARD") || !strings.Contains(one, "\r\nUID:"+cs[0].UID+"\r\n") || strings.Count(one, "BEGIN:VCARD") != 1 {
		t.Errorf("kith contacts show --vcard = %q, want one vCard with UID %s", one, cs[0].UID)
	}

	// Importing the export again changes nothing.
	out = d.ok(t, "contacts", "import", exported)
	if want := "imported 0 new, 0 updated, 1250 unchanged"; !strings.Contains(out, want) {
		t.Errorf("importing the export: stdout = %q, want %q", out, want)
	}
	if got := contactCount(t, d); got != n {
		t.Errorf("after importing the export: %d contacts, want %d", got, n)
	}
}

func decodeFile(t *testing.T, path string) []graph.Card {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := vcard.Decode(f, vcard.Options{})
	if err != nil {
		t.Fatalf("vcard.Decode(%s): %v", path, err)
	}
	return res.Cards
}

// fieldSet is a card's fields as sorted strings of every part of a field.
func fieldSet(c graph.Card) []string {
	out := make([]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		if f.Name == "uid" {
			continue // a card without one is given one
		}
		types := slices.Clone(f.Types)
		slices.Sort(types)
		out = append(out, fmt.Sprintf("%s=%s;%s;pref=%d;group=%s;%v;raw=%v", f.Name, f.Value, strings.Join(types, ","), f.Pref, f.Group, f.Params, f.Raw))
	}
	slices.Sort(out)
	return out
}

// TestImportLargestCard: a card just within what Decode lets through (its
// budget for an entry) is stored by the node: the budget holds.
func TestImportLargestCard(t *testing.T) {
	d := startDaemon(t)
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Big\r\n")
	b.WriteString("PHOTO:data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5, 0x5a, 0x3c}, 9900)) + "\r\n")
	for range 5 {
		b.WriteString("NOTE:" + strings.Repeat("n", 4000) + "\r\n")
	}
	b.WriteString("X-BULK:" + strings.Repeat("x", 40) + "\r\nEND:VCARD\r\n")
	res, err := vcard.Decode(strings.NewReader(b.String()), vcard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, f := range res.Cards[0].Fields {
		size += len(f.Value)
	}
	if size < 58<<10 {
		t.Fatalf("test card holds %d bytes, want close to the 60 KiB budget", size)
	}
	d.ok(t, "contacts", "import", writeFile(t, "big.vcf", []byte(b.String())))
	if n := contactCount(t, d); n != 1 {
		t.Errorf("%d contacts, want the big one", n)
	}
}

// bigCard is a card that vCard decoding takes (its estimate of the card's
// size is under what an entry holds) but whose entry, sealed and signed,
// is over spec.MaxEntrySize.
func bigCard() string {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Too Big\r\n")
	for i := range 600 {
		fmt.Fprintf(&b, "g%023d.X-%022d;TYPE=a;PREF=50;X-Y=z:%024d\r\n", i, i, i)
	}
	b.WriteString("END:VCARD\r\n")
	return b.String()
}

// TestImportAllOrNothing: a file of 2,500 good cards and one whose entry
// would be too large imports nothing, naming that card; --skip-invalid
// imports the rest; a run again, whole or after a partial import, adds no
// duplicate: cards without a UID are found again by their content's.
func TestImportAllOrNothing(t *testing.T) {
	d := startDaemon(t)
	var file, first strings.Builder
	for i := range 2500 {
		if i == 2100 {
			file.WriteString(bigCard()) // card 2,101: past two batches
		}
		file.WriteString(good(i))
		if i < 1000 {
			first.WriteString(good(i))
		}
	}
	name := writeFile(t, "all.vcf", []byte(file.String()))

	r := kith(t, d.home, "contacts", "import", name)
	if r.code != exitInvalid || !strings.Contains(r.stderr, `card 2101 ("Too Big")`) || !strings.Contains(r.stderr, "too large") || !strings.Contains(r.stderr, "nothing was imported") {
		t.Errorf("import with a too large card = exit %d\nstdout: %s\nstderr: %s\nwant exit %d naming card 2101, nothing imported", r.code, r.stdout, r.stderr, exitInvalid)
	}
	if n := contactCount(t, d); n != 0 {
		t.Fatalf("%d contacts after a refused import, want 0", n)
	}

	// A partial import (the first 1,000 cards), then the whole file.
	d.ok(t, "contacts", "import", writeFile(t, "first.vcf", []byte(first.String())))
	out := d.ok(t, "contacts", "import", "--skip-invalid", name)
	if !strings.Contains(out, "imported 1500 new, 0 updated, 1000 unchanged (skipped 1 invalid card)") {
		t.Errorf("import --skip-invalid after a partial import = %q, want 1500 new, 1000 unchanged, 1 skipped", out)
	}
	out = d.ok(t, "contacts", "import", "--skip-invalid", name)
	if !strings.Contains(out, "imported 0 new, 0 updated, 2500 unchanged") {
		t.Errorf("import --skip-invalid again = %q, want 2500 unchanged", out)
	}
	if n := contactCount(t, d); n != 2500 {
		t.Errorf("%d contacts, want 2500", n)
	}
}
