package cli

import (
	"context"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node/api"
)

func meCommand(e *env) *ucli.Command {
	var (
		showOpts  meShowOptions
		setOpts   meSetOptions
		unsetOpts meUnsetOptions
		fieldOpts meFieldsOptions
	)
	circleFlag := func(dest *[]string, usage string) ucli.Flag {
		return sliceInto(dest, &ucli.StringSliceFlag{
			Name:    "circle",
			Aliases: []string{"c"},
			Usage:   usage,
			EnvVars: []string{"KITH_ME_CIRCLE"},
		})
	}
	return &ucli.Command{
		Name:     "me",
		Category: "your address book",
		Usage:    "show and edit your own card, field by field and circle by circle",
		UsageText: `kith me command [arguments...]

Examples:
   kith me set fn "Ada Lovelace"             # your name: every circle sees it
   kith me set email ada@example.org --circle work --type work
   kith me set tel +44-20-7946-0000          # private: only you see it
   kith me show --circle friends
   kith me unset tel
   kith me fields`,
		Description: `Your card is a set of vCard fields (fn, email, tel, adr, …). Each field is
shared with the circles you name. Without --circle, fn (your name, what
your connections see you as) is shared with every circle, and any other
field is private (circle "self"). Changing a field re-issues the card of every circle that
sees it, and your connections in those circles receive the signed update.`,
		Subcommands: []*ucli.Command{
			{
				Name:      "show",
				Usage:     "show your card: each field and the circles that see it",
				UsageText: "kith me show [--circle CIRCLE] [--json]\n\nExamples:\n   kith me show\n   kith me show --circle friends   # what friends see",
				Flags: []ucli.Flag{
					&ucli.StringFlag{
						Name:        "circle",
						Aliases:     []string{"c"},
						Usage:       "show only what `CIRCLE` sees (\"self\" = your private fields)",
						EnvVars:     []string{"KITH_ME_CIRCLE"},
						Destination: &showOpts.Circle,
					},
					jsonFlag(&showOpts.JSON),
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runMeShow(c.Context, e, showOpts, args)
				}),
			},
			{
				Name:  "set",
				Usage: "set a field of your card (replacing its values) in some circles",
				UsageText: `kith me set FIELD VALUE... [--circle CIRCLE]... [--type TYPE]...

Examples:
   kith me set fn "Ada Lovelace"             # every circle sees your name
   kith me set fn "Ada" --circle friends     # friends see another one
   kith me set email ada@example.org ada@home.example --circle friends
   kith me set tel +44-20-7946-0000 --type cell
   kith me set adr ";;12 St James's Sq;London;;SW1Y 4JH;UK" --circle family`,
				Description: `FIELD is a vCard property name (see kith me fields). Several VALUEs set a
multi-valued field (email, tel, …) to all of them. Without --circle, fn goes
to every circle (it is the name your connections see) and any other field is
private: only you see it. The field is replaced in the circles named and
left as it is in the others.`,
				Flags: []ucli.Flag{
					circleFlag(&setOpts.Circles, "share the field with `CIRCLE`; repeat for several (default: every circle for fn, private for the rest)"),
					sliceInto(&setOpts.Types, &ucli.StringSliceFlag{
						Name:    "type",
						Aliases: []string{"t"},
						Usage:   "vCard TYPE of the values, e.g. home, work, cell, voice; repeat for several",
						EnvVars: []string{"KITH_ME_TYPE"},
					}),
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runMeSet(c.Context, e, setOpts, args)
				}),
			},
			{
				Name:      "unset",
				Usage:     "remove a field from your card, in some circles or all",
				UsageText: "kith me unset FIELD [--circle CIRCLE]...\n\nExamples:\n   kith me unset tel                     # from every circle\n   kith me unset email --circle work",
				Flags: []ucli.Flag{
					circleFlag(&unsetOpts.Circles, "remove the field from `CIRCLE` only; repeat for several (default: all circles)"),
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runMeUnset(c.Context, e, unsetOpts, args)
				}),
			},
			{
				Name:      "fields",
				Usage:     "list the field names a card can hold, with what each one means",
				UsageText: "kith me fields [--json]\n\nExample:\n   kith me fields",
				Flags:     []ucli.Flag{jsonFlag(&fieldOpts.JSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					return runMeFields(c.Context, e, fieldOpts, args)
				}),
			},
		},
	}
}

// meShowOptions are the flags of `kith me show`.
type meShowOptions struct {
	Circle string
	JSON   bool
}

func runMeShow(ctx context.Context, e *env, opts meShowOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	p, err := e.api().Me(ctx, opts.Circle)
	if err != nil {
		return err
	}
	return printProfile(e, p, opts.JSON)
}

