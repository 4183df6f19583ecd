package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// restoreOptions are the flags of `kith restore`.
type restoreOptions struct {
	From string
	JSON bool
}

func restoreCommand(e *env) *ucli.Command {
	var opts restoreOptions
	return &ucli.Command{
		Name:     "restore",
		Category: "your connections",
		Usage:    "take your log back from a friend (a new device, a lost or damaged database)",
		UsageText: `kith restore --from TARGET [--json]

Examples:
   kith restore --from 12D3KooW…                               # a friend's peer ID (LAN or DHT)
   kith restore --from /ip4/192.0.2.7/tcp/4747/p2p/12D3KooW…   # a friend's full address
   kith restore --from kith1…                                  # an invite code from them
   kith restore --from kith1… < phrase.txt                     # after a rotation: the words from a file`,
		Description: `Your friends hold a copy of your log (every entry you wrote: your card,
circles, connections and contacts, sealed so that only you can read what is
private). restore asks one friend for yours, then for theirs. The logs of
your other connections come back from each of them: those online now at
once, the others when they are next online.

It works on a home that holds only your key (after ` + "`kith init --recover`" + `
or a copied key file), on one restored from an old backup of kith.db, and on
one whose kith.db is damaged: the daemon moves a database that does not open
(or that fails ` + "`kith check`" + `, when you restore) aside to
kith.db.damaged-<time> and starts a fresh one.

If you rotated your identity (kith rotate) since the key this home holds
(kith init --recover always gives the first one), the log that comes back
ends with the rotation: restore then asks for your recovery phrase (read
from standard input when it is not a terminal), moves the home's key to
the newest identity the phrase derives, and the daemon goes on as it.

The daemon must be running. Nothing is lost on your friend's side.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "from", Usage: "the friend to restore from: `TARGET` is an invite code, a full multiaddr or a peer ID",
				EnvVars: []string{"KITH_RESTORE_FROM"}, Destination: &opts.From},
			jsonFlag(&opts.JSON),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runRestore(c.Context, e, opts, args)
		}),
	}
}

func runRestore(ctx context.Context, e *env, opts restoreOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if opts.From == "" {
		return fmt.Errorf("%w: --from is required: a friend's invite code, full multiaddr or peer ID", errUsage)
	}
	req := api.RestoreRequest{Target: opts.From}
	stop := restoreProgress(ctx, e)
	res, err := e.api().Restore(ctx, req)
	stop()
	if errors.Is(err, api.ErrNeedPhrase) {
		// My log came back ended by a rotation: the phrase moves this home
		// to the identity it rotated to.
		if req.Phrase, req.Passphrase, err = e.phraseForRestore(ctx, err); err != nil {
			return err
		}
		defer clear(req.Passphrase)
		stop := restoreProgress(ctx, e)
		res, err = e.api().Restore(ctx, req)
		stop()
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, res)
	}
	if res.DamagedStore != "" {
		fmt.Fprintf(e.Out, "the damaged database was moved aside to %s; a fresh one was restored\n", res.DamagedStore)
	}
	if len(res.Rotated) > 0 {
		fmt.Fprintf(e.Out, "your identity had rotated: this home now runs as %s (generation %d), the key file holds its key\n", res.PeerID, res.Generation)
		if res.Restart {
			fmt.Fprintln(e.Out, "restart the daemon (kith daemon) to run as it, then run this restore again")
		}
	}
	fmt.Fprintf(e.Out, "restored from %s:\n", res.From)
	t := newTable(e.Out, "LOG", "ENTRIES RESTORED", "HEAD")
	for _, l := range res.Logs {
		who := l.Author.String()
		if l.Mine {
			who = "mine"
		}
		t.row(who, fmt.Sprint(l.Entries), fmt.Sprint(l.Head))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !res.Connection {
		fmt.Fprintf(e.Out, "%s is not one of your connections: only your own log came from them\n", res.From)
	}
	if n := len(res.Syncing); n > 0 {
		fmt.Fprintf(e.Out, "syncing now with %s online\n", plural(n, "other connection", "other connections"))
	}
	if n := len(res.Pending); n > 0 {
		fmt.Fprintf(e.Out, "%s offline: their logs come back when they are next online (keep the daemon running)\n", plural(n, "connection is", "connections are"))
	}
	return nil
}

// restoreProgress shows, on a terminal, how many entries the store holds
// while a restore runs; stop ends it.
// phraseForRestore reads the recovery phrase (and the key file's
// passphrase, to seal the new key as the old one) after the daemon said
// the restored log ends with a rotation: why. Without a phrase to read,
// why is returned.
func (e *env) phraseForRestore(ctx context.Context, why error) (phrase string, pass []byte, err error) {
	if e.In == nil {
		return "", nil, why
	}
	if _, term := terminalFd(e.In); term {
		fmt.Fprintf(e.Err, "%v\n", why)
	}
	phrase, err = e.readPhrase(ctx)
	if err != nil {
		return "", nil, err
	}
	if strings.TrimSpace(phrase) == "" {
		return "", nil, why
	}
	// A misspelled phrase is refused here, naming the word.
	if _, err := identity.ParsePhrase(phrase); err != nil {
		return "", nil, err
	}
	pass, err = e.keyPassphrase(ctx)
	return phrase, pass, err
}

func restoreProgress(ctx context.Context, e *env) (stop func()) {
	if _, on := terminalFd(e.Err); !on {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		status := api.NewClient(api.SocketPath(e.home))
		defer status.Close()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				fmt.Fprint(exact(e.Err), "\r\033[K")
				return
			case <-t.C:
			}
			if s, err := status.Status(ctx); err == nil {
				fmt.Fprintf(exact(e.Err), "\rrestoring: %d entries held", s.Entries)
			}
		}
	}()
	return func() { cancel(); <-done }
}
