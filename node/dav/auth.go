package dav

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// auth checks HTTP Basic credentials against the app password's bcrypt
// hash. bcrypt takes tens of milliseconds by design and a client sends
// the password with every request, so once a password has matched, its
// SHA-256 is kept in memory and later requests compare against that, in
// constant time.
type auth struct {
	hash []byte

	mu       sync.Mutex
	verified []byte // SHA-256 of the password that matched hash, or nil
}

func newAuth(hash string) *auth { return &auth{hash: []byte(hash)} }

// check reports whether r carries the user name and the app password.
func (a *auth) check(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || len(pass) > 128 {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(Username)) == 1
	sum := sha256.Sum256([]byte(pass))
	a.mu.Lock()
	verified := a.verified
	a.mu.Unlock()
	if verified != nil {
		return subtle.ConstantTimeCompare(sum[:], verified) == 1 && userOK
	}
	if bcrypt.CompareHashAndPassword(a.hash, []byte(pass)) != nil {
		return false
	}
	a.mu.Lock()
	a.verified = sum[:]
	a.mu.Unlock()
	return userOK
}
