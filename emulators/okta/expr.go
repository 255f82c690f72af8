package okta

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// This file parses the SCIM-like expressions Okta accepts in the users
// "search" and "filter" parameters and the System Log "filter" parameter:
//
//	profile.employeeNumber eq "E1001" and (status eq "ACTIVE" or status eq "SUSPENDED")
//
// Supported: eq, ne, sw, ew, co, gt, ge, lt, le, pr; and, or, not; parentheses.

// expr is a parsed expression.
type expr interface {
	eval(get getter) bool
}

// getter returns the values of an attribute (several for arrays such as a
// log event's targets) and whether the attribute exists on the object.
type getter func(attr string) ([]string, bool)

type andExpr struct{ l, r expr }
type orExpr struct{ l, r expr }
type notExpr struct{ e expr }

type cmpExpr struct {
	attr string
	op   string
	val  string
	fold bool // case-insensitive comparison
}

func (e andExpr) eval(g getter) bool { return e.l.eval(g) && e.r.eval(g) }
func (e orExpr) eval(g getter) bool  { return e.l.eval(g) || e.r.eval(g) }
func (e notExpr) eval(g getter) bool { return !e.e.eval(g) }

func (e cmpExpr) eval(g getter) bool {
	vals, ok := g(e.attr)
	if e.op == "pr" {
		for _, v := range vals {
			if v != "" {
				return true
			}
		}
		return false
	}
	if e.op == "ne" {
		return !(cmpExpr{attr: e.attr, op: "eq", val: e.val, fold: e.fold}).eval(g)
	}
	if !ok {
		return false
	}
	want := e.val
	for _, v := range vals {
		if e.fold {
			v, want = strings.ToLower(v), strings.ToLower(e.val)
		}
		var hit bool
		switch e.op {
		case "eq":
			hit = v == want
		case "sw":
			hit = strings.HasPrefix(v, want)
		case "ew":
			hit = strings.HasSuffix(v, want)
		case "co":
			hit = strings.Contains(v, want)
		case "gt":
			hit = v > want
		case "ge":
			hit = v >= want
		case "lt":
			hit = v < want
		case "le":
			hit = v <= want
		}
		if hit {
			return true
		}
	}
	return false
}

var errBadExpr = errors.New("invalid expression")

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokWord
	tokString
)

type token struct {
	kind tokKind
	text string
}

func lex(s string) ([]token, error) {
	var toks []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")"})
			i++
		case c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(rs) {
				if rs[i] == '\\' && i+1 < len(rs) {
					b.WriteRune(rs[i+1])
					i += 2
					continue
				}
				if rs[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteRune(rs[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%w: unterminated string", errBadExpr)
			}
			toks = append(toks, token{tokString, b.String()})
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '(' && rs[j] != ')' && rs[j] != '"' {
				j++
			}
			toks = append(toks, token{tokWord, string(rs[i:j])})
			i = j
		}
	}
	return append(toks, token{kind: tokEOF}), nil
}

type parser struct {
	toks   []token
	pos    int
	attrOK func(string) bool
	fold   bool
}

// parseExpr parses s. attrOK says which attribute names are allowed; fold
// makes comparisons case-insensitive.
func parseExpr(s string, attrOK func(string) bool, fold bool) (expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: empty", errBadExpr)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, attrOK: attrOK, fold: fold}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokEOF {
		return nil, fmt.Errorf("%w: unexpected %q", errBadExpr, p.peek().text)
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) keyword(k string) bool {
	t := p.peek()
	if t.kind == tokWord && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *parser) unary() (expr, error) {
	if p.keyword("not") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	return p.primary()
}

var operators = map[string]bool{"eq": true, "ne": true, "sw": true, "ew": true, "co": true, "gt": true, "ge": true, "lt": true, "le": true, "pr": true}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tokRParen {
			return nil, fmt.Errorf("%w: missing )", errBadExpr)
		}
		return e, nil
	case tokWord:
	default:
		return nil, fmt.Errorf("%w: expected an attribute", errBadExpr)
	}
	attr := t.text
	if !p.attrOK(attr) {
		return nil, fmt.Errorf("%w: unsupported attribute %q", errBadExpr, attr)
	}
	opTok := p.next()
	op := strings.ToLower(opTok.text)
	if opTok.kind != tokWord || !operators[op] {
		return nil, fmt.Errorf("%w: expected an operator after %q", errBadExpr, attr)
	}
	if op == "pr" {
		return cmpExpr{attr: attr, op: op}, nil
	}
	v := p.next()
	switch v.kind {
	case tokString:
	case tokWord:
		// Bare literals: true, false, null and numbers.
		if strings.EqualFold(v.text, "and") || strings.EqualFold(v.text, "or") {
			return nil, fmt.Errorf("%w: missing value after %q", errBadExpr, op)
		}
	default:
		return nil, fmt.Errorf("%w: missing value after %q", errBadExpr, op)
	}
	return cmpExpr{attr: attr, op: op, val: v.text, fold: p.fold}, nil
}
