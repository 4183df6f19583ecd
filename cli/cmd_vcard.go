package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/node/api"
)

// importBatch is how many cards go to the daemon per AddContacts call (one
// transaction each).
const importBatch = 1000

// importInFlight is how many batches are sent at once.
const importInFlight = 2

// maxSkippedShown bounds the skipped cards listed one by one.
const maxSkippedShown = 10

// maxWarningsShown bounds the import warnings listed one by one.
const maxWarningsShown = 20

// contactsImportOptions are the flags of `kith contacts import`.
type contactsImportOptions struct {
	SkipInvalid bool
}

func contactsImportCommand(e *env) *ucli.Command {
	var opts contactsImportOptions
	return &ucli.Command{
		Name:  "import",
		Usage: "add or update the contacts of a vCard file (2.1, 3.0 or 4.0)",
		UsageText: `kith contacts import FILE [--skip-invalid]

Examples:
   kith contacts import ~/Downloads/contacts.vcf
   kith contacts import --skip-invalid google-export.vcf
   curl -s https://example.org/team.vcf | kith contacts import -`,
		Description: fmt.Sprintf(`Reads FILE ("-" for stdin; at most %s), checks every card, then imports
them. By default one broken card (cut off, damaged base64) stops the import
before anything is added, and the error names the card's number and line;
with --skip-invalid the readable cards are imported and the others listed.

vCard 2.1, 3.0 and 4.0 are read, in UTF-8, UTF-16 or a legacy charset
(Windows-1252, Windows-1251, Shift_JIS, …: said on stderr). Every property is
kept, X-… extensions and labels included; a value that fails its field's
check is kept as written and listed as a warning, and a photo too big for an
entry is scaled down (the warning says so).

Nothing is imported twice: a card whose UID a contact of yours has updates
that contact (or changes nothing if it is the same), so importing a file
again, or your own export, adds nothing. A card without a UID is given one
derived from its content, so importing the file again (say after an import
that stopped half way) finds it too; two cards alike in every field are one
contact. Before anything is stored the daemon checks every card, the size
of its entry included: a card it would refuse stops the import as a broken
one does (or is left out with --skip-invalid). A card exported from a connection (UID
urn:kith:peer:…) updates only your notes on them, never their card; if
they are not a connection it is skipped. The summary counts new, updated
and unchanged contacts.`, humanBytes(vcard.MaxFileSize)),
		Flags: []ucli.Flag{
			&ucli.BoolFlag{
				Name:        "skip-invalid",
				Usage:       "import the valid cards and report the invalid ones instead of stopping",
				EnvVars:     []string{"KITH_IMPORT_SKIP_INVALID"},
				Destination: &opts.SkipInvalid,
			},
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsImport(c.Context, e, opts, args)
		}),
	}
}

