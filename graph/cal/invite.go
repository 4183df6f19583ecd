package cal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/ical"
)

// Invitations and answers (spec/SPEC.md "Events"): an event with Kith
// attendees (ATTENDEE lines with an X-KITH-PEER parameter) is sealed to its
// organizer and those attendees, so its edits, cancellation and removal
// reach them through sync like any change. An attendee's answer is an
// `rsvp` record in the attendee's own log, key "<organizer>/<UID>", whose
// `ev` holds an iTIP REPLY (one VEVENT: UID, SEQUENCE, ORGANIZER and the
// attendee's own ATTENDEE line with PARTSTAT) and `sq` the SEQUENCE
// answered, sealed to the organizer and the attendees.

// PeerParam is the ATTENDEE and ORGANIZER parameter that names a Kith peer.
const PeerParam = "X-KITH-PEER"

// MaxReplyICS bounds an rsvp record's iCalendar text.
const MaxReplyICS = 4 << 10

// Answers a person can give, by PARTSTAT.
var partstats = map[string]string{
	"accept": "ACCEPTED", "accepted": "ACCEPTED",
	"decline": "DECLINED", "declined": "DECLINED",
	"tentative": "TENTATIVE",
}

// ParsePartStat returns the PARTSTAT of an answer: accept, decline or
// tentative (or the PARTSTAT itself).
func ParsePartStat(s string) (string, error) {
	if p, ok := partstats[strings.ToLower(strings.TrimSpace(s))]; ok {
		return p, nil
	}
	return "", graph.Invalidf("answer %q: want accept, decline or tentative", s)
}

// Invitee is a connection invited to an event.
type Invitee struct {
	Peer peer.ID
	Name string // its CN, may be ""
}

// Reply is an attendee's answer as their log holds it.
type Reply struct {
	Peer     string `json:"peer"`
	PartStat string `json:"partstat"`
	// Sequence is the event's SEQUENCE the answer was given to; below the
	// event's own, the event changed since.
	Sequence int  `json:"sequence"`
	Current  bool `json:"current"`
}

// PeerAddress is the calendar address Kith writes for a peer without one.
func PeerAddress(p peer.ID) string { return "urn:kith:" + p.String() }

// RSVPKey is the key of an answer to the event uid organized by org.
func RSVPKey(org peer.ID, uid string) string { return org.String() + "/" + uid }

// peerOf returns the peer an ATTENDEE or ORGANIZER names.
func peerOf(a *ical.Attendee) (peer.ID, bool) {
	if a == nil || a.Peer == "" {
		return "", false
	}
	p, err := peer.Decode(a.Peer)
	return p, err == nil
}

// myReader returns me as a reader: my peer ID and encryption key.
func (c *Calendar) myReader(ctx context.Context) (graph.Reader, error) {
	k, err := c.store.Record(ctx, c.self, graph.KindKeys, "")
	if err != nil {
		return graph.Reader{}, fmt.Errorf("reading my encryption key: %w", err)
	}
	return graph.Reader{ID: c.self, EncKey: k.Body.Enc}, nil
}

// readerOf returns p as a reader, ok false when this node holds no usable
// encryption key of p yet.
func (c *Calendar) readerOf(ctx context.Context, p peer.ID) (graph.Reader, bool, error) {
	return graph.ReaderOf(ctx, c.store, p)
}

