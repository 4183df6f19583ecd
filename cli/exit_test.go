package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"plain", errors.New("boom"), exitError},
		{"usage", usagef("missing REF"), exitUsage},
		{"not running", &api.Error{Code: "not_running", Message: "x"}, exitNotRunning},
		{"not found over the wire", &api.Error{Code: "not_found", Message: "x"}, exitNotFound},
		{"invalid wrapped", fmt.Errorf("adding: %w", api.ErrInvalid), exitInvalid},
		{"too large", &api.Error{Code: "too_large", Message: "x"}, exitInvalid},
		{"bad field", fmt.Errorf("adding: %w", graph.ErrInvalidField), exitInvalid},
		{"broken vcard", &vcard.CardError{Index: 2, Line: 6, Err: errors.New("x")}, exitInvalid},
		{"not a vcard", fmt.Errorf("f: %w", vcard.ErrNotVCard), exitInvalid},
		{"tagged invalid", tagf(api.ErrInvalid, "bad email"), exitInvalid},
		{"exists", &api.Error{Code: "exists", Message: "x"}, exitConflict},
		{"ambiguous", &api.Error{Code: "ambiguous", Message: "x"}, exitConflict},
		{"already initialized", fmt.Errorf("%w: home", node.ErrAlreadyInitialized), exitConflict},
		{"locked", fmt.Errorf("%w (pid 1)", node.ErrLocked), exitLocked},
		{"wrong passphrase", fmt.Errorf("loading: %w", identity.ErrWrongPassphrase), exitKey},
		{"no key", tagf(identity.ErrNoKey, "run kith init"), exitKey},
		{"unreachable", &api.Error{Code: "unreachable", Message: "x"}, exitUnreachable},
		{"declined", &api.Error{Code: "declined", Message: "x"}, exitDeclined},
		{"invite used", &api.Error{Code: "invite_invalid", Message: "x"}, exitInviteUsed},
		{"circle not empty", &api.Error{Code: "not_empty", Message: "x"}, exitConflict},
		{"no log yet", &api.Error{Code: "no_log", Message: "x"}, exitKey},
		{"port in use", fmt.Errorf("starting: %w", node.ErrPortInUse), exitPortInUse},
		{"internal", &api.Error{Code: "internal", Message: "x"}, exitError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestExitCodes runs the whole app for each exit code it documents.
func TestExitCodes(t *testing.T) {
	d := startDaemon(t)
	d.ok(t, "contacts", "add", "--name", "Sam Same", "--email", "sam1@example.org")
	d.ok(t, "contacts", "add", "--name", "Sam Same", "--email", "sam2@example.org")
	idle := testHome(t) // no identity, no daemon
	initialized := testHome(t)
	if _, err := node.Init(t.Context(), initialized, nil); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.vcf")
	if err := os.WriteFile(garbage, []byte("\x00\x01 not a vCard"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		home     string
		args     []string
		want     int
		inStderr string
	}{
		{"ok", d.home, []string{"circles", "list"}, exitOK, ""},
		{"help", d.home, []string{"contacts", "add", "--help"}, exitOK, ""},
		{"bare group shows help", d.home, []string{"contacts"}, exitOK, ""},

		{"unknown command", d.home, []string{"contcts", "list"}, exitUsage, `did you mean "contacts"`},
		{"unknown subcommand", d.home, []string{"contacts", "frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", d.home, []string{"contacts", "add", "--nmae", "x"}, exitUsage, "flag provided but not defined"},
		{"unknown flag after args", d.home, []string{"contacts", "show", "x", "--bogus"}, exitUsage, "--bogus"},
		{"global flag after the command", idle, []string{"contacts", "list", "--home", d.home}, exitOK, ""},
		{"global flag after the arguments", idle, []string{"contacts", "show", "nobody", "--home", d.home}, exitNotFound, "no contact"},
		{"global flag on a group", idle, []string{"circles", "--log-level", "warn", "--home", d.home, "list"}, exitOK, ""},
		{"bad global flag after the command", d.home, []string{"id", "--log-level", "loud"}, exitUsage, "--log-level"},
		{"missing argument", d.home, []string{"contacts", "show"}, exitUsage, "missing REF"},
		{"extra argument", d.home, []string{"circles", "add", "a", "b"}, exitUsage, `unexpected argument "b"`},
		{"add without a name", d.home, []string{"contacts", "add", "--note", "hi"}, exitUsage, "at least one of"},
		{"edit without changes", d.home, []string{"contacts", "edit", "Sam Same"}, exitUsage, "nothing to change"},
		{"bad log level", d.home, []string{"--log-level", "loud", "id"}, exitUsage, "--log-level"},
		{"help for no command", d.home, []string{"help", "nosuch"}, exitUsage, "nosuch"},
		{"bad flag value", d.home, []string{"log", "--limit", "many"}, exitUsage, "many"},

		{"daemon not running", idle, []string{"contacts", "list"}, exitNotRunning, "start it with `kith daemon`"},
		{"daemon not running, initialized", initialized, []string{"status"}, exitNotRunning, "no socket at"},
		{"import asks the daemon before reading", initialized, []string{"contacts", "import", garbage}, exitNotRunning, "start it with"},

		{"unknown contact", d.home, []string{"contacts", "show", "nobody-at-all"}, exitNotFound, "no contact"},
		{"edit unknown contact", d.home, []string{"contacts", "edit", "nobody-at-all", "--note", "x"}, exitNotFound, "no contact"},
		{"remove unknown circle", d.home, []string{"circles", "rm", "nosuch"}, exitNotFound, "nosuch"},
		{"import missing file", d.home, []string{"contacts", "import", "/nonexistent/x.vcf"}, exitNotFound, "no file"},

		{"bad email", d.home, []string{"contacts", "add", "--name", "Bad", "--email", "not-an-email"}, exitInvalid, "not-an-email"},
		{"bad email on me", d.home, []string{"me", "set", "email", "not-an-email"}, exitInvalid, "not-an-email"},
		{"unknown field", d.home, []string{"me", "set", "shoe-size", "44"}, exitInvalid, "shoe-size"},
		{"bad circle name", d.home, []string{"circles", "add", "Bad Name!"}, exitInvalid, "circle name"},
		{"invite ttl 0", d.home, []string{"invite", "--ttl", "0"}, exitInvalid, "from 1m to 720h"},
		{"invite ttl negative", d.home, []string{"invite", "--ttl", "-1h"}, exitInvalid, "from 1m to 720h"},
		{"invite ttl too long", d.home, []string{"invite", "--ttl", "9000h"}, exitInvalid, "--ttl 9000h"},
		{"bad listen address", initialized, []string{"daemon", "--listen", "not-a-multiaddr"}, exitInvalid, "multiaddr"},

		{"circle exists", d.home, []string{"circles", "add", "friends"}, exitConflict, "already exists"},
		{"ambiguous name", d.home, []string{"contacts", "show", "sam same"}, exitConflict, "matches 2 contacts"},
		{"init twice", d.home, []string{"init", "--no-passphrase"}, exitConflict, "already"},

		{"home locked", d.home, []string{"daemon", "--listen", "/ip4/127.0.0.1/tcp/0"}, exitLocked, "another kith daemon"},

		{"no identity", idle, []string{"daemon", "--listen", "/ip4/127.0.0.1/tcp/0"}, exitKey, "kith init"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := kith(t, tc.home, tc.args...)
			if r.code != tc.want {
				t.Errorf("kith %s = exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), r.code, tc.want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.inStderr) {
				t.Errorf("kith %s: stderr = %q, want it to contain %q", strings.Join(tc.args, " "), r.stderr, tc.inStderr)
			}
			if tc.want != exitOK && strings.Count(r.stderr, "\n") > 3 {
				t.Errorf("kith %s: stderr has %d lines, want a short message:\n%s", strings.Join(tc.args, " "), strings.Count(r.stderr, "\n"), r.stderr)
			}
		})
	}
}

func TestWrongPassphrase(t *testing.T) {
	home := testHome(t)
	t.Setenv(identity.PassphraseEnv, "correct horse")
	if r := kith(t, home, "init"); r.code != exitOK {
		t.Fatalf("kith init = exit %d, want 0\nstderr: %s", r.code, r.stderr)
	}
	t.Setenv(identity.PassphraseEnv, "wrong horse")
	r := kith(t, home, "daemon", "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns")
	if r.code != exitKey {
		t.Errorf("kith daemon with a wrong passphrase = exit %d, want %d\nstderr: %s", r.code, exitKey, r.stderr)
	}
	if !strings.Contains(r.stderr, "passphrase") {
		t.Errorf("stderr = %q, want it to mention the passphrase", r.stderr)
	}
}

func TestEncryptedKeyWithoutTerminal(t *testing.T) {
	home := testHome(t)
	t.Setenv(identity.PassphraseEnv, "correct horse")
	if r := kith(t, home, "init"); r.code != exitOK {
		t.Fatalf("kith init = exit %d, want 0\nstderr: %s", r.code, r.stderr)
	}
	if err := unsetenv(t, identity.PassphraseEnv); err != nil {
		t.Fatal(err)
	}
	r := kith(t, home, "daemon")
	if r.code != exitKey || !strings.Contains(r.stderr, identity.PassphraseEnv) {
		t.Errorf("kith daemon, encrypted key, no terminal = exit %d, stderr %q; want %d and a hint about %s",
			r.code, r.stderr, exitKey, identity.PassphraseEnv)
	}
}

func TestInitWithoutTerminal(t *testing.T) {
	home := testHome(t)
	r := kith(t, home, "init")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--no-passphrase") {
		t.Errorf("kith init without terminal or %s = exit %d, stderr %q; want %d and a hint",
			identity.PassphraseEnv, r.code, r.stderr, exitUsage)
	}
}
