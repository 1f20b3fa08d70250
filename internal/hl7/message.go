// Package hl7 parses HL7 v2.x messages, extracts the report documents an
// ORU^R01 carries, and builds the ACK messages that answer them.
//
// It is deliberately small: it knows the delimiter and escape rules of the
// standard and the few segments fse reads (MSH, PID, OBR, OBX), and nothing
// about the hundreds of other segments and data types. A parsed Message keeps
// every field as the raw text of the wire, so nothing is lost or normalised
// until a caller asks for a value, and values are unescaped only then.
//
// Every function accepts arbitrary input without panicking: messages come from
// other systems over the network and are fuzz-tested as such.
//
// Not supported: batches (FHS/BHS wrapping several MSH), a document split
// across several OBX segments, and character set conversion (values are the
// bytes the sender wrote, whatever MSH-18 declares).
package hl7

import (
	"bytes"
	"strings"
)

// Delimiters are the separator and escape characters a message declares in
// MSH-1 and MSH-2. Text inside a message must be split with these, never with
// the usual "|^~\&", because a sender may choose others.
type Delimiters struct {
	// Field separates the fields of a segment (MSH-1, usually '|').
	Field byte
	// Component separates the components of a field (usually '^').
	Component byte
	// Repetition separates the repetitions of a field (usually '~').
	Repetition byte
	// Escape starts and ends an escape sequence (usually '\').
	Escape byte
	// Subcomponent separates the subcomponents of a component (usually '&').
	Subcomponent byte
	// Truncation is the truncation character that HL7 v2.7 added as a fifth
	// encoding character (usually '#'), or 0 when the message declares none.
	Truncation byte
}

// StandardDelimiters returns the delimiters almost every sender uses,
// "|" and "^~\&", which are also the ones fse writes into its own messages.
func StandardDelimiters() Delimiters {
	return Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}
}

// encodingChars returns the MSH-2 text that declares d.
func (d Delimiters) encodingChars() string {
	b := []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent}
	if d.Truncation != 0 {
		b = append(b, d.Truncation)
	}
	return string(b)
}

// Message is a parsed HL7 v2 message: its delimiters and its segments in the
// order they arrived.
type Message struct {
	delims   Delimiters
	segments []*Segment
}

// Delimiters returns the delimiters the message declares in its MSH segment.
func (m *Message) Delimiters() Delimiters {
	if m == nil {
		return StandardDelimiters()
	}
	return m.delims
}

// AllSegments returns every segment of the message in order. The slice is a
// copy; the segments themselves are shared and read-only.
func (m *Message) AllSegments() []*Segment {
	if m == nil {
		return nil
	}
	out := make([]*Segment, len(m.segments))
	copy(out, m.segments)
	return out
}

// Segments returns the segments named name (for example "OBX"), in order, or
// nil when there is none.
func (m *Message) Segments(name string) []*Segment {
	if m == nil {
		return nil
	}
	var out []*Segment
	for _, s := range m.segments {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

// First returns the first segment named name, or nil when there is none. A nil
// *Segment is safe to use: all its fields read as empty.
func (m *Message) First(name string) *Segment {
	if m == nil {
		return nil
	}
	for _, s := range m.segments {
		if s.name == name {
			return s
		}
	}
	return nil
}

// ControlID returns MSH-10, the identifier the sender gave this message and
// that the ACK must echo in MSA-2.
func (m *Message) ControlID() string {
	return m.First("MSH").Field(10).Value()
}

// Bytes serialises the message with the standard segment terminator (CR after
// every segment) and the message's own delimiters. Fields are written exactly
// as they were received, so parsing the result yields the same message.
func (m *Message) Bytes() []byte {
	if m == nil {
		return nil
	}
	var b bytes.Buffer
	sep := string(m.delims.Field)
	for _, s := range m.segments {
		if s.headerLike() {
			// MSH-1 is the separator itself: it is written once, between the
			// name and MSH-2, and not as a field of its own.
			b.WriteString(s.name)
			b.WriteString(sep)
			b.WriteString(strings.Join(s.fields[2:], sep))
		} else {
			b.WriteString(strings.Join(s.fields, sep))
		}
		b.WriteByte('\r')
	}
	return b.Bytes()
}

// Segment is one line of a message: a three-character name and its fields.
type Segment struct {
	name string
	// fields[0] is the name; fields[n] is field n as in the standard. For
	// MSH (and the batch headers BHS, FHS) fields[1] holds the field
	// separator and fields[2] the encoding characters.
	fields []string
	delims Delimiters
}

// Name returns the segment's three-character name, such as "PID".
func (s *Segment) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// NumFields returns the number of the last field present in the segment, so
// Field(n) for n in 1..NumFields() may hold a value.
func (s *Segment) NumFields() int {
	if s == nil {
		return 0
	}
	return len(s.fields) - 1
}

// Field returns field n numbered as in the standard (PID-3 is Field(3), and
// for MSH, Field(1) is the field separator and Field(2) the encoding
// characters). A field that is absent, or n out of range, reads as empty.
func (s *Segment) Field(n int) Field {
	if s == nil || n < 0 || n >= len(s.fields) {
		return Field{}
	}
	if n == 0 || (s.headerLike() && n <= 2) {
		// The name, MSH-1 and MSH-2 contain delimiter characters that are
		// not delimiters: they are returned verbatim, never split.
		return Field{text: text{raw: s.fields[n], delims: s.delims, literal: true}}
	}
	return Field{text: text{raw: s.fields[n], delims: s.delims}}
}

// headerLike reports whether the segment follows the MSH layout, where the
// field separator right after the name counts as field 1.
func (s *Segment) headerLike() bool {
	return s.name == "MSH" || s.name == "BHS" || s.name == "FHS"
}
