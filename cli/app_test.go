package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/identity"
)

// TestHelpTeaches checks the house rules of the command tree: every command
// says what it does and shows an example, every flag can come from a KITH_…
// variable and says what it is for.
func TestHelpTeaches(t *testing.T) {
	app := newApp(&env{})
	for _, f := range app.Flags {
		if f == ucli.HelpFlag {
			continue // urfave's own
		}
		checkFlag(t, "kith", f)
	}
	var walk func(path string, cmds []*ucli.Command)
	walk = func(path string, cmds []*ucli.Command) {
		for _, c := range cmds {
			p := path + " " + c.Name
			if c.Usage == "" {
				t.Errorf("%s: no Usage", p)
			}
			if !strings.Contains(c.UsageText, p) || !strings.Contains(c.UsageText, "Example") {
				t.Errorf("%s: UsageText %q should show the command line and an example", p, c.UsageText)
			}
			if c.Action == nil {
				t.Errorf("%s: no Action", p)
			}
			for _, f := range c.Flags {
				checkFlag(t, p, f)
			}
			walk(p, c.Subcommands)
		}
	}
	walk("kith", app.Commands)
}

func checkFlag(t *testing.T, cmd string, f ucli.Flag) {
	t.Helper()
	name := f.Names()[0]
	if vf, ok := f.(ucli.VisibleFlag); ok && !vf.IsVisible() {
		if !slices.ContainsFunc(globalFlags(&globalOptions{}), func(g ucli.Flag) bool { return g.Names()[0] == name }) {
			t.Errorf("%s --%s: hidden, but not a global flag", cmd, name)
		}
		return // a copy of a global flag (see globalFlags)
	}
	ef, ok := f.(interface{ GetEnvVars() []string })
	if !ok || len(ef.GetEnvVars()) == 0 {
		t.Errorf("%s --%s: no EnvVars", cmd, name)
	} else {
		for _, v := range ef.GetEnvVars() {
			if !strings.HasPrefix(v, "KITH_") {
				t.Errorf("%s --%s: env var %s does not start with KITH_", cmd, name, v)
			}
		}
	}
	if df, ok := f.(ucli.DocGenerationFlag); !ok || len(df.GetUsage()) < 10 {
		t.Errorf("%s --%s: no usefully long Usage", cmd, name)
	}
}

func TestRootHelp(t *testing.T) {
	r := kith(t, testHome(t), "--help")
	if r.code != exitOK {
		t.Fatalf("kith --help = exit %d, want 0; stderr: %s", r.code, r.stderr)
	}
	for _, row := range exitCodes {
		line := fmt.Sprintf("   %d  %s", row.code, row.what)
		if !strings.Contains(r.stdout, line) {
			t.Errorf("kith --help does not list exit code %d as %q", row.code, line)
		}
	}
	for _, w := range []string{"EXIT CODES", "KITH_HOME", "KITH_PASSPHRASE", "contacts", "daemon", "init"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("kith --help does not mention %q:\n%s", w, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("kith --help wrote to stderr: %q", r.stderr)
	}
}

func TestCommandHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"contacts", "add", "--help"}, []string{"--email", "KITH_CONTACT_EMAIL", "Example"}},
		{[]string{"contacts", "import", "-h"}, []string{"--skip-invalid", "card"}},
		{[]string{"contacts", "show", "x", "--help"}, []string{"--vcard"}}, // help after an argument
		{[]string{"help", "me"}, []string{"set", "unset", "fields"}},
		{[]string{"me"}, []string{"set", "unset", "fields"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := kith(t, testHome(t), tc.args...)
			if r.code != exitOK {
				t.Fatalf("kith %s = exit %d, want 0; stderr: %s", strings.Join(tc.args, " "), r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("kith %s: help does not mention %q:\n%s", strings.Join(tc.args, " "), w, r.stdout)
				}
			}
		})
	}
}

