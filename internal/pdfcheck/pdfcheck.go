// Package pdfcheck judges, by content alone, whether an uploaded file is a
// structurally complete PDF, while the upload streams through it.
//
// File names and declared content types are chosen by the client and prove
// nothing: an HTML page renamed "report.pdf" must be refused, because it
// would later be served to patients from our origin. Neither may a PDF cut
// short by an interrupted upload be accepted and stored as a report.
//
// The check is deliberately shallow and cheap: it looks at the header (the
// first bytes) and at the trailer (the last bytes) and never parses or
// buffers the body, so it works on files of any size in constant memory.
// It is a gate against wrong or incomplete files, not a PDF validator or a
// malware scanner.
package pdfcheck

import (
	"bytes"
	"errors"
	"strconv"
)

const (
	// headSize is how many leading bytes the Checker keeps.
	headSize = 1024
	// tailSize is how many trailing bytes the Checker keeps. The trailer
	// ("startxref", offset, "%%EOF") sits at the very end of a PDF, so a
	// window this large tolerates the stray bytes some producers append.
	tailSize = 2048
	// minPDFSize is a lower bound on the size of any complete PDF: header,
	// a catalog, an xref section and a trailer cannot fit in less.
	minPDFSize = 64
	// maxOffsetDigits bounds the startxref offset so it fits an int64.
	maxOffsetDigits = 18
)

// ErrNotPDF is returned when the content does not start with a PDF header
// ("%PDF-1." or "%PDF-2." at offset 0, with nothing before it), whatever the
// file's name or declared type; it typically means a file of another type
// was renamed.
var ErrNotPDF = errors.New("pdfcheck: not a PDF file (no %PDF- header at offset 0)")

// ErrTruncated is returned when the content starts like a PDF but its
// structure is incomplete: it is shorter than any complete PDF, or its last
// 2048 bytes lack "startxref" followed by a decimal offset and "%%EOF". It
// typically means an interrupted upload, which must not be stored as a
// report.
var ErrTruncated = errors.New("pdfcheck: PDF file is truncated or incomplete (no startxref/%%EOF trailer at its end)")

// Sniff reports whether header, the first bytes of a file (at least 8 when
// the file has them), starts like a PDF, and returns ErrNotPDF otherwise.
// It lets an upload handler refuse, say, HTML renamed to .pdf from the first
// read, before anything is stored; the full judgement needs a Checker.
func Sniff(header []byte) error {
	const prefixLen = len("%PDF-1.")
	if len(header) < prefixLen {
		return ErrNotPDF
	}
	if !bytes.HasPrefix(header, []byte("%PDF-1.")) && !bytes.HasPrefix(header, []byte("%PDF-2.")) {
		return ErrNotPDF
	}
	// The minor version is a digit (e.g. "%PDF-1.7"); check it when present.
	if len(header) > prefixLen && !isDigit(header[prefixLen]) {
		return ErrNotPDF
	}
	return nil
}

// Checker is an io.Writer that watches a stream passing through it, for
// example as one side of an io.MultiWriter or io.TeeReader between the
// upload and the store, and judges it once the stream has ended. It keeps
// only the first 1024 and the last 2048 bytes in memory, whatever the size
// of the stream. The zero value is ready to use. A Checker is not safe for
// concurrent use.
type Checker struct {
	head []byte // the first headSize bytes (fewer if the stream is shorter)
	// tail holds the most recent bytes; it grows up to 2*tailSize and is
	// then slid back to tailSize, so sliding costs O(1) amortized per byte.
	tail []byte
	size int64
}

// Write records p. It never fails and always consumes all of p, so that a
// Checker can sit inside an io.MultiWriter without aborting the copy; the
// judgement is deferred to Verdict.
func (c *Checker) Write(p []byte) (int, error) {
	n := len(p)
	c.size += int64(n)
	if len(c.head) < headSize {
		if c.head == nil {
			c.head = make([]byte, 0, headSize)
		}
		c.head = append(c.head, p[:min(headSize-len(c.head), len(p))]...)
	}
	if c.tail == nil {
		c.tail = make([]byte, 0, 2*tailSize)
	}
	if len(p) >= tailSize {
		c.tail = append(c.tail[:0], p[len(p)-tailSize:]...)
		return n, nil
	}
	if len(c.tail)+len(p) > cap(c.tail) {
		// Keep just enough old bytes that, with p, tailSize remain.
		keep := min(len(c.tail), tailSize-len(p))
		copy(c.tail, c.tail[len(c.tail)-keep:])
		c.tail = c.tail[:keep]
	}
	c.tail = append(c.tail, p...)
	return n, nil
}

// Size returns the number of bytes written so far, so the caller can record
// the stored size without counting separately.
func (c *Checker) Size() int64 { return c.size }

// Verdict returns nil if the stream written so far looks like a complete
// PDF, ErrNotPDF if it does not start like one, or ErrTruncated if it starts
// like one but its trailer is missing. Call it after the last Write.
func (c *Checker) Verdict() error {
	if err := Sniff(c.head); err != nil {
		return err
	}
	if c.size < minPDFSize {
		return ErrTruncated
	}
	tail := c.tail
	if len(tail) > tailSize {
		tail = tail[len(tail)-tailSize:]
	}
	offset, ok := trailerOffset(tail)
	// The cross-reference section the trailer points to must lie inside
	// the file; an offset beyond it means the file is incomplete.
	if !ok || offset >= c.size {
		return ErrTruncated
	}
	return nil
}

// trailerOffset finds the last "startxref" in tail and returns the decimal
// offset that follows it, provided "%%EOF" comes after that offset.
// Bytes after "%%EOF" (such as a stray line break) are tolerated.
func trailerOffset(tail []byte) (int64, bool) {
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, false
	}
	rest := skipSpace(tail[i+len("startxref"):])
	digits := 0
	for digits < len(rest) && isDigit(rest[digits]) {
		digits++
	}
	if digits == 0 || digits > maxOffsetDigits {
		return 0, false
	}
	offset, err := strconv.ParseInt(string(rest[:digits]), 10, 64)
	if err != nil {
		return 0, false
	}
	if !bytes.Contains(rest[digits:], []byte("%%EOF")) {
		return 0, false
	}
	return offset, true
}

// skipSpace drops leading PDF white-space characters (ISO 32000 7.2.2).
func skipSpace(b []byte) []byte {
	for len(b) > 0 {
		switch b[0] {
		case 0, '\t', '\n', '\f', '\r', ' ':
			b = b[1:]
		default:
			return b
		}
	}
	return b
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
