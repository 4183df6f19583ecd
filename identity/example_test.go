package identity_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"log"

	"github.com/kith-p2p/kith/identity"
)

func ExampleGenerate() {
	id, err := identity.Generate(nil) // nil: crypto/rand
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("hello, kith")
	sig, err := id.Sign(msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ed25519.Verify(id.PublicKey(), msg, sig))
	fmt.Println(id.PeerID().String()[:8])
	// Output:
	// true
	// 12D3KooW
}

func ExampleWrap() {
	alice, _ := identity.Generate(nil)
	bob, _ := identity.Generate(nil)
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

func ExampleFromSeed() {
	seed := make([]byte, identity.SeedSize) // a real seed comes from Generate or a key file
	id, err := identity.FromSeed(seed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.PeerID())
	// Output:
	// 12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN
}