// TestHelpNested: `kith help A B` shows the help of `kith A B`, the same as
// `kith A B --help`, for every nested command.
func TestHelpNested(t *testing.T) {
	app := newApp(&env{})
	var paths [][]string
	var walk func(path []string, cmds []*ucli.Command)
	walk = func(path []string, cmds []*ucli.Command) {
		for _, c := range cmds {
			p := append(slices.Clone(path), c.Name)
			if len(path) > 0 {
				paths = append(paths, p)
			}
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	if len(paths) < 5 {
		t.Fatalf("found %d nested commands, want the whole tree", len(paths))
	}
	home := testHome(t)
	for _, p := range paths {
		t.Run(strings.Join(p, " "), func(t *testing.T) {
			viaHelp := kith(t, home, append([]string{"help"}, p...)...)
			viaFlag := kith(t, home, append(slices.Clone(p), "--help")...)
			if viaHelp.code != exitOK || viaFlag.code != exitOK {
				t.Fatalf("kith help %s = exit %d, --help = exit %d; stderr: %s%s", strings.Join(p, " "), viaHelp.code, viaFlag.code, viaHelp.stderr, viaFlag.stderr)
			}
			if want := "kith " + strings.Join(p, " ") + " - "; !strings.Contains(viaHelp.stdout, want) {
				t.Errorf("kith help %s does not name %q:\n%s", strings.Join(p, " "), want, viaHelp.stdout)
			}
			if viaHelp.stdout != viaFlag.stdout {
				t.Errorf("kith help %s differs from kith %s --help:\n%s\n---\n%s", strings.Join(p, " "), strings.Join(p, " "), viaHelp.stdout, viaFlag.stdout)
			}
		})
	}
	r := kith(t, home, "help", "contacts", "nosuch")
	if r.code != exitUsage || !strings.Contains(r.stderr, `"nosuch"`) {
		t.Errorf("kith help contacts nosuch = exit %d, stderr %q; want %d naming it", r.code, r.stderr, exitUsage)
	}
}

// TestInitCommand runs `kith init` as a user would.
func TestInitCommand(t *testing.T) {
	home := testHome(t)
	r := kith(t, home, "init", "--no-passphrase")
	if r.code != exitOK {
		t.Fatalf("kith init = exit %d, want 0; stderr: %s", r.code, r.stderr)
	}
	for _, w := range []string{"12D3KooW", "recovery phrase", "WRITE THIS DOWN", "not stored", "24 words", "kith daemon",
		`kith me set fn "Your Name"`, "shared with every circle", "private unless you name a"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("kith init: stdout does not contain %q:\n%s", w, r.stdout)
		}
	}
	// The phrase, as printed, is one identity.RecoveryKey accepts.
	_, rest, _ := strings.Cut(r.stdout, "lost or stolen:")
	phrase, _, _ := strings.Cut(rest, "Next:")
	if _, err := identity.RecoveryKey(phrase); err != nil {
		t.Errorf("identity.RecoveryKey(printed phrase %q): %v", phrase, err)
	}
	if r2 := kith(t, home, "init", "--no-passphrase"); r2.code != exitConflict {
		t.Errorf("second kith init = exit %d, want %d; stderr: %s", r2.code, exitConflict, r2.stderr)
	}
}

// TestDaemonCommand runs `kith daemon` through Main, uses it, and stops it
// the way Ctrl-C does: by cancelling the context.
func TestDaemonCommand(t *testing.T) {
	home := testHome(t)
	if r := kith(t, home, "init", "--no-passphrase"); r.code != exitOK {
		t.Fatalf("kith init = exit %d; stderr: %s", r.code, r.stderr)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"kith", "--home", home, "--log-level", "warn", "daemon", "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"},
			Stdio{Out: &syncBuffer{}, Err: &stderr})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "ready") {
		select {
		case code := <-done:
			t.Fatalf("kith daemon exited %d before ready; stderr: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("kith daemon not ready after 30s; stderr: %s", stderr.String())
		}
	}
	for _, w := range []string{"peer id", "12D3KooW", "/ip4/127.0.0.1/tcp/", "api.sock"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("kith daemon: ready message does not contain %q:\n%s", w, stderr.String())
		}
	}
	r := kith(t, home, "id")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "12D3KooW") {
		t.Errorf("kith id against the daemon = exit %d, stdout %q; stderr %s", r.code, r.stdout, r.stderr)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("kith daemon after cancel = exit %d, want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kith daemon still running 10s after cancel")
	}
	if r := kith(t, home, "id"); r.code != exitNotRunning {
		t.Errorf("kith id after the daemon stopped = exit %d, want %d", r.code, exitNotRunning)
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {1536, "1.5 KiB"}, {5<<20 + 1, "5.0 MiB"}, {64 << 20, "64 MiB"}, {3 << 30, "3 GiB"},
	}
	for _, tc := range tests {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestSuggest: an unknown command or flag gets urfave's suggestion (its
// SuggestCommand and SuggestFlag), among the visible ones, or none.
func TestSuggest(t *testing.T) {
	home := testHome(t)
	tests := []struct {
		args       []string
		want       string
		wantNot    string
		wantNoHint bool
	}{
		{args: []string{"contcts", "list"}, want: `unknown command "contcts"; did you mean "contacts"?`},
		{args: []string{"circels"}, want: `did you mean "circles"?`},
		{args: []string{"stats"}, want: `did you mean "status"?`},
		{args: []string{"contacts", "shwo", "x"}, want: `unknown command "shwo"; did you mean "show"?`},
		{args: []string{"zzzzzz"}, want: `unknown command "zzzzzz"`, wantNoHint: true},
		{args: []string{"contacts", "show", "x", "--jsn"}, want: `flag provided but not defined: --jsn; did you mean "--json"?`},
		{args: []string{"contacts", "add", "--nmae", "x"}, want: `did you mean "--name"?`},
		{args: []string{"status", "--hom", "x"}, wantNot: "--home"}, // hidden copies are not suggested
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := kith(t, home, tc.args...)
			if r.code != exitUsage {
				t.Errorf("kith %s = exit %d, want %d; stderr %q", strings.Join(tc.args, " "), r.code, exitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("kith %s: stderr = %q, want it to contain %q", strings.Join(tc.args, " "), r.stderr, tc.want)
			}
			if tc.wantNot != "" && strings.Contains(r.stderr, tc.wantNot) {
				t.Errorf("kith %s: stderr = %q, want no %q", strings.Join(tc.args, " "), r.stderr, tc.wantNot)
			}
			if tc.wantNoHint && strings.Contains(r.stderr, "did you mean") {
				t.Errorf("kith %s: stderr = %q, want no suggestion", strings.Join(tc.args, " "), r.stderr)
			}
		})
	}
}

