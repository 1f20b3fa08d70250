package hl7

import (
	"encoding/hex"
	"strings"
)

// UnescapeText decodes the escape sequences of one piece of text (a field,
// component or subcomponent that has already been split): \F\ \S\ \T\ \R\ \E\
// become the delimiters they stand for, \P\ the truncation character when the
// message declares one, \Xhh...\ the bytes written in hexadecimal, and \.br\ a
// line break. Any other sequence, and an escape character with no closing
// one, is kept literally: dropping text we do not understand would silently
// change a value, while keeping it shows the reader what was sent.
func (d Delimiters) UnescapeText(s string) string {
	if d.Escape == 0 || strings.IndexByte(s, d.Escape) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != d.Escape {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], d.Escape)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+end]
		if decoded, ok := d.decodeSequence(seq); ok {
			b.WriteString(decoded)
		} else {
			b.WriteString(s[i : i+end+2])
		}
		i += end + 2
	}
	return b.String()
}

// decodeSequence returns what the escape sequence seq (without its escape
// characters) stands for, and false when it is not one we decode.
func (d Delimiters) decodeSequence(seq string) (string, bool) {
	switch seq {
	case "F":
		return string(d.Field), true
	case "S":
		return string(d.Component), true
	case "T":
		return string(d.Subcomponent), true
	case "R":
		return string(d.Repetition), true
	case "E":
		return string(d.Escape), true
	case "P":
		if d.Truncation == 0 {
			return "", false
		}
		return string(d.Truncation), true
	case ".br":
		return "\n", true
	}
	if len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1 {
		raw, err := hex.DecodeString(seq[1:])
		if err == nil {
			return string(raw), true
		}
	}
	return "", false
}

// EscapeText encodes s so that it can be written as one subcomponent of a field:
// every delimiter character becomes its escape sequence, a line break (LF or
// CRLF) becomes \.br\, and any other control character, which would end a
// segment or break MLLP framing, becomes a \Xhh\ hex sequence. UnescapeText
// undoes it, except that CRLF comes back as LF.
func (d Delimiters) EscapeText(s string) string {
	if !d.needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == d.Escape:
			d.writeSequence(&b, "E")
		case c == d.Field:
			d.writeSequence(&b, "F")
		case c == d.Component:
			d.writeSequence(&b, "S")
		case c == d.Subcomponent:
			d.writeSequence(&b, "T")
		case c == d.Repetition:
			d.writeSequence(&b, "R")
		case d.Truncation != 0 && c == d.Truncation:
			d.writeSequence(&b, "P")
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			d.writeSequence(&b, ".br")
			i++
		case c == '\n':
			d.writeSequence(&b, ".br")
		case c < 0x20 && c != '\t', c == 0x7f:
			d.writeSequence(&b, "X"+strings.ToUpper(hex.EncodeToString([]byte{c})))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// writeSequence writes seq between two escape characters.
func (d Delimiters) writeSequence(b *strings.Builder, seq string) {
	b.WriteByte(d.Escape)
	b.WriteString(seq)
	b.WriteByte(d.Escape)
}

// needsEscape reports whether s holds any byte EscapeText would change, so that
// the common case allocates nothing.
func (d Delimiters) needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == d.Escape || c == d.Field || c == d.Component ||
			c == d.Subcomponent || c == d.Repetition || (d.Truncation != 0 && c == d.Truncation) {
			return true
		}
	}
	return false
}