// audience returns who ev's record is sealed to: me alone, or me, its
// organizer and its Kith attendees whose keys this node holds.
func (c *Calendar) audience(ctx context.Context, ev *ical.Event) (graph.Audience, error) {
	var peers []peer.ID
	if p, ok := peerOf(ev.Organizer()); ok && p != c.self {
		peers = append(peers, p)
	}
	for _, a := range ev.Attendees() {
		if p, ok := peerOf(&a); ok && p != c.self {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return graph.Audience{Self: true}, nil
	}
	return c.readers(ctx, peers)
}

// readers returns me and peers (those with a known key) as an audience.
func (c *Calendar) readers(ctx context.Context, peers []peer.ID) (graph.Audience, error) {
	me, err := c.myReader(ctx)
	if err != nil {
		return graph.Audience{}, err
	}
	rs := []graph.Reader{me}
	for _, p := range peers {
		r, ok, err := c.readerOf(ctx, p)
		if err != nil {
			return graph.Audience{}, err
		}
		if ok && !slices.ContainsFunc(rs, func(x graph.Reader) bool { return x.ID == p }) {
			rs = append(rs, r)
		}
	}
	return graph.Audience{Readers: rs}, nil
}

// sealedDraft is the record of ev sealed to its audience.
func (c *Calendar) sealedDraft(ctx context.Context, ev *ical.Event) (graph.Draft, error) {
	d, err := draft(ev)
	if err != nil {
		return d, err
	}
	d.To, err = c.audience(ctx, ev)
	return d, err
}

// Invite adds who as attendees of my event uid (ORGANIZER: me) and seals
// it to them. Each must be a connection whose encryption key this node
// holds.
func (c *Calendar) Invite(ctx context.Context, uid string, me Invitee, who []Invitee) (*Event, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	if len(who) == 0 {
		return nil, graph.Invalidf("whom to invite? name one or more connections")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, r, err := c.liveLocked(ctx, uid)
	if err != nil {
		return nil, err
	}
	m := ev.Master
	if m == nil {
		return nil, graph.Invalidf("event %q has no master VEVENT (only overrides of single instances): it cannot be sent", uid)
	}
	if p, ok := peerOf(ev.Organizer()); ok && p != c.self {
		return nil, graph.Invalidf("event %q is organized by %s, not me: only its organizer invites", uid, p)
	}
	org := goical.NewProp(goical.PropOrganizer)
	org.Value = PeerAddress(c.self)
	org.Params.Set(PeerParam, c.self.String())
	if me.Name != "" {
		org.Params.Set(goical.ParamCommonName, me.Name)
	}
	m.Props.Set(org)
	have := map[string]bool{}
	for _, a := range ev.Attendees() {
		have[a.Peer] = true
	}
	for _, w := range who {
		if w.Peer == c.self {
			continue
		}
		if _, ok, err := c.readerOf(ctx, w.Peer); err != nil {
			return nil, err
		} else if !ok {
			return nil, graph.Invalidf("this node holds no encryption key of %s yet: wait until it has synced with them (kith peers), then invite again", w.Peer)
		}
		if have[w.Peer.String()] {
			continue
		}
		have[w.Peer.String()] = true
		a := goical.NewProp(goical.PropAttendee)
		a.Value = PeerAddress(w.Peer)
		if w.Name != "" {
			a.Params.Set(goical.ParamCommonName, w.Name)
		}
		a.Params.Set(goical.ParamRole, "REQ-PARTICIPANT")
		a.Params.Set(goical.ParamParticipationStatus, "NEEDS-ACTION")
		a.Params.Set(goical.ParamRSVP, "TRUE")
		a.Params.Set(PeerParam, w.Peer.String())
		m.Props.Add(a)
	}
	stamp(m, c.now())
	if err := ev.Check(); err != nil {
		return nil, graph.Invalidf("%v", err)
	}
	d, err := c.sealedDraft(ctx, ev)
	if err != nil {
		return nil, err
	}
	if d.Body.Event.ICS != r.Body.Event.ICS {
		if err := c.appendLocked(ctx, d); err != nil {
			return nil, err
		}
	}
	return c.withReplies(ctx, c.self, view(ev, d.Body.Event.ICS))
}

// Cancel cancels my event uid: STATUS:CANCELLED, its SEQUENCE raised,
// sealed to its attendees like any change. It leaves every agenda and
// stays in `events show`.
func (c *Calendar) Cancel(ctx context.Context, uid string) (*Event, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, _, err := c.liveLocked(ctx, uid)
	if err != nil {
		return nil, err
	}
	if ev.Master == nil {
		return nil, graph.Invalidf("event %q has no master VEVENT to cancel", uid)
	}
	if p, ok := peerOf(ev.Organizer()); ok && p != c.self {
		return nil, graph.Invalidf("event %q is organized by %s: only its organizer cancels it (kith events rsvp %s decline answers it)", uid, p, uid)
	}
	if ev.Status() == "CANCELLED" {
		return c.withReplies(ctx, c.self, view(ev, ""))
	}
	ev.Master.Props.SetText(goical.PropStatus, "CANCELLED")
	ev.SetSequence(ev.Sequence() + 1)
	stamp(ev.Master, c.now())
	d, err := c.sealedDraft(ctx, ev)
	if err != nil {
		return nil, err
	}
	if err := c.appendLocked(ctx, d); err != nil {
		return nil, err
	}
	return c.withReplies(ctx, c.self, view(ev, d.Body.Event.ICS))
}

func stamp(m *goical.Component, now time.Time) {
	for _, name := range []string{goical.PropDateTimeStamp, goical.PropLastModified} {
		p := goical.NewProp(name)
		p.Value = now.UTC().Format("20060102T150405Z")
		m.Props.Set(p)
	}
}

// invitation is an event of a connection's log that invites me.
type invitation struct {
	org peer.ID
	r   *graph.Record
	ev  *ical.Event
}

// checkInvitation reads an event record of org's log as an invitation to
// me: it parses like an import, its organizer is org and I am among its
// attendees.
func (c *Calendar) checkInvitation(org peer.ID, r *graph.Record) (*ical.Event, error) {
	if r.Body.Del || r.Body.Event == nil || len(r.Body.Event.ICS) > graph.MaxEventICS {
		return nil, fmt.Errorf("event record %q of %s: no iCalendar text, or too large", r.Key, org)
	}
	ev, err := parse(r)
	if err != nil {
		return nil, err
	}
	if err := ev.Check(); err != nil {
		return nil, err
	}
	if p, ok := peerOf(ev.Organizer()); !ok || p != org {
		return nil, fmt.Errorf("event %q of %s: its ORGANIZER is not %s", r.Key, org, org)
	}
	if !slices.ContainsFunc(ev.Attendees(), func(a ical.Attendee) bool { return a.Peer == c.self.String() }) {
		return nil, fmt.Errorf("event %q of %s: I am not among its attendees", r.Key, org)
	}
	return ev, nil
}

// invitations returns the events my connections' logs invite me to.
func (c *Calendar) invitations(ctx context.Context, uid string) ([]invitation, error) {
	conns, err := c.store.Records(ctx, c.self, graph.KindConnection)
	if err != nil {
		return nil, err
	}
	var out []invitation
	for _, cr := range conns {
		org, err := peer.Decode(cr.Key)
		if err != nil {
			continue
		}
		var rs []*graph.Record
		if uid != "" {
			r, err := c.store.Record(ctx, org, graph.KindEvent, uid)
			switch {
			case errors.Is(err, graph.ErrNotFound):
				continue
			case err != nil:
				return nil, err
			}
			rs = []*graph.Record{r}
		} else if rs, err = c.store.Records(ctx, org, graph.KindEvent); err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.Body.Del {
				continue
			}
			ev, err := c.checkInvitation(org, r)
			if err != nil {
				continue // not for me, or broken: never shown
			}
			out = append(out, invitation{org: org, r: r, ev: ev})
		}
	}
	return out, nil
}

// invitation returns the invitation uid; graph.ErrNotFound if none.
func (c *Calendar) invitation(ctx context.Context, uid string) (*invitation, error) {
	invs, err := c.invitations(ctx, uid)
	if err != nil {
		return nil, err
	}
	if len(invs) == 0 {
		return nil, graph.NotFoundf("no event %q, mine or an invitation (kith events list shows the UIDs)", uid)
	}
	return &invs[0], nil
}

// RSVP answers the invitation uid (accept, decline, tentative): an rsvp
// record in my log, sealed to the organizer and the attendees.
func (c *Calendar) RSVP(ctx context.Context, uid, answer string) (*Event, error) {
	if err := c.w.CanWrite(); err != nil {
		return nil, err
	}
	ps, err := ParsePartStat(answer)
	if err != nil {
		return nil, err
	}
	inv, err := c.invitation(ctx, uid)
	if err != nil {
		return nil, err
	}
	var mine ical.Attendee
	var peers []peer.ID
	for _, a := range inv.ev.Attendees() {
		if a.Peer == c.self.String() {
			mine = a
		} else if p, ok := peerOf(&a); ok {
			peers = append(peers, p)
		}
	}
	seq := inv.ev.Sequence()
	text, err := encodeReply(uid, inv.org, inv.ev.Organizer(), c.self, mine, ps, seq, c.now())
	if err != nil {
		return nil, err
	}
	aud, err := c.readers(ctx, append([]peer.ID{inv.org}, peers...))
	if err != nil {
		return nil, err
	}
	d := graph.Draft{
		Body: graph.Body{Kind: graph.KindRSVP, Key: RSVPKey(inv.org, uid), Event: &graph.Event{ICS: text, Seq: uint64(seq)}},
		To:   aud,
	}
	c.mu.Lock()
	err = c.appendLocked(ctx, d)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c.withReplies(ctx, inv.org, invitedView(inv))
}

func invitedView(inv *invitation) *Event {
	v := view(inv.ev, inv.r.Body.Event.ICS)
	v.From = inv.org.String()
	return v
}

// encodeReply writes an iTIP REPLY: the answer ps of me (my ATTENDEE line
// a) to SEQUENCE seq of the event uid organized by org.
func encodeReply(uid string, org peer.ID, orgLine *ical.Attendee, me peer.ID, a ical.Attendee, ps string, seq int, now time.Time) (string, error) {
	cal := goical.NewCalendar()
	cal.Props.SetText(goical.PropVersion, "2.0")
	cal.Props.SetText(goical.PropProductID, "-//Kith//Kith//EN")
	cal.Props.SetText(goical.PropMethod, "REPLY")
	ev := goical.NewEvent()
	ev.Props.SetText(goical.PropUID, uid)
	stamp(ev.Component, now)
	ev.Props.Del(goical.PropLastModified)
	sq := goical.NewProp(goical.PropSequence)
	sq.Value = strconv.Itoa(seq)
	ev.Props.Set(sq)
	o := goical.NewProp(goical.PropOrganizer)
	o.Value = PeerAddress(org)
	if orgLine != nil && orgLine.Address != "" {
		o.Value = orgLine.Address
	}
	o.Params.Set(PeerParam, org.String())
	ev.Props.Set(o)
	at := goical.NewProp(goical.PropAttendee)
	at.Value = PeerAddress(me)
	if a.Address != "" {
		at.Value = a.Address
	}
	if a.Name != "" {
		at.Params.Set(goical.ParamCommonName, a.Name)
	}
	at.Params.Set(goical.ParamParticipationStatus, ps)
	at.Params.Set(PeerParam, me.String())
	ev.Props.Set(at)
	cal.Children = append(cal.Children, ev.Component)
	var b bytes.Buffer
	if err := goical.NewEncoder(&b).Encode(cal); err != nil {
		return "", fmt.Errorf("writing the answer to %q: %w", uid, err)
	}
	if b.Len() > MaxReplyICS {
		return "", fmt.Errorf("%w: the answer to %q is over %d bytes", graph.ErrTooLarge, uid, MaxReplyICS)
	}
	return b.String(), nil
}

// CheckReply reads an rsvp record of author's log as an answer to the
// event uid organized by org and returns its PARTSTAT and SEQUENCE. It
// checks what a friend sent as local input is checked: the key, the size,
// one VEVENT of that UID, the organizer, one ATTENDEE that is the author,
// a PARTSTAT a person can give and the SEQUENCE the record says.
func CheckReply(r *graph.Record, author, org peer.ID, uid string) (string, int, error) {
	bad := func(format string, args ...any) (string, int, error) {
		return "", 0, fmt.Errorf("%w: answer of %s to %q: %s", graph.ErrInvalid, author, uid, fmt.Sprintf(format, args...))
	}
	if r.Kind != graph.KindRSVP || r.Key != RSVPKey(org, uid) || r.Body.Del || r.Body.Event == nil {
		return bad("not an rsvp record %q", RSVPKey(org, uid))
	}
	text := r.Body.Event.ICS
	if len(text) > MaxReplyICS {
		return bad("%d bytes, over %d", len(text), MaxReplyICS)
	}
	// graph/ical checks each line before go-ical reads it (go-ical panics
	// on some malformed parameters).
	res, err := ical.Decode(strings.NewReader(text), ical.Options{})
	if err != nil {
		return bad("%v", err)
	}
	if len(res.Events) != 1 || res.Events[0].Master == nil || len(res.Events[0].Overrides) > 0 {
		return bad("want one VEVENT")
	}
	ev := res.Events[0].Master
	if u, _ := ev.Props.Text(goical.PropUID); u != uid {
		return bad("its UID is %q", u)
	}
	op := ev.Props.Get(goical.PropOrganizer)
	if op == nil || op.Params.Get(PeerParam) != org.String() {
		return bad("its ORGANIZER is not %s", org)
	}
	as := ev.Props.Values(goical.PropAttendee)
	if len(as) != 1 || as[0].Params.Get(PeerParam) != author.String() {
		return bad("want one ATTENDEE, its author")
	}
	ps := strings.ToUpper(as[0].Params.Get(goical.ParamParticipationStatus))
	if ps != "ACCEPTED" && ps != "DECLINED" && ps != "TENTATIVE" {
		return bad("PARTSTAT %q", ps)
	}
	sp := ev.Props.Get(goical.PropSequence)
	if sp == nil {
		return bad("no SEQUENCE")
	}
	seq, err := strconv.Atoi(strings.TrimSpace(sp.Value))
	if err != nil || seq < 0 || uint64(seq) != r.Body.Event.Seq {
		return bad("SEQUENCE %q does not match sq %d", sp.Value, r.Body.Event.Seq)
	}
	return ps, seq, nil
}

// withReplies fills v's attendees' answers from their logs (the event
// organized by org).
func (c *Calendar) withReplies(ctx context.Context, org peer.ID, v *Event) (*Event, error) {
	for i := range v.Attendees {
		a := &v.Attendees[i]
		p, ok := peerOf(a)
		if !ok {
			continue
		}
		r, err := c.store.Record(ctx, p, graph.KindRSVP, RSVPKey(org, v.UID))
		if errors.Is(err, graph.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ps, seq, err := CheckReply(r, p, org, v.UID)
		if err != nil {
			continue // a broken answer is no answer
		}
		a.PartStat = ps
		v.Replies = append(v.Replies, Reply{Peer: p.String(), PartStat: ps, Sequence: seq, Current: seq >= v.Sequence})
	}
	return v, nil
}

// Invitations returns the events my connections invite me to (those of
// uids, or all), each as its organizer wrote it but with every Kith
// attendee's PARTSTAT set to their answer to its current SEQUENCE, mine
// included: what a calendar app shows (node/dav serves them beside my
// events). An invitation whose UID is one of my events, or was, is left
// out, as [Calendar.Show] leaves it out.
func (c *Calendar) Invitations(ctx context.Context, uids []string) ([]*Event, error) {
	var invs []invitation
	if len(uids) == 0 {
		all, err := c.invitations(ctx, "")
		if err != nil {
			return nil, err
		}
		invs = all
	}
	for _, uid := range uids {
		some, err := c.invitations(ctx, uid)
		if err != nil {
			return nil, err
		}
		invs = append(invs, some...)
	}
	c.mu.Lock()
	mine, err := c.eventsLocked(ctx)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*Event
	for i := range invs {
		inv := &invs[i]
		if mine[inv.ev.UID] != nil || seen[inv.ev.UID] {
			continue
		}
		seen[inv.ev.UID] = true
		v, err := c.withReplies(ctx, inv.org, invitedView(inv))
		if err != nil {
			return nil, err
		}
		answers := map[string]string{}
		for _, r := range v.Replies {
			if r.Current {
				answers[r.Peer] = r.PartStat
			}
		}
		for _, part := range append([]*goical.Component{inv.ev.Master}, inv.ev.Overrides...) {
			if part == nil {
				continue
			}
			ats := part.Props[goical.PropAttendee]
			for j := range ats {
				if ps, ok := answers[ats[j].Params.Get(PeerParam)]; ok {
					ats[j].Params.Set(goical.ParamParticipationStatus, ps)
				}
			}
		}
		text, err := ical.EncodeEvent(inv.ev)
		if err != nil {
			return nil, fmt.Errorf("encoding the invitation %q of %s: %w", inv.ev.UID, inv.org, err)
		}
		v.ICS = string(text)
		out = append(out, v)
	}
	return out, nil
}