// TestFlagsFirst: the pre-pass moves a command's flags written after its
// arguments before them, and nothing else.
func TestFlagsFirst(t *testing.T) {
	app := newApp(&env{})
	tests := []struct{ in, want string }{
		{"kith contacts show ada --json", "kith contacts show --json ada"},
		{"kith contacts edit ada --org X --remove tel --note", "kith contacts edit --org X --remove tel --note"}, // urfave: needs an argument
		{"kith contacts edit ada --org=X b", "kith contacts edit --org=X ada b"},
		{"kith --home h contacts show ada --home g", "kith --home h contacts show --home g ada"},
		{"kith me set fn Ada Lovelace --circle friends -c work", "kith me set --circle friends -c work fn Ada Lovelace"},
		{"kith contacts show -- -dash-", "kith contacts show -- -dash-"},
		{"kith contacts show --json -- -dash- --vcard", "kith contacts show --json -- -dash- --vcard"},
		{"kith contacts search foo -- -bar", "kith contacts search -- foo -bar"},
		{"kith contacts import - --skip-invalid", "kith contacts import --skip-invalid -"},
		{"kith contacts show x --bogus y", "kith contacts show --bogus y"}, // urfave: not defined
		{"kith contacts show x --help", "kith contacts show --help"},
		{"kith contacts show x -h --json", "kith contacts show -h --json"},
		{"kith circles --home h list", "kith circles --home h list"},
		{"kith help contacts add", "kith help contacts add"},
		{"kith contcts list --json", "kith contcts list --json"}, // unknown command: its flags are unknown
		{"kith --bogus status", "kith --bogus status"},
		{"kith", "kith"},
	}
	for _, tc := range tests {
		if got := strings.Join(flagsFirst(app, strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("flagsFirst(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestProgressQuietWhenNotATerminal(t *testing.T) {
	var buf strings.Builder
	p := newProgress(&buf, "importing", 10)
	for range 10 {
		p.add(1)
	}
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal, want nothing", buf.String())
	}
}

func TestProgressDraws(t *testing.T) {
	var buf strings.Builder
	p := &progress{w: &buf, label: "importing", total: 4000, on: true}
	p.add(1000)
	p.add(3000) // the last step is always drawn
	p.finish()
	out := buf.String()
	for _, w := range []string{"importing [", "1000/4000   25%", "4000/4000  100%", "\r\x1b[K"} {
		if !strings.Contains(out, w) {
			t.Errorf("progress output %q does not contain %q", out, w)
		}
	}
}

func TestDisplayValue(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"adr", ";;1 Main St;Springfield;;12345;USA", "1 Main St, Springfield, 12345, USA"},
		{"adr", "PO Box 7", "PO Box 7"},
		{"n", "Hopper;Grace;;;", "Hopper;Grace;;;"},
		{"email", "a@example.org", "a@example.org"},
	}
	for _, tc := range tests {
		if got := displayValue(tc.name, tc.value); got != tc.want {
			t.Errorf("displayValue(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}
