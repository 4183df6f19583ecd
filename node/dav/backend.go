package dav

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	govcard "github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/node/api"
)

// Book is what the server needs of the node: the address book's part of
// node/api.API.
type Book interface {
	Contacts(ctx context.Context) ([]api.Contact, error)
	Contact(ctx context.Context, ref string) (*api.Contact, error)
	LookupContacts(ctx context.Context, q api.ContactLookup) ([]api.Contact, error)
	AddContacts(ctx context.Context, cards []graph.Card) ([]api.ContactRef, error)
	EditContact(ctx context.Context, ref string, card graph.Card) (*api.Contact, error)
	RemoveContact(ctx context.Context, ref string) error
}

// The collection's paths. go-webdav tells a principal, a home set, a
// collection and an object apart by how many segments follow the prefix.
const (
	// principal is the one user's principal, which both services name
	// (served by servePrincipal).
	principal     = "/principals/" + Username + "/"
	cardPrefix    = "/carddav"
	principalPath = cardPrefix + "/" + Username + "/"
	homeSetPath   = principalPath + "books/"
	bookPath      = homeSetPath + "contacts/"
	cardExt       = ".vcf"
)

// MaxCard bounds one card a client sends (a photo is scaled down to fit
// an entry, but arrives whole).
const MaxCard = 4 << 20

// safeName is a resource name: what clients use (UUIDs, vdirsyncer's
// safe UIDs), nothing that could be read as a path.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,199}$`)

// cardBackend is carddav.Backend over a [Book].
type cardBackend struct {
	book Book
	// mu makes an ETag check and the write it guards one step.
	mu sync.Mutex

	// encoded caches the served encodings of local contacts by their
	// record's CID (the card's content and UID): a listing of 10,000
	// cards encodes only those that changed. A listing leaves the cards it
	// listed (listed of them); a GET adds one, up to maxExtraEncoded more.
	emu     sync.Mutex
	encoded map[string]*served
	listed  int
}

// maxExtraEncoded bounds the encodings cached beyond the last listing's.
const maxExtraEncoded = 1024

var _ carddav.Backend = (*cardBackend)(nil)

// nameOf is a contact's resource name (without .vcf): a connection's peer
// ID; else its UID when that is a safe name (a urn:uuid: UID as the bare
// UUID); else its id.
func nameOf(c *api.Contact) string {
	if c.Linked() {
		return c.ID
	}
	uid := strings.TrimPrefix(c.UID, "urn:uuid:")
	if safeName.MatchString(uid) {
		return uid
	}
	return c.ID
}

// served is one contact as served: the bytes graph/vcard wrote and its
// ETag.
type served struct {
	contact *api.Contact
	data    []byte
	etag    string
}

// encode writes c through graph/vcard, the code of `kith contacts export`,
// as vCard 3.0 (what every CardDAV client reads) with its UID first. Its
// ETag is a hash of those bytes.
func encode(c *api.Contact) (*served, error) { return encodeAs(c, false) }

