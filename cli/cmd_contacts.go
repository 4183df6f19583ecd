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
	var (
		listOpts   contactsListOptions
		showOpts   contactsShowOptions
		searchOpts contactsSearchOptions
	)
	return &ucli.Command{
		Name:     "contacts",
		Aliases:  []string{"c"},
		Category: "your address book",
		Usage:    "your address book: add, list, show, edit, search, merge, import and export contacts",
		UsageText: `kith contacts command [arguments...]

Examples:
   kith contacts add --name "Grace Hopper" --email grace@example.org --tel +1-555-0100
   kith contacts list
   kith contacts show grace                    # any unique word of the name, email or phone
   kith contacts edit grace --org "US Navy" --remove tel
   kith contacts search hopper
   kith contacts duplicates
   kith contacts merge grace 3kq               # 3kq's values go into grace; 3kq is deleted
   kith contacts import ~/Downloads/contacts.vcf
   kith contacts export -o backup.vcf
   kith contacts show -- -dash-               # -- before an argument that starts with '-'`,
		Description: `Contacts added here are local: private cards only you can read. Your
connections are contacts too (linked contacts): their card is what they
share with you, and what you add to it with edit stays your private notes.

A contact is named (REF) by its id (10 characters, shown by list) or a
unique prefix of it (3 characters or more), a connection's peer ID, its
exact name, or words its name, emails or phones start with ("rao" finds
"Dr. Rao"), case- and accent-insensitively. When a REF matches several
contacts, the error lists them: use one's id.

Every contact has a vCard UID, kept by export: importing a card with a UID
you have updates that contact instead of adding a second.`,
		Subcommands: []*ucli.Command{
			contactsAddCommand(e),
			{
				Name:      "list",
				Aliases:   []string{"ls"},
				Usage:     "list every contact, by name",
				UsageText: "kith contacts list [--json]\n\nExamples:\n   kith contacts list\n   kith contacts list --json | jq -r '.[].name'",
				Flags:     []ucli.Flag{jsonFlag(&listOpts.JSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsList(c.Context, e, listOpts, args)
				}),
			},
			{
				Name:      "show",
				Usage:     "show one contact's card",
				UsageText: "kith contacts show REF [--json | --vcard]\n\nExamples:\n   kith contacts show 'Grace Hopper'\n   kith contacts show hopper\n   kith contacts show 3kq --vcard > grace.vcf\n   kith contacts show -- -dash-   # a REF that starts with '-'",
				Flags: []ucli.Flag{
					jsonFlag(&showOpts.JSON),
					&ucli.BoolFlag{
						Name:        "vcard",
						Usage:       "print the card as vCard 4.0, with its UID",
						EnvVars:     []string{"KITH_CONTACTS_VCARD"},
						Destination: &showOpts.VCard,
					},
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsShow(c.Context, e, showOpts, args)
				}),
			},
			contactsEditCommand(e),
			{
				Name:      "rm",
				Aliases:   []string{"remove"},
				Usage:     "delete a contact, or your notes on a connection",
				UsageText: "kith contacts rm REF\n\nExamples:\n   kith contacts rm 'Grace Hopper'\n   kith contacts rm 12D3KooW…     # your notes on them; `kith disconnect` ends the connection",
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsRemove(c.Context, e, args)
				}),
			},
			{
				Name:      "search",
				Aliases:   []string{"find"},
				Usage:     "full-text search names, emails, phones, organizations and notes",
				UsageText: "kith contacts search QUERY... [--json]\n\nExamples:\n   kith contacts search hopper\n   kith contacts search navy admiral   # both words",
				Flags:     []ucli.Flag{jsonFlag(&searchOpts.JSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					return runContactsSearch(c.Context, e, searchOpts, args)
				}),
			},
			contactsDuplicatesCommand(e),
			contactsMergeCommand(e),
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

