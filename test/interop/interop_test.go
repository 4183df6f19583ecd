// Package interop runs Kith against clients no one here wrote: vdirsyncer
// (and khard reading what it wrote) syncing the address book over CardDAV
// with a real daemon on 127.0.0.1. `make test-interop` installs them.
package interop

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/test/e2e"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kith-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := e2e.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need returns the path of a program, or skips (fails with
// KITH_REQUIRE_INTEROP set) when it is not installed.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s is not installed: `make test-interop` installs it (apt-get install vdirsyncer khard khal)", name)
		if os.Getenv("KITH_REQUIRE_INTEROP") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// optional returns the path of a program that reads what vdirsyncer
// wrote, or "" (with a log line) when it is not installed; with
// KITH_REQUIRE_INTEROP set it must be.
func optional(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("KITH_REQUIRE_INTEROP") != "" {
			t.Fatalf("%s is not installed: `make test-interop` installs it", name)
		}
		t.Logf("%s is not installed: not checking that it reads the files", name)
		return ""
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// vdirsyncer runs vdirsyncer with the test's config, bounded to a minute.
type vdirsyncer struct {
	t      *testing.T
	bin    string
	config string
	home   string
}

func (v *vdirsyncer) run(stdin string, args ...string) string {
	v.t.Helper()
	out, err := v.try(stdin, args...)
	if err != nil {
		v.t.Fatalf("vdirsyncer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// try runs vdirsyncer and returns its output and how it ended.
func (v *vdirsyncer) try(stdin string, args ...string) (string, error) {
	cmd := exec.Command(v.bin, append([]string{"-c", v.config}, args...)...)
	cmd.Env = []string{"HOME=" + v.home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
	cmd.Stdin = strings.NewReader(stdin)
	done := make(chan struct{})
	timer := time.AfterFunc(time.Minute, func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
		}
	})
	out, err := cmd.CombinedOutput()
	close(done)
	timer.Stop()
	return string(out), err
}

// davPair is a vdirsyncer pair, name, syncing the local directory local
// (files ending in ext) with the server at url over kind (carddav or
// caldav); extra is more settings of the remote storage.
func davPair(name, local, ext, kind, url, user, password, extra string) string {
	return fmt.Sprintf(`
[pair %[1]s]
a = "%[1]s_local"
b = "%[1]s_remote"
collections = ["from b"]

[storage %[1]s_local]
type = "filesystem"
path = "%[2]s/"
fileext = "%[3]s"

[storage %[1]s_remote]
type = "%[4]s"
url = "%[5]s"
username = "%[6]s"
password = "%[7]s"
%[8]s`, name, local, ext, kind, url, user, password, extra)
}

// writeVdirConfig writes dir/config for vdirsyncer, its status kept in
// dir/status, with pairs, and returns its path.
func writeVdirConfig(tb testing.TB, dir string, pairs ...string) string {
	tb.Helper()
	config := filepath.Join(dir, "config")
	body := fmt.Sprintf("[general]\nstatus_path = \"%s/status/\"\n%s", dir, strings.Join(pairs, ""))
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return config
}

type contact struct {
	ID   string `json:"id"`
	UID  string `json:"uid"`
	Name string `json:"name"`
	Card struct {
		Fields []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"card"`
}

func (c contact) has(name, value string) bool {
	for _, f := range c.Card.Fields {
		if f.Name == name && f.Value == value {
			return true
		}
	}
	return false
}

func contacts(h *e2e.Home) map[string]contact {
	var cs []contact
	h.JSON(&cs, "contacts", "list")
	out := map[string]contact{}
	for _, c := range cs {
		out[c.UID] = c
	}
	return out
}

// TestVdirsyncer: vdirsyncer discovers the address book, downloads it, and
// an edit, an addition and a deletion on either side reach the other;
// khard reads the cards vdirsyncer wrote.
func TestVdirsyncer(t *testing.T) {
	bin := need(t, "vdirsyncer")
	start := time.Now()
	h := e2e.NewHome(t)
	h.Start()
	h.RunStdin([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Lee\r\nEMAIL:ann@example.org\r\nX-CUSTOM;X-P=1:kept\r\nitem1.X-ABLABEL:school\r\nitem1.URL:https://ann.example\r\nEND:VCARD\r\n"+
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bo-2\r\nFN:Bo Park\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n"), "contacts", "import", "-")
	if got := len(contacts(h)); got != 2 {
		t.Fatalf("imported %d contacts, want 2", got)
	}
	var creds struct{ URL, Username, Password string }
	h.JSON(&creds, "dav", "enable", "--port", fmt.Sprint(freePort(t)))

	dir := t.TempDir()
	local := filepath.Join(dir, "contacts")
	config := writeVdirConfig(t, dir,
		davPair("kith", local, ".vcf", "carddav", creds.URL, creds.Username, creds.Password, ""),
		davPair("kith_cal", dir+"/calendars", ".ics", "caldav", creds.URL, creds.Username, creds.Password, ""))
	v := &vdirsyncer{t: t, bin: bin, config: config, home: dir}
	v.run("y\ny\n", "discover", "kith")
	v.run("", "sync", "kith")

	// Discovery found the one address book, "contacts".
	book := filepath.Join(local, "contacts")
	files := func() map[string]string {
		entries, err := os.ReadDir(book)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(book, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
		return out
	}
	fs := files()
	if len(fs) != 2 {
		t.Fatalf("vdirsyncer wrote %d cards, want 2: %v", len(fs), fs)
	}
	annFile := ""
	for name, body := range fs {
		if strings.Contains(body, "UID:ann-1") {
			annFile = name
		}
	}
	if annFile == "" || !strings.Contains(fs[annFile], "X-CUSTOM;X-P=1:kept") || !strings.Contains(fs[annFile], "item1.X-ABLABEL:school") {
		t.Fatalf("Ann's card as vdirsyncer wrote it lost properties:\n%s", fs[annFile])
	}

	if khard := optional(t, "khard"); khard != "" {
		kcfg := filepath.Join(dir, "khard.conf")
		os.WriteFile(kcfg, []byte(fmt.Sprintf("[addressbooks]\n[[kith]]\npath = %s\n\n[general]\ndefault_action = list\n", book)), 0o600)
		cmd := exec.Command(khard, "-c", kcfg, "list")
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Ann Lee") || !strings.Contains(string(out), "Bo Park") {
			t.Fatalf("khard list: %v\n%s", err, out)
		}
	}

	// An edit in Kith reaches the files.
	h.MustRun("contacts", "edit", "Ann Lee", "--email", "ann@new.example")
	v.run("", "sync", "kith")
	if body := files()[annFile]; !strings.Contains(body, "ann@new.example") {
		t.Fatalf("Kith's edit did not reach vdirsyncer:\n%s", body)
	}

	// An edit in the files reaches Kith, keeping every property.
	path := filepath.Join(book, annFile)
	body := files()[annFile]
	edited := strings.Replace(body, "FN:Ann Lee", "FN:Ann Lee-Park", 1)
	if edited == body {
		t.Fatalf("no FN line in:\n%s", body)
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	v.run("", "sync", "kith")
	ann := contacts(h)["ann-1"]
	if ann.Name != "Ann Lee-Park" || !ann.has("x-custom", "kept") {
		t.Fatalf("vdirsyncer's edit in Kith: %+v", ann)
	}

	// A new card in the files becomes a contact.
	if err := os.WriteFile(filepath.Join(book, "cy-3.vcf"), []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cy-3\r\nFN:Cy New\r\nEMAIL:cy@example.org\r\nEND:VCARD\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v.run("", "sync", "kith")
	if c, ok := contacts(h)["cy-3"]; !ok || c.Name != "Cy New" {
		t.Fatalf("vdirsyncer's new card is not in Kith: %v", contacts(h))
	}

	// A deletion in the files deletes the contact; one in Kith deletes the file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	v.run("", "sync", "kith")
	if _, ok := contacts(h)["ann-1"]; ok {
		t.Fatal("the card deleted in vdirsyncer's directory is still in Kith")
	}
	h.MustRun("contacts", "rm", "Bo Park")
	v.run("", "sync", "kith")
	for name, body := range files() {
		if strings.Contains(body, "UID:bo-2") {
			t.Fatalf("the contact deleted in Kith is still in vdirsyncer's directory as %s", name)
		}
	}
	if got := len(files()); got != 1 {
		t.Fatalf("vdirsyncer's directory holds %d cards, want 1 (Cy)", got)
	}
	// The calendar: an event made in Kith reaches the files, one made
	// in the files reaches Kith; edits and deletions both ways.
	out := h.MustRun("events", "add", "Lunch", "--at", "2026-12-03 12:30", "--for", "1h", "--tz", "Europe/Berlin", "--where", "Cafe Rio")
	lunch := strings.TrimSuffix(strings.Fields(out)[1], ":")
	v.run("y\ny\n", "discover", "kith_cal")
	v.run("", "sync", "kith_cal")
	calDir := filepath.Join(dir, "calendars", "events")
	events := func() map[string]string {
		entries, err := os.ReadDir(calDir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(calDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
		return out
	}
	evs := events()
	lunchFile := ""
	for name, body := range evs {
		if strings.Contains(body, "UID:"+lunch) {
			lunchFile = name
		}
	}
	if len(evs) != 1 || lunchFile == "" || !strings.Contains(evs[lunchFile], "LOCATION:Cafe Rio") {
		t.Fatalf("vdirsyncer's calendar: %v", evs)
	}
	if khal := optional(t, "khal"); khal != "" {
		kcfg := filepath.Join(dir, "khal.conf")
		os.WriteFile(kcfg, []byte(fmt.Sprintf("[calendars]\n[[kith]]\npath = %s\n\n[locale]\ntimeformat = %%H:%%M\ndateformat = %%Y-%%m-%%d\nlongdateformat = %%Y-%%m-%%d\ndatetimeformat = %%Y-%%m-%%d %%H:%%M\nlongdatetimeformat = %%Y-%%m-%%d %%H:%%M\n", calDir)), 0o600)
		cmd := exec.Command(khal, "-c", kcfg, "list", "2026-12-01", "7d")
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TZ=Europe/Berlin"}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Lunch") {
			t.Fatalf("khal list: %v\n%s", err, out)
		}
	}
	h.MustRun("events", "edit", lunch, "--where", "Cafe Sol")
	v.run("", "sync", "kith_cal")
	if body := events()[lunchFile]; !strings.Contains(body, "LOCATION:Cafe Sol") {
		t.Fatalf("Kith's edit of the event did not reach vdirsyncer:\n%s", body)
	}
	standup := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:standup-1\r\nDTSTAMP:20261201T100000Z\r\nDTSTART;TZID=Europe/Berlin:20261207T090000\r\nDTEND;TZID=Europe/Berlin:20261207T091500\r\nSUMMARY:Standup\r\nX-OWN:kept\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if err := os.WriteFile(filepath.Join(calDir, "standup-1.ics"), []byte(standup), 0o600); err != nil {
		t.Fatal(err)
	}
	v.run("", "sync", "kith_cal")
	var ev struct {
		Summary string `json:"summary"`
		ICS     string `json:"ics"`
	}
	h.JSON(&ev, "events", "show", "standup-1")
	if ev.Summary != "Standup" || !strings.Contains(ev.ICS, "X-OWN:kept") {
		t.Fatalf("vdirsyncer's new event in Kith: %+v", ev)
	}
	lunchPath := filepath.Join(calDir, lunchFile)
	edited = strings.Replace(events()[lunchFile], "SUMMARY:Lunch", "SUMMARY:Long lunch", 1)
	if err := os.WriteFile(lunchPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	v.run("", "sync", "kith_cal")
	h.JSON(&ev, "events", "show", lunch)
	if ev.Summary != "Long lunch" {
		t.Fatalf("vdirsyncer's edit of the event in Kith: %+v", ev)
	}
	if err := os.Remove(lunchPath); err != nil {
		t.Fatal(err)
	}
	h.MustRun("events", "rm", "standup-1")
	v.run("", "sync", "kith_cal")
	if r := h.Run("events", "show", lunch); r.Code == 0 {
		t.Fatal("the event deleted in vdirsyncer's directory is still in Kith")
	}
	if got := events(); len(got) != 0 {
		t.Fatalf("the event deleted in Kith is still in vdirsyncer's directory: %v", got)
	}
	t.Logf("vdirsyncer interop took %v", time.Since(start).Round(time.Millisecond))
}
