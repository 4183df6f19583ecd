package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// exportPassphraseEnv holds the passphrase that seals the key in an
// export, for scripts, when the key file has none of its own.
const exportPassphraseEnv = "KITH_EXPORT_PASSPHRASE"

// exportOptions are the flags of `kith export`.
type exportOptions struct {
	WithKey  bool
	Progress bool
	JSON     bool
}

func exportCommand(e *env) *ucli.Command {
	var opts exportOptions
	return &ucli.Command{
		Name:     "export",
		Category: "your data",
		Usage:    "write every log this node holds to a CAR file, to move to a new device",
		UsageText: `kith export FILE|- [--with-key] [--progress] [--json]

Examples:
   kith export graph.car                   # your graph, without the key
   kith export graph.car --with-key        # and your key, encrypted: a new laptop needs only this file
   kith export - | ssh newlaptop 'kith import -'
   KITH_EXPORT_PASSPHRASE='…' kith export graph.car --with-key --json`,
		Description: `Writes a CAR v1 file holding every log this node keeps (yours and your
connections'), each entry exactly as signed, behind a manifest your key
signs. The daemon writes it; it keeps running.

With --with-key the identity key goes in too, never in the clear: a key
file with a passphrase goes in as it is (kith import asks for that
passphrase); a key without one is sealed with a passphrase you choose now
(or $KITH_EXPORT_PASSPHRASE). Keep such a file as safe as the key.

The file is written next to FILE and renamed into place at the end, so a
failed export leaves no partial file. Restore it with kith import.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "with-key", Usage: "include the identity key, encrypted with a passphrase", EnvVars: []string{"KITH_WITH_KEY"}, Destination: &opts.WithKey},
			&ucli.BoolFlag{Name: "progress", Usage: "show progress on stderr even when it is not a terminal", EnvVars: []string{"KITH_PROGRESS"}, Destination: &opts.Progress},
			jsonFlag(&opts.JSON),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runExport(c.Context, e, opts, args)
		}),
	}
}

func runExport(ctx context.Context, e *env, opts exportOptions, args []string) error {
	if err := exactArgs(args, "FILE"); err != nil {
		return err
	}
	req := api.ExportRequest{WithKey: opts.WithKey}
	if opts.WithKey {
		ks := identity.Keystore{Dir: e.home}
		enc, err := ks.Encrypted()
		if err != nil {
			return err
		}
		if !enc {
			if req.Passphrase, err = e.exportPassphrase(ctx); err != nil {
				return err
			}
			defer clear(req.Passphrase)
		}
	}
	var bar *progress
	req.Progress = func(done, total uint64) {
		if bar == nil {
			bar = newProgress(e.Err, "exporting", int(total))
			bar.on = bar.on || opts.Progress && total > 0
		}
		bar.add(int(done) - bar.done)
	}
	defer func() {
		if bar != nil {
			bar.finish()
		}
	}()

	dest := args[0]
	var (
		w      io.Writer = exact(e.Out) // the CAR file, byte for byte
		commit           = func() error { return nil }
	)
	if dest != "-" {
		f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.part")
		if err != nil {
			return fmt.Errorf("creating %s: %w", dest, err)
		}
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
		w = f
		commit = func() error {
			if err := f.Sync(); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			return os.Rename(f.Name(), dest)
		}
	}
	res, err := e.api().Export(ctx, req, w)
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	if bar != nil {
		bar.finish()
		bar = nil
	}
	if opts.JSON && dest != "-" {
		return writeJSON(e.Out, res)
	}
	key := "without the key"
	if res.Key {
		key = "with the key, encrypted"
	}
	where := dest
	if dest == "-" {
		where = "stdout"
	}
	fmt.Fprintf(e.Err, "Exported %d entries of %s (%s, %s) to %s.\n", res.Entries, plural(res.Logs, "log", "logs"), key, humanBytes(res.Bytes), where)
	return nil
}

// exportPassphrase returns the passphrase that seals a key without one of
// its own in an export: $KITH_EXPORT_PASSPHRASE, or asked twice.
func (e *env) exportPassphrase(ctx context.Context) ([]byte, error) {
	if p, ok := os.LookupEnv(exportPassphraseEnv); ok {
		if p == "" {
			return nil, usagef("%s is empty: the key goes into an export only encrypted", exportPassphraseEnv)
		}
		return []byte(p), nil
	}
	fmt.Fprintln(e.Err, "Your key has no passphrase; choose one to encrypt it in the export (kith import will ask for it).")
	for {
		p, err := e.readSecret(ctx, "Passphrase for the export: ")
		if errors.Is(err, errNoTerminal) {
			return nil, usagef("%v: set %s", err, exportPassphraseEnv)
		}
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			fmt.Fprintln(e.Err, "The key goes into an export only encrypted; type a passphrase.")
			continue
		}
		again, err := e.readSecret(ctx, "Repeat it: ")
		if err != nil {
			clear(p)
			return nil, err
		}
		same := string(p) == string(again)
		clear(again)
		if same {
			return p, nil
		}
		clear(p)
		fmt.Fprintln(e.Err, "The two passphrases differ; try again.")
	}
}

// importOptions are the flags of `kith import`.
type importOptions struct {
	Progress bool
	JSON     bool
}

// importFunc imports an export into a home (node.Import; app.go passes
// it, as this command acts on the home directly, like init).
type importFunc func(ctx context.Context, home string, r io.Reader, opts api.ImportOptions) (*api.ImportResult, error)

func importCommand(e *env, doImport importFunc) *ucli.Command {
	var opts importOptions
	return &ucli.Command{
		Name:     "import",
		Category: "your data",
		Usage:    "restore a kith export into a fresh home (no init needed)",
		UsageText: `kith import FILE|- [--progress] [--json]

Examples:
   kith --home ~/.kith import graph.car    # a new laptop: then kith daemon
   KITH_PASSPHRASE='…' kith import graph.car --json
   ssh oldlaptop 'kith export - --with-key' | KITH_PASSPHRASE='…' kith import -`,
		Description: `Reads an export made by kith export into $KITH_HOME, which must not hold
a log yet: a new directory, or one holding only your identity.key. It
verifies every block, signature and chain, refuses an export of another
identity, a truncated or altered file, and a wrong passphrase, and
rebuilds every view. Nothing is written unless all of it passes.

The key comes from the export (kith export --with-key), under the
passphrase it was exported with, which it asks for ($KITH_PASSPHRASE for
scripts), unless the home has its own. Then start the node with kith
daemon: it is the same peer ID, and friends go on syncing with it.

Run no daemon on the home meanwhile. A home that holds a log already is
refused: import into a new --home, or move its kith.db aside first.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "progress", Usage: "show progress on stderr even when it is not a terminal", EnvVars: []string{"KITH_PROGRESS"}, Destination: &opts.Progress},
			jsonFlag(&opts.JSON),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runImport(c.Context, e, opts, args, doImport)
		}),
	}
}

