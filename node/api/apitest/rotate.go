package apitest

import (
	"testing"

	"github.com/kith-p2p/kith/node/api"
)

// testRotateErrors: a rotation needs this identity's own recovery phrase;
// a malformed phrase is refused as invalid, another person's as
// ErrWrongPhrase, and the log is left as it was.
func testRotateErrors(t *testing.T, a api.API) {
	ctx := t.Context()
	before := logLen(t, a)
	const other = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	for _, tc := range []struct {
		name, phrase string
		want         error
	}{
		{"empty", "", api.ErrInvalid},
		{"misspelled", "abandn" + other[len("abandon"):], api.ErrInvalid},
		{"too short", "abandon abandon art", api.ErrInvalid},
		{"another person's", other, api.ErrWrongPhrase},
	} {
		_, err := a.Rotate(ctx, api.RotateRequest{Phrase: tc.phrase})
		wantErr(t, err, tc.want, "Rotate with "+tc.name+" phrase")
	}
	if got := logLen(t, a); got != before {
		t.Errorf("log grew from %d to %d entries after refused rotations", before, got)
	}
}
