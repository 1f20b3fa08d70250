package hl7

import (
	"errors"
	"fmt"
	"strings"
)

// MaxMessageSize is the largest message Parse accepts, in bytes. A lab report
// PDF is rarely above a few MiB; base64 adds a third. The bound keeps a
// broken or hostile sender from making us hold arbitrary amounts of memory.
const MaxMessageSize = 64 << 20

// Errors returned by Parse, wrapped with details. Callers compare with
// errors.Is; ErrorCodeOf maps them to HL7 error codes for the ACK.
var (
	// ErrEmpty means the input holds no segment at all.
	ErrEmpty = errors.New("hl7: empty message")
	// ErrNoMSH means the first segment is not MSH, so the message declares
	// neither its delimiters nor its identity.
	ErrNoMSH = errors.New("hl7: first segment is not MSH")
	// ErrBadDelimiters means MSH-1 or MSH-2 do not declare a usable set of
	// distinct delimiter characters.
	ErrBadDelimiters = errors.New("hl7: bad field separator or encoding characters")
	// ErrBadSegment means a line of the message is not a segment: its name is
	// not three upper-case letters or digits followed by a field separator.
	ErrBadSegment = errors.New("hl7: malformed segment")
	// ErrTooLarge means the message exceeds a size bound: MaxMessageSize
	// bytes, or an absurd number of segments or fields.
	ErrTooLarge = errors.New("hl7: message too large")
)

// limits bound what Parse accepts; tests shrink them.
type limits struct {
	size     int
	segments int
	fields   int
}

// defaultLimits are generous for any real message: an ORU with a hundred
// results has a few hundred segments, and no standard segment has more than
// about fifty fields.
func defaultLimits() limits {
	return limits{size: MaxMessageSize, segments: 100_000, fields: 1_000}
}

// Parse parses one HL7 v2 message. Segments may end with CR (the standard),
// LF or CRLF: when the message contains any CR, CR ends a segment and a lone
// LF is data (some senders wrap long base64 lines with it); otherwise LF ends
// a segment. Blank lines, and white space before the first segment and after
// the last, are ignored. The first segment must be MSH; it declares the
// delimiters used for the rest. Values are not converted from the character
// set MSH-18 declares: they are the bytes the sender wrote.
func Parse(raw []byte) (*Message, error) {
	return parse(raw, defaultLimits())
}

func parse(raw []byte, lim limits) (*Message, error) {
	if len(raw) > lim.size {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), lim.size)
	}
	s := strings.Trim(string(raw), "\r\n\t ")
	if s == "" {
		return nil, ErrEmpty
	}
	if !strings.HasPrefix(s, "MSH") {
		return nil, fmt.Errorf("%w: message starts with %q", ErrNoMSH, printable(s, 3))
	}
	d, err := parseDelimiters(s)
	if err != nil {
		return nil, err
	}
	lines := splitSegments(s)
	if len(lines) > lim.segments {
		return nil, fmt.Errorf("%w: more than %d segments", ErrTooLarge, lim.segments)
	}
	m := &Message{delims: d, segments: make([]*Segment, 0, len(lines))}
	for i, line := range lines {
		seg, err := parseSegment(line, d, lim.fields)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", i+1, err)
		}
		m.segments = append(m.segments, seg)
	}
	return m, nil
}

// parseDelimiters reads MSH-1 and MSH-2 from the start of the message. MSH-2
// holds four characters, or five from HL7 v2.7 on (the truncation character).
func parseDelimiters(s string) (Delimiters, error) {
	if len(s) < 4 {
		return Delimiters{}, fmt.Errorf("%w: MSH has no field separator", ErrBadDelimiters)
	}
	fs := s[3]
	enc := s[4:]
	if i := strings.IndexAny(enc, string(fs)+"\r\n"); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) != 4 && len(enc) != 5 {
		return Delimiters{}, fmt.Errorf("%w: MSH-2 has %d characters, want 4 or 5", ErrBadDelimiters, len(enc))
	}
	d := Delimiters{Field: fs, Component: enc[0], Repetition: enc[1], Escape: enc[2], Subcomponent: enc[3]}
	if len(enc) == 5 {
		d.Truncation = enc[4]
	}
	all := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent}
	if d.Truncation != 0 {
		all = append(all, d.Truncation)
	}
	for i, c := range all {
		if !isDelimiterChar(c) {
			return Delimiters{}, fmt.Errorf("%w: %q cannot be a delimiter", ErrBadDelimiters, printable(string(c), 1))
		}
		for _, prev := range all[:i] {
			if c == prev {
				return Delimiters{}, fmt.Errorf("%w: %q used twice", ErrBadDelimiters, string(c))
			}
		}
	}
	return d, nil
}

// isDelimiterChar reports whether c can serve as a delimiter: printable
// ASCII punctuation, since letters, digits and spaces occur in values.
func isDelimiterChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')
}

// splitSegments splits the message into non-empty segment lines.
func splitSegments(s string) []string {
	var lines []string
	if strings.IndexByte(s, '\r') >= 0 {
		for _, l := range strings.Split(s, "\r") {
			// CRLF leaves an LF at the start of the next line.
			if l = strings.TrimLeft(l, "\n"); l != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// parseSegment splits one segment line into its fields.
func parseSegment(line string, d Delimiters, maxFields int) (*Segment, error) {
	name := line
	if i := strings.IndexByte(line, d.Field); i >= 0 {
		name = line[:i]
	}
	if !validSegmentName(name) {
		return nil, fmt.Errorf("%w: line starts with %q", ErrBadSegment, printable(line, 4))
	}
	if n := strings.Count(line, string(d.Field)); n > maxFields {
		return nil, fmt.Errorf("%w: %s has %d fields, limit %d", ErrTooLarge, name, n, maxFields)
	}
	seg := &Segment{name: name, delims: d}
	parts := strings.Split(line, string(d.Field))
	if seg.headerLike() {
		// MSH|^~\&|... : the separator after the name is MSH-1 and the first
		// split part is MSH-2, so the separator is inserted as field 1.
		seg.fields = make([]string, 0, len(parts)+1)
		seg.fields = append(seg.fields, name, string(d.Field))
		seg.fields = append(seg.fields, parts[1:]...)
		if len(parts) < 2 || parts[1] != d.encodingChars() {
			return nil, fmt.Errorf("%w: %s-2 differs from the message's encoding characters", ErrBadDelimiters, name)
		}
		return seg, nil
	}
	seg.fields = parts
	return seg, nil
}

// validSegmentName reports whether name is three upper-case letters or
// digits starting with a letter, as every standard and Z segment is.
func validSegmentName(name string) bool {
	if len(name) != 3 || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for i := 1; i < 3; i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// printable returns at most n bytes of s with anything outside printable
// ASCII replaced, for error messages that must stay on one line and never
// carry a chunk of the message (which holds patient data).
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
