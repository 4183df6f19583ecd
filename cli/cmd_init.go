package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
)

// initOptions are the flags of `kith init`.
type initOptions struct {
	NoPassphrase bool
	NewLog       bool
	Recover      bool
	JSON         bool
}

// initJSON is what `kith init --json` prints.
type initJSON struct {
	PeerID         string `json:"peer_id"`
	RecoveryPhrase string `json:"recovery_phrase,omitempty"`
	Home           string `json:"home"`
}

func initCommand(e *env) *ucli.Command {
	var opts initOptions
	return &ucli.Command{
		Name:     "init",
		Category: "start here",
		Usage:    "create your identity and an empty address book (once)",
		UsageText: `kith init [--no-passphrase] [--json]
   kith init --recover [--no-passphrase] [--json]
   kith init --new-log

Examples:
   kith init                             # asks for an optional passphrase
   KITH_PASSPHRASE='correct horse' kith init
   kith --home /tmp/alice init --no-passphrase
   kith init --json                      # {"peer_id", "recovery_phrase", "home"} for scripts
   kith init --recover                   # asks for your 24 words, then a passphrase
   kith init --recover --no-passphrase < phrase.txt   # the words from a file or pipe`,
		Description: `Creates $KITH_HOME (default ~/.kith) with a new identity key, encrypted
with a passphrase if you give one, and the first entries of your log: your
public keys and the circles friends, family and work. Your name (kith me
set fn) will be shared with every circle; other fields stay private unless
you name a circle.

It prints your peer ID and, once, a recovery phrase. The phrase is not
stored anywhere: write it down. It alone gives back your identity and the
keys that read everything you wrote, if this device is lost or stolen;
and only it will be able to move your identity to a new key.

kith init --recover takes your identity back on a new device: it asks for
the 24 words (in any case, separated by spaces or line breaks; read from
standard input when it is not a terminal), then for a passphrase as init
does, and writes the key. Start kith daemon and connect to a friend (kith
connect): your log comes back from them. A wrong word is named, with the
nearest word of the list.

A home holding only identity.key (copied from a backup) needs no init:
kith daemon rebuilds the store and gets your log back from the first
friend that reaches it (or that you name: kith restore --from). Only if no friend
holds it, kith init --new-log starts a new log (your recovery phrase stays
the same); friends that do hold the old one would see the new one as a fork.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{
				Name:        "no-passphrase",
				Usage:       "store the key unencrypted, without asking (for tests and throw-away nodes)",
				EnvVars:     []string{"KITH_NO_PASSPHRASE"},
				Destination: &opts.NoPassphrase,
			},
			&ucli.BoolFlag{
				Name:        "new-log",
				Usage:       "for a home holding only identity.key: start a new log instead of getting yours back from a friend",
				EnvVars:     []string{"KITH_NEW_LOG"},
				Destination: &opts.NewLog,
			},
			&ucli.BoolFlag{
				Name:        "recover",
				Usage:       "take your identity back from its 24-word recovery phrase (asked for, or read from standard input)",
				EnvVars:     []string{"KITH_RECOVER"},
				Destination: &opts.Recover,
			},
			&ucli.BoolFlag{
				Name:        "json",
				Usage:       `print {"peer_id", "recovery_phrase", "home"} as JSON (no phrase with --recover)`,
				EnvVars:     []string{"KITH_JSON"},
				Destination: &opts.JSON,
			},
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runInit(c.Context, e, opts, args)
		}),
	}
}

func runInit(ctx context.Context, e *env, opts initOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if opts.Recover && opts.NewLog {
		return usagef("--recover and --new-log do not go together: --recover writes the key, and the log comes back from a friend")
	}
	ks := identity.Keystore{Dir: e.home}
	if opts.Recover {
		return runRecover(ctx, e, opts)
	}
	if ks.Exists() {
		return runNewLog(ctx, e, opts)
	}
	if opts.NewLog {
		return usagef("--new-log is for a home that holds an identity key but no log; %s has no key", e.home)
	}
	pass, err := e.newPassphrase(ctx, opts.NoPassphrase)
	if err != nil {
		return err
	}
	defer clear(pass)
	res, err := node.Init(ctx, e.home, pass)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, initJSON{PeerID: res.PeerID, RecoveryPhrase: res.RecoveryPhrase, Home: e.home})
	}
	encrypted := "encrypted with your passphrase"
	if len(pass) == 0 {
		encrypted = "stored without a passphrase"
	}
	fmt.Fprintf(e.Out, `Created your Kith identity in %s; its key is %s.

Your peer ID, the address friends use to reach you:

   %s

Your recovery phrase (%d words). WRITE THIS DOWN NOW and keep it somewhere
safe. It is not stored anywhere and will not be shown again; it is the only
way to recover your identity if this key is lost or stolen:

   %s

Next: start your node with `+"`kith daemon`"+`, then set your name:

   kith me set fn "Your Name"

Your name is shared with every circle (friends, family, work): it is what
your connections see you as. Other fields are private unless you name a
circle: kith me set email you@example.org --circle friends
`, e.home, encrypted, res.PeerID, len(strings.Fields(res.RecoveryPhrase)), wrapWords(res.RecoveryPhrase, 6, "\n   "))
	return nil
}

// runNewLog is `kith init` on a home that holds a key already: refused
// if it has a log; else it explains the choice, and with --new-log starts
// a new log.
func runNewLog(ctx context.Context, e *env, opts initOptions) error {
	ks := identity.Keystore{Dir: e.home}
	has, err := node.HasLog(ctx, e.home)
	if err != nil {
		return err
	}
	if has {
		return fmt.Errorf("%w: %s already holds an identity key (%s) and its log; use another --home for a second identity",
			node.ErrAlreadyInitialized, e.home, ks.Path())
	}
	if !opts.NewLog {
		return fmt.Errorf("%w: %s holds an identity key (%s) but no log. To get your log back from a friend, "+
			"run `kith daemon`: it does so when a friend reaches it, or at once with `kith restore --from` and their address, invite code or peer ID. "+
			"If no friend holds it, `kith init --new-log` starts a new one", node.ErrAlreadyInitialized, e.home, ks.Path())
	}
	pass, err := e.keyPassphrase(ctx)
	if err != nil {
		return err
	}
	defer clear(pass)
	res, err := node.NewLog(ctx, e.home, pass)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, initJSON{PeerID: res.PeerID, Home: e.home})
	}
	fmt.Fprintf(e.Out, `Started a new log in %s for your identity key:

   %s

Friends that still hold your old log will see this one as a fork.
Your recovery phrase stays the same: the new log commits to the same
recovery key.

Next: start your node with `+"`kith daemon`"+`.
`, e.home, res.PeerID)
	return nil
}

// runRecover is `kith init --recover`: the phrase, then the passphrase,
// then the key, into a home that has none.
func runRecover(ctx context.Context, e *env, opts initOptions) error {
	ks := identity.Keystore{Dir: e.home}
	if ks.Exists() {
		return fmt.Errorf("%w: %s already holds an identity key (%s); recover into another --home, or move it aside first",
			node.ErrAlreadyInitialized, e.home, ks.Path())
	}
	phrase, err := e.readPhrase(ctx)
	if err != nil {
		return err
	}
	// Refuse a wrong phrase before asking for a passphrase.
	if _, err := identity.ParsePhrase(phrase); err != nil {
		return err
	}
	pass, err := e.newPassphrase(ctx, opts.NoPassphrase)
	if err != nil {
		return err
	}
	defer clear(pass)
	res, err := node.Recover(ctx, e.home, phrase, pass)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, initJSON{PeerID: res.PeerID, Home: e.home})
	}
	fmt.Fprintf(e.Out, `Recovered your Kith identity into %s:

   %s

Your log is not here yet: it comes back from a friend who holds it.
Start your node with `+"`kith daemon`"+`; it takes your log back from the first
friend that reaches it, or at once: kith restore --from <their address, invite code or peer ID>
`, e.home, res.PeerID)
	return nil
}

// readPhrase reads a recovery phrase: on a terminal it asks for it and reads
// lines until it has 24 words or an empty line; otherwise it reads standard
// input to its end (at most identity.MaxPhraseLen bytes).
func (e *env) readPhrase(ctx context.Context) (string, error) {
	if e.In == nil {
		return "", usagef("--recover needs the recovery phrase on standard input")
	}
	if _, ok := terminalFd(e.In); !ok {
		b, err := io.ReadAll(io.LimitReader(e.In, identity.MaxPhraseLen+1))
		if err != nil {
			return "", fmt.Errorf("reading the recovery phrase: %w", err)
		}
		return string(b), nil
	}
	fmt.Fprintf(e.Err, "Type your %d-word recovery phrase (spaces or line breaks between words; an empty line ends it):\n", identity.RecoveryWords)
	done := make(chan string, 1)
	go func() {
		var b strings.Builder
		r := bufio.NewReader(e.In)
		for n := 0; n < identity.RecoveryWords && b.Len() <= identity.MaxPhraseLen; {
			line, err := r.ReadString('\n')
			b.WriteString(line + " ")
			n += len(strings.Fields(line))
			if err != nil || strings.TrimSpace(line) == "" {
				break
			}
		}
		done <- b.String()
	}()
	select {
	case p := <-done:
		return p, nil
	case <-ctx.Done():
		fmt.Fprintln(e.Err)
		return "", ctx.Err()
	}
}

// wrapWords puts n words per line, in columns, so that the phrase is easy
// to copy by hand; spacing does not matter when it is typed back.
func wrapWords(phrase string, n int, sep string) string {
	var b strings.Builder
	for i, w := range strings.Fields(phrase) {
		switch {
		case i == 0:
		case i%n == 0:
			b.WriteString(sep)
		default:
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%-8s", w)
	}
	lines := strings.Split(b.String(), sep)
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, sep)
}
