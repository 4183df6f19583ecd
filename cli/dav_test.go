package cli

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestDAV: enable prints credentials that open the address book, status
// says where it is, a new password replaces the old, disable stops it.
func TestDAV(t *testing.T) {
	d := startDaemon(t)
	port := freePort(t)

	var creds struct {
		URL      string `json:"url"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	decodeJSON(t, d.ok(t, "dav", "enable", "--port", fmt.Sprint(port), "--json"), &creds)
	if creds.URL != fmt.Sprintf("http://127.0.0.1:%d/", port) || creds.Username != "kith" || len(creds.Password) < 20 {
		t.Fatalf("kith dav enable --json = %+v", creds)
	}
	status := func(user, password string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "PROPFIND", creds.URL+"carddav/kith/books/contacts/", nil)
		req.Header.Set("Depth", "0")
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(creds.Username, creds.Password); got != http.StatusMultiStatus {
		t.Fatalf("PROPFIND with the printed credentials = %d", got)
	}
	var st struct {
		Enabled bool   `json:"enabled"`
		Running bool   `json:"running"`
		URL     string `json:"url"`
	}
	decodeJSON(t, d.ok(t, "dav", "status", "--json"), &st)
	if !st.Enabled || !st.Running || st.URL != creds.URL {
		t.Fatalf("kith dav status --json = %+v", st)
	}
	if out := d.ok(t, "dav", "status"); !strings.Contains(out, creds.URL) {
		t.Fatalf("kith dav status = %q", out)
	}
	out := d.ok(t, "dav", "password")
	if !strings.Contains(out, "password") || strings.Contains(out, creds.Password) {
		t.Fatalf("kith dav password = %q", out)
	}
	if got := status(creds.Username, creds.Password); got != http.StatusUnauthorized {
		t.Fatalf("the old password after kith dav password: %d, want 401", got)
	}
	d.ok(t, "dav", "disable")
	if out := d.ok(t, "dav", "status"); !strings.Contains(out, "off") {
		t.Fatalf("kith dav status after disable = %q", out)
	}
	d.fail(t, exitInvalid, []string{"kith dav enable"}, "dav", "password")
}

// TestDAVListen: off 127.0.0.1 the server is HTTPS, and the text output
// shows the fingerprint to compare; a host name is refused with why.
func TestDAVListen(t *testing.T) {
	d := startDaemon(t)
	port := freePort(t)
	d.fail(t, exitInvalid, []string{"not an IP address"}, "dav", "enable", "--listen", "laptop.local", "--port", fmt.Sprint(port))
	out := d.ok(t, "dav", "enable", "--listen", "0.0.0.0", "--port", fmt.Sprint(port))
	if !strings.Contains(out, "https://") || !strings.Contains(out, "tls fingerprint") {
		t.Fatalf("kith dav enable --listen 0.0.0.0 = %q", out)
	}
	var st struct {
		URL         string   `json:"url"`
		URLs        []string `json:"urls"`
		Fingerprint string   `json:"tls_fingerprint"`
	}
	decodeJSON(t, d.ok(t, "dav", "status", "--json"), &st)
	if !strings.HasPrefix(st.URL, "https://") || len(st.Fingerprint) != 95 || !strings.Contains(out, st.Fingerprint) {
		t.Fatalf("kith dav status --json = %+v, enable printed %q", st, out)
	}
	if out := d.ok(t, "dav", "status"); !strings.Contains(out, st.Fingerprint) {
		t.Fatalf("kith dav status = %q", out)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
