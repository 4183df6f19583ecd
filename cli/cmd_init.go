package cli

import (
	"context"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
)

// initOptions are the flags of `kith init`.
type initOptions struct {
	NoPassphrase bool
	NewLog       bool
}

func initCommand(e *env) *ucli.Command {
	var opts initOptions
	return &ucli.Command{
		Name:     "init",
		Category: "start here",
		Usage:    "create your identity and an empty address book (once)",
		UsageText: `kith init [--no-passphrase]

Examples:
   kith init                             # asks for an optional passphrase
   KITH_PASSPHRASE='correct horse' kith init
   kith --home /tmp/alice init --no-passphrase`,
		Description: `Creates $KITH_HOME (default ~/.kith) with a new identity key, encrypted
with a passphrase if you give one, and the first entries of your log: your
public keys and the circles friends, family and work. Your name (kith me
set fn) will be shared with every circle; other fields stay private unless
you name a circle.

It prints your peer ID and, once, a recovery phrase. The phrase is not
stored anywhere: write it down. It is the only way to take your identity
back if the key is lost or stolen.

A home holding only identity.key (copied from a backup) needs no init:
kith daemon rebuilds the store and gets your log back from the first
friend that reaches it (or that you kith connect to). Only if no friend
holds it, kith init --new-log starts a new log, with a new recovery phrase;
friends that do hold the old one would see the new one as a fork.`,
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
	ks := identity.Keystore{Dir: e.home}
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
			"run `kith daemon`: it does so when a friend reaches it, or at once with `kith connect` and their address or invite code. "+
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
	fmt.Fprintf(e.Out, `Started a new log in %s for your identity key:

   %s

Friends that still hold your old log will see this one as a fork.

Your new recovery phrase (%d words; the old one does not fit this log).
WRITE THIS DOWN NOW; it is not stored anywhere and will not be shown again:

   %s

Next: start your node with `+"`kith daemon`"+`.
`, e.home, res.PeerID, len(strings.Fields(res.RecoveryPhrase)), wrapWords(res.RecoveryPhrase, 6, "\n   "))
	return nil
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
