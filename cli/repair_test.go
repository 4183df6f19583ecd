package cli

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestDamagedStore: a store with a record that does not read and a page of
// entries overwritten still lists the other contacts (and says which does
// not read); kith check reports every problem and exits 17; kith repair
// keeps what verifies, says what it lost, keeps the damaged file aside;
// then check passes and the contacts list.
func TestDamagedStore(t *testing.T) {
	d := startDaemon(t)
	var file strings.Builder
	for i := range 300 {
		file.WriteString(good(i))
	}
	d.ok(t, "contacts", "import", writeFile(t, "all.vcf", []byte(file.String())))
	var cs []api.Contact
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &cs)
	require.Len(t, cs, 300)
	d.stop()

	path := filepath.Join(d.home, node.DBName)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.ExecContext(t.Context(), "UPDATE records SET body = x'a1' WHERE key = ?", cs[10].ID)
	require.NoError(t, err)
	var sig []byte
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT substr(raw, length(raw)/2, 16) FROM entries ORDER BY seq DESC LIMIT 1 OFFSET 30").Scan(&sig))
	var leaves []int64
	rows, err := db.QueryContext(t.Context(), "SELECT pageno FROM dbstat WHERE name = 'entries' AND pagetype = 'leaf'")
	require.NoError(t, err)
	for rows.Next() {
		var p int64
		require.NoError(t, rows.Scan(&p))
		leaves = append(leaves, p)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, db.Close())
	smashPage(t, path, leaves, sig)

	d = startDaemonOn(t, d.home)
	r := kith(t, d.home, "contacts", "list")
	if r.code != exitOK || !strings.Contains(r.stderr, "1 contact does not read") || strings.Count(r.stdout, "\n") < 250 {
		t.Errorf("contacts list on a damaged store = exit %d, %d lines\nstderr: %s\nwant the others listed and the damaged one named", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}
	if r = kith(t, d.home, "status"); r.code != exitOK {
		t.Errorf("status on a damaged store = exit %d\nstderr: %s", r.code, r.stderr)
	}
	r = kith(t, d.home, "check")
	if r.code != exitDamaged || !strings.Contains(r.stdout, "problem: ") || !strings.Contains(r.stderr, "kith repair") {
		t.Errorf("check on a damaged store = exit %d\nstdout: %s\nstderr: %s\nwant exit %d, problems listed", r.code, r.stdout, r.stderr, exitDamaged)
	}
	r = kith(t, d.home, "repair", "--json")
	require.Equal(t, exitOK, r.code, "kith repair: %s", r.stderr)
	var rep api.RepairReport
	decodeJSON(t, r.stdout, &rep)
	t.Logf("repair: kept %d entries of %d logs, lost %d: %v", rep.Entries, rep.Logs, rep.Lost, rep.Problems)
	if rep.Entries < 250 || len(rep.Problems) == 0 || rep.DamagedStore == "" {
		t.Errorf("repair = %+v, want most entries kept and the loss said", rep)
	}
	if _, err := os.Stat(rep.DamagedStore); err != nil {
		t.Errorf("the damaged file is not kept aside: %v", err)
	}
	if out := d.ok(t, "check"); !strings.Contains(out, "ok") {
		t.Errorf("check after repair = %q, want ok", out)
	}
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &cs)
	if len(cs) < 250 || len(cs) >= 300 {
		t.Errorf("%d contacts after repair, want those whose entries were kept", len(cs))
	}
	for _, c := range cs {
		if c.Damaged != "" {
			t.Errorf("contact %s still damaged after repair", c.ID)
		}
	}
	d.ok(t, "contacts", "add", "--name", "After Repair") // it writes again
}

// smashPage overwrites the header of the leaf page of the entries table
// that holds pattern.
func smashPage(t *testing.T, path string, leaves []int64, pattern []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, p := range leaves {
		page := b[(p-1)*4096 : p*4096]
		if bytes.Contains(page, pattern) {
			copy(page[:12], bytes.Repeat([]byte{0xa5}, 12))
			require.NoError(t, os.WriteFile(path, b, 0o600))
			return
		}
	}
	t.Fatal("the entry is on no leaf page of entries")
}

// TestCheckDuringImport: kith check while an import stores thousands of
// cards reads one snapshot: it finds no problem, never a head ahead of
// its log.
func TestCheckDuringImport(t *testing.T) {
	d := startDaemon(t)
	// The import goes through the API, not a second Main: urfave/cli's
	// help flag is a package variable that two apps in one process share.
	client := api.NewClient(api.SocketPath(d.home))
	t.Cleanup(func() { client.Close() })
	done := make(chan error, 1)
	go func() {
		for b := range 3 {
			cards := make([]graph.Card, 1000)
			for i := range cards {
				cards[i].Set("fn", fmt.Sprintf("Person %d-%d", b, i))
				cards[i].Set("email", fmt.Sprintf("p%d-%d@example.org", b, i))
			}
			if _, err := client.AddContacts(t.Context(), cards); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	checks := 0
	for running := true; running; checks++ {
		select {
		case err := <-done:
			require.NoError(t, err, "import")
			running = false
		default:
		}
		r := kith(t, d.home, "check")
		if r.code != exitOK {
			t.Fatalf("check %d during the import = exit %d\nstdout: %s\nstderr: %s", checks, r.code, r.stdout, r.stderr)
		}
	}
	t.Logf("%d checks during the import", checks)
}
