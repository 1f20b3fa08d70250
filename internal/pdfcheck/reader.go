package pdfcheck

import (
	"errors"
	"io"
)

// ErrTooLarge is returned by a Reader once the stream passes its limit.
var ErrTooLarge = errors.New("pdfcheck: file larger than the limit")

// Reader passes a stream through unchanged while judging it, so whoever
// stores the stream applies the verdict without knowing about PDFs: the
// first Read fails with ErrNotPDF unless the stream starts like a PDF, any
// Read fails with ErrTooLarge once more than the limit has passed, and the
// end of the stream is reported as ErrTruncated instead of io.EOF when the
// trailer is missing. A consumer that copies until io.EOF therefore stores
// only complete PDFs within the limit, and must discard what it wrote on
// any other error.
type Reader struct {
	r       io.Reader
	limit   int64
	check   Checker
	head    []byte // the sniffed first bytes, served before r
	started bool
	err     error // sticky: once judged bad, always bad
}

// NewReader returns a Reader over r refusing streams longer than limit bytes.
func NewReader(r io.Reader, limit int64) *Reader {
	return &Reader{r: r, limit: limit}
}

// Read implements io.Reader.
func (p *Reader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if !p.started {
		p.started = true
		// Sniff the header before handing out a single byte, so nothing of
		// a renamed HTML page or an executable is ever stored.
		head := make([]byte, headSize)
		n, err := io.ReadFull(p.r, head)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			p.err = err
			return 0, err
		}
		p.head = head[:n]
		if serr := Sniff(p.head); serr != nil {
			p.err = serr
			return 0, serr
		}
	}
	var n int
	var err error
	if len(p.head) > 0 {
		n = copy(b, p.head)
		p.head = p.head[n:]
	} else {
		n, err = p.r.Read(b)
	}
	p.check.Write(b[:n])
	if p.check.Size() > p.limit {
		p.err = ErrTooLarge
		return 0, p.err
	}
	if err == io.EOF {
		if verr := p.check.Verdict(); verr != nil {
			p.err = verr
			return n, verr
		}
		p.err = io.EOF
	} else if err != nil {
		p.err = err
	}
	return n, err
}

// Size returns how many bytes have passed so far.
func (p *Reader) Size() int64 { return p.check.Size() }