func runImport(ctx context.Context, e *env, opts importOptions, args []string, doImport importFunc) error {
	if err := exactArgs(args, "FILE"); err != nil {
		return err
	}
	var r io.Reader = e.In
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return tagf(api.ErrNotFound, "no file %s", args[0])
			}
			return err
		}
		defer f.Close()
		r = f
	}
	var iopts api.ImportOptions
	if (identity.Keystore{Dir: e.home}).Exists() {
		p, err := e.keyPassphrase(ctx)
		if err != nil {
			return err
		}
		defer clear(p)
		iopts.HomePassphrase = p
	}
	iopts.KeyPassphrase = func(ctx context.Context) ([]byte, error) {
		if p, ok := identity.PassphraseFromEnv(); ok {
			return p, nil
		}
		p, err := e.readSecret(ctx, "Passphrase of the key in the export: ")
		if errors.Is(err, errNoTerminal) {
			return nil, tagf(identity.ErrPassphraseRequired, "the key in the export is encrypted and there is no terminal to ask for its passphrase: set %s", identity.PassphraseEnv)
		}
		return p, err
	}
	var bar *progress
	iopts.Progress = func(done, total uint64) {
		if bar == nil {
			bar = newProgress(e.Err, "importing", int(total))
			bar.on = bar.on || opts.Progress && total > 0
		}
		bar.add(int(done) - bar.done)
	}
	res, err := doImport(ctx, e.home, r, iopts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, res)
	}
	fmt.Fprintf(e.Out, `Imported %d entries of %s into %s: you are %s, with %s.

Next: start your node with `+"`kith daemon`"+`.
`, res.Entries, plural(res.Logs, "log", "logs"), res.Home, res.PeerID, plural(res.Contacts, "contact", "contacts"))
	return nil
}
