package archive

import (
	"bytes"
	"crypto/sha512"
	"sync"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// An export holds long logs of one author key each (a log has one key:
// spec/SPEC.md, "Rotation"), so the reader checks their signatures with
// tables made for that key: crypto/ed25519 computes R' = [S]B − [k]A with
// one double-scalar multiplication, about 254 doublings and 70 additions,
// then a field inversion to encode R'. With the multiples j·256^i of B
// and of −A in tables, the same R' is 64 additions and no doubling, and
// the inversions of a batch share one (Montgomery's trick). R' is the same
// point, so it encodes to the same bytes: the check is crypto/ed25519's,
// the same inputs refused (FuzzKeyVerifier compares the two), and a
// signature it refuses is checked by spec.Entry.Verify again, whose error
// is the one reported.

// minTableLog is the length of log from which its author's signatures
// are checked with a table: building one costs about as much as 60
// signature checks, and takes 1.3 MB.
const minTableLog = 2048

// fixedBase holds j·256^i·P for j = 1..255, i = 0..31, of one point P.
type fixedBase [32][255]edwards25519.Point

func newFixedBase(p *edwards25519.Point) *fixedBase {
	t := new(fixedBase)
	step := new(edwards25519.Point).Set(p) // 256^i·P
	for i := range t {
		t[i][0].Set(step)
		for j := 1; j < len(t[i]); j++ {
			t[i][j].Add(&t[i][j-1], step)
		}
		step.Add(&t[i][254], step)
	}
	return t
}

// addMult adds x·P to v, x in 32 little-endian bytes.
func (t *fixedBase) addMult(v *edwards25519.Point, x []byte) {
	for i, b := range x {
		if b != 0 {
			v.Add(v, &t[i][b-1])
		}
	}
}

// baseTable is the table of the base point B.
var baseTable = sync.OnceValue(func() *fixedBase { return newFixedBase(edwards25519.NewGeneratorPoint()) })

// keyVerifier checks Ed25519 signatures by one public key as
// crypto/ed25519.Verify does.
type keyVerifier struct {
	pub    []byte     // the key's 32 bytes
	minusA *fixedBase // −A's table
}

// newKeyVerifier returns a keyVerifier for the 32-byte key pub, or nil
// when pub is no valid point (crypto/ed25519 refuses every signature by
// it; spec.Entry.Verify says why).
func newKeyVerifier(pub []byte) *keyVerifier {
	if len(pub) != 32 {
		return nil
	}
	a, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil
	}
	return &keyVerifier{pub: bytes.Clone(pub), minusA: newFixedBase(new(edwards25519.Point).Negate(a))}
}

// point sets r to R' = [S]B − [k]A for sig on msg, the point whose
// encoding a valid sig starts with; false when sig is refused before
// that (its length, or S out of range), as crypto/ed25519 refuses it.
func (kv *keyVerifier) point(r *edwards25519.Point, msg, sig []byte) bool {
	if len(sig) != 64 || sig[63]&224 != 0 {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(kv.pub)
	h.Write(msg)
	var digest [64]byte
	k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false // not reached: 64 bytes
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	r.Set(edwards25519.NewIdentityPoint())
	baseTable().addMult(r, s.Bytes())
	kv.minusA.addMult(r, k.Bytes())
	return true
}

// encodeAll returns the encodings of points (as Point.Bytes), with one
// field inversion for all of them.
func encodeAll(points []edwards25519.Point) [][32]byte {
	out := make([][32]byte, len(points))
	if len(points) == 0 {
		return out
	}
	// prefix[i] = Z_0·…·Z_i
	prefix := make([]field.Element, len(points))
	for i := range points {
		_, _, z, _ := points[i].ExtendedCoordinates()
		if i == 0 {
			prefix[i].Set(z)
		} else {
			prefix[i].Multiply(&prefix[i-1], z)
		}
	}
	if prefix[len(points)-1].Equal(new(field.Element).Zero()) == 1 {
		// Not reached (a point's Z is never 0); encode one by one.
		for i := range points {
			copy(out[i][:], points[i].Bytes())
		}
		return out
	}
	var inv, zInv, x, y field.Element
	inv.Invert(&prefix[len(points)-1]) // 1/(Z_0·…·Z_n-1)
	for i := len(points) - 1; i >= 0; i-- {
		px, py, z, _ := points[i].ExtendedCoordinates()
		if i > 0 {
			zInv.Multiply(&inv, &prefix[i-1]) // 1/Z_i
			inv.Multiply(&inv, z)             // 1/(Z_0·…·Z_i-1)
		} else {
			zInv.Set(&inv)
		}
		x.Multiply(px, &zInv)
		y.Multiply(py, &zInv)
		copy(out[i][:], y.Bytes())
		out[i][31] |= byte(x.IsNegative() << 7)
	}
	return out
}

// keyVerifiers holds the verifiers of the authors of an export's long
// logs, each made when a signature of its log is first checked.
type keyVerifiers map[string]*lazyVerifier

type lazyVerifier struct {
	author []byte
	get    func() *keyVerifier
}

// verifiersFor returns the keyVerifiers for the logs of m at least
// minTableLog long.
func verifiersFor(m *Manifest) keyVerifiers {
	kvs := keyVerifiers{}
	for _, l := range m.Logs {
		if l.Seq < minTableLog {
			continue
		}
		author := l.Author
		kvs[string(author)] = &lazyVerifier{author: author, get: sync.OnceValue(func() *keyVerifier {
			id, err := peer.IDFromBytes(author)
			if err != nil {
				return nil
			}
			pk, err := id.ExtractPublicKey()
			if err != nil || pk.Type() != crypto.Ed25519 {
				return nil
			}
			raw, err := pk.Raw()
			if err != nil {
				return nil
			}
			return newKeyVerifier(raw)
		})}
	}
	return kvs
}

// verifyEntries checks the signatures of es as spec.Entry.Verify does and
// returns the index of one that fails with its error, or -1.
func (kvs keyVerifiers) verifyEntries(es []*graph.Entry) (int, error) {
	type fast struct {
		i   int
		sig []byte
	}
	var (
		points []edwards25519.Point
		checks []fast
	)
	for i, e := range es {
		var kv *keyVerifier
		if lv := kvs[string(e.Entry.Author)]; lv != nil {
			kv = lv.get()
		}
		if kv == nil {
			if err := e.Entry.Verify(); err != nil {
				return i, err
			}
			continue
		}
		msg, err := e.Entry.SigningBytes()
		if err != nil {
			return i, err
		}
		if points == nil {
			points = make([]edwards25519.Point, 0, len(es))
		}
		points = append(points, edwards25519.Point{})
		if !kv.point(&points[len(points)-1], msg, e.Entry.Sig) {
			points = points[:len(points)-1]
			if err := e.Entry.Verify(); err != nil {
				return i, err
			}
			continue // not reached: crypto/ed25519 refuses it too
		}
		checks = append(checks, fast{i, e.Entry.Sig})
	}
	for j, enc := range encodeAll(points) {
		if c := checks[j]; !bytes.Equal(c.sig[:32], enc[:]) {
			// Refused: spec.Entry.Verify checks it again and names why.
			if err := es[c.i].Entry.Verify(); err != nil {
				return c.i, err
			}
		}
	}
	return -1, nil
}
