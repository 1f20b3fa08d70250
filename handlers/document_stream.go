package handlers

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

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
	hd.Set("Content-Disposition", fmt.Sprintf(`%s; filename="referto-%d.pdf"`, disposition, doc.ID))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; object-src 'none'; frame-ancestors 'none'")
	hd.Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), plain); err != nil {
		h.Log.Error("stream document", "document", doc.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
