package hl7

import "strings"

// text is a piece of a segment as it was received, with the delimiters
// needed to split and unescape it.
type text struct {
	raw    string
	delims Delimiters
	// literal marks text that must be neither split nor unescaped: the
	// segment name, MSH-1 and MSH-2, which consist of delimiter characters.
	literal bool
}

// pieces splits t at sep into n-th level pieces, keeping the delimiters and
// the literal flag. Empty text has no pieces.
func (t text) pieces(sep byte) []text {
	if t.raw == "" {
		return nil
	}
	if t.literal {
		return []text{t}
	}
	parts := strings.Split(t.raw, string(sep))
	out := make([]text, len(parts))
	for i, p := range parts {
		out[i] = text{raw: p, delims: t.delims}
	}
	return out
}

// piece returns the n-th piece (1-based) of t split at sep, or empty text.
func (t text) piece(sep byte, n int) text {
	if n < 1 || t.raw == "" {
		return text{delims: t.delims}
	}
	if t.literal {
		if n == 1 {
			return t
		}
		return text{delims: t.delims}
	}
	rest := t.raw
	for i := 1; i < n; i++ {
		j := strings.IndexByte(rest, sep)
		if j < 0 {
			return text{delims: t.delims}
		}
		rest = rest[j+1:]
	}
	if j := strings.IndexByte(rest, sep); j >= 0 {
		rest = rest[:j]
	}
	return text{raw: rest, delims: t.delims}
}

// decoded returns the unescaped text, or the raw text when it is literal.
func (t text) decoded() string {
	if t.literal {
		return t.raw
	}
	return t.delims.UnescapeText(t.raw)
}

// Field is one field of a segment. It may hold repetitions, each made of
// components, each made of subcomponents; accessors split it on demand.
type Field struct{ text }

// Raw returns the field exactly as received: still escaped, with its
// delimiters. It is what a caller copies into another message unchanged.
func (f Field) Raw() string { return f.raw }

// Value returns the decoded first subcomponent of the first component of the
// first repetition: the whole value of a simple field (ST, ID, NM, DTM...).
// For a composite field such as "ORU^R01" it returns only "ORU".
func (f Field) Value() string {
	return f.piece(f.delims.Repetition, 1).piece(f.delims.Component, 1).piece(f.delims.Subcomponent, 1).decoded()
}

// Repetitions returns the field's repetitions in order; an empty field has
// none.
func (f Field) Repetitions() []Repetition {
	ps := f.pieces(f.delims.Repetition)
	if ps == nil {
		return nil
	}
	out := make([]Repetition, len(ps))
	for i, p := range ps {
		out[i] = Repetition{p}
	}
	return out
}

// Repetition returns repetition i, counting from 1; a missing one is empty.
func (f Field) Repetition(i int) Repetition {
	return Repetition{f.piece(f.delims.Repetition, i)}
}

// Component returns component n (counting from 1) of the first repetition,
// the usual way to read a composite field that does not repeat.
func (f Field) Component(n int) Component {
	return f.Repetition(1).Component(n)
}

// Repetition is one occurrence of a repeating field, such as one patient
// identifier of PID-3.
type Repetition struct{ text }

// Raw returns the repetition exactly as received, still escaped.
func (r Repetition) Raw() string { return r.raw }

// Value returns the decoded first subcomponent of the first component.
func (r Repetition) Value() string {
	return r.Component(1).Value()
}

// Components returns the repetition's components in order; an empty
// repetition has none.
func (r Repetition) Components() []Component {
	ps := r.pieces(r.delims.Component)
	if ps == nil {
		return nil
	}
	out := make([]Component, len(ps))
	for i, p := range ps {
		out[i] = Component{p}
	}
	return out
}

// Component returns component n, counting from 1; a missing one is empty.
func (r Repetition) Component(n int) Component {
	return Component{r.piece(r.delims.Component, n)}
}

// Component is one component of a field, such as the family name in PID-5.
type Component struct{ text }

// Raw returns the component exactly as received, still escaped.
func (c Component) Raw() string { return c.raw }

// Value returns the decoded first subcomponent, which is the whole component
// when it has no subcomponents.
func (c Component) Value() string {
	return c.Subcomponent(1)
}

// Subcomponents returns the decoded subcomponents in order; an empty
// component has none.
func (c Component) Subcomponents() []string {
	ps := c.pieces(c.delims.Subcomponent)
	if ps == nil {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.decoded()
	}
	return out
}

// Subcomponent returns decoded subcomponent n, counting from 1, or "" when
// it is missing.
func (c Component) Subcomponent(n int) string {
	return c.piece(c.delims.Subcomponent, n).decoded()
}
