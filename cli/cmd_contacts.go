package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/node/api"
)

func contactsCommand(e *env) *ucli.Command {
	return &ucli.Command{
		Name:     "contacts",
		Aliases:  []string{"c"},
		Category: "your address book",
		Usage:    "your address book: add, list, show, edit, search, import and export contacts",
		UsageText: `kith contacts command [arguments...]

Examples:
   kith contacts add --name "Grace Hopper" --email grace@example.org --tel +1-555-0100
   kith contacts list
   kith contacts show grace                    # by id, id prefix or exact name
   kith contacts edit grace --org "US Navy" --remove tel
   kith contacts search hopper
   kith contacts import ~/Downloads/contacts.vcf
   kith contacts export -o backup.vcf`,
		Description: `Contacts added here are local: private cards only you can read. A contact
is named by its id (10 characters, shown by list), a unique prefix of it
(3 characters or more) or its exact name, case-insensitively.`,
		Subcommands: []*ucli.Command{
			contactsAddCommand(e),
			{
				Name:      "list",
				Aliases:   []string{"ls"},
				Usage:     "list every contact, by name",
				UsageText: "kith contacts list [--json]\n\nExamples:\n   kith contacts list\n   kith contacts list --json | jq -r '.[].name'",
				Flags:     []ucli.Flag{jsonFlag()},
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsList(c.Context, e, contactsListOptions{JSON: c.Bool("json")}, args)
				}),
			},
			{
				Name:      "show",
				Usage:     "show one contact's card",
				UsageText: "kith contacts show REF [--json | --vcard]\n\nExamples:\n   kith contacts show 'Grace Hopper'\n   kith contacts show 3kq --vcard > grace.vcf",
				Flags: []ucli.Flag{
					jsonFlag(),
					&ucli.BoolFlag{
						Name:    "vcard",
						Usage:   "print the card as vCard 4.0, with the contact id as UID",
						EnvVars: []string{"KITH_CONTACTS_VCARD"},
					},
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsShow(c.Context, e, contactsShowOptions{JSON: c.Bool("json"), VCard: c.Bool("vcard")}, args)
				}),
			},
			contactsEditCommand(e),
			{
				Name:      "rm",
				Aliases:   []string{"remove"},
				Usage:     "delete a contact",
				UsageText: "kith contacts rm REF\n\nExample:\n   kith contacts rm 'Grace Hopper'",
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsRemove(c.Context, e, args)
				}),
			},
			{
				Name:      "search",
				Aliases:   []string{"find"},
				Usage:     "full-text search names, emails, phones, organizations and notes",
				UsageText: "kith contacts search QUERY... [--json]\n\nExamples:\n   kith contacts search hopper\n   kith contacts search navy admiral   # both words",
				Flags:     []ucli.Flag{jsonFlag()},
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsSearch(c.Context, e, contactsSearchOptions{JSON: c.Bool("json")}, args)
				}),
			},
			contactsImportCommand(e),
			contactsExportCommand(e),
		},
	}
}

// cardFlag maps a flag of `contacts add/edit` to a card field.
type cardFlag struct {
	flag, field string
	multi       bool
	usage       string
}

// cardFlags are the field flags of `kith contacts add` and `edit`, in the
// order their fields go on the card.
var cardFlags = []cardFlag{
	{"name", "fn", false, "full name (vCard FN), e.g. \"Grace Hopper\""},
	{"nickname", "nickname", false, "nickname, e.g. \"Amazing Grace\""},
	{"email", "email", true, "email address; repeat for several"},
	{"tel", "tel", true, "phone number, e.g. +1-555-0100; repeat for several"},
	{"adr", "adr", true, "postal address: free text (kept as the street) or vCard's po box;ext;street;city;region;code;country; repeat for several"},
	{"org", "org", false, "organization, optionally followed by ;unit"},
	{"title", "title", false, "job title, e.g. \"Rear Admiral\""},
	{"bday", "bday", false, "birthday, YYYY-MM-DD (or --MM-DD without a year)"},
	{"url", "url", true, "web address; repeat for several"},
	{"note", "note", false, "free-text note"},
}

func cardFlagList() []ucli.Flag {
	flags := make([]ucli.Flag, 0, len(cardFlags))
	for _, cf := range cardFlags {
		env := []string{"KITH_CONTACT_" + strings.ToUpper(cf.flag)}
		if cf.multi {
			flags = append(flags, &ucli.StringSliceFlag{Name: cf.flag, Usage: cf.usage, EnvVars: env})
		} else {
			flags = append(flags, &ucli.StringFlag{Name: cf.flag, Usage: cf.usage, EnvVars: env})
		}
	}
	return flags
}

