package book

import (
	"context"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// Rotation, as the address book sees it (spec/SPEC.md "Rotation"): a
// person moves from an old identity to a new one. The rotating side carries
// its book over into the new identity's log ([Book.CarryFrom]); a friend
// moves the connection to the new peer ID ([Book.FollowRotation]).

// carryKinds are the records of the old log a rotation carries into the
// new one, in the order they are written: circles before the cards sealed
// to their members.
var carryKinds = []string{graph.KindCircle, graph.KindConnection, graph.KindContact, graph.KindCard}

// carryBatch bounds the entries of one append while carrying a book over.
const carryBatch = 500

// CarryFrom writes old's live circles, connections, contacts (my notes on
// connections among them) and cards into my log, the new identity's: each
// card sealed anew to its circle's members and to me. My log must already
// hold its genesis and keys entries.
func (b *Book) CarryFrom(ctx context.Context, old peer.ID) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	members := map[string][]string{}
	var drafts []graph.Draft
	for _, kind := range carryKinds {
		rs, err := b.store.Records(ctx, old, kind)
		if err != nil {
			return 0, fmt.Errorf("reading %s records of %s: %w", kind, old, err)
		}
		for _, r := range rs {
			switch kind {
			case graph.KindCircle:
				members[r.Key] = r.Body.Members
				drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: kind, Key: r.Key, Members: r.Body.Members}, To: graph.Audience{Self: true}})
			case graph.KindCard:
				d, err := b.cardDraft(ctx, r.Key, *r.Body.Card, members[r.Key])
				if err != nil {
					return 0, err
				}
				drafts = append(drafts, d)
			default:
				drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: kind, Key: r.Key, Card: r.Body.Card}, To: graph.Audience{Self: true}})
			}
		}
	}
	for c := range slices.Chunk(drafts, carryBatch) {
		if _, err := b.append(ctx, c...); err != nil {
			return 0, fmt.Errorf("carrying the book of %s over: %w", old, err)
		}
	}
	return len(drafts), nil
}

// FollowRotation moves my connection old to next, its new identity, after
// a verified rotation: a connection record for next and a tombstone for
// old, next in old's place in my circles (their cards re-issued: sealed to
// next once its keys entry has synced, see [Book.Reissue]), and my notes on
// old moved to next, so the linked contact keeps them. It reports false
// and writes nothing when old is not a live connection of mine.
func (b *Book) FollowRotation(ctx context.Context, old, next peer.ID) (bool, error) {
	if ok, err := b.IsConnection(ctx, old); err != nil || !ok {
		return false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rs, err := b.circleRecords(ctx)
	if err != nil {
		return false, err
	}
	cards, err := b.cards(ctx)
	if err != nil {
		return false, err
	}
	drafts := []graph.Draft{{Body: graph.Body{Kind: graph.KindConnection, Key: next.String()}, To: graph.Audience{Self: true}}}
	for _, r := range rs {
		if !slices.Contains(r.Body.Members, old.String()) {
			continue
		}
		ms := slices.DeleteFunc(slices.Clone(r.Body.Members), func(m string) bool { return m == old.String() || m == next.String() })
		ms = append(ms, next.String())
		slices.Sort(ms)
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: r.Key, Members: ms}, To: graph.Audience{Self: true}})
		if card, ok := cards[r.Key]; ok {
			d, err := b.cardDraft(ctx, r.Key, card, ms)
			if err != nil {
				return false, err
			}
			drafts = append(drafts, d)
		}
	}
	if notes, ok, err := b.notesOn(ctx, old); err != nil {
		return false, err
	} else if ok {
		drafts = append(drafts, selfDraft(graph.KindContact, next.String(), &notes), selfDraft(graph.KindContact, old.String(), nil))
	}
	drafts = append(drafts, selfDraft(graph.KindConnection, old.String(), nil))
	if _, err := b.append(ctx, drafts...); err != nil {
		return false, fmt.Errorf("moving connection %s to %s: %w", old, next, err)
	}
	return true, nil
}
