package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
)

// TestImportCorpus imports every real-world file of the corpus into one
// daemon (each must be taken whole, no card refused by the node either:
// every card fits an entry), exports the address book, and finds every
// card again with every field as the decoder read it. Each broken file is
// refused with exit 5 and adds nothing.
func TestImportCorpus(t *testing.T) {
	files := vcardtest.CorpusFiles(t, "valid", 100)
	d := startDaemon(t)

	// The cards the address book must hold: the last card of each UID (a
	// later import of a UID updates the contact) and every card without
	// one, once: cards alike in every field get one UID from their content.
	byUID := map[string]graph.Card{}
	var noUID []graph.Card
	seen := map[string]bool{}
	for _, name := range files {
		r := kith(t, d.home, "contacts", "import", name)
		if r.code != exitOK || !strings.Contains(r.stdout, "imported ") {
			t.Errorf("kith contacts import %s = exit %d\nstdout: %s\nstderr: %s", filepath.Base(name), r.code, r.stdout, r.stderr)
			continue
		}
		for _, c := range decodeFile(t, name) {
			if uid := c.First("uid"); uid != "" {
				byUID[uid] = c
			} else if k := strings.Join(fieldSet(c), "\n"); !seen[k] {
				seen[k] = true
				noUID = append(noUID, c)
			}
		}
	}
	want := noUID
	for _, c := range byUID {
		want = append(want, c)
	}

	exported := filepath.Join(t.TempDir(), "all.vcf")
	d.ok(t, "contacts", "export", "-o", exported)
	got := map[string]int{}
	for _, c := range decodeFile(t, exported) {
		got[strings.Join(fieldSet(c), "\n")]++
		// Export names a card without FN (vCard requires one).
		if i := slices.IndexFunc(c.Fields, func(f graph.Field) bool { return f.Name == "fn" }); i >= 0 {
			c.Fields = slices.Delete(slices.Clone(c.Fields), i, i+1)
			got[strings.Join(fieldSet(c), "\n")]++
		}
	}
	if n := contactCount(t, d); n != len(want) {
		t.Errorf("%d contacts after importing the corpus, want %d", n, len(want))
	}
	for _, c := range want {
		key := strings.Join(fieldSet(c), "\n")
		if got[key] == 0 {
			t.Errorf("card %q not exported as imported:\n%s", c.DisplayName(), key)
			continue
		}
		got[key]--
	}

	before := contactCount(t, d)
	for _, name := range vcardtest.CorpusFiles(t, "invalid", 1) {
		r := kith(t, d.home, "contacts", "import", name)
		if r.code != exitInvalid || !strings.Contains(r.stderr, filepath.Base(name)) {
			t.Errorf("kith contacts import %s = exit %d, stderr %q; want exit %d naming the file", filepath.Base(name), r.code, r.stderr, exitInvalid)
		}
	}
	if n := contactCount(t, d); n != before {
		t.Errorf("broken files added %d contacts", n-before)
	}
}
