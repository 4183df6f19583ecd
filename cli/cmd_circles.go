package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node/api"
)

func circlesCommand(e *env) *ucli.Command {
	var (
		listOpts   circlesListOptions
		removeOpts circlesRemoveOptions
	)
	return &ucli.Command{
		Name:     "circles",
		Category: "your address book",
		Usage:    "list, add and remove circles: the groups you share parts of your card with",
		UsageText: `kith circles command [arguments...]

Examples:
   kith circles list
   kith circles add climbing
   kith circles assign 12D3KooW… climbing friends
   kith circles rm climbing`,
		Description: `A circle is a named set of connections (friends, family, work, …). Each
field of your card is shared with the circles you choose (kith me set
--circle). Every identity starts with friends, family and work.`,
		Subcommands: []*ucli.Command{
			{
				Name:      "list",
				Aliases:   []string{"ls"},
				Usage:     "list your circles, their members and how many of your fields they see",
				UsageText: "kith circles list [--json]\n\nExample:\n   kith circles list --json",
				Flags:     []ucli.Flag{jsonFlag(&listOpts.JSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					return runCirclesList(c.Context, e, listOpts, args)
				}),
			},
			{
				Name:      "add",
				Usage:     "create a circle",
				UsageText: "kith circles add NAME\n\nExample:\n   kith circles add climbing",
				Description: `NAME: 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter
or digit. "self" is reserved for your private fields.`,
				Action: action(func(c *ucli.Context, args []string) error {
					return runCirclesAdd(c.Context, e, args)
				}),
			},
			{
				Name:      "rm",
				Aliases:   []string{"remove"},
				Usage:     "delete a circle and the card it saw",
				UsageText: "kith circles rm NAME [--force]\n\nExamples:\n   kith circles rm climbing\n   kith circles rm family --force   # even with members or fields",
				Description: `The fields shared with the circle stop being shared with it (a field
shared with other circles stays there too), and its members leave it; they
stay connected and keep what they already received. A circle with members,
or with fields no other circle sees (they would be shared with nobody), is
removed only with --force, or when you say yes on a terminal.`,
				Flags: []ucli.Flag{
					&ucli.BoolFlag{
						Name:        "force",
						Aliases:     []string{"f"},
						Usage:       "remove the circle even if it has members or fields, without asking",
						EnvVars:     []string{"KITH_FORCE"},
						Destination: &removeOpts.Force,
					},
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runCirclesRemove(c.Context, e, removeOpts, args)
				}),
			},
			circlesAssignCommand(e),
		},
	}
}

// circlesListOptions are the flags of `kith circles list`.
type circlesListOptions struct {
	JSON bool
}

func runCirclesList(ctx context.Context, e *env, opts circlesListOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	circles, err := e.api().Circles(ctx)
	if err != nil {
		return err
	}
	if circles == nil {
		circles = []api.Circle{}
	}
	for i := range circles {
		if circles[i].Members == nil {
			circles[i].Members = []peer.ID{}
		}
	}
	if opts.JSON {
		return writeJSON(e.Out, circles)
	}
	t := newTable(e.Out, "NAME", "MEMBERS", "FIELDS")
	for _, c := range circles {
		t.row(c.Name, strconv.Itoa(len(c.Members)), strconv.Itoa(c.Fields))
	}
	return t.flush()
}

func runCirclesAdd(ctx context.Context, e *env, args []string) error {
	if err := exactArgs(args, "NAME"); err != nil {
		return err
	}
	c, err := e.api().AddCircle(ctx, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "added circle %s\n", c.Name)
	return nil
}

// circlesRemoveOptions are the flags of `kith circles rm`.
type circlesRemoveOptions struct {
	Force bool
}

func runCirclesRemove(ctx context.Context, e *env, opts circlesRemoveOptions, args []string) error {
	if err := exactArgs(args, "NAME"); err != nil {
		return err
	}
	name := args[0]
	c, err := e.api().RemoveCircle(ctx, name, opts.Force)
	if errors.Is(err, api.ErrNotEmpty) {
		yes, aerr := e.confirm(ctx, err.Error()+"; remove it?")
		if aerr != nil {
			return aerr
		}
		if !yes {
			return fmt.Errorf("%w; nothing removed: `kith circles rm %s --force` removes it anyway", err, name)
		}
		c, err = e.api().RemoveCircle(ctx, name, true)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "removed circle %s", c.Name)
	if len(c.Members) > 0 {
		fmt.Fprintf(e.Out, "; %s left it (still connected)", plural(len(c.Members), "member", "members"))
	}
	if c.Fields > 0 {
		fmt.Fprintf(e.Out, "; it no longer sees %s", plural(c.Fields, "field", "fields"))
		if len(c.FieldNames) > 0 {
			fmt.Fprintf(e.Out, " (%s)", strings.Join(c.FieldNames, ", "))
		}
	}
	fmt.Fprintln(e.Out)
	return nil
}
