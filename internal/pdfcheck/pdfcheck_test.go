package pdfcheck

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// buildPDF returns a minimal valid PDF with a correct xref table: a catalog,
// a page tree, one page and a content stream whose body is padded with
// padding bytes (a PDF comment inside the stream).
func buildPDF(t testing.TB, version string, padding int) []byte {
	t.Helper()
	content := "BT /F1 12 Tf 72 712 Td (Hello) Tj ET\n"
	if padding > 0 {
		content += "%" + strings.Repeat("x", padding) + "\n"
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " +
			"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-" + version + "\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, obj := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)

	// Check the builder itself: every offset must point where it claims.
	pdf := b.Bytes()
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n")) {
		t.Fatalf("builder: startxref %d does not point at xref", xref)
	}
	for i, off := range offsets {
		if want := fmt.Sprintf("%d 0 obj\n", i+1); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Fatalf("builder: offset %d does not point at %q", off, want)
		}
	}
	return pdf
}

// check writes data through a fresh Checker in writes of at most chunk
// bytes (all at once if chunk <= 0) and returns the Checker.
func check(data []byte, chunk int) *Checker {
	var c Checker
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		c.Write(data[:n])
		data = data[n:]
	}
	return &c
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestVerdict(t *testing.T) {
	pdf := buildPDF(t, "1.4", 0)
	noEOF := bytes.TrimSuffix(pdf, []byte("%%EOF\n"))
	xrefAt := bytes.LastIndex(pdf, []byte("startxref"))

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"minimal pdf", pdf, nil},
		{"pdf 2.0", buildPDF(t, "2.0", 0), nil},
		{"trailing crlf", cat(pdf, []byte("\r\n")), nil},
		{"garbage after EOF", cat(pdf, []byte("\x00\x00garbage\n")), nil},
		{"1 KiB garbage after EOF", cat(pdf, bytes.Repeat([]byte{'z'}, 1024)), nil},
		{"EOF without final newline", bytes.TrimSuffix(pdf, []byte("\n")), nil},
		{"incremental update", cat(pdf, []byte("% update\nstartxref\n9\n%%EOF\n")), nil},
		{"html renamed", []byte("<!doctype html>\n<html><head><title>Report</title></head><body>%PDF-1.4 startxref 9 %%EOF</body></html>\n"), ErrNotPDF},
		{"empty", nil, ErrNotPDF},
		{"leading space", cat([]byte(" "), pdf), ErrNotPDF},
		{"utf-8 bom", cat([]byte("\xef\xbb\xbf"), pdf), ErrNotPDF},
		{"header later in file", cat([]byte("junk\n"), pdf), ErrNotPDF},
		{"pdf 3.0", bytes.Replace(pdf, []byte("%PDF-1.4"), []byte("%PDF-3.0"), 1), ErrNotPDF},
		{"lowercase header", bytes.Replace(pdf, []byte("%PDF-1.4"), []byte("%pdf-1.4"), 1), ErrNotPDF},
		{"header alone", []byte("%PDF-1.4"), ErrTruncated},
		{"header with newline", []byte("%PDF-1.4\n"), ErrTruncated},
		{"tiny with trailer", []byte("%PDF-1.4\nstartxref\n0\n%%EOF\n"), ErrTruncated},
		{"cut in half", pdf[:len(pdf)/2], ErrTruncated},
		{"cut before EOF", noEOF, ErrTruncated},
		{"cut inside offset", pdf[:xrefAt+len("startxref\n")+1], ErrTruncated},
		{"cut after startxref", pdf[:xrefAt+len("startxref\n")], ErrTruncated},
		{"no startxref", bytes.Replace(pdf, []byte("startxref"), []byte("startxrex"), 1), ErrTruncated},
		{"non-decimal offset", bytes.Replace(pdf, []byte("startxref\n"), []byte("startxref\nx"), 1), ErrTruncated},
		{"offset beyond end", cat(noEOF[:xrefAt], []byte("startxref\n99999999\n%%EOF\n")), ErrTruncated},
		{"huge offset", cat(noEOF[:xrefAt], []byte("startxref\n99999999999999999999999\n%%EOF\n")), ErrTruncated},
		{"trailer beyond window", cat(pdf, bytes.Repeat([]byte{'z'}, 3000)), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 7, 1000} {
				c := check(tt.data, chunk)
				if got, want := c.Verdict(), tt.want; !errors.Is(got, want) || (want == nil && got != nil) {
					t.Errorf("chunk %d: Verdict() = %v, want %v", chunk, got, want)
				}
				if got, want := c.Size(), int64(len(tt.data)); got != want {
					t.Errorf("chunk %d: Size() = %d, want %d", chunk, got, want)
				}
			}
		})
	}
}

