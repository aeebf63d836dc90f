package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
)

// Every byte of every source file the site shows comes out of highlight
// once, in order, and the classes a reader's eye relies on are given.
func TestHighlightKeepsTheSource(t *testing.T) {
	files, _ := filepath.Glob("../../servers/*.go")
	if len(files) == 0 {
		t.Fatal("no source files found")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := highlight(src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var b strings.Builder
		for _, line := range lines {
			for _, tok := range line {
				b.WriteString(tok.Value)
			}
		}
		if b.String() != string(src) {
			t.Errorf("%s: the tokens do not spell the source", f)
		}
	}
}

func TestHighlightClasses(t *testing.T) {
	src := "package p\n\n// hi\nfunc f(x int) []byte { return append(nil, `r`[0], 0x1f) }\n"
	lines, err := highlight([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]chroma.TokenType{
		"package": chroma.KeywordNamespace, "// hi": chroma.CommentSingle, "func": chroma.KeywordDeclaration,
		"f": chroma.NameFunction, "x": chroma.NameOther, "int": chroma.KeywordType, "return": chroma.Keyword,
		"append": chroma.NameBuiltin, "nil": chroma.KeywordConstant, "`r`": chroma.LiteralString,
		"0x1f": chroma.LiteralNumberHex, "[": chroma.Punctuation,
	}
	got := map[string]chroma.TokenType{}
	for _, line := range lines {
		for _, tok := range line {
			got[strings.TrimSuffix(tok.Value, "\n")] = tok.Type
		}
	}
	for text, typ := range want {
		if got[text] != typ {
			t.Errorf("%q is %v, want %v", text, got[text], typ)
		}
	}
}