// cardOptions are the field flags given to `contacts add` or `edit`:
// field name → values, only for the flags given.
type cardOptions struct {
	Values map[string][]string
}

func cardOptionsOf(c *ucli.Context) cardOptions {
	o := cardOptions{Values: map[string][]string{}}
	for _, cf := range cardFlags {
		if !c.IsSet(cf.flag) {
			continue
		}
		if cf.multi {
			o.Values[cf.field] = c.StringSlice(cf.flag)
		} else {
			o.Values[cf.field] = []string{c.String(cf.flag)}
		}
	}
	return o
}

// apply sets every given field on card, replacing its values; empty values
// are dropped, so `--note ""` removes the note.
func (o cardOptions) apply(card *graph.Card) {
	for _, cf := range cardFlags {
		vs, ok := o.Values[cf.field]
		if !ok {
			continue
		}
		vs = slices.DeleteFunc(slices.Clone(vs), func(v string) bool { return strings.TrimSpace(v) == "" })
		if cf.field == "adr" {
			for i, v := range vs {
				if !strings.Contains(v, ";") {
					vs[i] = ";;" + v + ";;;;" // free text is the street
				}
			}
		}
		if len(vs) == 0 {
			card.Fields = slices.DeleteFunc(card.Fields, func(f graph.Field) bool { return f.Name == cf.field })
			continue
		}
		card.Set(cf.field, vs...)
	}
}

// contactsAddOptions are the flags of `kith contacts add`.
type contactsAddOptions struct {
	Card cardOptions
}

func contactsAddCommand(e *env) *ucli.Command {
	return &ucli.Command{
		Name:  "add",
		Usage: "add a contact",
		UsageText: `kith contacts add [--name NAME] [--email EMAIL]... [--tel TEL]... [--org ORG] [field flags...]

Examples:
   kith contacts add --name "Grace Hopper" --email grace@example.org
   kith contacts add --name "Dr. Ruth" --tel +1-555-0100 --tel +1-555-0101 --note "dentist"
   kith contacts add --org "Acme Plumbing" --tel +1-555-0199 --url https://acme.example`,
		Description: "Give at least one of --name, --email, --tel or --org. Prints the new contact's id.",
		Flags:       cardFlagList(),
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsAdd(c.Context, e, contactsAddOptions{Card: cardOptionsOf(c)}, args)
		}),
	}
}

func runContactsAdd(ctx context.Context, e *env, opts contactsAddOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	var card graph.Card
	opts.Card.apply(&card)
	if card.First("fn") == "" && card.First("email") == "" && card.First("tel") == "" && card.First("org") == "" {
		return usagef("give at least one of --name, --email, --tel or --org")
	}
	if _, err := graph.NormalizeCard(card); err != nil {
		return err
	}
	added, err := e.api().AddContacts(ctx, []graph.Card{card})
	if err != nil {
		return err
	}
	if len(added) != 1 {
		return fmt.Errorf("the daemon added %d contacts for one card", len(added))
	}
	fmt.Fprintf(e.Out, "added %s %s\n", added[0].ID, added[0].Name)
	return nil
}

// contactsEditOptions are the flags of `kith contacts edit`.
type contactsEditOptions struct {
	Card   cardOptions
	Remove []string // field names
}

func contactsEditCommand(e *env) *ucli.Command {
	return &ucli.Command{
		Name:  "edit",
		Usage: "change a contact: each flag given replaces that field",
		UsageText: `kith contacts edit REF [field flags...] [--remove FIELD]...

Examples:
   kith contacts edit grace --email grace@navy.example --email grace@example.org
   kith contacts edit 3kq --org "US Navy" --title "Rear Admiral"
   kith contacts edit 'Grace Hopper' --remove tel --remove note`,
		Description: `Fields you give no flag for are kept. A flag replaces every value of its
field (repeat --email for several); --remove deletes a field, whatever its
name (see kith me fields).`,
		Flags: append(cardFlagList(), &ucli.StringSliceFlag{
			Name:    "remove",
			Usage:   "delete every value of `FIELD` (e.g. tel, note, x-phonetic); repeat for several",
			EnvVars: []string{"KITH_CONTACT_REMOVE"},
		}),
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsEdit(c.Context, e, contactsEditOptions{Card: cardOptionsOf(c), Remove: c.StringSlice("remove")}, args)
		}),
	}
}

