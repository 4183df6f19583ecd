package apitest

import (
	"testing"

	"github.com/kith-p2p/kith/node/api"
)

// testRotateErrors: a rotation needs this identity's own recovery phrase;
// a misspelled phrase or another person's is refused as invalid, and the
// log is left as it was.
func testRotateErrors(t *testing.T, a api.API) {
	ctx := t.Context()
	before := logLen(t, a)
	const other = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	for _, tc := range []struct{ name, phrase string }{
		{"empty", ""},
		{"misspelled", "abandn" + other[len("abandon"):]},
		{"too short", "abandon abandon art"},
		{"another person's", other},
	} {
		_, err := a.Rotate(ctx, api.RotateRequest{Phrase: tc.phrase})
		wantErr(t, err, api.ErrInvalid, "Rotate with "+tc.name+" phrase")
	}
	if got := logLen(t, a); got != before {
		t.Errorf("log grew from %d to %d entries after refused rotations", before, got)
	}
}