// encodeAs is [encode], writing the card as vCard 4.0 when v4 (a client
// asked for it: 3.0 has no rank, PREF=2, only TYPE=pref). The ETag is the
// 3.0 card's either way: it names the contact's state, whichever version
// a client reads, so that a client's If-Match holds across both.
//
// The bytes are served as graph/vcard wrote them (GET and REPORT are
// answered in cards.go): go-vcard's encoder, which go-webdav would use,
// writes parameter values unquoted and escapes commas and backslashes of
// values again, so that a SORT-AS="a;b", a NICKNAME:Jim,Jimmie or an
// escaped semicolon would not read back as sent.
func encodeAs(c *api.Contact, v4 bool) (*served, error) {
	var buf bytes.Buffer
	if err := vcard.EncodeCard(&buf, book.WithUID(c.Card, c.UID), vcard.EncodeOptions{VCard3: true}); err != nil {
		return nil, fmt.Errorf("encoding contact %s: %w", c.ID, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	s := &served{contact: c, etag: hex.EncodeToString(sum[:16])}
	if v4 {
		buf.Reset()
		if err := vcard.EncodeCard(&buf, book.WithUID(c.Card, c.UID), vcard.EncodeOptions{}); err != nil {
			return nil, fmt.Errorf("encoding contact %s: %w", c.ID, err)
		}
	}
	s.data = buf.Bytes()
	return s, nil
}

// object returns s as go-webdav serves it: the card as go-vcard reads
// it, for go-webdav's filters (the bytes served are s.data).
func (s *served) object() (*carddav.AddressObject, error) {
	card, err := govcard.NewDecoder(bytes.NewReader(s.data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("re-reading contact %s: %w", s.contact.ID, err)
	}
	return &carddav.AddressObject{
		Path:          bookPath + nameOf(s.contact) + cardExt,
		ModTime:       s.contact.Updated,
		ContentLength: int64(len(s.data)),
		ETag:          s.etag,
		Card:          card,
	}, nil
}

func notFound(format string, args ...any) error {
	return webdav.NewHTTPError(http.StatusNotFound, fmt.Errorf(format, args...))
}

// objectName returns the resource name of an object path, or an error
// for a path that is not one of the address book's objects.
func objectName(p string) (string, error) {
	dir, file := path.Split(p)
	if dir != bookPath {
		return "", notFound("no address book at %s (it is %s)", dir, bookPath)
	}
	name, ok := strings.CutSuffix(file, cardExt)
	if !ok || !safeName.MatchString(name) {
		return "", webdav.NewHTTPError(http.StatusBadRequest,
			fmt.Errorf("%q is not a card's name: use letters, digits and _ . @ + - (at most 200), ending in %s", file, cardExt))
	}
	return name, nil
}

// list returns every contact.
func (b *cardBackend) list(ctx context.Context) ([]api.Contact, error) {
	return b.book.Contacts(ctx)
}

// encodeCached is [encodeAs], through the cache of encodings: the 3.0
// encodings of local contacts are kept (a 4.0 one, asked for rarely, and
// a connection's card are written each time).
func (b *cardBackend) encodeCached(c *api.Contact, v4 bool) (*served, error) {
	if c.CID == "" || v4 {
		return encodeAs(c, v4)
	}
	b.emu.Lock()
	s, ok := b.encoded[c.CID]
	b.emu.Unlock()
	if ok {
		return &served{contact: c, data: s.data, etag: s.etag}, nil
	}
	s, err := encodeAs(c, false)
	if err != nil {
		return nil, err
	}
	b.emu.Lock()
	if b.encoded == nil || len(b.encoded) >= b.listed+maxExtraEncoded {
		b.encoded = map[string]*served{}
	}
	b.encoded[c.CID] = &served{data: s.data, etag: s.etag}
	b.emu.Unlock()
	return s, nil
}

// encodeAll encodes every contact of a listing, through the cache, and
// leaves in the cache only these.
func (b *cardBackend) encodeAll(cs []api.Contact, v4 bool) ([]*served, error) {
	out := make([]*served, len(cs))
	keep := make(map[string]*served, len(cs))
	for i := range cs {
		s, err := b.encodeCached(&cs[i], v4)
		if err != nil {
			return nil, err
		}
		out[i] = s
		if cs[i].CID != "" && !v4 {
			keep[cs[i].CID] = &served{data: s.data, etag: s.etag}
		}
	}
	if !v4 {
		b.emu.Lock()
		b.encoded, b.listed = keep, len(keep)
		b.emu.Unlock()
	}
	return out, nil
}

// find returns the contact served as name, or nil: it looks the name up
// as a UID (bare, or a urn:uuid: UUID), then as a contact's id or a
// connection's peer ID, exactly, through the book's index, so that it
// costs the same in a book of ten cards or of ten thousand. held are the
// contacts that hold name (or urn:uuid:name) as a UID, merged into them,
// but are served at another name.
func (b *cardBackend) find(ctx context.Context, name string) (c *api.Contact, held []api.Contact, err error) {
	for _, q := range []api.ContactLookup{{UIDs: []string{name, "urn:uuid:" + name}}, {IDs: []string{name}}} {
		cs, err := b.book.LookupContacts(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		for i := range cs {
			if nameOf(&cs[i]) == name {
				return &cs[i], nil, nil
			}
		}
		if q.UIDs != nil {
			held = cs
		}
	}
	return nil, held, nil
}

// CurrentUserPrincipal implements webdav.UserPrincipalBackend.
func (b *cardBackend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return principal, nil
}

// AddressBookHomeSetPath implements carddav.Backend.
func (b *cardBackend) AddressBookHomeSetPath(ctx context.Context) (string, error) {
	return homeSetPath, nil
}

func theBook() carddav.AddressBook {
	return carddav.AddressBook{
		Path:            bookPath,
		Name:            "Kith",
		Description:     "My contacts and my connections' cards",
		MaxResourceSize: MaxCard,
		SupportedAddressData: []carddav.AddressDataType{
			{ContentType: govcard.MIMEType, Version: "3.0"},
			{ContentType: govcard.MIMEType, Version: "4.0"},
		},
	}
}

// ListAddressBooks implements carddav.Backend.
func (b *cardBackend) ListAddressBooks(ctx context.Context) ([]carddav.AddressBook, error) {
	return []carddav.AddressBook{theBook()}, nil
}

// GetAddressBook implements carddav.Backend.
func (b *cardBackend) GetAddressBook(ctx context.Context, p string) (*carddav.AddressBook, error) {
	if strings.TrimSuffix(p, "/")+"/" != bookPath {
		return nil, notFound("no address book at %s (it is %s)", p, bookPath)
	}
	ab := theBook()
	return &ab, nil
}

// CreateAddressBook implements carddav.Backend: there is one.
func (b *cardBackend) CreateAddressBook(ctx context.Context, ab *carddav.AddressBook) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("kith serves one address book; new ones cannot be made"))
}

// DeleteAddressBook implements carddav.Backend: refused.
func (b *cardBackend) DeleteAddressBook(ctx context.Context, p string) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("the address book cannot be deleted; delete contacts one by one"))
}

