package dav

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// CertName is the file in the home holding the server's self-signed
// certificate and its private key (PEM, mode 0600).
const CertName = "dav-tls.pem"

// certLifetime is how long a certificate is valid: 825 days is the most
// Apple's clients accept for a server certificate, trusted or not.
const certLifetime = 825 * 24 * time.Hour

// certRenewBefore is how long before its end a certificate is replaced.
const certRenewBefore = 30 * 24 * time.Hour

// maxCertFile bounds the certificate file read.
const maxCertFile = 64 << 10

// Fingerprint is the SHA-256 of a certificate's DER bytes, as clients
// show and pin it: upper-case hex pairs joined by colons (the form
// vdirsyncer's verify_fingerprint and DAVx5's certificate dialog use).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// loadCert returns the home's certificate for serving on host, making a
// new one when there is none, when it ends within 30 days or when it
// does not name host. The certificate stays the same across restarts, so
// a phone that accepted its fingerprint keeps trusting it.
//
// With no home (dir empty: a test's node) the certificate lives in memory.
func loadCert(dir string, host netip.Addr, now time.Time) (tls.Certificate, error) {
	if dir == "" {
		certPEM, keyPEM, err := newCert(host, now)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.X509KeyPair(certPEM, keyPEM)
	}
	path := filepath.Join(dir, CertName)
	cert, err := readCert(path)
	switch {
	case err == nil && certFits(cert.Leaf, host, now):
		return cert, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		// A damaged file is replaced: the certificate is not a secret
		// anyone keeps elsewhere, clients are asked to accept the new one.
		if err := os.Rename(path, path+".damaged"); err != nil {
			return tls.Certificate{}, fmt.Errorf("moving the damaged %s aside: %w", path, err)
		}
	}
	certPEM, keyPEM, err := newCert(host, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(dir, CertName, append(certPEM, keyPEM...)); err != nil {
		return tls.Certificate{}, fmt.Errorf("saving the DAV certificate: %w", err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// readCert reads a certificate and key written by loadCert.
func readCert(path string) (tls.Certificate, error) {
	b, err := readBounded(path, maxCertFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(b, b)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return cert, nil
}

// certFits says whether c may still serve host at now.
func certFits(c *x509.Certificate, host netip.Addr, now time.Time) bool {
	if c == nil || now.Before(c.NotBefore) || now.Add(certRenewBefore).After(c.NotAfter) {
		return false
	}
	if host.IsUnspecified() || host.IsLoopback() {
		return true // every address of the machine: any of its names will do
	}
	return slices.ContainsFunc(c.IPAddresses, func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		return ok && a.Unmap() == host.Unmap()
	})
}

// newCert makes a self-signed ECDSA P-256 certificate (what Android,
// Apple and every TLS library accept) for host, the machine's addresses
// and names.
func newCert(host netip.Addr, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	name, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Kith DAV on " + cmp.Or(name, "this machine"), Organization: []string{"Kith"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           certIPs(host),
	}
	if name != "" && name != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, name)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("making the DAV certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// certIPs are the addresses a certificate names: host, the loopback
// addresses and, for an unspecified host, every address of the machine.
func certIPs(host netip.Addr) []net.IP {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	add := func(a netip.Addr) {
		ip := net.IP(a.Unmap().AsSlice())
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	if host.IsValid() && !host.IsUnspecified() {
		add(host)
	}
	if host.IsUnspecified() {
		for _, a := range localAddrs() {
			add(a)
		}
	}
	return ips
}

// localAddrs are the machine's unicast addresses other than loopback,
// IPv4 first.
func localAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr().Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() {
			continue
		}
		out = append(out, ip)
	}
	slices.SortStableFunc(out, func(a, b netip.Addr) int {
		switch {
		case a.Is4() && !b.Is4():
			return -1
		case b.Is4() && !a.Is4():
			return 1
		}
		return 0
	})
	return out
}

// writeFileAtomic writes b to dir/name (mode 0600) through a synced
// temporary file renamed over it: a crash leaves the old file or the new.
func writeFileAtomic(dir, name string, b []byte) error {
	path := filepath.Join(dir, name)
	f, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
