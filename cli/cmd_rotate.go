package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// rotateOptions are the flags of `kith rotate`.
type rotateOptions struct {
	Recover bool
	At      uint64
	JSON    bool
}

func rotateCommand(e *env) *ucli.Command {
	var opts rotateOptions
	return &ucli.Command{
		Name:     "rotate",
		Category: "your data",
		Usage:    "move your identity to a new key; your connections follow",
		UsageText: `kith rotate [--recover [--at SEQ]] [--json]

Examples:
   kith rotate                           # planned: asks for your 24 words
   kith rotate --recover                 # after a loss or theft (a device holds your old key)
   kith rotate --recover --at 41         # a thief wrote after your entry 41 (kith log): drop theirs
   kith rotate --json < phrase.txt       # the words from a file or pipe; the result as JSON
   kith id                               # the daemon runs as the new key at once`,
		Description: `Moves your identity to the next generation of the keys your recovery phrase
derives: a new peer ID and new keys, the same phrase. Your log ends with a
rotate entry that your recovery key signs (so a stolen device key alone can
never rotate you away), and your address book, circles and cards are carried
into the new identity's log. Your connections check the rotation when they
next sync with you, and move you to the new peer ID themselves: no new
invite. A forged or replayed rotation is refused.

The running daemon then goes on as the new identity (same home, store and
ports): no restart is needed. The key file is replaced with the new key,
sealed with the same passphrase.

--recover marks a rotation after a loss or theft: the old key may be in
someone else's hands. Run it on a home recovered from the phrase (kith
init --recover, its log back from a friend). Your phrase stays the same;
keep it safe: it is what signs every rotation.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{
				Name:        "recover",
				Usage:       "the rotation follows a loss or theft of a device holding the old key",
				EnvVars:     []string{"KITH_ROTATE_RECOVER"},
				Destination: &opts.Recover,
			},
			&ucli.Uint64Flag{
				Name:        "at",
				Usage:       "with --recover: `SEQ` is the last entry of your log that you wrote (see kith log); later ones, a thief's, are dropped, by your friends too",
				EnvVars:     []string{"KITH_ROTATE_AT"},
				Destination: &opts.At,
			},
			jsonFlag(&opts.JSON),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runRotate(c.Context, e, opts, args)
		}),
	}
}

func runRotate(ctx context.Context, e *env, opts rotateOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if e.In == nil {
		return usagef("kith rotate needs the recovery phrase on standard input")
	}
	phrase, err := e.readPhrase(ctx)
	if err != nil {
		return err
	}
	// Refuse a misspelled phrase here, naming the word (exit code 13).
	if _, err := identity.ParsePhrase(phrase); err != nil {
		return err
	}
	pass, err := e.keyPassphrase(ctx)
	if err != nil {
		return err
	}
	defer clear(pass)
	res, err := e.api().Rotate(ctx, api.RotateRequest{Phrase: phrase, Recover: opts.Recover, At: opts.At, Passphrase: pass})
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, res)
	}
	fmt.Fprintf(e.Out, `Rotated your identity (%s, generation %d):

   old peer ID  %s
   new peer ID  %s

Carried %d records into the new identity's log. Your connections move to
the new peer ID as they sync the rotation; no new invite is needed.
Your recovery phrase stays the same.

`, res.Mode, res.Generation, res.OldPeerID, res.PeerID, res.Carried)
	if res.Restarted {
		fmt.Fprintln(e.Out, "The daemon now runs as the new identity.")
	} else {
		fmt.Fprintln(e.Out, "Next: restart the daemon (stop it, then `kith daemon`) to run as the new key.")
	}
	return nil
}
