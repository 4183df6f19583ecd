package dav

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/crypto/bcrypt"
)

// SettingsName is the settings file's name in the home directory.
const SettingsName = "dav.json"

// DefaultPort is where the server listens unless told otherwise (the
// port Radicale and DAVx5's documentation use).
const DefaultPort = 5232

// Username is the user name clients log in with: there is one user.
const Username = "kith"

// Settings are what persists of the DAV server: whether it runs, on which
// address and port, over TLS or not, and the app password's bcrypt hash
// (never the password).
type Settings struct {
	Enabled bool   `json:"enabled"`
	Port    int    `json:"port"`
	Hash    string `json:"password_bcrypt,omitempty"`
	// Listen is the IP address served on; empty is 127.0.0.1. Any other
	// than a loopback address needs TLS: the password and the address
	// book cross the network.
	Listen string `json:"listen,omitempty"`
	// TLS serves HTTPS with the home's self-signed certificate
	// (CertName), whose fingerprint `kith dav status` prints.
	TLS bool `json:"tls,omitempty"`
}

// Host is the address s listens on.
func (s Settings) Host() (netip.Addr, error) {
	if s.Listen == "" {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	a, err := netip.ParseAddr(s.Listen)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("listen address %q is not an IP address (e.g. 0.0.0.0 for every interface, or 192.168.1.20)", s.Listen)
	}
	return a.Unmap(), nil
}

// URL is where s serves when its server is not running to say so
// itself (see [Server.URL]): on every interface, at 127.0.0.1.
func (s Settings) URL() string {
	host, err := s.Host()
	if err != nil || host.IsUnspecified() {
		host = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	scheme := "http"
	if s.TLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host.String(), strconv.Itoa(s.Port)) + "/"
}

// Check says what is wrong with s, if anything.
func (s Settings) Check() error {
	if s.Port <= 0 || s.Port > 65535 {
		return fmt.Errorf("port %d is not a TCP port (1-65535)", s.Port)
	}
	host, err := s.Host()
	if err != nil {
		return err
	}
	if !host.IsLoopback() && !s.TLS {
		return fmt.Errorf("serving on %s without TLS would send the app password and the address book in clear over the network: run `kith dav enable --listen %s`, which turns TLS on", host, host)
	}
	return nil
}

// maxSettings bounds the settings file read.
const maxSettings = 64 << 10

// LoadSettings reads dir's settings; a home without the file has DAV
// disabled.
func LoadSettings(dir string) (Settings, error) {
	path := filepath.Join(dir, SettingsName)
	b, err := readBounded(path, maxSettings)
	if errors.Is(err, os.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("%w (fix or delete it, then `kith dav enable`)", err)
	}
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("reading %s: %w (fix or delete it, then `kith dav enable`)", path, err)
	}
	if s.Enabled && s.Hash == "" {
		return Settings{}, fmt.Errorf("reading %s: enabled without a password (run `kith dav enable` again)", path)
	}
	if s.Enabled {
		if err := s.Check(); err != nil {
			return Settings{}, fmt.Errorf("reading %s: %w (run `kith dav enable` again)", path, err)
		}
	}
	return s, nil
}

// readBounded reads the file at path, refusing one over max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("reading %s: over %d bytes", path, max)
	}
	return b, nil
}

// SaveSettings writes s to dir through a temporary file, synced and
// renamed over the old one: a crash leaves the old settings or the new.
func SaveSettings(dir string, s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, SettingsName, append(b, '\n'))
}

// passwordAlphabet avoids look-alike characters: the password is typed
// into a phone.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewPassword returns a random app password (24 characters, ~118 bits)
// and its bcrypt hash.
func NewPassword() (password, hash string, err error) {
	b := make([]byte, 24)
	for i := range b {
		var r [1]byte
		for {
			if _, err := rand.Read(r[:]); err != nil {
				return "", "", err
			}
			if int(r[0]) < 256-256%len(passwordAlphabet) {
				break
			}
		}
		b[i] = passwordAlphabet[int(r[0])%len(passwordAlphabet)]
	}
	// Grouped by 4 for reading aloud; the dashes are part of it.
	var out []byte
	for i := 0; i < len(b); i += 4 {
		if i > 0 {
			out = append(out, '-')
		}
		out = append(out, b[i:i+4]...)
	}
	h, err := bcrypt.GenerateFromPassword(out, bcrypt.DefaultCost)
	if err != nil {
		return "", "", err
	}
	return string(out), string(h), nil
}
