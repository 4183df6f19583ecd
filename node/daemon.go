package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// LockName is the lock file's name inside the home directory.
const LockName = "daemon.lock"

// ShutdownTimeout bounds a clean shutdown after the context ends.
const ShutdownTimeout = 5 * time.Second

// DaemonConfig configures RunDaemon.
type DaemonConfig struct {
	Home       string
	Passphrase []byte
	Listen     []string // multiaddrs; nil means DefaultListen on the home's own port (see PortName)
	NoMDNS     bool     // turn off LAN discovery
	Bootstrap  []string // DHT bootstrap peers (multiaddrs with /p2p/)
	DHTServer  bool     // answer DHT lookups from the start (see WithDHTServer)
	Relays     []string // circuit relays to reserve a slot on behind a NAT (see WithRelays)
	Quota      Quota    // each other author's log in the store; zero: the default (see WithQuota)
	Logger     *slog.Logger
	Ready      func(api.Identity) // called once the API is served
}

// RunDaemon runs a node until ctx is done: it takes the home's lock, loads
// the key, opens the store, starts libp2p and serves the API on the home's
// socket (mode 0600). It returns after a clean shutdown.
func RunDaemon(ctx context.Context, cfg DaemonConfig) (err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(cfg.Home); err != nil {
		return fmt.Errorf("%w (no home at %s)", ErrNotInitialized, cfg.Home)
	}
	unlock, err := lockHome(cfg.Home)
	if err != nil {
		return err
	}
	defer unlock()

	id, err := identity.Keystore{Dir: cfg.Home}.Load(cfg.Passphrase)
	if err != nil {
		return err
	}
	listen, kept := cfg.Listen, ""
	if listen == nil {
		if listen, err = homeListen(cfg.Home); err != nil {
			return err
		}
		kept = filepath.Join(cfg.Home, PortName)
	}
	if err := checkPorts(listen, kept); err != nil {
		return err
	}
	// start starts the node; fresh moves the store aside first (Restore of
	// a store that fails its check). The API follows the node running now.
	var (
		mu   sync.Mutex
		n    *Node
		api0 swapHandler
	)
	var start func(ctx context.Context, fresh bool, id *identity.Identity, listen []string) (*Node, error)
	start = func(sctx context.Context, fresh bool, id *identity.Identity, listen []string) (*Node, error) {
		st, damaged, err := openHomeStore(sctx, cfg.Home, fresh, func(msg string, args ...any) {
			log.Warn(msg, append([]any{"subsystem", "daemon"}, args...)...)
		})
		if err != nil {
			return nil, err
		}
		nn, err := New(ctx, WithIdentity(id), WithHome(cfg.Home), WithStore(st), withOwnedStore(damaged), WithListenAddrs(listen...), WithLogger(log),
			WithMDNS(!cfg.NoMDNS), WithBootstrap(cfg.Bootstrap...), WithDHTServer(cfg.DHTServer), WithRelays(cfg.Relays...), WithQuota(cfg.Quota))
		if err != nil {
			st.Close()
			return nil, err
		}
		nn.reopen = func(rctx context.Context) (*Node, error) {
			mu.Lock()
			defer mu.Unlock()
			if n != nn {
				return n, nil // replaced already
			}
			if err := nn.Close(); err != nil {
				log.Warn("closing the node on the damaged store", "subsystem", "daemon", "err", err)
			}
			fresh, err := start(rctx, true, id, listen)
			if err != nil {
				return nil, err
			}
			n = fresh
			api0.set(api.Handler(fresh, log))
			return fresh, nil
		}
		nn.repair = func(rctx context.Context) (*api.RepairReport, error) {
			mu.Lock()
			defer mu.Unlock()
			if n != nn {
				return nil, fmt.Errorf("%w: the node was replaced meanwhile; run kith repair again", api.ErrExists)
			}
			if err := nn.Close(); err != nil {
				log.Warn("closing the node on the damaged store", "subsystem", "daemon", "err", err)
			}
			rep, rerr := repairHome(rctx, id, cfg.Home)
			// Start again, on the repaired store or (it failed) the old one.
			next, err := start(ctx, false, id, listen)
			if err != nil {
				return nil, errors.Join(rerr, fmt.Errorf("starting the node again: %w", err))
			}
			n = next
			api0.set(api.Handler(next, log))
			if rerr != nil {
				return nil, rerr
			}
			log.Info("repaired the store", "subsystem", "daemon", "entries", rep.Entries, "lost", rep.Lost, "damaged", rep.DamagedStore)
			return rep, nil
		}
		// After a rotation (or a restore that found one), the node runs
		// on as the new identity: same home, store and ports, a new host.
		nn.switchKey = func(rctx context.Context, next *identity.Identity) (*Node, error) {
			mu.Lock()
			defer mu.Unlock()
			if n != nn {
				return nil, errors.New("node: replaced already")
			}
			// The same addresses (ports picked at start included): friends
			// that follow the rotation dial the new identity where the old
			// one was.
			same := listen
			if las := nn.host.Network().ListenAddresses(); len(las) > 0 {
				same = make([]string, len(las))
				for i, a := range las {
					same[i] = a.String()
				}
			}
			if err := nn.Close(); err != nil {
				log.Warn("closing the node of the old identity", "subsystem", "daemon", "err", err)
			}
			fresh, err := start(rctx, false, next, same)
			if err != nil {
				return nil, err
			}
			n = fresh
			api0.set(api.Handler(fresh, log))
			log.Info("daemon runs as a new identity", "subsystem", "daemon", "old", nn.id.PeerID(), "peer", next.PeerID())
			return fresh, nil
		}
		return nn, nil
	}
	first, err := start(ctx, false, id, listen)
	if err != nil {
		return err
	}
	n = first
	api0.set(api.Handler(first, log))
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		if cerr := n.Close(); err == nil {
			err = cerr
		}
	}()

	sock := api.SocketPath(cfg.Home)
	ln, err := listenUnix(sock)
	if err != nil {
		return err
	}
	defer os.Remove(sock)
	srv := api.NewServer(&api0, 0, 0)
	srv.BaseContext = func(net.Listener) context.Context { return ctx }
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	who, err := first.ID(ctx)
	if err != nil {
		return err
	}
	log.Info("daemon ready", "subsystem", "daemon", "peer", who.PeerID, "socket", sock)
	if cfg.Ready != nil {
		cfg.Ready(*who)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving the API: %w", err)
	}
	log.Info("shutting down", "subsystem", "daemon")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-served
	return nil
}

// writePID records this process in the home's lock file, for the message of
// a daemon that is refused.
func writePID(f *os.File) {
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
}

// lockedError says which daemon holds the home's lock, by the pid it wrote.
func lockedError(home, lockPath string) error {
	pid, _ := os.ReadFile(lockPath)
	who := strings.TrimSpace(string(pid))
	if who == "" {
		who = "unknown"
	}
	return fmt.Errorf("%w (%s, pid %s); stop it first or use another KITH_HOME", ErrLocked, home, who)
}

// listenUnix listens on the API socket at path, private to this user
// (listenPrivate). The home holds the lock, so a socket file already there
// is a leftover from a crash and is replaced.
func listenUnix(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w (unix socket paths are limited to ~100 bytes; use a shorter KITH_HOME)", path, err)
	}
	return ln, nil
}

// swapHandler serves the API of the node running now.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}
