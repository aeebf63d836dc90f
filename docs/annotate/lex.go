package main

import (
	"fmt"
	"go/scanner"
	"go/token"
	"strings"

	"github.com/alecthomas/chroma/v2"
)

// highlight splits Go source into lines of coloured tokens: element i is
// line i+1. A token that spans lines (a raw string, a block comment) is cut
// at each line end.
//
// The tokens come from the standard library's own Go scanner, not from
// chroma's regular-expression lexer: chroma gives every match 250 ms of
// wall clock, and on a loaded machine a match that loses the CPU that long
// comes out as a different token, so the same source made different pages
// (the staleness test failed under load). go/scanner has no clock, and it
// is the tokenizer the compiler uses, so it cannot disagree with Go about
// where a token ends. chroma still names the classes and the palette.
func highlight(src []byte) ([][]chroma.Token, error) {
	lexemes, err := scan(src)
	if err != nil {
		return nil, err
	}
	var toks []chroma.Token
	at := 0
	for i, l := range lexemes {
		if l.off > at {
			toks = append(toks, chroma.Token{Type: chroma.Text, Value: string(src[at:l.off])})
		}
		toks = append(toks, chroma.Token{Type: classify(lexemes, i), Value: l.text})
		at = l.off + len(l.text)
	}
	if at < len(src) {
		toks = append(toks, chroma.Token{Type: chroma.Text, Value: string(src[at:])})
	}
	return chroma.SplitTokensIntoLines(toks), nil
}

// lexeme is one token as it stands in the source.
type lexeme struct {
	off  int
	tok  token.Token
	text string
}

// scan lists the tokens of src, comments included, leaving out the
// semicolons the scanner inserts at line ends (they are not in the text).
func scan(src []byte) ([]lexeme, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var first error
	var s scanner.Scanner
	s.Init(file, src, func(pos token.Position, msg string) {
		if first == nil {
			first = fmt.Errorf("line %d: %s", pos.Line, msg)
		}
	}, scanner.ScanComments)
	var out []lexeme
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit != ";" {
			continue // inserted by the scanner, not written
		}
		text := lit
		if text == "" {
			text = tok.String()
		}
		out = append(out, lexeme{file.Offset(pos), tok, text})
	}
	return out, first
}

// classify gives lexeme i the token type chroma's Go lexer would give it,
// so that the pages keep their colours.
func classify(ls []lexeme, i int) chroma.TokenType {
	l := ls[i]
	switch {
	case l.tok == token.COMMENT:
		if strings.HasPrefix(l.text, "/*") {
			return chroma.CommentMultiline
		}
		return chroma.CommentSingle
	case l.tok == token.IDENT:
		return classifyName(ls, i)
	case l.tok == token.PACKAGE || l.tok == token.IMPORT:
		return chroma.KeywordNamespace
	case l.tok == token.FUNC || l.tok == token.STRUCT || l.tok == token.TYPE ||
		l.tok == token.VAR || l.tok == token.CONST || l.tok == token.INTERFACE ||
		l.tok == token.MAP || l.tok == token.CHAN:
		return chroma.KeywordDeclaration
	case l.tok.IsKeyword():
		return chroma.Keyword
	case l.tok == token.INT:
		return intType(l.text)
	case l.tok == token.FLOAT || l.tok == token.IMAG:
		return chroma.LiteralNumberFloat
	case l.tok == token.CHAR:
		return chroma.LiteralStringChar
	case l.tok == token.STRING:
		return chroma.LiteralString
	case operators[l.text]:
		return chroma.Operator
	}
	return chroma.Punctuation
}

// classifyName sorts identifiers: a call is a function name (or a builtin
// one), the predeclared types and constants have their own colours.
func classifyName(ls []lexeme, i int) chroma.TokenType {
	name := ls[i].text
	called := i+1 < len(ls) && ls[i+1].tok == token.LPAREN
	switch {
	case called && (builtinFuncs[name] || predeclaredTypes[name]):
		return chroma.NameBuiltin
	case called:
		return chroma.NameFunction
	case predeclaredTypes[name]:
		return chroma.KeywordType
	case name == "true" || name == "false" || name == "nil" || name == "iota":
		return chroma.KeywordConstant
	}
	return chroma.NameOther
}

func intType(lit string) chroma.TokenType {
	if len(lit) > 1 && lit[0] == '0' {
		switch lit[1] {
		case 'x', 'X':
			return chroma.LiteralNumberHex
		case 'b', 'B':
			return chroma.LiteralNumberBin
		case 'o', 'O':
			return chroma.LiteralNumberOct
		}
	}
	return chroma.LiteralNumberInteger
}

// operators are the tokens chroma's Go lexer calls operators; the rest of
// the punctuation (brackets, '.', ',', and single '<', '=', '!', '|', '^')
// it calls punctuation.
var operators = setOf("<<=", ">>=", "<<", ">>", "<=", ">=", "&^=", "&^", "+=", "-=", "*=", "/=",
	"%=", "&=", "|=", "^=", "&&", "||", "<-", "++", "--", "==", "!=", ":=", "...", "+", "-", "*", "/", "%", "&")

var predeclaredTypes = setOf("any", "bool", "byte", "comparable", "complex64", "complex128", "error",
	"float32", "float64", "int", "int8", "int16", "int32", "int64", "rune", "string",
	"uint", "uint8", "uint16", "uint32", "uint64", "uintptr")

var builtinFuncs = setOf("append", "cap", "clear", "close", "complex", "copy", "delete", "imag",
	"len", "make", "max", "min", "new", "panic", "print", "println", "real", "recover")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
