package identity

import (
	"testing"

	"go.uber.org/goleak"
)

// testArgon2 is the Argon2id cost tests use for the key files they write:
// well under a millisecond, instead of the real cost's 64 MiB.
var testArgon2 = argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

// initialKDFCost is kdfCost as the package sets it, before TestMain lowers it.
var initialKDFCost = kdfCost

func TestMain(m *testing.M) {
	kdfCost = testArgon2
	goleak.VerifyTestMain(m)
}
