package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// Export implements api.API: a CAR v1 of every log the store holds, with
// the key when asked (graph/archive), and where my connections were last
// seen (its unsigned hints). The heads are read first, so writes that
// happen meanwhile are not in it and do not disturb it.
func (n *Node) Export(ctx context.Context, req api.ExportRequest, w io.Writer) (*api.ExportResult, error) {
	var key []byte
	if req.WithKey {
		var err error
		if key, err = n.exportKey(req.Passphrase); err != nil {
			return nil, err
		}
	}
	hints, err := n.exportHints(ctx) // hints.go
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: w}
	m, err := archive.Write(ctx, cw, archive.StoreSource(n.store), archive.WriteOptions{Signer: n.id, Key: key, Now: n.now(), Progress: req.Progress,
		Hints: hints})
	if err != nil {
		return nil, fmt.Errorf("exporting: %w", err)
	}
	mb, err := archiveRoot(m)
	if err != nil {
		return nil, err
	}
	return &api.ExportResult{PeerID: n.id.PeerID(), Root: mb, Logs: len(m.Logs), Entries: m.Entries(), Key: key != nil,
		Created: m.CreatedTime().UTC(), Bytes: cw.n}, nil
}

// exportKey returns the key file for an export: sealed with passphrase
// when one is given, else the home's key file as it is, which must be
// sealed already.
func (n *Node) exportKey(passphrase []byte) ([]byte, error) {
	if len(passphrase) > 0 {
		return identity.MarshalKey(n.id, passphrase)
	}
	needPass := fmt.Errorf("%w: %w: the key goes into an export only encrypted: give a passphrase for it", api.ErrInvalid, identity.ErrPassphraseRequired)
	if n.home == "" {
		return nil, needPass
	}
	ks := identity.Keystore{Dir: n.home}
	enc, err := ks.Encrypted()
	if err != nil {
		return nil, err
	}
	if !enc {
		return nil, needPass
	}
	b, err := os.ReadFile(ks.Path())
	if err != nil {
		return nil, fmt.Errorf("reading the key file: %w", err)
	}
	if len(b) > archive.MaxKeySize {
		return nil, errors.New("node: the key file is too large for an export")
	}
	return b, nil
}

// archiveRoot returns the CID of m's block, the export's root.
func archiveRoot(m *archive.Manifest) (string, error) {
	c, err := m.CID()
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}
