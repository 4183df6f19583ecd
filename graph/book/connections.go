package book

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// My connections, as my log records them: one connection record per peer,
// a tombstone once I disconnect it, and its place in my circles.

// IsConnection reports whether p is an accepted connection of mine.
func (b *Book) IsConnection(ctx context.Context, p peer.ID) (bool, error) {
	_, err := b.liveRecord(ctx, graph.KindConnection, p.String())
	if errors.Is(err, graph.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Disconnected reports whether I ended the connection with p: my log
// holds a tombstone for it.
func (b *Book) Disconnected(ctx context.Context, p peer.ID) (bool, error) {
	r, err := b.store.Record(ctx, b.self.ID, graph.KindConnection, p.String())
	if errors.Is(err, graph.ErrNotFound) {
		return false, nil
	}
	return err == nil && r.Body.Del, err
}

// Connections returns my live connections.
func (b *Book) Connections(ctx context.Context) ([]peer.ID, error) {
	rs, err := b.store.Records(ctx, b.self.ID, graph.KindConnection)
	if err != nil {
		return nil, err
	}
	out := make([]peer.ID, 0, len(rs))
	for _, r := range rs {
		if p, err := peer.Decode(r.Key); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Connection finds the connection ref names: its peer ID, or the name its
// card goes by (case-insensitively).
func (b *Book) Connection(ctx context.Context, ref string) (peer.ID, error) {
	ref = strings.TrimSpace(ref)
	p, err := peer.Decode(ref)
	if err != nil {
		cs, err := b.Connections(ctx)
		if err != nil {
			return "", err
		}
		for _, c := range cs {
			card, err := b.PeerCard(ctx, c)
			if err != nil {
				return "", err
			}
			if strings.EqualFold(BestName(card), ref) {
				return c, nil
			}
		}
		return "", graph.NotFoundf("%q is neither a peer ID nor the name of a connection", ref)
	}
	ok, err := b.IsConnection(ctx, p)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", graph.NotFoundf("%s is not a connection (see `kith peers`)", p)
	}
	return p, nil
}

// PeerCard returns the union of the cards p shares with me, each checked
// as local input is ([graph.CheckReceived]): a field that fails is kept,
// marked Raw and Invalid, never used as if valid.
func (b *Book) PeerCard(ctx context.Context, p peer.ID) (graph.Card, error) {
	rs, err := b.store.Records(ctx, p, graph.KindCard)
	if err != nil {
		return graph.Card{}, err
	}
	var out graph.Card
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Body.Card == nil {
			continue // a friend's body without a card shows nothing
		}
		for _, f := range graph.CheckReceived(*r.Body.Card).Fields {
			k := f.Name + "\x00" + f.Value
			if !seen[k] {
				seen[k] = true
				out.Fields = append(out.Fields, f)
			}
		}
	}
	return out, nil
}

// Establish records the connection with p, puts p in circles and
// re-issues those circles' cards so that p can read them.
func (b *Book) Establish(ctx context.Context, p peer.ID, circles []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	drafts := []graph.Draft{{Body: graph.Body{Kind: graph.KindConnection, Key: p.String()}, To: graph.Audience{Self: true}}}
	more, err := b.setCirclesLocked(ctx, p, circles)
	if err != nil {
		return err
	}
	_, err = b.append(ctx, append(drafts, more...)...)
	return err
}

// AssignCircles makes the circles of the connection p exactly circles.
func (b *Book) AssignCircles(ctx context.Context, p peer.ID, circles []string) error {
	if err := b.w.CanWrite(); err != nil {
		return err
	}
	for _, c := range circles {
		if _, err := b.liveRecord(ctx, graph.KindCircle, c); err != nil {
			return noCircle(err, c)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	drafts, err := b.setCirclesLocked(ctx, p, dedupe(circles))
	if err != nil || len(drafts) == 0 {
		return err
	}
	_, err = b.append(ctx, drafts...)
	return err
}

// Disconnect takes p out of every circle, re-issues those cards without p
// and ends the connection (a tombstone). p keeps what it held.
func (b *Book) Disconnect(ctx context.Context, p peer.ID) error {
	if err := b.w.CanWrite(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	drafts, err := b.setCirclesLocked(ctx, p, nil)
	if err != nil {
		return err
	}
	drafts = append(drafts, selfDraft(graph.KindConnection, p.String(), nil))
	_, err = b.append(ctx, drafts...)
	return err
}

// setCirclesLocked returns the entries that make p's circles exactly
// circles: circle membership updates and the re-issued cards of every
// circle whose audience changes. b.mu must be held.
func (b *Book) setCirclesLocked(ctx context.Context, p peer.ID, circles []string) ([]graph.Draft, error) {
	rs, err := b.circleRecords(ctx)
	if err != nil {
		return nil, err
	}
	cards, err := b.cards(ctx)
	if err != nil {
		return nil, err
	}
	var drafts []graph.Draft
	for _, r := range rs {
		in := slices.Contains(r.Body.Members, p.String())
		want := slices.Contains(circles, r.Key)
		if in == want {
			continue
		}
		members := slices.DeleteFunc(slices.Clone(r.Body.Members), func(m string) bool { return m == p.String() })
		if want {
			members = append(members, p.String())
			slices.Sort(members)
		}
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: r.Key, Members: members}, To: graph.Audience{Self: true}})
		if card, ok := cards[r.Key]; ok {
			d, err := b.cardDraft(ctx, r.Key, card, members)
			if err != nil {
				return nil, err
			}
			drafts = append(drafts, d)
		}
	}
	return drafts, nil
}

// Reissue re-issues the cards of p's circles: p's encryption key has
// arrived, so they can now be sealed to p too.
func (b *Book) Reissue(ctx context.Context, p peer.ID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs, err := b.circleRecords(ctx)
	if err != nil {
		return err
	}
	cards, err := b.cards(ctx)
	if err != nil {
		return err
	}
	var drafts []graph.Draft
	for _, r := range rs {
		card, ok := cards[r.Key]
		if !ok || !slices.Contains(r.Body.Members, p.String()) {
			continue
		}
		d, err := b.cardDraft(ctx, r.Key, card, r.Body.Members)
		if err != nil {
			return err
		}
		drafts = append(drafts, d)
	}
	if len(drafts) == 0 {
		return nil
	}
	_, err = b.append(ctx, drafts...)
	return err
}
