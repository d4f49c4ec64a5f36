package handlers

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every error code has one row in the table: a 4xx or 5xx status and a
// default message; every row is a declared code.
func TestErrorCodeTable(t *testing.T) {
	table := errorCodes()
	declared := declaredErrorCodes(t)
	if len(declared) != len(table) {
		t.Errorf("%d codes declared, %d in the table", len(declared), len(table))
	}
	for _, c := range declared {
		s, ok := table[errorCode(c)]
		if !ok {
			t.Errorf("code %q has no row in errorCodes", c)
			continue
		}
		if s.Status < 400 || s.Status > 599 || s.Message == "" {
			t.Errorf("code %q: status %d, message %q", c, s.Status, s.Message)
		}
		if p := problemFor(errorCode(c)); p.Status != s.Status || p.Message != s.Message {
			t.Errorf("problemFor(%q) = %d %q", c, p.Status, p.Message)
		}
	}
	if s := errorCode("no_such_code").spec(); s != table[codeInternal] {
		t.Errorf("an unknown code answers %v, want internal", s)
	}
}

// Error codes live in error_codes.go only: no other file of the package
// spells one as a string, declares one, converts a string to one or puts
// a literal in a problem's Code.
func TestErrorCodesInOnePlace(t *testing.T) {
	codes := map[string]bool{}
	for c := range errorCodes() {
		codes[string(c)] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "error_codes.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if what := errorCodeOutsideTable(n, codes); what != "" {
				t.Errorf("%s: %s; error codes belong in error_codes.go", fset.Position(n.Pos()), what)
			}
			return true
		})
	}
}

// errorCodeOutsideTable says how n spells an error code, "" if it does not.
func errorCodeOutsideTable(n ast.Node, codes map[string]bool) string {
	switch n := n.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && codes[s] {
			return fmt.Sprintf("string %q is an error code", s)
		}
	case *ast.ValueSpec:
		if id, ok := n.Type.(*ast.Ident); ok && id.Name == "errorCode" {
			return "declares an errorCode"
		}
	case *ast.CallExpr:
		if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "errorCode" {
			return "converts to errorCode"
		}
	case *ast.KeyValueExpr:
		if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Code" {
			if _, lit := n.Value.(*ast.BasicLit); lit {
				return "sets Code to a literal"
			}
		}
	}
	return ""
}
