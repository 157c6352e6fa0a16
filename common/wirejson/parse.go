package wirejson

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit, kept so that both accept the
// same documents.
const maxDepth = 10000

var (
	errDepth    = errors.New("exceeded max depth")
	errTrailing = errors.New("trailing data after the document")
)

// parseValue reads one JSON document into the values encoding/json gives
// with UseNumber — map[string]any, []any, json.Number, string, bool and nil —
// in one pass and without reflection (several times faster than
// encoding/json for a report). Like json.Decoder followed by More, it
// accepts trailing white space and a stray closing bracket after the
// document, and nothing else.
func parseValue(data []byte) (any, error) {
	p := parser{data: data}
	p.space()
	if p.i == len(p.data) {
		return nil, errors.New("unexpected end of JSON input")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.data) && p.data[p.i] != ']' && p.data[p.i] != '}' {
		return nil, errTrailing
	}
	return v, nil
}

type parser struct {
	data []byte
	i    int
	buf  []byte // scratch for strings with escapes
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) fail(what string) error {
	if p.i >= len(p.data) {
		return errors.New("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %q %s at offset %d", p.data[p.i], what, p.i)
}

func (p *parser) value(depth int) (any, error) {
	if p.i >= len(p.data) {
		return nil, p.fail("")
	}
	switch c := p.data[p.i]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, errDepth
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, errDepth
		}
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.fail("looking for beginning of value")
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.i >= len(word) && string(p.data[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return nil
	}
	for j := 0; j < len(word); j++ {
		if p.i >= len(p.data) || p.data[p.i] != word[j] {
			return p.fail("in literal " + word)
		}
		p.i++
	}
	return nil
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	obj := map[string]any{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return obj, nil
	}
	for {
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.fail("looking for beginning of object key string")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.colon(); err != nil {
			return nil, err
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		obj[key] = v
		switch done, err := p.next('}', "after object key:value pair"); {
		case err != nil:
			return nil, err
		case done:
			return obj, nil
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	arr := []any{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return arr, nil
	}
	for {
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		switch done, err := p.next(']', "after array element"); {
		case err != nil:
			return nil, err
		case done:
			return arr, nil
		}
	}
}

// colon consumes the colon after an object key, with the space around it.
func (p *parser) colon() error {
	p.space()
	if p.i >= len(p.data) || p.data[p.i] != ':' {
		return p.fail("after object key")
	}
	p.i++
	p.space()
	return nil
}

// next consumes what follows a member of an object or array: a comma (more
// follows) or the closing byte (done).
func (p *parser) next(closing byte, after string) (done bool, err error) {
	p.space()
	if p.i >= len(p.data) {
		return false, p.fail("")
	}
	switch p.data[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	default:
		return false, p.fail(after)
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.data) && isDigit(p.data[p.i]) {
		p.i++
		n++
	}
	return n
}

// number reads a number with JSON's grammar and keeps its text.
func (p *parser) number() (any, error) {
	start := p.i
	if err := p.numberText(); err != nil {
		return nil, err
	}
	return json.Number(p.data[start:p.i]), nil
}

// numberText reads a number with JSON's grammar; p.data up to p.i is its
// text.
func (p *parser) numberText() error {
	if p.data[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.data) && p.data[p.i] == '0':
		p.i++
	case p.i < len(p.data) && isDigit(p.data[p.i]):
		p.digits()
	default:
		return p.fail("in numeric literal")
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return p.fail("after decimal point in numeric literal")
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return p.fail("in exponent of numeric literal")
		}
	}
	return nil
}

// str reads a string the way encoding/json unquotes it: invalid UTF-8 and
// unpaired surrogates become U+FFFD.
func (p *parser) str() (string, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			s := string(p.data[start:p.i])
			p.i++
			return s, nil
		case c == '\\' || c >= utf8.RuneSelf:
			return p.slowStr(start)
		case c < 0x20:
			return "", p.fail("in string literal")
		}
		p.i++
	}
	return "", p.fail("")
}

func (p *parser) slowStr(start int) (string, error) {
	b := append(p.buf[:0], p.data[start:p.i]...)
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			p.buf = b
			return string(b), nil
		case c < 0x20:
			return "", p.fail("in string literal")
		case c == '\\':
			p.i++
			if p.i >= len(p.data) {
				return "", p.fail("")
			}
			e := p.data[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.fail("in \\u hexadecimal character escape")
				}
				if utf16.IsSurrogate(r) {
					r2, ok := p.peekSurrogate()
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						p.i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.i--
				return "", p.fail("in string escape code")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.data[p.i:])
			p.i += size
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
				continue
			}
			b = append(b, p.data[p.i-size:p.i]...)
		}
	}
	return "", p.fail("")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	p.i += 4
	return r, true
}

// peekSurrogate reads a following \uXXXX without consuming it.
func (p *parser) peekSurrogate() (rune, bool) {
	if len(p.data)-p.i < 6 || p.data[p.i] != '\\' || p.data[p.i+1] != 'u' {
		return 0, false
	}
	save := p.i
	p.i += 2
	r, ok := p.hex4()
	p.i = save
	return r, ok
}
