package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// Exit codes of the kith command.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotRunning  = 3
	exitNotFound    = 4
	exitInvalid     = 5
	exitConflict    = 6
	exitLocked      = 7
	exitKey         = 8
	exitUnreachable = 9
	exitDeclined    = 10
	exitInviteUsed  = 11
	exitPortInUse   = 12
	exitBadPhrase   = 13
	exitBadExport   = 14
	exitHomeHasLog  = 15
	exitWrongPhrase = 16
	exitDamaged     = 17
	exitBusy        = 18
	exitNeedPhrase  = 19
	exitForbidden   = 20
)

// errDamaged: kith check found problems in the store.
var errDamaged = errors.New("the store is damaged")

// exitCodes is the one place that maps errors to exit codes: the first row
// with a sentinel matching the error (errors.Is) wins; anything else is
// exitError. The root --help prints this table.
var exitCodes = []struct {
	code int
	what string
	errs []error
}{
	{exitOK, "success", nil},
	{exitError, "any other error", nil},
	{exitUsage, "usage error: unknown command or flag, missing or extra argument", []error{errUsage}},
	{exitNotRunning, "the daemon is not running: start it with `kith daemon`", []error{api.ErrDaemonNotRunning}},
	{exitNotFound, "not found: no such contact, circle, field value or event", []error{api.ErrNotFound}},
	{exitInvalid, "invalid input: a value, card or file that does not validate",
		[]error{api.ErrInvalid, api.ErrTooLarge, graph.ErrUnknownField, graph.ErrInvalidField,
			vcard.ErrInvalidCard, vcard.ErrEmpty, vcard.ErrNotVCard, vcard.ErrTooLarge}},
	{exitConflict, "conflict: it exists already, a reference matches several contacts, or a circle to remove is not empty (--force)",
		[]error{api.ErrExists, api.ErrAmbiguous, api.ErrNotEmpty, node.ErrAlreadyInitialized, identity.ErrKeyExists}},
	{exitLocked, "a daemon is already running on this home (it holds the lock)", []error{node.ErrLocked}},
	{exitKey, "key problem: no identity (run `kith init`), wrong passphrase, corrupt or unsafe key file, or a key whose log is not back yet",
		[]error{identity.ErrNoKey, identity.ErrPassphraseRequired, identity.ErrWrongPassphrase,
			identity.ErrCorruptKey, identity.ErrInsecureKeyFile, node.ErrNotInitialized, api.ErrNoLog}},
	{exitUnreachable, "a peer could not be reached (is their daemon running? an invite code carries addresses)", []error{api.ErrUnreachable}},
	{exitDeclined, "the peer declined your request to connect", []error{api.ErrDeclined}},
	{exitInviteUsed, "the invite code was used already or has expired: ask for a new one", []error{api.ErrInviteInvalid}},
	{exitPortInUse, "the daemon's listen port is taken (by another home's daemon?): pick another with --listen", []error{node.ErrPortInUse}},
	{exitBadPhrase, "the recovery phrase is wrong (kith init --recover): the message names the word, or the checksum", []error{identity.ErrBadPhrase}},
	{exitBadExport, "kith import refused the export: damaged, truncated, forged, another identity's, or without the key the home needs; nothing was imported",
		[]error{archive.ErrMalformed, archive.ErrTruncated, archive.ErrTooLarge, archive.ErrBlockMismatch, archive.ErrBadManifestSignature,
			archive.ErrBadEntry, archive.ErrChain, archive.ErrWrongIdentity, node.ErrImportCheck, node.ErrNoKeyToImport}},
	{exitHomeHasLog, "kith import: the home holds a log already; import into a new --home", []error{node.ErrHomeHasLog}},
	{exitWrongPhrase, "kith rotate: the recovery phrase is well formed but not this identity's", []error{api.ErrWrongPhrase}},
	{exitDamaged, "kith check found problems: the store is damaged (`kith repair` rebuilds it)", []error{errDamaged}},
	{exitBusy, "the peer did not keep your connection request (too many pending): ask again later, or ask for an invite code", []error{api.ErrBusy}},
	{exitNeedPhrase, "kith restore: your identity rotated since this home's key; give your recovery phrase on standard input", []error{api.ErrNeedPhrase}},
	{exitForbidden, "refused: the peer does not allow you this (e.g. free/busy: `kith freebusy allow` on their side), or the request came from a web page", []error{api.ErrForbidden}},
}

// exitCode returns the exit code for err (nil is exitOK).
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	for _, row := range exitCodes {
		for _, s := range row.errs {
			if errors.Is(err, s) {
				return row.code
			}
		}
	}
	// urfave's own errors (e.g. `kith help nosuchcommand`) are usage errors.
	var ec ucli.ExitCoder
	if errors.As(err, &ec) {
		return exitUsage
	}
	return exitError
}

// exitCodesHelp renders exitCodes for the root help template.
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("\nEXIT CODES:\n")
	for _, row := range exitCodes {
		fmt.Fprintf(&b, "   %d  %s\n", row.code, row.what)
	}
	return b.String()
}

// report prints err (if any) to stderr and returns its exit code.
func (e *env) report(err error) int {
	code := exitCode(err)
	if err == nil {
		return code
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	var u *usageError
	if errors.As(err, &u) {
		if u.cmd == "" {
			u.cmd = "kith"
		}
		fmt.Fprintf(e.Err, "%s: %s\nRun `%s --help` for usage.\n", u.cmd, msg, u.cmd)
		return code
	}
	fmt.Fprintf(e.Err, "kith: %s\n", msg)
	return code
}

// errUsage marks errors in how a command was called.
var errUsage = errors.New("usage error")

// usageError is a usage error of the command cmd ("kith contacts add").
type usageError struct {
	cmd string // set by action when empty
	err error
}

func (u *usageError) Error() string   { return u.err.Error() }
func (u *usageError) Unwrap() []error { return []error{u.err, errUsage} }

// usagef returns a usage error; action fills in the command.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// tagged is err with its message unchanged that also matches kind, a
// sentinel of exitCodes, with errors.Is.
type tagged struct{ err, kind error }

func (t *tagged) Error() string   { return t.err.Error() }
func (t *tagged) Unwrap() []error { return []error{t.err, t.kind} }

// tag marks err as being of kind (e.g. api.ErrInvalid) for exitCode.
func tag(kind, err error) error {
	if err == nil {
		return nil
	}
	return &tagged{err: err, kind: kind}
}

// tagf is tag(kind, fmt.Errorf(format, args...)).
func tagf(kind error, format string, args ...any) error {
	return tag(kind, fmt.Errorf(format, args...))
}
