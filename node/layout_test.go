package node

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFileCallsBack checks the node package's shape: no two files call
// each other's unexported functions or methods. A file that needs
// another's helper, and is needed back, belongs with it or behind an
// interface (see node/doc.go).
func TestNoFileCallsBack(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := map[string]string{} // unexported name → file declaring it
	uses := map[string]map[string]bool{}
	parsed := map[string][]*ast.File{}
	for _, name := range files {
		if ok, err := build.Default.MatchFile(".", name); err != nil || !ok || strings.HasSuffix(name, "_test.go") {
			continue // another platform's, or a test
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		// A platform's part of a file (ports_unix.go) is of that file.
		name = strings.TrimSuffix(strings.TrimSuffix(name, "_unix.go"), "_windows.go")
		name = strings.TrimSuffix(name, ".go") + ".go"
		parsed[name] = append(parsed[name], f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				declare(t, declared, d.Name.Name, name)
			}
		}
	}
	for name, fs := range parsed {
		uses[name] = map[string]bool{}
		for _, f := range fs {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var id *ast.Ident
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					id = fn
				case *ast.SelectorExpr:
					id = fn.Sel
				}
				if id != nil {
					if other, ok := declared[id.Name]; ok && other != name {
						uses[name][other] = true
					}
				}
				return true
			})
		}
	}
	checked := 0
	for a, us := range uses {
		for b := range us {
			checked++
			if a < b && uses[b][a] {
				t.Errorf("%s and %s use each other's unexported names: merge them or put one behind the other", a, b)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no file uses another's names: is the walk broken?")
	}
	if _, err := os.Stat("node.go"); err != nil {
		t.Fatal(err)
	}
}

func declare(t *testing.T, declared map[string]string, name, file string) {
	if name == "_" || name == "init" || ast.IsExported(name) {
		return
	}
	if prev, ok := declared[name]; ok && prev != file {
		t.Errorf("%s is declared in %s and %s (methods of two types): rename one, so that this check can tell them apart", name, prev, file)
	}
	declared[name] = file
}