// GetAddressObject implements carddav.Backend.
func (b *cardBackend) GetAddressObject(ctx context.Context, p string, req *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	name, err := objectName(p)
	if err != nil {
		return nil, err
	}
	c, _, err := b.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, notFound("no card %s", p)
	}
	s, err := b.encodeCached(c, wantsV4(ctx))
	if err != nil {
		return nil, err
	}
	remember(ctx, name, s)
	return s.object()
}

// ListAddressObjects implements carddav.Backend.
func (b *cardBackend) ListAddressObjects(ctx context.Context, p string, req *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	if _, err := b.GetAddressBook(ctx, p); err != nil {
		return nil, err
	}
	cs, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	all, err := b.encodeAll(cs, wantsV4(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]carddav.AddressObject, 0, len(cs))
	for i, s := range all {
		remember(ctx, nameOf(&cs[i]), s)
		ao, err := s.object()
		if err != nil {
			return nil, err
		}
		out = append(out, *ao)
	}
	return out, nil
}

// QueryAddressObjects implements carddav.Backend.
func (b *cardBackend) QueryAddressObjects(ctx context.Context, p string, q *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	all, err := b.ListAddressObjects(ctx, p, &q.DataRequest)
	if err != nil {
		return nil, err
	}
	if len(q.PropFilters) == 0 {
		// An empty filter matches every card (RFC 6352 section 10.5);
		// go-webdav's Filter matches none.
		if q.Limit > 0 && q.Limit < len(all) {
			all = all[:q.Limit]
		}
		return all, nil
	}
	return carddav.Filter(q, all)
}

// preconditionFailed is a stale or unmet If-Match / If-None-Match.
func preconditionFailed(format string, args ...any) error {
	return webdav.NewHTTPError(http.StatusPreconditionFailed, fmt.Errorf(format, args...))
}

