package dav

import (
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSettingsCheck: off 127.0.0.1 the server speaks TLS or not at all.
func TestSettingsCheck(t *testing.T) {
	for _, tc := range []struct {
		s    Settings
		fail string
	}{
		{s: Settings{Port: 5232}},
		{s: Settings{Port: 5232, Listen: "::1"}},
		{s: Settings{Port: 5232, Listen: "127.0.0.2"}},
		{s: Settings{Port: 5232, Listen: "0.0.0.0", TLS: true}},
		{s: Settings{Port: 5232, Listen: "192.168.1.20", TLS: true}},
		{s: Settings{Port: 5232, Listen: "0.0.0.0"}, fail: "without TLS"},
		{s: Settings{Port: 5232, Listen: "192.168.1.20"}, fail: "without TLS"},
		{s: Settings{Port: 5232, Listen: "laptop.local", TLS: true}, fail: "not an IP address"},
		{s: Settings{Port: 5232, Listen: "fe80::1%eth0", TLS: true}, fail: "not an IP address"},
		{s: Settings{Port: 0}, fail: "not a TCP port"},
		{s: Settings{Port: 70000}, fail: "not a TCP port"},
	} {
		err := tc.s.Check()
		if tc.fail == "" {
			require.NoError(t, err, "%+v", tc.s)
			continue
		}
		require.ErrorContains(t, err, tc.fail, "%+v", tc.s)
	}
	// A settings file asking for the network in clear is refused at load.
	dir := t.TempDir()
	require.NoError(t, SaveSettings(dir, Settings{Enabled: true, Port: 5232, Hash: "x", Listen: "0.0.0.0"}))
	_, err := LoadSettings(dir)
	require.ErrorContains(t, err, "without TLS")
	// An oversized one is refused without being read whole.
	require.NoError(t, os.WriteFile(filepath.Join(dir, SettingsName), []byte(`{"enabled":false,"x":"`+strings.Repeat("a", maxSettings)+`"}`), 0o600))
	_, err = LoadSettings(dir)
	require.ErrorContains(t, err, "over 65536 bytes")
}

// TestCertKept: the certificate is made once and kept, so an app that
// accepted its fingerprint goes on trusting it; it is replaced near its
// end, when it does not name the address served, or when damaged.
func TestCertKept(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	any4 := netip.MustParseAddr("0.0.0.0")
	first, err := loadCert(dir, any4, now)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	require.NoError(t, err)
	require.Contains(t, leaf.DNSNames, "localhost")
	require.True(t, slicesHasIP(leaf.IPAddresses, "127.0.0.1"))
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	require.LessOrEqual(t, leaf.NotAfter.Sub(leaf.NotBefore), certLifetime+time.Hour, "Apple refuses longer")
	fi, err := os.Stat(filepath.Join(dir, CertName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the private key is in it")

	fp := Fingerprint(first.Certificate[0])
	require.Len(t, strings.Split(fp, ":"), 32)
	again, err := loadCert(dir, any4, now.Add(100*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, fp, Fingerprint(again.Certificate[0]), "kept across starts")

	renewed, err := loadCert(dir, any4, now.Add(certLifetime-10*24*time.Hour))
	require.NoError(t, err)
	require.NotEqual(t, fp, Fingerprint(renewed.Certificate[0]), "replaced within 30 days of its end")
	fp = Fingerprint(renewed.Certificate[0])

	lan := netip.MustParseAddr("192.0.2.7")
	moved, err := loadCert(dir, lan, now.Add(certLifetime-10*24*time.Hour))
	require.NoError(t, err)
	require.NotEqual(t, fp, Fingerprint(moved.Certificate[0]), "a certificate that does not name the address is replaced")
	leaf, err = x509.ParseCertificate(moved.Certificate[0])
	require.NoError(t, err)
	require.True(t, slicesHasIP(leaf.IPAddresses, "192.0.2.7"))

	require.NoError(t, os.WriteFile(filepath.Join(dir, CertName), []byte("-----BEGIN CERTIFICATE-----\ngarbage"), 0o600))
	fresh, err := loadCert(dir, any4, now)
	require.NoError(t, err)
	require.NotEmpty(t, fresh.Certificate)
	_, err = os.Stat(filepath.Join(dir, CertName+".damaged"))
	require.NoError(t, err, "the damaged file is kept aside")
}

func slicesHasIP(ips []net.IP, want string) bool {
	for _, ip := range ips {
		if ip.String() == want {
			return true
		}
	}
	return false
}

// TestURLsOfUnspecified: 0.0.0.0 serves IPv4 only, so only IPv4 URLs
// are given for it; :: serves both.
func TestURLsOfUnspecified(t *testing.T) {
	for _, listen := range []string{"0.0.0.0", "::"} {
		srv, err := Listen(newMemBook(), Settings{Port: 0, Listen: listen, TLS: true, Hash: "x"}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		urls := srv.URLs()
		srv.Close()
		if urls[len(urls)-1] != "https://127.0.0.1:"+strconv.Itoa(srv.Port())+"/" {
			t.Fatalf("%s: URLs %v do not end with the loopback one", listen, urls)
		}
		for _, u := range urls {
			if listen == "0.0.0.0" && strings.Contains(u, "[") {
				t.Fatalf("0.0.0.0 listens on IPv4 only, but URLs give %s", u)
			}
		}
	}
}

// TestSettingsURL: where settings serve, when no server says so itself.
func TestSettingsURL(t *testing.T) {
	for s, want := range map[Settings]string{
		{Port: 5232}: "http://127.0.0.1:5232/",
		{Port: 8443, Listen: "0.0.0.0", TLS: true}:     "https://127.0.0.1:8443/",
		{Port: 8443, Listen: "192.0.2.7", TLS: true}:   "https://192.0.2.7:8443/",
		{Port: 8443, Listen: "2001:db8::1", TLS: true}: "https://[2001:db8::1]:8443/",
	} {
		if got := s.URL(); got != want {
			t.Errorf("%+v.URL() = %s, want %s", s, got, want)
		}
	}
}
