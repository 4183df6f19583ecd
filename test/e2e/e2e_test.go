package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
	"github.com/kith-p2p/kith/node/api"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kith-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestTour runs the story e2e.Tour on the built binary (the CLI's TestTour
// runs it in process), around what only a process shows: no daemon yet,
// the socket's mode, the home's lock and a clean SIGTERM.
func TestTour(t *testing.T) {
	h := NewHome(t)
	if r := h.Run("id"); r.Code != exitNotRunning || !strings.Contains(r.Stderr, "kith daemon") {
		t.Fatalf("id without daemon: exit %d, stderr %q; want %d and a hint to start it", r.Code, r.Stderr, exitNotRunning)
	}
	h.Start()
	fi, err := os.Stat(filepath.Join(h.Dir, "api.sock"))
	require.NoError(t, err)
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("api.sock mode = %o, want 600", perm)
	}

	RunTour(t, func(tb testing.TB, args ...string) (int, string, string) {
		r := h.Run(args...)
		return r.Code, r.Stdout, r.Stderr
	})

	// A second daemon on the same home is refused.
	r := h.Run("daemon", "--listen", "/ip4/127.0.0.1/tcp/0")
	if r.Code != exitLocked || !strings.Contains(r.Stderr, "another kith daemon") {
		t.Errorf("second daemon: exit %d, stderr %q; want %d", r.Code, r.Stderr, exitLocked)
	}

	// SIGTERM stops it cleanly and removes the socket. The daemon bounds
	// its own shutdown (node.ShutdownTimeout, 5 s); the test allows more
	// only so that a loaded CI machine does not fail it, and logs the time.
	code, took := h.Signal(syscall.SIGTERM, 15*time.Second)
	if code != 0 {
		t.Errorf("daemon exit code after SIGTERM = %d, want 0\n%s", code, h.DaemonLog())
	}
	t.Logf("shutdown took %v", took)
	if _, err := os.Stat(filepath.Join(h.Dir, "api.sock")); !os.IsNotExist(err) {
		t.Errorf("socket left behind after shutdown: %v", err)
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	h := NewHome(t)
	h.Start()
	dir := t.TempDir()
	in := filepath.Join(dir, "people.vcf")
	require.NoError(t, os.WriteFile(in, vcardtest.Generate(300, 7), 0o600))
	out := h.MustRun("contacts", "import", in)
	require.Contains(t, out+"", "300")
	exported := filepath.Join(dir, "out.vcf")
	h.MustRun("contacts", "export", "-o", exported)

	decode := func(path string) []graph.Card {
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		res, err := vcard.Decode(f, vcard.Options{})
		require.NoError(t, err)
		return res.Cards
	}
	want, got := decode(in), decode(exported)
	require.Len(t, got, len(want))
	// Compare as multisets of cards, each card as its sorted field set.
	canon := func(cards []graph.Card) []string {
		var out []string
		for _, c := range cards {
			out = append(out, strings.Join(fieldSet(c), "\n"))
		}
		slices.Sort(out)
		return out
	}
	wc, gc := canon(want), canon(got)
	for i := range wc {
		if wc[i] != gc[i] {
			t.Fatalf("card changed in the round trip:\nimported:\n%s\nexported:\n%s", wc[i], gc[i])
		}
	}
}

// fieldSet is a card's fields as sorted "name=value;types;pref;group;
// params;raw" strings, without the UID a card without one is given.
func fieldSet(c graph.Card) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Name == "uid" {
			continue
		}
		types := slices.Clone(f.Types)
		slices.Sort(types)
		out = append(out, fmt.Sprintf("%s=%s;%s;%d;%s;%v;%v", f.Name, f.Value, strings.Join(types, ","), f.Pref, f.Group, f.Params, f.Raw))
	}
	slices.Sort(out)
	return out
}