// checkMatch applies If-Match and If-None-Match to the current state
// (cur nil: no such resource).
func checkMatch(cur *served, ifMatch, ifNoneMatch webdav.ConditionalMatch) error {
	if ifMatch.IsSet() {
		if cur == nil {
			return preconditionFailed("If-Match: the card does not exist (any more); nothing was changed")
		}
		if !ifMatch.IsWildcard() {
			want, err := ifMatch.ETag()
			if err != nil {
				return webdav.NewHTTPError(http.StatusBadRequest, fmt.Errorf("If-Match: %v", err))
			}
			if want != cur.etag {
				return preconditionFailed("If-Match: the card changed since you read it (ETag %q, now %q); nothing was changed: read it again", want, cur.etag)
			}
		}
	}
	if ifNoneMatch.IsSet() && cur != nil {
		if ifNoneMatch.IsWildcard() {
			return preconditionFailed("If-None-Match: *: the card exists already; nothing was changed")
		}
		etag, err := ifNoneMatch.ETag()
		if err != nil {
			return webdav.NewHTTPError(http.StatusBadRequest, fmt.Errorf("If-None-Match: %v", err))
		}
		if etag == cur.etag {
			return preconditionFailed("If-None-Match: the card is still %q; nothing was changed", etag)
		}
	}
	return nil
}

// readCard reads the one card of a PUT through graph/vcard, as `kith
// contacts import` does.
func readCard(body []byte) (graph.Card, *statusError) {
	res, err := vcard.Decode(bytes.NewReader(body), vcard.Options{})
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, vcard.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		return graph.Card{}, &statusError{status, fmt.Errorf("reading the vCard: %v; nothing was changed", err)}
	}
	if len(res.Cards) != 1 {
		return graph.Card{}, &statusError{http.StatusBadRequest, fmt.Errorf("a card resource holds one vCard, not %d; nothing was changed", len(res.Cards))}
	}
	return res.Cards[0], nil
}

// statusError is an error and the HTTP status it gets.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }

type cardKey struct{}

// putCard returns the card of the PUT ctx serves, read by [readCard]
// from the bytes the client sent; else in, as go-webdav read it.
func putCard(ctx context.Context, in govcard.Card) (graph.Card, error) {
	if c, ok := ctx.Value(cardKey{}).(graph.Card); ok {
		return c, nil
	}
	var buf bytes.Buffer
	if err := govcard.NewEncoder(&buf).Encode(in); err != nil {
		return graph.Card{}, webdav.NewHTTPError(http.StatusBadRequest, fmt.Errorf("reading the vCard: %v", err))
	}
	c, serr := readCard(buf.Bytes())
	if serr != nil {
		return graph.Card{}, webdav.NewHTTPError(serr.status, serr.err)
	}
	return c, nil
}

// PutAddressObject implements carddav.Backend.
func (b *cardBackend) PutAddressObject(ctx context.Context, p string, in govcard.Card, opts *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	name, err := objectName(p)
	if err != nil {
		return nil, err
	}
	card, err := putCard(ctx, in)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, all, err := b.find(ctx, name)
	if err != nil {
		return nil, err
	}
	var cur *served
	if c != nil {
		if cur, err = encode(c); err != nil {
			return nil, err
		}
	}
	if err := checkMatch(cur, opts.IfMatch, opts.IfNoneMatch); err != nil {
		return nil, err
	}
	var ref string
	switch {
	case c == nil:
		ref, err = b.create(ctx, name, card, all)
	case c.Linked():
		ref, err = b.editLinked(ctx, c, card)
	default:
		ref, err = c.ID, b.edit(ctx, c, card)
	}
	if err != nil {
		return nil, err
	}
	if c != nil {
		replaced(ctx)
	}
	now, err := b.book.Contact(ctx, ref)
	if err != nil {
		return nil, err
	}
	s, err := encode(now)
	if err != nil {
		return nil, err
	}
	return s.object()
}

// create adds a new local contact from a card PUT at name: a card without
// a UID takes name as its UID, so that the contact is served where the
// client put it.
func (b *cardBackend) create(ctx context.Context, name string, card graph.Card, held []api.Contact) (string, error) {
	uid := book.UID(card)
	if uid == "" {
		uid = name
		card = book.WithUID(card, uid)
	}
	if _, ok := book.ParsePeerUID(uid); ok || strings.HasPrefix(uid, book.PeerUIDPrefix) {
		return "", webdav.NewHTTPError(http.StatusConflict, fmt.Errorf("the card's UID %s names a connection, whose card is served at its own name; it cannot be a new contact", uid))
	}
	// A contact found by the UID (its own, or one merged into it) is
	// served at another name. find looked name and urn:uuid:name up
	// already, under the same lock: held are those it found.
	if uid != name && uid != "urn:uuid:"+name {
		var err error
		if held, err = b.book.LookupContacts(ctx, api.ContactLookup{UIDs: []string{uid}}); err != nil {
			return "", err
		}
	}
	if len(held) > 0 {
		return "", carddav.NewPreconditionError(carddav.PreconditionNoUIDConflict)
	}
	refs, err := b.book.AddContacts(ctx, []graph.Card{card})
	if err != nil {
		return "", httpError(err)
	}
	if len(refs) != 1 {
		return "", fmt.Errorf("adding a contact: %d answers for one card", len(refs))
	}
	return refs[0].ID, nil
}

