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
}

func initCommand(e *env) *ucli.Command {
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
back if the key is lost or stolen.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{
				Name:    "no-passphrase",
				Usage:   "store the key unencrypted, without asking (for tests and throw-away nodes)",
				EnvVars: []string{"KITH_NO_PASSPHRASE"},
			},
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runInit(c.Context, e, initOptions{NoPassphrase: c.Bool("no-passphrase")}, args)
		}),
	}
}

func runInit(ctx context.Context, e *env, opts initOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	ks := identity.Keystore{Dir: e.home}
	if ks.Exists() {
		return fmt.Errorf("%w: %s already holds an identity key (%s); use another --home for a second identity",
			node.ErrAlreadyInitialized, e.home, ks.Path())
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
