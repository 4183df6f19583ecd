package cal

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// Free/busy: which circles may ask when I am busy (a `freebusy` record per
// allowed circle in my log, sealed to me; a tombstone denies it again),
// and the busy blocks I answer with.

// FreeBusyCircles returns the circles allowed to ask my free/busy, sorted.
func (c *Calendar) FreeBusyCircles(ctx context.Context) ([]string, error) {
	rs, err := c.store.Records(ctx, c.self, graph.KindFreeBusy)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Key)
	}
	slices.Sort(out)
	return out, nil
}

// SetFreeBusy allows circle to ask my free/busy, or denies it again.
// The caller checks that the circle exists.
func (c *Calendar) SetFreeBusy(ctx context.Context, circle string, allow bool) ([]string, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.store.Record(ctx, c.self, graph.KindFreeBusy, circle)
	if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return nil, err
	}
	allowed := err == nil && !r.Body.Del
	if allowed != allow {
		if _, err := c.w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindFreeBusy, Key: circle, Del: !allow}, To: graph.Audience{Self: true}}); err != nil {
			return nil, err
		}
	}
	return c.FreeBusyCircles(ctx)
}

// Busy returns when I am busy in [from, to): my events' instances and
// the invitations I accepted or said tentative to, cancelled ones left
// out, all-day events included, merged into blocks that neither overlap
// nor touch, clipped to the window, by start. No titles.
func (c *Calendar) Busy(ctx context.Context, from, to time.Time) ([]spec.Busy, error) {
	ins, err := c.List(ctx, from, to, "UTC")
	if err != nil {
		return nil, err
	}
	var blocks []spec.Busy
	answered := map[string]string{}
	for _, in := range ins {
		if in.From != "" {
			key := in.From + "/" + in.UID
			ps, ok := answered[key]
			if !ok {
				ps = c.myAnswer(ctx, in.From, in.UID)
				answered[key] = ps
			}
			if ps != "ACCEPTED" && ps != "TENTATIVE" {
				continue
			}
		}
		s, e := max(in.Start.Unix(), from.Unix()), min(in.End.Unix(), to.Unix())
		if e <= s {
			continue
		}
		blocks = append(blocks, spec.Busy{Start: s, End: e})
	}
	return Merge(blocks), nil
}

// myAnswer returns my PARTSTAT to the event uid organized by org, "" if none.
func (c *Calendar) myAnswer(ctx context.Context, org, uid string) string {
	p, err := peer.Decode(org)
	if err != nil {
		return ""
	}
	r, err := c.store.Record(ctx, c.self, graph.KindRSVP, RSVPKey(p, uid))
	if err != nil {
		return ""
	}
	ps, _, err := CheckReply(r, c.self, p, uid)
	if err != nil {
		return ""
	}
	return ps
}

// Merge sorts blocks and merges those that overlap or touch.
func Merge(blocks []spec.Busy) []spec.Busy {
	slices.SortFunc(blocks, func(a, b spec.Busy) int {
		if a.Start != b.Start {
			return int(min(max(a.Start-b.Start, -1), 1))
		}
		return int(min(max(a.End-b.End, -1), 1))
	})
	out := []spec.Busy{}
	for _, b := range blocks {
		if n := len(out); n > 0 && b.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, b.End)
			continue
		}
		out = append(out, b)
	}
	return out
}
