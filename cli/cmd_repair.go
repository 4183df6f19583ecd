package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node/api"
)

// repairOptions are the flags of `kith repair`.
type repairOptions struct {
	JSON bool
}

func repairCommand(e *env) *ucli.Command {
	var opts repairOptions
	return &ucli.Command{
		Name:     "repair",
		Category: "your node",
		Usage:    "rebuild a damaged store from the entries that verify, and say what was lost",
		UsageText: `kith repair [--json]

Examples:
   kith check || kith repair
   kith repair --json | jq .problems`,
		Description: `When kith check finds problems (a disk or a crash damaged the database),
kith repair asks the daemon to stop its node, copy every entry that still
reads and verifies into a new database file, log by log up to the first
entry missing, fold every view (contacts, cards, search index) again from
them, copy the local tables (requests, invites, peers) as far as they read,
and start again on the new file. The damaged file is kept aside, next to
it, as kith.db.damaged-<time>.

It prints what it kept and what it lost. Entries lost from a log come back
from a friend that holds it on the next sync (every friend holds your log
and their own); what nobody else holds is lost.`,
		Flags: []ucli.Flag{jsonFlag(&opts.JSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			return runRepair(c.Context, e, opts, args)
		}),
	}
}

func runRepair(ctx context.Context, e *env, opts repairOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	rep, err := e.api().Repair(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		if rep.Problems == nil {
			rep.Problems = []string{}
		}
		return writeJSON(e.Out, rep)
	}
	printRepair(e, rep)
	return nil
}

func printRepair(e *env, rep *api.RepairReport) {
	t := newTable(e.Out)
	t.row("entries kept", strconv.Itoa(rep.Entries))
	t.row("logs kept", strconv.Itoa(rep.Logs))
	t.row("entries lost", strconv.Itoa(rep.Lost))
	t.row("local tables", orDash(strings.Join(rep.Tables, ", ")))
	t.row("damaged file", rep.DamagedStore)
	t.flush()
	for _, p := range rep.Problems {
		fmt.Fprintln(e.Out, "lost:", p)
	}
	if rep.Lost > 0 || len(rep.Problems) > 0 {
		fmt.Fprintln(e.Out, "what a friend holds comes back on the next sync; `kith check` checks the repaired store")
	} else {
		fmt.Fprintln(e.Out, "nothing was lost")
	}
}
