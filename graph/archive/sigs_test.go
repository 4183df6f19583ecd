package archive

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"

	"filippo.io/edwards25519"
	"github.com/stretchr/testify/require"
)

// tableVerify is crypto/ed25519.Verify computed as the reader computes
// it for a long log (keyVerifier, encodeAll).
func tableVerify(kv *keyVerifier, msg, sig []byte) bool {
	var r [1]extended
	if !kv.point(&r[0], msg, sig) {
		return false
	}
	return bytes.Equal(sig[:32], encodeAll(r[:])[0][:])
}

// torsion returns a point of order 8.
func torsion(t testing.TB) *edwards25519.Point {
	// [L]P of a point P of order 8L: (L−1)·P + P.
	lMinus1 := []byte{0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(lMinus1)
	require.NoError(t, err)
	for y := byte(2); ; y++ {
		enc := make([]byte, 32)
		enc[0] = y
		p, err := new(edwards25519.Point).SetBytes(enc)
		if err != nil {
			continue
		}
		tp := new(edwards25519.Point).ScalarMult(s, p)
		tp.Add(tp, p)
		t4 := new(edwards25519.Point).Add(tp, tp)
		t4.Add(t4, t4)
		if t4.Equal(edwards25519.NewIdentityPoint()) == 0 { // order 8, not less
			return tp
		}
	}
}

// signer makes signatures with any R, by a key A (+ a torsion point).
type signer struct {
	a   *edwards25519.Scalar
	pub []byte
}

func newSigner(seed []byte, tor *edwards25519.Point) *signer {
	h := sha512.Sum512(seed)
	a, _ := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	A := new(edwards25519.Point).ScalarBaseMult(a)
	if tor != nil {
		A.Add(A, tor)
	}
	return &signer{a: a, pub: A.Bytes()}
}

// sign signs msg with nonce point R = rB + tor, S = r + k·a.
func (s *signer) sign(rnd *rand.Rand, msg []byte, tor *edwards25519.Point) []byte {
	var rb [64]byte
	for i := range 8 {
		binary.LittleEndian.PutUint64(rb[8*i:], rnd.Uint64())
	}
	r, _ := edwards25519.NewScalar().SetUniformBytes(rb[:])
	R := new(edwards25519.Point).ScalarBaseMult(r)
	if tor != nil {
		R.Add(R, tor)
	}
	h := sha512.New()
	h.Write(R.Bytes())
	h.Write(s.pub)
	h.Write(msg)
	k, _ := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(k, s.a, r)
	return append(R.Bytes(), S.Bytes()...)
}

// TestKeyVerifierMatchesStdlib: the table-based check accepts exactly
// the signatures crypto/ed25519.Verify accepts: valid ones, every byte of
// them changed, S not reduced, R and keys with a small-order component
// (which the cofactorless check refuses and a cofactored one would not).
func TestKeyVerifierMatchesStdlib(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	tor := torsion(t)
	var torsions []*edwards25519.Point
	for p, i := new(edwards25519.Point).Set(tor), 0; i < 8; i++ {
		torsions = append(torsions, new(edwards25519.Point).Set(p))
		p.Add(p, tor)
	}
	accepted, refused := 0, 0
	check := func(kv *keyVerifier, msg, sig []byte) {
		t.Helper()
		want := ed25519.Verify(kv.pub, msg, sig)
		require.Equal(t, want, tableVerify(kv, msg, sig), "pub %x msg %x sig %x", kv.pub, msg, sig)
		if want {
			accepted++
		} else {
			refused++
		}
	}
	for _, keyTor := range []*edwards25519.Point{nil, torsions[0], torsions[3]} {
		s := newSigner([]byte{byte(rnd.Uint32())}, keyTor)
		kv := newKeyVerifier(s.pub)
		require.NotNil(t, kv)
		for n := range 40 {
			msg := make([]byte, rnd.IntN(600))
			for i := range msg {
				msg[i] = byte(rnd.Uint32())
			}
			sig := s.sign(rnd, msg, nil)
			check(kv, msg, sig)
			for _, tr := range torsions {
				check(kv, msg, s.sign(rnd, msg, tr))
			}
			// Each byte changed.
			bad := bytes.Clone(sig)
			i := n % 64
			bad[i] ^= byte(1 << (rnd.IntN(8)))
			check(kv, msg, bad)
			// S + L: the same S, not reduced.
			S, _ := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
			plusL := addL(S.Bytes())
			check(kv, msg, append(bytes.Clone(sig[:32]), plusL...))
			// Short, long, the top bits of S.
			check(kv, msg, sig[:63])
			check(kv, msg, append(bytes.Clone(sig), 0))
			high := bytes.Clone(sig)
			high[63] |= 0x80
			check(kv, msg, high)
			// Another message.
			if len(msg) > 0 {
				m2 := bytes.Clone(msg)
				m2[0] ^= 1
				check(kv, m2, sig)
			}
		}
		// A real key from crypto/ed25519 too.
		_, priv, _ := ed25519.GenerateKey(nil)
		kv2 := newKeyVerifier(priv.Public().(ed25519.PublicKey))
		for range 20 {
			msg := []byte("kith entry")
			check(kv2, msg, ed25519.Sign(priv, msg))
		}
	}
	require.NotNil(t, newKeyVerifier(make([]byte, 32)), "the all-zero encoding is a point (order 4)")
	bad := bytes.Repeat([]byte{0xff}, 32)
	bad[0] = 0xfe // y = 2^255−2... a non-canonical y with no x
	if _, err := new(edwards25519.Point).SetBytes(bad); err != nil {
		require.Nil(t, newKeyVerifier(bad))
	}
	require.Nil(t, newKeyVerifier(make([]byte, 31)))
	t.Logf("%d accepted, %d refused", accepted, refused)
	require.Greater(t, accepted, 100)
	require.Greater(t, refused, 100)
}

// addL returns s + L (32 bytes little-endian; s < L so no carry out).
func addL(s []byte) []byte {
	l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	out := make([]byte, 32)
	carry := 0
	for i := range 32 {
		v := int(s[i]) + int(l[i]) + carry
		out[i], carry = byte(v), v>>8
	}
	return out
}

// TestEncodeAll: the encodings of a batch with one inversion are each
// point's own, the identity's included; the tables hold the points they
// should.
func TestEncodeAll(t *testing.T) {
	require.Empty(t, encodeAll(nil))
	var (
		points []edwards25519.Point
		ext    []extended
	)
	p := edwards25519.NewIdentityPoint()
	for range 70 {
		points = append(points, *new(edwards25519.Point).Set(p))
		x, y, z, tt := p.ExtendedCoordinates()
		ext = append(ext, extended{*x, *y, *z, *tt})
		p.Add(p, edwards25519.NewGeneratorPoint())
		p.Add(p, torsion(t))
	}
	enc := encodeAll(ext)
	for i := range points {
		require.Equal(t, points[i].Bytes(), enc[i][:], "point %d", i)
	}
	ext[3].z.Zero()
	require.Nil(t, encodeAll(ext), "a point with Z = 0")

	// j·256^i·B from the table, against ScalarBaseMult.
	for _, ij := range [][2]int{{0, 1}, {0, 255}, {1, 1}, {5, 77}, {31, 31}, {31, 255}} {
		var scalar [32]byte
		scalar[ij[0]] = byte(ij[1])
		var v extended
		v.setIdentity()
		baseTable().addMult(&v, scalar[:])
		var wide [64]byte
		copy(wide[:], scalar[:])
		sc, err := edwards25519.NewScalar().SetUniformBytes(wide[:])
		require.NoError(t, err)
		want := new(edwards25519.Point).ScalarBaseMult(sc)
		require.Equal(t, want.Bytes(), encodeAll([]extended{v})[0][:], "%d·256^%d·B", ij[1], ij[0])
	}
}

var fuzzSigner = sync.OnceValues(func() (*signer, *keyVerifier) {
	s := newSigner([]byte("fuzz"), nil)
	return s, newKeyVerifier(s.pub)
})

// FuzzKeyVerifier: on any message and signature (and signatures made
// with R = rB + a small-order point), the table-based check agrees with
// crypto/ed25519.Verify.
func FuzzKeyVerifier(f *testing.F) {
	f.Add([]byte("entry"), make([]byte, 64), uint8(0), uint64(1))
	f.Add([]byte{}, make([]byte, 63), uint8(3), uint64(2))
	f.Fuzz(func(t *testing.T, msg, sig []byte, tor uint8, seed uint64) {
		s, kv := fuzzSigner()
		require.Equal(t, ed25519.Verify(kv.pub, msg, sig), tableVerify(kv, msg, sig))
		var tp *edwards25519.Point
		if tor%9 != 0 {
			tp = torsion(t)
			for range tor % 9 {
				tp.Add(tp, tp)
			}
		}
		good := s.sign(rand.New(rand.NewPCG(seed, 0)), msg, tp)
		require.Equal(t, ed25519.Verify(kv.pub, msg, good), tableVerify(kv, msg, good))
	})
}

// BenchmarkKeyVerifier: signatures checked a second, by the reader's
// tables (batches of 1024, one inversion each) and by crypto/ed25519.
func BenchmarkKeyVerifier(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	pub := priv.Public().(ed25519.PublicKey)
	msgs, sigs := make([][]byte, 1024), make([][]byte, 1024)
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte(i)}, 500)
		sigs[i] = ed25519.Sign(priv, msgs[i])
	}
	kv := newKeyVerifier(pub)
	b.Run("table", func(b *testing.B) {
		points := make([]extended, len(msgs))
		for b.Loop() {
			for i := range msgs {
				kv.point(&points[i], msgs[i], sigs[i])
			}
			for i, enc := range encodeAll(points) {
				if !bytes.Equal(enc[:], sigs[i][:32]) {
					b.Fatal("refused")
				}
			}
		}
		b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "verifies/s")
	})
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			for i := range msgs {
				if !ed25519.Verify(pub, msgs[i], sigs[i]) {
					b.Fatal("refused")
				}
			}
		}
		b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "verifies/s")
	})
}

// TestVerifiersFor: tables go to the longest logs, at most maxTables,
// none shorter than minTableLog.
func TestVerifiersFor(t *testing.T) {
	m := &Manifest{}
	for i := range maxTables + 5 {
		m.Logs = append(m.Logs, LogHead{Author: []byte{byte(i)}, Seq: uint64(minTableLog - 3 + 10*i)})
	}
	kvs := verifiersFor(m)
	require.Len(t, kvs, maxTables)
	for i, l := range m.Logs {
		_, ok := kvs[string(l.Author)]
		require.Equal(t, i >= 5, ok, "log %d, %d entries", i, l.Seq)
	}
}