func runContactsImport(ctx context.Context, e *env, opts contactsImportOptions, args []string) error {
	if err := exactArgs(args, "FILE"); err != nil {
		return err
	}
	name := args[0]
	var in io.Reader = e.In
	if name == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			return tagf(api.ErrNotFound, "no file %s", name)
		}
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return tagf(api.ErrInvalid, "%s is a directory; give a .vcf file", name)
		}
		in = f // Decode checks a file's size before reading it
	}
	// Ask the daemon first: reading a large file only to learn that
	// nothing is there to take it wastes the user's time.
	client := e.api() // not safe for concurrent use: opened here, before the senders
	if _, err := client.ID(ctx); err != nil {
		return err
	}
	res, err := vcard.Decode(in, vcard.Options{SkipInvalid: opts.SkipInvalid})
	if err != nil {
		hint := ""
		if errors.Is(err, vcard.ErrInvalidCard) {
			hint = " (fix that card, or pass --skip-invalid to import the others)"
		}
		return fmt.Errorf("%s: %w; nothing was imported%s", name, err, hint)
	}
	reportSkipped(e, name, res)
	if len(res.Cards) == 0 {
		return tagf(vcard.ErrInvalidCard, "%s: every card is invalid; nothing was imported", name)
	}
	// A card without a UID gets one derived from its content, so that
	// running the import again (after it stopped half way) finds the
	// contacts it made rather than adding them twice.
	cards := res.Cards
	for i, c := range cards {
		if book.UID(c) == "" {
			cards[i] = book.WithUID(c, book.ContentUID(c))
		}
	}
	// The daemon checks every card (its entry's size included) before
	// any is stored: one it would refuse stops the import with nothing
	// imported, or is left out with --skip-invalid.
	refused, err := checkCards(ctx, client, cards)
	if err != nil {
		return fmt.Errorf("checking %s: %w; nothing was imported", name, err)
	}
	if len(refused) > 0 {
		if !opts.SkipInvalid {
			fmt.Fprintf(e.Err, "%s: %s the daemon refuses:\n", name, plural(len(refused), "card", "cards"))
			listSome(e.Err, refused, maxSkippedShown)
			return tagf(vcard.ErrInvalidCard, "%s: %v; nothing was imported (fix that card, or pass --skip-invalid to import the others)", name, refused[0])
		}
		fmt.Fprintf(e.Err, "%s: skipping %s the daemon refuses:\n", name, plural(len(refused), "card", "cards"))
		listSome(e.Err, refused, maxSkippedShown)
		drop := map[int]bool{}
		for _, r := range refused {
			drop[r.index] = true
		}
		kept := cards[:0:0]
		for i, c := range cards {
			if !drop[i] {
				kept = append(kept, c)
			}
		}
		cards = kept
		if len(cards) == 0 {
			return tagf(vcard.ErrInvalidCard, "%s: every card is invalid; nothing was imported", name)
		}
	}

	bar := newProgress(e.Err, "importing", len(cards))
	// importInFlight batches travel at once: the daemon stores one while it
	// signs the next. Each batch is one transaction.
	var (
		mu       sync.Mutex
		counts   = map[string]int{} // by api.Status…
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, importInFlight)
	)
	for _, chunk := range batches(cards) {
		slots <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			added, err := client.AddContacts(ctx, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			for _, r := range added {
				counts[r.Status]++
			}
			bar.add(len(chunk))
		}()
	}
	wg.Wait()
	if firstErr != nil {
		bar.finish()
		// Each batch is one transaction: the ones the daemon answered are
		// stored for good; one it did not answer (it stopped) may be too.
		// Every card has a UID, so importing again adds only the rest.
		done := counts[api.StatusNew] + counts[api.StatusUpdated] + counts[api.StatusUnchanged] + counts[api.StatusSkipped]
		fmt.Fprintf(e.Err, "%s: stored %d of %d cards before the error (%s); a batch the daemon did not answer may be stored too; importing %s again adds only what is missing\n",
			name, done, len(cards), importSummary(counts), name)
		return fmt.Errorf("importing %s: %w", name, firstErr)
	}
	bar.finish()
	msg := importSummary(counts)
	if n := len(res.Skipped) + len(refused); n > 0 {
		msg += fmt.Sprintf(" (skipped %s)", plural(n, "invalid card", "invalid cards"))
	}
	fmt.Fprintln(e.Out, msg)
	if n := counts[api.StatusSkipped]; n > 0 {
		fmt.Fprintf(e.Err, "%s: skipped %s exported from connections you are not connected to; connect to them again to have their cards\n",
			name, plural(n, "card", "cards"))
	}
	return nil
}

// importBatchBytes bounds the cards of one AddContacts call by size (as
// the daemon bounds a request body, api.MaxRequestBody).
const importBatchBytes = 8 << 20

// batches cuts cards into AddContacts calls: at most importBatch cards and
// about importBatchBytes each.
func batches(cards []graph.Card) [][]graph.Card {
	var (
		out        [][]graph.Card
		start, sum int
	)
	for i, c := range cards {
		n := cardBytes(c)
		if i > start && (i-start == importBatch || sum+n > importBatchBytes) {
			out = append(out, cards[start:i])
			start, sum = i, 0
		}
		sum += n
	}
	if start < len(cards) {
		out = append(out, cards[start:])
	}
	return out
}

// cardBytes estimates the size of a card in a request: its JSON.
func cardBytes(c graph.Card) int {
	n := 16
	for _, f := range c.Fields {
		n += 32 + len(f.Name) + 2*len(f.Value) + len(f.Group) // values may escape
		for _, t := range f.Types {
			n += 4 + len(t)
		}
		for _, p := range f.Params {
			n += 32 + len(p.Name)
			for _, v := range p.Values {
				n += 4 + 2*len(v)
			}
		}
	}
	return n
}

// refusedCard is a card of the file that the daemon would refuse.
type refusedCard struct {
	index   int // in the cards sent, from 0
	name    string
	problem api.CardProblem
}

func (r refusedCard) String() string {
	if r.name == "" {
		return fmt.Sprintf("card %d: %s", r.index+1, r.problem.Error)
	}
	return fmt.Sprintf("card %d (%q): %s", r.index+1, r.name, r.problem.Error)
}

// checkCards asks the daemon to check every card, batch by batch, and
// returns the ones it would refuse.
func checkCards(ctx context.Context, client api.API, cards []graph.Card) ([]refusedCard, error) {
	var out []refusedCard
	start := 0
	for _, b := range batches(cards) {
		problems, err := client.CheckContacts(ctx, b)
		if err != nil {
			return nil, err
		}
		for _, p := range problems {
			i := start + p.Card - 1
			out = append(out, refusedCard{index: i, name: cards[i].DisplayName(), problem: p})
		}
		start += len(b)
	}
	return out, nil
}

