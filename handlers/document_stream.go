package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"fse/db"
)

// streamDocument decrypts a report to the response, for the desk and the
// patient alike. record (an audit row, the first download time) runs only
// once the document has opened, so a report that cannot be read is never
// counted as delivered. A failure before the first byte is a 500; after
// it, the connection is cut so a truncated file is never taken for a
// complete one.
func (h *Handler) streamDocument(c echo.Context, doc db.Document, disposition string, record func() error) error {
	ctx := c.Request().Context()
	plain, err := h.DB.OpenDocument(ctx, doc.ID)
	if err != nil {
		return err
	}
	if err := record(); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Type", "application/pdf")
	hd.Set("Content-Disposition", fmt.Sprintf(`%s; filename="%s-%d.pdf"`, disposition, lang(c).T("reports.file_name"), doc.ID))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; object-src 'none'; frame-ancestors 'none'")
	hd.Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	c.Response().WriteHeader(http.StatusOK)
	if err := copyDocument(c.Response(), plain); err != nil {
		if errors.Is(err, db.ErrDeletedWhileRead) {
			// Expired, withdrawn or deleted meanwhile: the cut is right.
			h.Log.Info("stream document: deleted during the download", "document", doc.ID)
		} else {
			h.Log.Error("stream document", "document", doc.ID, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// streamBuffers are the plaintext buffers of downloads in progress: one
// decrypted chunk each, reused from one download to the next.
var streamBuffers = sync.Pool{New: func() any { return new([streamChunk]byte) }}

const streamChunk = 64 << 10

// decrypting admits a few downloads at a time into reading and decrypting
// their next chunk; writing to the client happens outside it. The work is
// the same, but a hundred downloads at once no longer have a hundred
// chunks in flight each holding fresh buffers, which is what made memory
// grow with the number of downloads.
var decrypting = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// copyDocument copies plain to w a chunk at a time.
func copyDocument(w io.Writer, plain io.Reader) error {
	buf := streamBuffers.Get().(*[streamChunk]byte)
	defer streamBuffers.Put(buf)
	for {
		decrypting <- struct{}{}
		n, err := io.ReadFull(plain, buf[:])
		<-decrypting
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return err
		}
	}
}
