package apitest

import (
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node/api"
)

// testDAV: the DAV server's switch: off, on with credentials that open
// it, a new password, off again; bad ports and a password while off are
// ErrInvalid.
func testDAV(t *testing.T, a api.API) {
	ctx := t.Context()
	st, err := a.DAVStatus(ctx)
	require.NoError(t, err)
	require.False(t, st.Enabled || st.Running)
	_, err = a.DAVPassword(ctx)
	wantErr(t, err, api.ErrInvalid, "DAVPassword while disabled")
	_, err = a.DAVEnable(ctx, api.DAVEnableRequest{Port: 70000})
	wantErr(t, err, api.ErrInvalid, "DAVEnable on port 70000")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	creds, err := a.DAVEnable(ctx, api.DAVEnableRequest{Port: port})
	require.NoError(t, err)
	require.NotEmpty(t, creds.Password)
	st, err = a.DAVStatus(ctx)
	require.NoError(t, err)
	require.True(t, st.Enabled && st.Running)
	require.Equal(t, creds.URL, st.URL)
	require.Equal(t, port, st.Port)

	propfind := func(password string) int {
		req, err := http.NewRequestWithContext(ctx, "PROPFIND", creds.URL, nil)
		require.NoError(t, err)
		req.Header.Set("Depth", "0")
		req.SetBasicAuth(creds.Username, password)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusMultiStatus, propfind(creds.Password))
	again, err := a.DAVPassword(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, propfind(creds.Password))
	require.Equal(t, http.StatusMultiStatus, propfind(again.Password))

	require.NoError(t, a.DAVDisable(ctx))
	st, err = a.DAVStatus(ctx)
	require.NoError(t, err)
	require.False(t, st.Enabled || st.Running)
}