// edit replaces a local contact's card, keeping its UID.
func (b *cardBackend) edit(ctx context.Context, c *api.Contact, card graph.Card) error {
	if uid := book.UID(card); uid != "" && uid != c.UID {
		return webdav.NewHTTPError(http.StatusConflict, fmt.Errorf("the card's UID %s is not the contact's (%s): a UID cannot change; PUT a new card instead", uid, c.UID))
	}
	_, err := b.book.EditContact(ctx, c.ID, book.WithUID(card, c.UID))
	return httpError(err)
}

// editLinked sets my notes on a connection from a card PUT over theirs:
// every field their card shows must be there unchanged.
func (b *cardBackend) editLinked(ctx context.Context, c *api.Contact, card graph.Card) (string, error) {
	if uid := book.UID(card); uid != "" && uid != c.UID {
		return "", webdav.NewHTTPError(http.StatusConflict, fmt.Errorf("the card's UID %s is not the connection's (%s)", uid, c.UID))
	}
	var notes graph.Card
	if c.Notes != nil {
		notes = *c.Notes
	}
	theirs := book.Subtract(book.WithoutUID(c.Card), notes)
	for _, f := range theirs.Fields {
		if !hasValue(card, f) {
			return "", webdav.NewHTTPError(http.StatusForbidden, fmt.Errorf(
				"%s %q comes from %s's own card and is read-only here (only they change it); nothing was changed: keep their fields and add your own notes as other fields",
				strings.ToUpper(f.Name), f.Value, c.Name))
		}
	}
	_, err := b.book.EditContact(ctx, c.ID, book.WithoutUID(card))
	return c.ID, httpError(err)
}

// hasValue reports whether card holds a field of f's name and value.
func hasValue(card graph.Card, f graph.Field) bool {
	for _, g := range card.Fields {
		if g.Name == f.Name && g.Value == f.Value {
			return true
		}
	}
	return false
}

// DeleteAddressObject implements carddav.Backend. A connection's card
// cannot be deleted here (that is `kith disconnect`).
func (b *cardBackend) DeleteAddressObject(ctx context.Context, p string) error {
	name, err := objectName(p)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, _, err := b.find(ctx, name)
	if err != nil {
		return err
	}
	if c == nil {
		return notFound("no card %s", p)
	}
	if r := requestOf(ctx); r != nil {
		cur, err := encode(c)
		if err != nil {
			return err
		}
		if err := checkMatch(cur, webdav.ConditionalMatch(r.Header.Get("If-Match")), webdav.ConditionalMatch(r.Header.Get("If-None-Match"))); err != nil {
			return err
		}
	}
	if c.Linked() {
		return webdav.NewHTTPError(http.StatusForbidden, fmt.Errorf("%s is a connection: their card cannot be deleted here; end the connection with `kith disconnect %s`", c.Name, c.ID))
	}
	return httpError(b.book.RemoveContact(ctx, c.ID))
}

// httpError gives an API error its HTTP status.
func httpError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, api.ErrInvalid):
		return webdav.NewHTTPError(http.StatusBadRequest, err)
	case errors.Is(err, api.ErrTooLarge):
		return webdav.NewHTTPError(http.StatusRequestEntityTooLarge, err)
	case errors.Is(err, api.ErrNotFound):
		return webdav.NewHTTPError(http.StatusNotFound, err)
	case errors.Is(err, api.ErrNoLog):
		return webdav.NewHTTPError(http.StatusServiceUnavailable, err)
	}
	return err
}

type requestKey struct{}

// requestOf returns the request a backend call serves.
func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}
