//go:build windows

package node

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// listenPrivate listens on the AF_UNIX socket path (Windows 10 1803 and
// later). Windows has no file modes: the socket is private through the ACL
// of the directory it is in, the user's profile by default.
func listenPrivate(path string) (net.Listener, error) {
	return net.Listen("unix", path)
}

// lockHome takes an exclusive lock on the home's lock file. Windows drops
// it when the process dies, so a crash never leaves a stale lock. The lock
// covers one byte far past the end of the file, so the pid written in it
// stays readable to the daemon that is refused.
func lockHome(home string) (unlock func(), err error) {
	path := filepath.Join(home, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	h := windows.Handle(f.Fd())
	region := func() *windows.Overlapped { return &windows.Overlapped{Offset: math.MaxUint32 - 1} }
	if err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, region()); err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
			return nil, lockedError(home, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	writePID(f)
	return func() {
		f.Truncate(0)
		windows.UnlockFileEx(h, 0, 1, 0, region())
		f.Close()
	}, nil
}
