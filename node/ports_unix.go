//go:build unix

package node

import (
	"errors"

	"syscall"
)

// addrInUse reports whether err says the address is bound already.
func addrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