func TestImportBadInput(t *testing.T) {
	h := NewHome(t)
	h.Start()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	good := "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Good One\r\nEMAIL:good@example.org\r\nEND:VCARD\r\n"
	broken := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\nPHOTO;ENCODING=b:qgEP:ASDF==\r\nEND:VCARD\r\n"
	// Two different good cards: two alike in every field would be one
	// contact (a card without a UID gets one from its content).
	good2 := strings.Replace(good, "Good One", "Good Two", 1)
	mixed := write("mixed.vcf", []byte(good+broken+good2))

	r := h.Run("contacts", "import", mixed)
	if r.Code != exitInvalid || !strings.Contains(r.Stderr, "card 2") || !strings.Contains(r.Stderr, "line 6") {
		t.Errorf("import with a broken card: exit %d, stderr %q; want %d naming card 2, line 6", r.Code, r.Stderr, exitInvalid)
	}
	var list []api.Contact
	h.JSON(&list, "contacts", "list")
	require.Empty(t, list, "nothing may be imported from a file with a broken card")

	r = h.Run("contacts", "import", "--skip-invalid", mixed)
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Contains(t, r.Stdout+r.Stderr, "skipped 1")
	h.JSON(&list, "contacts", "list")
	require.Len(t, list, 2)

	for name, content := range map[string][]byte{
		"empty.vcf":   nil,
		"garbage.bin": bytes.Repeat([]byte{0x00, 0xff, 0x13, 0x37}, 4096),
	} {
		r := h.Run("contacts", "import", write(name, content))
		if r.Code != exitInvalid || r.Stderr == "" {
			t.Errorf("import %s: exit %d stderr %q, want %d and a reason", name, r.Code, r.Stderr, exitInvalid)
		}
	}
	// A 200 MB file is refused before it is read.
	big := filepath.Join(dir, "big.vcf")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(200<<20))
	f.Close()
	r = h.Run("contacts", "import", big)
	if r.Code != exitInvalid || !strings.Contains(r.Stderr, "MiB") {
		t.Errorf("import 200 MB: exit %d stderr %q", r.Code, r.Stderr)
	}
	h.JSON(&list, "contacts", "list")
	require.Len(t, list, 2)
}

// TestKill9DuringImport kills the daemon in the middle of a 10,000-card
// import: after a restart the store must be consistent and hold every
// batch the CLI reported as imported.
func TestKill9DuringImport(t *testing.T) {
	h := NewHome(t)
	h.Start()
	in := filepath.Join(t.TempDir(), "10k.vcf")
	require.NoError(t, os.WriteFile(in, vcardtest.Generate(10000, 42), 0o600))

	done := make(chan Result, 1)
	go func() { done <- h.Run("contacts", "import", in) }()
	// Kill once the first batches are in.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st api.Status
		h.JSON(&st, "status")
		if st.Contacts >= 1000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, syscall.Kill(h.PID(), syscall.SIGKILL))
	res := <-done
	h.Signal(syscall.SIGKILL, 5*time.Second) // reap
	reported := importedCount(res)
	t.Logf("import exit %d, reported %d imported; stderr: %s", res.Code, reported, res.Stderr)

	h.Start()
	out := h.MustRun("check")
	t.Logf("check: %s", out)
	var st api.Status
	h.JSON(&st, "status")
	if st.Contacts < reported {
		t.Errorf("after kill -9: %d contacts stored, but the CLI reported %d imported", st.Contacts, reported)
	}
	if res.Code == 0 && st.Contacts != 10000 {
		t.Errorf("import finished but only %d of 10000 contacts are stored", st.Contacts)
	}
	if st.Contacts%1000 != 0 {
		t.Errorf("%d contacts stored: a batch was half-written", st.Contacts)
	}
}

// importedCount finds "imported N" in the CLI's output.
func importedCount(r Result) int {
	for _, line := range strings.Split(r.Stdout+"\n"+r.Stderr, "\n") {
		if i := strings.Index(line, "imported "); i >= 0 {
			var n int
			if _, err := fmt.Sscanf(line[i:], "imported %d", &n); err == nil {
				return n
			}
		}
	}
	return 0
}

// TestMakeInstall: `make install` puts a working kith in $PREFIX/bin, and
// the README's set-up section, whose tour types `kith`, says so.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this machine")
	}
	prefix := t.TempDir()
	cmd := exec.Command("make", "install", "PREFIX="+prefix)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make install PREFIX=%s: %s", prefix, out)
	bin := filepath.Join(prefix, "bin", "kith")
	require.Contains(t, string(out), "installed "+bin)
	version, err := exec.Command(bin, "--version").Output()
	require.NoError(t, err, "running the installed %s", bin)
	require.Contains(t, string(version), "kith version")

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, setup, _ := strings.Cut(string(readme), "## Set up")
	setup, _, _ = strings.Cut(setup, "\n## ")
	for _, w := range []string{"make install", "PREFIX", "PATH"} {
		if !strings.Contains(setup, w) {
			t.Errorf("README's Set up section does not mention %q", w)
		}
	}
}
