package dav

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func listing(kv ...string) []member {
	var ms []member
	for i := 0; i+1 < len(kv); i += 2 {
		ms = append(ms, member{name: kv[i], etag: kv[i+1]})
	}
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
	return ms
}

// TestSyncLogBounded: the log remembers at most max changes; a token
// from before the oldest it keeps is refused (the client lists again),
// later ones still get exactly what changed; a token of another log
// (another run) is refused unless the collection is as it was then.
func TestSyncLogBounded(t *testing.T) {
	l := newSyncLog()
	l.max = 3
	s1 := l.observe(listing("a", "1", "b", "1"))
	if got := l.observe(listing("b", "1", "a", "1")); got != s1 {
		t.Fatalf("an unchanged listing moved the token: %s, want %s", got.token, s1.token)
	}
	s2 := l.observe(listing("a", "2", "b", "1", "c", "1")) // a, c
	s3 := l.observe(listing("a", "2", "c", "1"))           // b
	for _, tc := range []struct {
		tok  string
		now  snapshot
		want []string
	}{
		{s1.token, s3, []string{"a", "b", "c"}},
		{s2.token, s3, []string{"b"}},
		{s3.token, s3, nil},
		{s1.token, s2, []string{"a", "c"}}, // a listing before s3's: not its changes
	} {
		got, ok := l.since(tc.tok, tc.now)
		if !ok || !slices.Equal(slices.Sorted(maps.Keys(got)), tc.want) {
			t.Errorf("since(%s, %d) = %v, %v; want %v", tc.tok, tc.now.seq, got, ok, tc.want)
		}
	}
	s4 := l.observe(listing("a", "3", "c", "2")) // a, c: 4 changes, one dropped
	if got, ok := l.since(s1.token, s4); ok {
		t.Errorf("since(%s) = %v after its changes were dropped; want refused", s1.token, got)
	}
	if got, ok := l.since(s2.token, s4); !ok || !slices.Equal(slices.Sorted(maps.Keys(got)), []string{"a", "b", "c"}) {
		t.Errorf("since(%s) = %v, %v; want a b c", s2.token, got, ok)
	}
	if len(l.changes) > l.max {
		t.Errorf("%d changes kept, over %d", len(l.changes), l.max)
	}

	// Another run: its tokens are unknown, but one whose collection is
	// as it is now has nothing to fetch.
	next := newSyncLog()
	now := next.observe(listing("a", "3", "c", "2"))
	if got, ok := next.since(s4.token, now); !ok || len(got) != 0 {
		t.Errorf("after a restart, since(%s) = %v, %v; want nothing changed", s4.token, got, ok)
	}
	for _, tok := range []string{s3.token, s1.token, "nonsense", syncTokenPrefix + l.epoch + "/x", syncTokenPrefix + next.epoch + "/99/00"} {
		if got, ok := next.since(tok, now); ok {
			t.Errorf("since(%q) = %v, accepted", tok, got)
		}
	}
}