// importSummary says what an import did: "imported 2 new, 1 updated" and
// how many cards changed nothing.
func importSummary(counts map[string]int) string {
	msg := fmt.Sprintf("imported %d new, %d updated", counts[api.StatusNew], counts[api.StatusUpdated])
	if n := counts[api.StatusUnchanged]; n > 0 {
		msg += fmt.Sprintf(", %d unchanged", n)
	}
	return msg
}

// reportSkipped tells, on stderr, which cards --skip-invalid left out, the
// charset the file was converted from, and what Decode changed or could
// not read (values kept as written, photos scaled down, lines left out).
func reportSkipped(e *env, name string, res *vcard.Result) {
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(e.Err, "%s: skipping %s:\n", name, plural(n, "invalid card", "invalid cards"))
		listSome(e.Err, res.Skipped, maxSkippedShown)
	}
	if res.Charset != "" {
		fmt.Fprintf(e.Err, "%s: read as %s (converted to UTF-8)\n", name, res.Charset)
	}
	if n := len(res.Warnings); n > 0 {
		fmt.Fprintf(e.Err, "%s: %s (nothing was dropped unless it says so):\n", name, plural(n, "warning", "warnings"))
		listSome(e.Err, res.Warnings, maxWarningsShown)
	}
}

// listSome prints the first max items, one a line, then how many more.
func listSome[T any](w io.Writer, items []T, max int) {
	for i, it := range items {
		if i == max {
			fmt.Fprintf(w, "  … and %d more\n", len(items)-max)
			return
		}
		fmt.Fprintf(w, "  %v\n", it)
	}
}

// contactsExportOptions are the flags of `kith contacts export`.
type contactsExportOptions struct {
	Output string // "" or "-" = stdout
	VCard3 bool   // vCard 3.0 instead of 4.0
}

func contactsExportCommand(e *env) *ucli.Command {
	var opts contactsExportOptions
	return &ucli.Command{
		Name:  "export",
		Usage: "write every contact as vCard 4.0 (or 3.0)",
		UsageText: `kith contacts export [-o FILE] [--vcard3]

Examples:
   kith contacts export > contacts.vcf
   kith contacts export -o ~/backup/contacts.vcf
   kith contacts export --vcard3 -o for-old-phone.vcf`,
		Description: `Writes vCard 4.0, or 3.0 with --vcard3 (for older clients). Each card
carries its contact's UID, so importing the file again (here or on another
node of yours) updates those contacts instead of adding them a second time.
A connection's card is exported with the UID urn:kith:peer:<peer ID>:
imported again, it changes only your notes on them. With -o the file is
written next to its destination and renamed into place when complete, so an
interrupted export never leaves half a file; it is created with mode 0600.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{
				Name:        "output",
				Aliases:     []string{"o"},
				Usage:       "write to `FILE` instead of stdout (replacing it)",
				EnvVars:     []string{"KITH_EXPORT_OUTPUT"},
				TakesFile:   true,
				Destination: &opts.Output,
			},
			&ucli.BoolFlag{
				Name:        "vcard3",
				Usage:       "write vCard 3.0, which older clients read, instead of 4.0",
				EnvVars:     []string{"KITH_EXPORT_VCARD3"},
				Destination: &opts.VCard3,
			},
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runContactsExport(c.Context, e, opts, args)
		}),
	}
}

func runContactsExport(ctx context.Context, e *env, opts contactsExportOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	cs, err := e.api().Contacts(ctx)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, c := range cs {
			if err := writeVCard(bw, c, vcard.EncodeOptions{VCard3: opts.VCard3}); err != nil {
				return fmt.Errorf("encoding contact %s: %w", c.ID, err)
			}
		}
		return bw.Flush()
	}
	if opts.Output == "" || opts.Output == "-" {
		if err := write(exact(e.Out)); err != nil {
			return err
		}
		fmt.Fprintf(e.Err, "exported %s\n", plural(len(cs), "contact", "contacts"))
		return nil
	}
	if err := writeFileAtomic(opts.Output, write); err != nil {
		return err
	}
	fmt.Fprintf(e.Err, "exported %s to %s\n", plural(len(cs), "contact", "contacts"), opts.Output)
	return nil
}

// writeVCard writes a contact as a vCard 4.0 card with its UID.
func writeVCard(w io.Writer, c api.Contact, opts vcard.EncodeOptions) error {
	// The card's UID is the contact's, first.
	fields := slices.DeleteFunc(slices.Clone(c.Card.Fields), func(f graph.Field) bool { return f.Name == "uid" })
	if c.UID != "" {
		fields = append([]graph.Field{{Name: "uid", Value: c.UID}}, fields...)
	}
	return vcard.EncodeCard(w, graph.Card{Fields: fields}, opts)
}

// writeFileAtomic writes path through a temporary file in the same
// directory, synced and then renamed over path: readers see the old file or
// the complete new one, never a part.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file next to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
