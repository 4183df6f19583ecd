package spec

import (
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"
)

func decModeLoose(tb testing.TB) cbor.DecMode {
	tb.Helper()
	dm, err := cbor.DecOptions{}.DecMode()
	require.NoError(tb, err)
	return dm
}
