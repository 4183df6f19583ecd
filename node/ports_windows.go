//go:build windows

package node

import (
	"errors"

	"golang.org/x/sys/windows"
)

// addrInUse reports whether err says the address is bound already
// (WSAEADDRINUSE).
func addrInUse(err error) bool { return errors.Is(err, windows.WSAEADDRINUSE) }