func runContactsEdit(ctx context.Context, e *env, opts contactsEditOptions, args []string) error {
	if err := exactArgs(args, "REF"); err != nil {
		return err
	}
	if len(opts.Card.Values) == 0 && len(opts.Remove) == 0 {
		return usagef("nothing to change: give field flags (--name, --email, …) or --remove FIELD")
	}
	for _, r := range opts.Remove {
		if _, ok := opts.Card.Values[strings.ToLower(r)]; ok {
			return usagef("--remove %s and a flag setting %s: choose one", r, r)
		}
	}
	c, err := e.api().Contact(ctx, args[0])
	if err != nil {
		return err
	}
	card := graph.Card{Fields: slices.Clone(c.Card.Fields)}
	for _, r := range opts.Remove {
		name := strings.ToLower(r)
		n := len(card.Fields)
		card.Fields = slices.DeleteFunc(card.Fields, func(f graph.Field) bool { return f.Name == name })
		if len(card.Fields) == n {
			return tagf(api.ErrNotFound, "%s (%s) has no %s to remove", c.ID, c.Name, name)
		}
	}
	opts.Card.apply(&card)
	if len(card.Fields) == 0 {
		return tagf(api.ErrInvalid, "that would leave %s with an empty card; use `kith contacts rm %s` to delete it", c.ID, c.ID)
	}
	if _, err := graph.NormalizeCard(card); err != nil {
		return err
	}
	updated, err := e.api().EditContact(ctx, c.ID, card)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "updated %s %s\n", updated.ID, updated.Name)
	return nil
}

// contactsListOptions are the flags of `kith contacts list`.
type contactsListOptions struct {
	JSON bool
}

func runContactsList(ctx context.Context, e *env, opts contactsListOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	cs, err := e.api().Contacts(ctx)
	if err != nil {
		return err
	}
	if !opts.JSON && len(cs) == 0 {
		fmt.Fprintln(e.Err, "no contacts yet; add one with `kith contacts add --name …` or `kith contacts import FILE`")
		return nil
	}
	return printContacts(e, cs, opts.JSON)
}

// printContacts prints a list of contacts as a table or JSON.
func printContacts(e *env, cs []api.Contact, asJSON bool) error {
	if asJSON {
		if cs == nil {
			cs = []api.Contact{}
		}
		for i := range cs {
			if cs[i].Card.Fields == nil {
				cs[i].Card.Fields = []graph.Field{}
			}
		}
		return writeJSON(e.Out, cs)
	}
	t := newTable(e.Out, "ID", "NAME", "EMAIL", "TEL", "ORG")
	for _, c := range cs {
		t.row(c.ID, orDash(c.Name), orDash(c.Card.First("email")), orDash(c.Card.First("tel")), orDash(c.Card.First("org")))
	}
	return t.flush()
}

// contactsShowOptions are the flags of `kith contacts show`.
type contactsShowOptions struct {
	JSON  bool
	VCard bool
}

func runContactsShow(ctx context.Context, e *env, opts contactsShowOptions, args []string) error {
	if err := exactArgs(args, "REF"); err != nil {
		return err
	}
	if opts.JSON && opts.VCard {
		return usagef("--json and --vcard: choose one")
	}
	c, err := e.api().Contact(ctx, args[0])
	if err != nil {
		return err
	}
	switch {
	case opts.JSON:
		if c.Card.Fields == nil {
			c.Card.Fields = []graph.Field{}
		}
		return writeJSON(e.Out, c)
	case opts.VCard:
		return vcard.EncodeCard(e.Out, exportCard(*c), vcard.EncodeOptions{})
	}
	t := newTable(e.Out)
	t.row("id", c.ID)
	for _, f := range c.Card.Fields {
		label := f.Name
		if len(f.Types) > 0 {
			label += " (" + strings.Join(f.Types, ",") + ")"
		}
		t.row(label, displayValue(f.Name, f.Value))
	}
	t.row("updated", humanTime(c.Updated))
	return t.flush()
}

func runContactsRemove(ctx context.Context, e *env, args []string) error {
	if err := exactArgs(args, "REF"); err != nil {
		return err
	}
	c, err := e.api().Contact(ctx, args[0])
	if err != nil {
		return err
	}
	if err := e.api().RemoveContact(ctx, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "removed %s %s\n", c.ID, c.Name)
	return nil
}

// contactsSearchOptions are the flags of `kith contacts search`.
type contactsSearchOptions struct {
	JSON bool
}

func runContactsSearch(ctx context.Context, e *env, opts contactsSearchOptions, args []string) error {
	if len(args) == 0 {
		return usagef("missing QUERY")
	}
	cs, err := e.api().SearchContacts(ctx, strings.Join(args, " "))
	if err != nil {
		return err
	}
	if !opts.JSON && len(cs) == 0 {
		fmt.Fprintf(e.Err, "no contact matches %q\n", strings.Join(args, " "))
		return nil
	}
	return printContacts(e, cs, opts.JSON)
}
