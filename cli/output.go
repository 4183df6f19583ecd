package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// writeJSON prints v as indented JSON and a newline: the stable --json form.
// It is written exactly, past the terminal escaping of text output: JSON
// escapes every C0 control itself, and a script must get the bytes a
// friend sent.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	_, err = exact(w).Write(append(b, '\n'))
	return err
}

// termWriter is how text output reaches stdout and stderr (Main wraps
// both): what friends send (names, notes, a request's note) ends up in
// tables and messages, and a terminal acts on control characters in it (a
// name holding ESC [2J clears the screen, ESC ]0; sets the window title,
// U+202E turns the rest of the line around). termWriter shows each such
// character as a visible escape (termSafe) and keeps newlines and tabs.
// Exact data (JSON, vCard, an export) goes around it through [exact].
type termWriter struct {
	w io.Writer
	// partial is the start of a UTF-8 sequence that a write ended in the
	// middle of, held for the next write.
	partial []byte
}

// Write escapes what termSafe escapes, keeping newlines and tabs. It
// returns len(p) when the escaped text was written.
func (t *termWriter) Write(p []byte) (int, error) {
	b := append(t.partial, p...)
	t.partial = nil
	// Hold back a sequence cut off at the end (at most 3 bytes).
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				t.partial = append([]byte(nil), b[i:]...)
				b = b[:i]
			}
			break
		}
	}
	if _, err := io.WriteString(t.w, escapeControls(string(b), false)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// exact returns the writer under w's terminal escaping, for output that
// must be written byte for byte (JSON, vCard, an export, a progress bar's
// own escapes); w itself if it has none.
func exact(w io.Writer) io.Writer {
	if t, ok := w.(*termWriter); ok {
		return t.w
	}
	return w
}

// termSafe returns s with every character a terminal would act on shown
// as a visible escape: C0 controls (newlines and tabs included), DEL and
// ESC as \x1b, C1 controls and the Unicode format characters that
// reorder or hide text (bidi overrides such as U+202E, isolates, zero-width
// marks, line and paragraph separators) as \u202e, and invalid UTF-8 as
// U+FFFD. Text without them comes back unchanged.
func termSafe(s string) string { return escapeControls(s, true) }

// escapeControls is termSafe; with lines false it keeps '\n' and '\t'.
func escapeControls(s string, lines bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) && (lines || r != '\n' && r != '\t') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				b.WriteRune(utf8.RuneError) // an invalid byte
			} else {
				b.WriteRune(r) // a real U+FFFD
			}
		case !lines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case unsafeRune(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports whether a terminal acts on r or hides text with it
// rather than showing it: controls (C0, DEL, C1) and the format
// characters that reorder text (bidi embeddings, overrides, isolates,
// marks) or break lines.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// table aligns tab-separated columns; call flush when done.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row writes one row; tabs and newlines inside a cell are shown as
// spaces, and every other control character as termSafe shows it.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = termSafe(strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, c))
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// humanBytes renders n bytes as "512 B", "1.2 KiB", "3.4 MiB"…
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	if n%div == 0 {
		return fmt.Sprintf("%d %ciB", n/div, "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanTime renders t in local time to the second.
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// terminalFd returns the file descriptor of v if it is a terminal.
func terminalFd(v any) (int, bool) {
	if w, ok := v.(io.Writer); ok {
		v = exact(w)
	}
	f, ok := v.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
