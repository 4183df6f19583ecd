package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/kith-p2p/kith"

// layers is the import direction: spec ← identity ← graph ← node ← cli ←
// main. A package may import its own layer or lower ones, never higher.
var layers = map[string]int{"spec": 0, "identity": 1, "graph": 2, "node": 3, "cli": 4, ".": 5, "test": 6}

// nodeImporters are the cli files that may import node itself: init and
// daemon act on the home directly; the version string and the error
// sentinels for exit codes come from there too. Every other command is a
// client of the daemon's API.
var nodeImporters = map[string]bool{"cmd_init.go": true, "cmd_daemon.go": true, "app.go": true, "exit.go": true}

// networkFree are the layers that know nothing of the network: the wire
// format, identity and the domain (graph and its services, such as the
// address book). Of libp2p they may use peer IDs and keys, never a host,
// a stream or a connection.
var networkFree = map[int]bool{0: true, 1: true, 2: true}

// libp2pAllowed are the libp2p packages a network-free package may import.
var libp2pAllowed = map[string]bool{"github.com/libp2p/go-libp2p/core/peer": true, "github.com/libp2p/go-libp2p/core/crypto": true}

func layerOf(dir string) (int, bool) {
	top := strings.Split(filepath.ToSlash(dir), "/")[0]
	l, ok := layers[top]
	return l, ok
}

// TestImportDirection parses every non-test Go file and checks that project
// imports only point down the layers (test files may import anything).
func TestImportDirection(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		from, ok := layerOf(dir)
		if !ok {
			t.Errorf("%s: package directory %q is in no layer; add it to layers", path, dir)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if networkFree[from] && strings.HasPrefix(p, "github.com/libp2p/go-libp2p") && !libp2pAllowed[p] {
				t.Errorf("%s imports %s: the domain packages are network-free (peer IDs and keys only); network code goes in node/", path, p)
			}
			if !strings.HasPrefix(p, module+"/") {
				continue
			}
			checked++
			rel := strings.TrimPrefix(p, module+"/")
			to, ok := layerOf(rel)
			if !ok {
				t.Errorf("%s imports %s, which is in no layer", path, p)
				continue
			}
			if rel == "node" && strings.HasPrefix(filepath.ToSlash(dir), "cli") && !nodeImporters[filepath.Base(path)] {
				t.Errorf("%s imports node: commands other than init and daemon talk to the daemon through node/api", path)
			}
			if rel == "graph/store" && strings.HasPrefix(filepath.ToSlash(dir), "cli") {
				t.Errorf("%s imports graph/store: commands reach the store through the daemon's API (node/api), never directly", path)
			}
			if to > from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must flow spec ← identity ← graph ← node ← cli ← main", path, from, p, to)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no project imports found; is the walk broken?")
	}
}