func TestLargePDF(t *testing.T) {
	pdf := buildPDF(t, "1.7", 5<<20)
	half := pdf[:len(pdf)/2]
	for _, chunk := range []int{1000, 7} {
		t.Run(fmt.Sprintf("writes of %d", chunk), func(t *testing.T) {
			c := check(pdf, chunk)
			if err := c.Verdict(); err != nil {
				t.Errorf("Verdict() = %v, want nil", err)
			}
			if got, want := c.Size(), int64(len(pdf)); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			if got, want := cap(c.head)+cap(c.tail), headSize+2*tailSize; got > want {
				t.Errorf("Checker holds %d bytes, want at most %d", got, want)
			}
			c = check(half, chunk)
			if got, want := c.Verdict(), ErrTruncated; got != want {
				t.Errorf("half: Verdict() = %v, want %v", got, want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		header string
		want   error
	}{
		{"%PDF-1.7\n", nil},
		{"%PDF-1.0", nil},
		{"%PDF-2.0", nil},
		{"%PDF-1.", nil}, // shorter than 8: the prefix is all we can judge
		{"%PDF-1", ErrNotPDF},
		{"%PDF", ErrNotPDF},
		{"", ErrNotPDF},
		{"%PDF-1.x", ErrNotPDF},
		{"%PDF-3.0", ErrNotPDF},
		{"<!doctype html>", ErrNotPDF},
		{"<html>%PDF-1.4", ErrNotPDF},
		{"\n%PDF-1.4", ErrNotPDF},
		{"\xef\xbb\xbf%PDF-1.4", ErrNotPDF},
		{"PK\x03\x04", ErrNotPDF},
	}
	for _, tt := range tests {
		if got, want := Sniff([]byte(tt.header)), tt.want; got != want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.header, got, want)
		}
	}
}

func TestZeroWrite(t *testing.T) {
	var c Checker
	if n, err := c.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v, want 0, nil", n, err)
	}
	pdf := buildPDF(t, "1.4", 0)
	if n, err := c.Write(pdf); n != len(pdf) || err != nil {
		t.Fatalf("Write = %d, %v, want %d, nil", n, err, len(pdf))
	}
	c.Write([]byte{})
	if err := c.Verdict(); err != nil {
		t.Fatalf("Verdict() = %v, want nil", err)
	}
}

func FuzzChecker(f *testing.F) {
	pdf := buildPDF(f, "1.4", 0)
	f.Add(pdf, uint16(7))
	f.Add(pdf[:len(pdf)/2], uint16(1))
	f.Add(cat(pdf, bytes.Repeat([]byte{'z'}, 3000)), uint16(2047))
	f.Add([]byte("<!doctype html>"), uint16(3))
	f.Add([]byte("%PDF-1.4\nstartxref\n"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		whole := check(data, 0)
		split := check(data, int(chunk))
		got, want := split.Verdict(), whole.Verdict()
		if got != want {
			t.Fatalf("chunked Verdict() = %v, whole Verdict() = %v", got, want)
		}
		if got != nil && got != ErrNotPDF && got != ErrTruncated {
			t.Fatalf("Verdict() = %v, want nil, ErrNotPDF or ErrTruncated", got)
		}
		if got, want := split.Size(), int64(len(data)); got != want {
			t.Fatalf("Size() = %d, want %d", got, want)
		}
	})
}
