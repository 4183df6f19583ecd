package archive

import (
	"bytes"
	"cmp"
	"crypto/sha512"
	"slices"
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
// signature checks, and takes 1 MB. At most maxTables logs, the longest,
// get one (an export may list 8192 logs): the others are checked by
// crypto/ed25519.
const (
	minTableLog = 2048
	maxTables   = 16
)

// The points of a table are kept as filippo.io/edwards25519 keeps its
// base point table ("affine cached": (y+x, y−x, 2d·x·y)), and added with
// its formulas (projP1xP1.AddAffine, then Point.fromP1xP1), written out
// here with its exported field arithmetic: its Point.Add converts the
// point added from extended coordinates at every call and checks both
// operands, which took a third of the time.
type affineCached struct{ yPlusX, yMinusX, t2d field.Element }

// extended is a point in extended coordinates (X:Y:Z:T), x = X/Z,
// y = Y/Z, x·y = T/Z.
type extended struct{ x, y, z, t field.Element }

// d2 is 2·d, d = −121665/121666, the curve's constant.
var d2 = func() *field.Element {
	var num, den, d field.Element
	num.SetBytes(append([]byte{0x41, 0xdb, 0x01}, make([]byte, 29)...)) // 121665
	den.SetBytes(append([]byte{0x42, 0xdb, 0x01}, make([]byte, 29)...)) // 121666
	den.Invert(&den)
	d.Multiply(&num, &den)
	d.Negate(&d)
	return d.Add(&d, &d)
}()

func (v *extended) setIdentity() {
	v.x.Zero()
	v.y.One()
	v.z.One()
	v.t.Zero()
}

// addAffine sets v = v + q.
func (v *extended) addAffine(q *affineCached) {
	var yPlusX, yMinusX, pp, mm, tt2d, z2 field.Element
	yPlusX.Add(&v.y, &v.x)
	yMinusX.Subtract(&v.y, &v.x)
	pp.Multiply(&yPlusX, &q.yPlusX)
	mm.Multiply(&yMinusX, &q.yMinusX)
	tt2d.Multiply(&v.t, &q.t2d)
	z2.Add(&v.z, &v.z)
	var x, y, z, t field.Element // projP1xP1
	x.Subtract(&pp, &mm)
	y.Add(&pp, &mm)
	z.Add(&z2, &tt2d)
	t.Subtract(&z2, &tt2d)
	v.x.Multiply(&x, &t)
	v.y.Multiply(&y, &z)
	v.z.Multiply(&z, &t)
	v.t.Multiply(&x, &y)
}

// fixedBase holds j·256^i·P for j = 1..255, i = 0..31, of one point P.
type fixedBase [32][255]affineCached

func newFixedBase(p *edwards25519.Point) *fixedBase {
	points := make([]edwards25519.Point, 32*255)
	step := new(edwards25519.Point).Set(p) // 256^i·P
	for i := range 32 {
		row := points[i*255 : (i+1)*255]
		row[0].Set(step)
		for j := 1; j < len(row); j++ {
			row[j].Add(&row[j-1], step)
		}
		step.Add(&row[254], step)
	}
	zs := make([]*field.Element, len(points))
	for i := range points {
		_, _, zs[i], _ = points[i].ExtendedCoordinates()
	}
	zInvs := invertAll(zs)
	t := new(fixedBase)
	for i := range points {
		x, y, _, tt := points[i].ExtendedCoordinates()
		c := &t[i/255][i%255]
		c.yPlusX.Add(y, x)
		c.yPlusX.Multiply(&c.yPlusX, &zInvs[i])
		c.yMinusX.Subtract(y, x)
		c.yMinusX.Multiply(&c.yMinusX, &zInvs[i])
		c.t2d.Multiply(tt, d2)
		c.t2d.Multiply(&c.t2d, &zInvs[i])
	}
	return t
}

// addMult adds x·P to v, x in 32 little-endian bytes.
func (t *fixedBase) addMult(v *extended, x []byte) {
	for i, b := range x {
		if b != 0 {
			v.addAffine(&t[i][b-1])
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
func (kv *keyVerifier) point(r *extended, msg, sig []byte) bool {
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
	r.setIdentity()
	baseTable().addMult(r, s.Bytes())
	kv.minusA.addMult(r, k.Bytes())
	return true
}

// invertAll returns 1/z of each of zs with one field inversion
// (Montgomery's trick). None may be 0: a point's Z never is.
func invertAll(zs []*field.Element) []field.Element {
	out := make([]field.Element, len(zs))
	if len(zs) == 0 {
		return out
	}
	// out[i] = z_0·…·z_i for now.
	out[0].Set(zs[0])
	for i := 1; i < len(zs); i++ {
		out[i].Multiply(&out[i-1], zs[i])
	}
	var inv field.Element
	inv.Invert(&out[len(zs)-1]) // 1/(z_0·…·z_n-1)
	for i := len(zs) - 1; i > 0; i-- {
		out[i].Multiply(&inv, &out[i-1]) // 1/z_i
		inv.Multiply(&inv, zs[i])        // 1/(z_0·…·z_i-1)
	}
	out[0].Set(&inv)
	return out
}

// encodeAll returns the encodings of points, as Point.Bytes encodes
// them, with one field inversion for all; nil if a Z is 0 (not reached:
// the formulas are complete), for the caller to check otherwise.
func encodeAll(points []extended) [][32]byte {
	out := make([][32]byte, len(points))
	zs := make([]*field.Element, len(points))
	for i := range points {
		zs[i] = &points[i].z
		if points[i].z.Equal(new(field.Element).Zero()) == 1 {
			return nil
		}
	}
	var x, y field.Element
	for i, zInv := range invertAll(zs) {
		x.Multiply(&points[i].x, &zInv)
		y.Multiply(&points[i].y, &zInv)
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

// verifiersFor returns the keyVerifiers for the longest logs of m, at
// most maxTables, each at least minTableLog long.
func verifiersFor(m *Manifest) keyVerifiers {
	var long []LogHead
	for _, l := range m.Logs {
		if l.Seq >= minTableLog {
			long = append(long, l)
		}
	}
	slices.SortStableFunc(long, func(a, b LogHead) int { return cmp.Compare(b.Seq, a.Seq) })
	kvs := keyVerifiers{}
	for _, l := range long[:min(len(long), maxTables)] {
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
		points []extended
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
			points = make([]extended, 0, len(es))
		}
		points = append(points, extended{})
		if !kv.point(&points[len(points)-1], msg, e.Entry.Sig) {
			points = points[:len(points)-1]
			if err := e.Entry.Verify(); err != nil {
				return i, err
			}
			continue // not reached: crypto/ed25519 refuses it too
		}
		checks = append(checks, fast{i, e.Entry.Sig})
	}
	encs := encodeAll(points)
	for j, c := range checks {
		if encs == nil || !bytes.Equal(c.sig[:32], encs[j][:]) {
			// Refused: spec.Entry.Verify checks it again and names why.
			if err := es[c.i].Entry.Verify(); err != nil {
				return c.i, err
			}
		}
	}
	return -1, nil
}
