package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ma "github.com/multiformats/go-multiaddr"
)

// ErrPortInUse: a libp2p listen port is held by another daemon or program.
// (libp2p's TCP transport sets SO_REUSEPORT, so without this check a second
// daemon would share the port, and the first daemon's connections, quietly.)
var ErrPortInUse = errors.New("node: listen port in use")

// DefaultPort is the port a home takes when it first starts without
// --listen, if it is free; else it takes a free one. Either way it keeps it.
const DefaultPort = 4747

// PortName is the file in the home that keeps its port.
const PortName = "port"

// defaultListenOn is DefaultListen on port.
func defaultListenOn(port int) []string {
	out := make([]string, len(DefaultListen))
	for i, a := range DefaultListen {
		out[i] = strings.ReplaceAll(a, "/"+strconv.Itoa(DefaultPort), "/"+strconv.Itoa(port))
	}
	return out
}

// homeListen returns the listen addresses of a daemon on home started
// without any: DefaultListen on the port the home keeps in PortName. At
// the first start that is DefaultPort if free, else a free port; so two
// homes on one machine each have one, and friends find a home again where
// they last saw it.
func homeListen(home string) ([]string, error) {
	path := filepath.Join(home, PortName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		port, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("reading this home's port from %s: %q is not a port number (delete the file to pick a new one)", path, strings.TrimSpace(string(b)))
		}
		return defaultListenOn(port), nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading this home's port: %w", err)
	}
	port := DefaultPort
	if checkPorts(defaultListenOn(port), "") != nil {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(port)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keeping this home's port: %w", err)
	}
	return defaultListenOn(port), nil
}

// freePort returns a port free for TCP and UDP on every address.
func freePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp4", ":0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if checkPorts(defaultListenOn(port), "") == nil {
			return port, nil
		}
	}
	return 0, errors.New("finding a free port: none found in 20 tries")
}

// checkPorts reports ErrPortInUse if another socket holds the port of one
// of listen (multiaddrs; port 0 asks for any and is never in use). It
// binds each without SO_REUSEPORT, which fails wherever a socket is bound,
// reuseport or not. kept names the file the port came from, for the
// message ("" when --listen gave it).
func checkPorts(listen []string, kept string) error {
	for _, s := range listen {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			continue // libp2p reports it
		}
		network, addr, ok := probeAddr(m)
		if !ok {
			continue
		}
		var c interface{ Close() error }
		if strings.HasPrefix(network, "tcp") {
			c, err = net.Listen(network, addr)
		} else {
			c, err = net.ListenPacket(network, addr)
		}
		if err == nil {
			c.Close()
			continue
		}
		if !addrInUse(err) {
			continue // no IPv6 here, say: libp2p listens where it can
		}
		_, port, _ := net.SplitHostPort(addr)
		proto := strings.TrimRight(network, "46")
		if kept != "" {
			return fmt.Errorf("%w: port %s (%s, %s), which this home keeps (in %s), is taken by another kith daemon or program; "+
				"stop that, or listen elsewhere with --listen /ip4/0.0.0.0/tcp/PORT (KITH_LISTEN), or delete %s for this home to pick a new port",
				ErrPortInUse, port, proto, s, kept, kept)
		}
		return fmt.Errorf("%w: port %s (%s, %s) is taken by another kith daemon (another KITH_HOME) or program; "+
			"pick a free one with --listen (KITH_LISTEN), e.g. --listen %s, or leave --listen out: each home then keeps a port of its own",
			ErrPortInUse, port, proto, s, strings.Replace(s, "/"+port, "/"+nextPort(port), 1))
	}
	return nil
}

// nextPort is port + 1, for an example.
func nextPort(port string) string {
	p, _ := strconv.Atoi(port)
	return strconv.Itoa(p%65535 + 1)
}

// probeAddr returns the net.Listen network and address of a multiaddr
// /ip4|ip6/…/tcp|udp/PORT[/…] with PORT > 0.
func probeAddr(m ma.Multiaddr) (network, addr string, ok bool) {
	var ip, port, family, proto string
	ma.ForEach(m, func(c ma.Component) bool {
		switch c.Protocol().Code {
		case ma.P_IP4:
			ip, family = c.Value(), "4"
		case ma.P_IP6:
			ip, family = c.Value(), "6"
		case ma.P_TCP:
			port, proto = c.Value(), "tcp"
		case ma.P_UDP:
			port, proto = c.Value(), "udp"
		}
		return proto == ""
	})
	if ip == "" || proto == "" || port == "0" {
		return "", "", false
	}
	return proto + family, net.JoinHostPort(ip, port), true
}
