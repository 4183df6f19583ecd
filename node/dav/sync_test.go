package dav

import (
	"maps"
	"slices"
	"testing"
)

// TestSyncLogBounded: the log remembers at most max changes; a token
// from before the oldest it keeps is refused (the client lists again),
// later ones still get exactly what changed; another log's token is
// refused.
func TestSyncLogBounded(t *testing.T) {
	l := newSyncLog()
	l.max = 3
	state := func(kv ...string) []member {
		var ms []member
		for i := 0; i+1 < len(kv); i += 2 {
			ms = append(ms, member{name: kv[i], etag: kv[i+1]})
		}
		return ms
	}
	t1 := l.token(l.observe(state("a", "1", "b", "1")))
	if got := l.token(l.observe(state("b", "1", "a", "1"))); got != t1 {
		t.Fatalf("an unchanged listing moved the token: %s, want %s", got, t1)
	}
	t2 := l.token(l.observe(state("a", "2", "b", "1", "c", "1"))) // a, c
	t3 := l.token(l.observe(state("a", "2", "c", "1")))           // b
	for _, tc := range []struct {
		tok  string
		want []string
	}{
		{t1, []string{"a", "b", "c"}},
		{t2, []string{"b"}},
		{t3, nil},
	} {
		got, ok := l.since(tc.tok)
		if !ok || !slices.Equal(slices.Sorted(maps.Keys(got)), tc.want) {
			t.Errorf("since(%s) = %v, %v; want %v", tc.tok, got, ok, tc.want)
		}
	}
	l.observe(state("a", "3", "c", "2")) // a, c: 4 changes, one dropped
	if got, ok := l.since(t1); ok {
		t.Errorf("since(%s) = %v after its changes were dropped; want refused", t1, got)
	}
	if got, ok := l.since(t2); !ok || !slices.Equal(slices.Sorted(maps.Keys(got)), []string{"a", "b", "c"}) {
		t.Errorf("since(%s) = %v, %v; want a b c", t2, got, ok)
	}
	if len(l.changes) > l.max {
		t.Errorf("%d changes kept, over %d", len(l.changes), l.max)
	}
	other := newSyncLog()
	other.observe(state("a", "1"))
	for _, tok := range []string{other.token(1), l.token(99), "", "nonsense", syncTokenPrefix + l.epoch + "/x"} {
		if _, ok := l.since(tok); ok {
			t.Errorf("since(%q) accepted", tok)
		}
	}
}