// cardFlagList returns the field flags, filling o. A flag's Action, which
// urfave runs only for a flag given (on the command line or in its
// KITH_CONTACT_… variable), records its field in o: a Destination alone
// could not tell `--note ""` (remove the note) from no --note.
func cardFlagList(o *cardOptions) []ucli.Flag {
	flags := make([]ucli.Flag, 0, len(cardFlags))
	for _, cf := range cardFlags {
		env := []string{"KITH_CONTACT_" + strings.ToUpper(cf.flag)}
		if cf.multi {
			flags = append(flags, &ucli.StringSliceFlag{Name: cf.flag, Usage: cf.usage, EnvVars: env,
				Action: func(_ *ucli.Context, vs []string) error { o.given(cf.field, vs); return nil }})
		} else {
			flags = append(flags, &ucli.StringFlag{Name: cf.flag, Usage: cf.usage, EnvVars: env,
				Action: func(_ *ucli.Context, v string) error { o.given(cf.field, []string{v}); return nil }})
		}
	}
	return flags
}

// cardOptions are the field flags given to `contacts add` or `edit`:
// field name → values, only for the flags given.
type cardOptions struct {
	Values map[string][]string
}

func (o *cardOptions) given(field string, values []string) {
	if o.Values == nil {
		o.Values = map[string][]string{}
	}
	o.Values[field] = values
}

// fields returns the given fields, in the order of cardFlags, with their
// non-blank values as a card holds them (`--note ""` gives none): free
// text given to --adr becomes the street of a vCard address.
func (o cardOptions) fields() []api.FieldValues {
	var out []api.FieldValues
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
		out = append(out, api.FieldValues{Name: cf.field, Values: vs})
	}
	return out
}

// apply sets every given field on card, replacing its values; a field
// given no value is removed.
func (o cardOptions) apply(card *graph.Card) {
	for _, fv := range o.fields() {
		if len(fv.Values) == 0 {
			card.Fields = slices.DeleteFunc(card.Fields, func(f graph.Field) bool { return f.Name == fv.Name })
			continue
		}
		card.Set(fv.Name, fv.Values...)
	}
}

// contactsAddOptions are the flags of `kith contacts add`.
type contactsAddOptions struct {
	Card cardOptions
}

func contactsAddCommand(e *env) *ucli.Command {
	var opts contactsAddOptions
	return &ucli.Command{
		Name:  "add",
		Usage: "add a contact",
		UsageText: `kith contacts add [--name NAME] [--email EMAIL]... [--tel TEL]... [--org ORG] [field flags...]

Examples:
   kith contacts add --name "Grace Hopper" --email grace@example.org
   kith contacts add --name "Dr. Ruth" --tel +1-555-0100 --tel +1-555-0101 --note "dentist"
   kith contacts add --org "Acme Plumbing" --tel +1-555-0199 --url https://acme.example`,
		Description: "Give at least one of --name, --email, --tel or --org. Prints the new contact's id.",
		Flags:       cardFlagList(&opts.Card),
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsAdd(c.Context, e, opts, args)
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
	Remove []string // FIELD or FIELD=VALUE
}

func contactsEditCommand(e *env) *ucli.Command {
	var opts contactsEditOptions
	return &ucli.Command{
		Name:  "edit",
		Usage: "change a contact: each flag given replaces that field",
		UsageText: `kith contacts edit REF [field flags...] [--remove FIELD[=VALUE]]...

Examples:
   kith contacts edit grace --email grace@navy.example --email grace@example.org
   kith contacts edit 3kq --org "US Navy" --title "Rear Admiral"
   kith contacts edit 'Grace Hopper' --remove tel --remove note
   kith contacts edit grace --remove email=grace@old.example   # one value`,
		Description: `Fields you give no flag for are kept. A flag replaces every value of its
field (repeat --email for several); --remove deletes a field, whatever its
name (see kith me fields), or with =VALUE only that value. The daemon makes
the change to the card as it is then, so an edit made meanwhile (on
another terminal, by an import) is kept. On a connection (a linked contact)
edit changes only your private notes on them: their own card is theirs to
change.`,
		Flags: append(cardFlagList(&opts.Card), sliceInto(&opts.Remove, &ucli.StringSliceFlag{
			Name:    "remove",
			Usage:   "delete every value of `FIELD` (e.g. tel, note, x-phonetic), or with FIELD=VALUE that value only; repeat for several",
			EnvVars: []string{"KITH_CONTACT_REMOVE"},
		})),
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsEdit(c.Context, e, opts, args)
		}),
	}
}

