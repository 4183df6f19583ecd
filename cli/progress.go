package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line bar on a terminal, such as
//
//	importing [==========>         ]  4000/10000  40%
//
// and stays silent when its writer is not a terminal (a pipe, a file, a
// test buffer). It is not safe for concurrent use.
type progress struct {
	w     io.Writer
	fd    int
	label string
	total int
	done  int
	drawn time.Time // last redraw; redraws are limited to 10 a second
	on    bool
}

func newProgress(w io.Writer, label string, total int) *progress {
	fd, on := terminalFd(w)
	return &progress{w: exact(w), fd: fd, label: label, total: total, on: on && total > 0}
}

// add records n more items done and redraws the bar if it is time.
func (p *progress) add(n int) {
	p.done += n
	if !p.on {
		return
	}
	if now := time.Now(); p.done >= p.total || now.Sub(p.drawn) >= 100*time.Millisecond {
		p.drawn = now
		p.draw()
	}
}

func (p *progress) draw() {
	count := fmt.Sprintf("  %d/%d  %3d%%", p.done, p.total, p.done*100/p.total)
	width := 80
	if w, _, err := term.GetSize(p.fd); err == nil && w > 0 {
		width = w
	}
	bar := width - len(p.label) - len(count) - 4
	if bar > 50 {
		bar = 50
	}
	line := p.label + count
	if bar >= 10 {
		full := bar * p.done / p.total
		head := ""
		if full < bar {
			head = ">"
		}
		line = fmt.Sprintf("%s [%s%s%s]%s", p.label, strings.Repeat("=", full), head,
			strings.Repeat(" ", bar-full-len(head)), count)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// finish clears the bar's line so the next message starts clean.
func (p *progress) finish() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
