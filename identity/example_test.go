package identity_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"log"
	"strings"

	"github.com/kith-p2p/kith/identity"
)

func ExampleNewRoot() {
	root, err := identity.NewRoot(nil) // nil: crypto/rand
	if err != nil {
		log.Fatal(err)
	}
	phrase := root.Phrase() // shown once, never stored
	id, err := root.Identity()
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("hello, kith")
	sig, err := id.Sign(msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(strings.Fields(phrase)), ed25519.Verify(id.PublicKey(), msg, sig))
	fmt.Println(id.PeerID().String()[:8])
	// Output:
	// 24 true
	// 12D3KooW
}

func ExampleFromPhrase() {
	phrase := strings.Repeat("abandon ", 23) + "art" // the phrase of 32 zero bytes; a real one comes from NewRoot
	id, recovery, err := identity.FromPhrase(phrase)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.PeerID())
	fmt.Println(bytes.Equal(identity.Commitment(recovery.Public().(ed25519.PublicKey)), id.RecoveryCommitment()))

	_, _, err = identity.FromPhrase(strings.Replace(phrase, "abandon", "abandn", 1))
	fmt.Println(err)
	// Output:
	// 12D3KooWSq62KfevxJNq63Q5U1jcmpQhVuopFm6y8Depzog168Qv
	// true
	// identity: bad recovery phrase: word 1 "abandn" is not in the BIP-39 English word list (did you mean "abandon"?)
}

func ExampleWrap() {
	alice := newIdentity()
	bob := newIdentity()
	contentKey := bytes.Repeat([]byte{0x42}, 32)
	info := []byte("kith example")

	wrapped, err := identity.Wrap(bob.EncryptionKey(), contentKey, info)
	if err != nil {
		log.Fatal(err)
	}
	got, err := bob.Unwrap(wrapped, info)
	fmt.Println(bytes.Equal(got, contentKey), err)
	_, err = alice.Unwrap(wrapped, info)
	fmt.Println(err)
	// Output:
	// true <nil>
	// opening wrapped key: identity: cannot unwrap key
}

func newIdentity() *identity.Identity {
	root, err := identity.NewRoot(nil)
	if err != nil {
		log.Fatal(err)
	}
	id, err := root.Identity()
	if err != nil {
		log.Fatal(err)
	}
	return id
}