func runContactsEdit(ctx context.Context, e *env, opts contactsEditOptions, args []string) error {
	if err := exactArgs(args, "REF"); err != nil {
		return err
	}
	p := api.ContactPatch{Set: opts.Card.fields()}
	for _, r := range opts.Remove {
		name, value, _ := strings.Cut(r, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if _, ok := opts.Card.Values[name]; ok {
			return usagef("--remove %s and a flag setting %s: choose one", r, name)
		}
		p.Remove = append(p.Remove, api.FieldRef{Name: name, Value: value})
	}
	if p.Empty() {
		return usagef("nothing to change: give field flags (--name, --email, …) or --remove FIELD")
	}
	updated, err := e.api().PatchContact(ctx, args[0], p)
	if err != nil {
		return err
	}
	if updated.Linked() {
		fmt.Fprintf(e.Out, "updated your notes on %s %s\n", updated.ID, updated.Name)
		return nil
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
	var damaged []api.Contact
	for _, c := range cs {
		if c.Damaged != "" {
			damaged = append(damaged, c)
			t.row(c.ID, "(does not read: the store is damaged)", "-", "-", "-")
			continue
		}
		t.row(c.ID, orDash(c.Name), orDash(c.Card.First("email")), orDash(c.Card.First("tel")), orDash(c.Card.First("org")))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(damaged) > 0 {
		fmt.Fprintf(e.Err, "%s: %s\n", plural(len(damaged), "contact does not read", "contacts do not read"), damaged[0].Damaged)
	}
	return nil
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
		return writeVCard(exact(e.Out), *c, vcard.EncodeOptions{})
	}
	return printContact(e, c)
}

// printContact prints one contact as a table of its fields; on a linked
// contact, the fields that are my notes say so.
func printContact(e *env, c *api.Contact) error {
	t := newTable(e.Out)
	t.row("id", c.ID)
	mine := map[string]bool{}
	if c.Linked() {
		for _, f := range c.Notes.Fields {
			mine[f.Name+"\x00"+f.Value] = true
		}
	}
	for _, r := range fieldRows(c.Card) {
		value := r.value
		if mine[r.field.Name+"\x00"+r.field.Value] {
			value += "   [your note]"
		}
		t.row(r.label, value)
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
	if c.Linked() && len(c.Notes.Fields) == 0 {
		fmt.Fprintf(e.Out, "%s %s is a connection and you have no notes on them to remove\n", c.ID, c.Name)
		fmt.Fprintf(e.Err, "to end the connection itself: kith disconnect %s\n", c.ID)
		return nil
	}
	if err := e.api().RemoveContact(ctx, c.ID); err != nil {
		return err
	}
	if c.Linked() {
		fmt.Fprintf(e.Out, "removed your notes on %s %s\n", c.ID, c.Name)
		fmt.Fprintf(e.Err, "they are still a connection; to end that: kith disconnect %s\n", c.ID)
		return nil
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

// contactsDuplicatesOptions are the flags of `kith contacts duplicates`.
type contactsDuplicatesOptions struct {
	JSON bool
}

func contactsDuplicatesCommand(e *env) *ucli.Command {
	var opts contactsDuplicatesOptions
	return &ucli.Command{
		Name:    "duplicates",
		Aliases: []string{"dups"},
		Usage:   "list contacts that are likely one person",
		UsageText: `kith contacts duplicates [--json]

Examples:
   kith contacts duplicates
   kith contacts duplicates --json | jq -r '.[].contacts[0].id'`,
		Description: `Groups contacts that share an email (ignoring case), a phone number (by
its digits) or a name (ignoring case, accents, spacing and word order).
Merge a group's contacts with kith contacts merge.`,
		Flags: []ucli.Flag{jsonFlag(&opts.JSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsDuplicates(c.Context, e, opts, args)
		}),
	}
}

func runContactsDuplicates(ctx context.Context, e *env, opts contactsDuplicatesOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	gs, err := e.api().Duplicates(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		if gs == nil {
			gs = []api.DuplicateGroup{}
		}
		for i := range gs {
			for j := range gs[i].Contacts {
				if gs[i].Contacts[j].Card.Fields == nil {
					gs[i].Contacts[j].Card.Fields = []graph.Field{}
				}
			}
		}
		return writeJSON(e.Out, gs)
	}
	if len(gs) == 0 {
		fmt.Fprintln(e.Err, "no likely duplicates")
		return nil
	}
	for i, g := range gs {
		if i > 0 {
			fmt.Fprintln(e.Out)
		}
		fmt.Fprintf(e.Out, "same %s:\n", strings.Join(g.Reasons, ", "))
		t := newTable(e.Out, "ID", "NAME", "EMAIL", "TEL", "ORG")
		for _, c := range g.Contacts {
			t.row(c.ID, orDash(c.Name), orDash(c.Card.First("email")), orDash(c.Card.First("tel")), orDash(c.Card.First("org")))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.Err, "%s; merge one into another with `kith contacts merge KEEP OTHER`\n", plural(len(gs), "group", "groups"))
	return nil
}

// contactsMergeOptions are the flags of `kith contacts merge`.
type contactsMergeOptions struct {
	JSON bool
}

func contactsMergeCommand(e *env) *ucli.Command {
	var opts contactsMergeOptions
	return &ucli.Command{
		Name:  "merge",
		Usage: "merge one contact into another and delete it",
		UsageText: `kith contacts merge KEEP OTHER [--json]

Examples:
   kith contacts merge 3kq 8hf
   kith contacts merge 12D3KooW… 'Bob Smith'   # a local card into a connection's`,
		Description: `Adds OTHER's values to KEEP, each value once (the same email in any case,
the same phone however written: only their types are combined), then
deletes OTHER and prints the result. Where both have a value a card holds
only one of (a birthday), KEEP's stays and OTHER's is listed as dropped;
OTHER's name becomes a nickname. KEEP keeps its UID.

KEEP may be a connection: OTHER's values then become your notes on them.
A connection cannot be OTHER: its card is theirs.`,
		Flags: []ucli.Flag{jsonFlag(&opts.JSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsMerge(c.Context, e, opts, args)
		}),
	}
}

func runContactsMerge(ctx context.Context, e *env, opts contactsMergeOptions, args []string) error {
	if err := exactArgs(args, "KEEP", "OTHER"); err != nil {
		return err
	}
	// Resolve both first, so that the message names what was merged.
	other, err := e.api().Contact(ctx, args[1])
	if err != nil {
		return err
	}
	keep, err := e.api().Contact(ctx, args[0])
	if err != nil {
		return err
	}
	res, err := e.api().MergeContacts(ctx, keep.ID, other.ID)
	if err != nil {
		return err
	}
	if opts.JSON {
		if res.Contact.Card.Fields == nil {
			res.Contact.Card.Fields = []graph.Field{}
		}
		return writeJSON(e.Out, res)
	}
	fmt.Fprintf(e.Err, "merged %s %s into %s %s\n", other.ID, other.Name, res.Contact.ID, res.Contact.Name)
	for _, f := range res.Dropped {
		fmt.Fprintf(e.Err, "dropped %s %s of %s: %s keeps %s\n", f.Name, displayValue(f.Name, f.Value), other.ID, res.Contact.ID, orDash(res.Contact.Card.First(f.Name)))
	}
	return printContact(e, &res.Contact)
}
