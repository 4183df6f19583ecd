package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/test/e2e"
)

// TestVdirsyncerOverTLS: served on every interface, the server speaks
// HTTPS with its self-signed certificate; vdirsyncer, pinning the
// fingerprint `kith dav enable` printed, syncs over it, and refuses a
// certificate with another fingerprint.
func TestVdirsyncerOverTLS(t *testing.T) {
	bin := need(t, "vdirsyncer")
	h := e2e.NewHome(t)
	h.Start()
	h.RunStdin([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tls-1\r\nFN:Tess Lane\r\nEMAIL:tess@example.org\r\nEND:VCARD\r\n"), "contacts", "import", "-")
	port := freePort(t)
	var creds struct {
		URL, Username, Password string
		Fingerprint             string `json:"tls_fingerprint"`
	}
	h.JSON(&creds, "dav", "enable", "--listen", "0.0.0.0", "--port", fmt.Sprint(port), "--json")
	if !strings.HasPrefix(creds.URL, "https://") || creds.Fingerprint == "" {
		t.Fatalf("dav enable --listen 0.0.0.0: want an https URL and a fingerprint, got %+v", creds)
	}
	var st struct {
		Fingerprint string `json:"tls_fingerprint"`
	}
	h.JSON(&st, "dav", "status", "--json")
	if st.Fingerprint != creds.Fingerprint {
		t.Fatalf("dav status shows fingerprint %q, enable printed %q", st.Fingerprint, creds.Fingerprint)
	}

	dir := t.TempDir()
	local := filepath.Join(dir, "contacts")
	write := func(fingerprint string) string {
		return writeVdirConfig(t, dir, davPair("kith", local, ".vcf", "carddav", fmt.Sprintf("https://127.0.0.1:%d/", port),
			creds.Username, creds.Password, fmt.Sprintf("verify_fingerprint = %q\n", fingerprint)))
	}

	// Another fingerprint: vdirsyncer refuses to talk (aiohttp's
	// ServerFingerprintMismatch prints the digest it expected).
	wrong := strings.Repeat("AB:", 31) + "AB"
	v := &vdirsyncer{t: t, bin: bin, config: write(wrong), home: dir}
	if out, err := v.try("y\n", "discover", "kith"); err == nil || !strings.Contains(out, `\xab\xab\xab\xab`) {
		t.Fatalf("vdirsyncer with a pinned fingerprint %s: want a fingerprint mismatch (the expected digest in the error), got %v:\n%s", wrong, err, out)
	}

	v.config = write(creds.Fingerprint)
	v.run("y\n", "discover", "kith")
	v.run("", "sync", "kith")
	entries, err := os.ReadDir(filepath.Join(local, "contacts"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("vdirsyncer over TLS wrote %d cards (%v), want 1", len(entries), err)
	}
	b, err := os.ReadFile(filepath.Join(local, "contacts", entries[0].Name()))
	if err != nil || !strings.Contains(string(b), "FN:Tess Lane") {
		t.Fatalf("the card vdirsyncer wrote over TLS: %v\n%s", err, b)
	}
}