func printProfile(e *env, p *api.Profile, asJSON bool) error {
	if p.Fields == nil {
		p.Fields = []api.ProfileField{}
	}
	for i := range p.Fields {
		if p.Fields[i].Circles == nil {
			p.Fields[i].Circles = []string{}
		}
	}
	if asJSON {
		return writeJSON(e.Out, p)
	}
	if len(p.Fields) == 0 {
		fmt.Fprintln(e.Err, "your card is empty; set a field with `kith me set fn \"Your Name\" --circle friends`")
		return nil
	}
	t := newTable(e.Out, "FIELD", "VALUE", "TYPE", "CIRCLES")
	for _, f := range p.Fields {
		t.row(f.Name, displayValue(f.Name, f.Value), orDash(strings.Join(f.Types, ",")), strings.Join(f.Circles, ","))
	}
	return t.flush()
}

// meSetOptions are the flags of `kith me set`.
type meSetOptions struct {
	Circles []string
	Types   []string
}

func runMeSet(ctx context.Context, e *env, opts meSetOptions, args []string) error {
	if len(args) < 2 {
		return usagef("give a FIELD and at least one VALUE, e.g. `kith me set email ada@example.org`")
	}
	name := strings.ToLower(args[0])
	if err := checkFieldValues(name, args[1:], opts.Types); err != nil {
		return err
	}
	p, err := e.api().SetMe(ctx, api.SetMeRequest{Field: name, Values: args[1:], Types: opts.Types, Circles: opts.Circles})
	if err != nil {
		return err
	}
	if len(opts.Circles) == 0 && name == api.SharedField {
		var circles []string
		for _, f := range p.Fields {
			if f.Name == name {
				circles = f.Circles
				break
			}
		}
		fmt.Fprintf(e.Out, "set %s for every circle (%s): it is the name your connections see (--circle limits it)\n", name, strings.Join(circles, ", "))
		return nil
	}
	if len(opts.Circles) == 0 {
		fmt.Fprintf(e.Out, "set %s, private: only you see it (share it with --circle)\n", name)
		return nil
	}
	fmt.Fprintf(e.Out, "set %s for %s\n", name, strings.Join(opts.Circles, ", "))
	return nil
}

// checkFieldValues validates a field before it goes to the daemon, for a
// fast and clear error; the daemon validates again.
func checkFieldValues(name string, values, types []string) error {
	spec, ok := graph.LookupField(name)
	if !ok {
		return unknownField(name)
	}
	if !spec.Multi && len(values) > 1 {
		return fmt.Errorf("%w: %s takes one value, got %d (quote a value that has spaces)", graph.ErrInvalidField, name, len(values))
	}
	for _, v := range values {
		if _, err := graph.NormalizeField(graph.Field{Name: name, Value: v, Types: types}); err != nil {
			return err
		}
	}
	return nil
}

// unknownField returns graph's error for an unknown field name.
func unknownField(name string) error {
	_, err := graph.NormalizeField(graph.Field{Name: name, Value: "x"})
	if err == nil {
		panic("bug: graph.LookupField and graph.NormalizeField disagree about " + name)
	}
	return err
}

// meUnsetOptions are the flags of `kith me unset`.
type meUnsetOptions struct {
	Circles []string
}

func runMeUnset(ctx context.Context, e *env, opts meUnsetOptions, args []string) error {
	if err := exactArgs(args, "FIELD"); err != nil {
		return err
	}
	name := strings.ToLower(args[0])
	if _, ok := graph.LookupField(name); !ok {
		return unknownField(name)
	}
	if _, err := e.api().UnsetMe(ctx, api.UnsetMeRequest{Field: name, Circles: opts.Circles}); err != nil {
		return err
	}
	where := "every circle"
	if len(opts.Circles) > 0 {
		where = strings.Join(opts.Circles, ", ")
	}
	fmt.Fprintf(e.Out, "removed %s from %s\n", name, where)
	return nil
}

// meFieldsOptions are the flags of `kith me fields`.
type meFieldsOptions struct {
	JSON bool
}

// fieldInfo is one row of `kith me fields --json`.
type fieldInfo struct {
	Name  string `json:"name"`
	Multi bool   `json:"multi"`
	Doc   string `json:"doc"`
}

func runMeFields(_ context.Context, e *env, opts meFieldsOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	var infos []fieldInfo
	for _, name := range graph.FieldNames() {
		spec, ok := graph.LookupField(name)
		if !ok {
			continue
		}
		infos = append(infos, fieldInfo{Name: name, Multi: spec.Multi, Doc: spec.Doc})
	}
	if opts.JSON {
		return writeJSON(e.Out, infos)
	}
	t := newTable(e.Out, "FIELD", "VALUES", "MEANING")
	for _, f := range infos {
		n := "one"
		if f.Multi {
			n = "several"
		}
		t.row(f.Name, n, f.Doc)
	}
	return t.flush()
}
