package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestExportImport: kith export --with-key on a running daemon, kith
// import into a fresh home, kith daemon there: same peer ID, same views.
func TestExportImport(t *testing.T) {
	t.Setenv(exportPassphraseEnv, "moving day")
	d := startDaemon(t)
	d.ok(t, "me", "set", "fn", "Ada Lovelace")
	d.ok(t, "contacts", "add", "--name", "Grace Hopper", "--email", "grace@example.org")
	d.ok(t, "circles", "add", "climbing")
	views := func(home string) string {
		var b strings.Builder
		for _, args := range [][]string{{"contacts", "export"}, {"me", "show", "--json"}, {"circles", "list", "--json"}, {"peers", "--json"}} {
			r := kith(t, home, args...)
			if r.code != 0 {
				t.Fatalf("kith %v = exit %d: %s", args, r.code, r.stderr)
			}
			b.WriteString(r.stdout)
		}
		return b.String()
	}
	want := views(d.home)

	file := filepath.Join(t.TempDir(), "graph.car")
	out := d.ok(t, "export", file, "--with-key", "--json")
	var res api.ExportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Key || res.PeerID != d.id.PeerID {
		t.Fatalf("kith export --json = %s (%v), want the key and %s", out, err, d.id.PeerID)
	}

	fresh := testHome(t)
	t.Setenv("KITH_PASSPHRASE", "wrong")
	if r := kith(t, fresh, "import", file); r.code != exitKey || !strings.Contains(r.stderr, "passphrase") {
		t.Errorf("kith import with a wrong passphrase = exit %d (%s), want %d", r.code, r.stderr, exitKey)
	}
	t.Setenv("KITH_PASSPHRASE", "moving day")
	if r := kith(t, fresh, "import", file); r.code != 0 || !strings.Contains(r.stdout, d.id.PeerID.String()) {
		t.Fatalf("kith import = exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := kith(t, fresh, "import", file); r.code != exitHomeHasLog || !strings.Contains(r.stderr, "fresh home") {
		t.Errorf("kith import twice = exit %d (%s), want %d", r.code, r.stderr, exitHomeHasLog)
	}
	d.stop()
	ctx, cancel := context.WithCancel(t.Context())
	ready, done := make(chan api.Identity, 1), make(chan error, 1)
	go func() {
		done <- node.RunDaemon(ctx, node.DaemonConfig{Home: fresh, Passphrase: []byte("moving day"), Listen: []string{"/ip4/127.0.0.1/tcp/0"},
			NoMDNS: true, Ready: func(id api.Identity) { ready <- id }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case id := <-ready:
		if id.PeerID != d.id.PeerID {
			t.Errorf("imported daemon is %s, want %s", id.PeerID, d.id.PeerID)
		}
	case err := <-done:
		t.Fatalf("kith daemon on the imported home: %v", err)
	}
	if got := views(fresh); got != want {
		t.Errorf("views after import:\n%s\nwant:\n%s", got, want)
	}
}

// TestImportBadFile: a truncated export is refused with its exit code,
// and the home stays empty.
func TestImportBadFile(t *testing.T) {
	t.Setenv(exportPassphraseEnv, "pw")
	t.Setenv("KITH_PASSPHRASE", "pw")
	d := startDaemon(t)
	file := filepath.Join(t.TempDir(), "graph.car")
	d.ok(t, "export", file, "--with-key")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data[:len(data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := testHome(t)
	r := kith(t, fresh, "import", file)
	if r.code != exitBadExport || !strings.Contains(r.stderr, "truncated") {
		t.Errorf("kith import of a truncated file = exit %d (%s), want %d", r.code, r.stderr, exitBadExport)
	}
	if _, err := os.Stat(fresh); err == nil {
		if des, _ := os.ReadDir(fresh); len(des) > 1 { // the lock file only
			t.Errorf("a refused import left %d files in the home", len(des))
		}
	}
	nokey := kith(t, testHome(t), "import", file+".missing")
	if nokey.code != exitNotFound {
		t.Errorf("kith import of a missing file = exit %d, want %d", nokey.code, exitNotFound)
	}
}
