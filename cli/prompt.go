package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/term"

	"github.com/kith-p2p/kith/identity"
)

// errNoTerminal: a passphrase is needed and there is no terminal to ask on.
var errNoTerminal = errors.New("no terminal to ask for a passphrase")

// newPassphrase returns the passphrase for a new key: none when noPass,
// else $KITH_PASSPHRASE when set (empty = none), else asked twice on the
// terminal (empty = none).
func (e *env) newPassphrase(ctx context.Context, noPass bool) ([]byte, error) {
	if noPass {
		return nil, nil
	}
	if p, ok := identity.PassphraseFromEnv(); ok {
		return p, nil
	}
	fmt.Fprintln(e.Err, "Choose a passphrase to encrypt your identity key, or press Enter for none.")
	for {
		p, err := e.readSecret(ctx, "Passphrase: ")
		if errors.Is(err, errNoTerminal) {
			return nil, usagef("%v: set %s (empty for none) or pass --no-passphrase", err, identity.PassphraseEnv)
		}
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			fmt.Fprintln(e.Err, "No passphrase: the key will be stored unencrypted, readable by anyone who can read your files.")
			return nil, nil
		}
		again, err := e.readSecret(ctx, "Repeat it: ")
		if err != nil {
			clear(p)
			return nil, err
		}
		same := bytes.Equal(p, again)
		clear(again)
		if same {
			return p, nil
		}
		clear(p)
		fmt.Fprintln(e.Err, "The two passphrases differ; try again.")
	}
}

// keyPassphrase returns the passphrase that opens the key file of e.home:
// nil when it is not encrypted, else $KITH_PASSPHRASE when set, else asked
// once on the terminal.
func (e *env) keyPassphrase(ctx context.Context) ([]byte, error) {
	ks := identity.Keystore{Dir: e.home}
	enc, err := ks.Encrypted()
	if err != nil {
		if errors.Is(err, identity.ErrNoKey) {
			return nil, tagf(identity.ErrNoKey, "%s has no identity key yet; run `kith init` first", e.home)
		}
		return nil, err
	}
	if !enc {
		return nil, nil
	}
	if p, ok := identity.PassphraseFromEnv(); ok {
		return p, nil
	}
	p, err := e.readSecret(ctx, "Passphrase for "+ks.Path()+": ")
	if errors.Is(err, errNoTerminal) {
		return nil, tagf(identity.ErrPassphraseRequired, "the key %s is encrypted and there is no terminal to ask for its passphrase: set %s", ks.Path(), identity.PassphraseEnv)
	}
	return p, err
}

// readSecret asks for a secret on the terminal of e.In, without echo. It
// gives up when ctx ends (Ctrl-C), restoring the terminal.
func (e *env) readSecret(ctx context.Context, prompt string) ([]byte, error) {
	fd, ok := terminalFd(e.In)
	if !ok {
		return nil, errNoTerminal
	}
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	fmt.Fprint(e.Err, prompt)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(e.Err)
		if r.err != nil {
			return nil, fmt.Errorf("reading the passphrase: %w", r.err)
		}
		return r.b, nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(e.Err)
		return nil, ctx.Err()
	}
}

// confirm asks question on the terminal of e.In and reports whether the
// answer is yes. Without a terminal the answer is no: scripts say --force.
func (e *env) confirm(ctx context.Context, question string) (bool, error) {
	if _, ok := terminalFd(e.In); !ok {
		return false, nil
	}
	fmt.Fprintf(e.Err, "%s [y/N] ", question)
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(e.In).ReadString('\n')
		done <- line
	}()
	select {
	case line := <-done:
		a := strings.ToLower(strings.TrimSpace(line))
		return a == "y" || a == "yes", nil
	case <-ctx.Done():
		fmt.Fprintln(e.Err)
		return false, ctx.Err()
	}
}
