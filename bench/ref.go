package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// serveRef runs a reference server until SIGTERM: "echo" is a bare Echo
// handler answering "hello" (what fse's framework costs with no work),
// "files" a plain http.FileServer of dir (sendfile of plaintext, what a
// download costs with no decryption and no database).
func serveRef(kind, addr, dir string) error {
	var h http.Handler
	switch kind {
	case "echo":
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "hello") })
		h = e
	case "files":
		if dir == "" {
			return errors.New("-serve-ref files needs -ref-dir")
		}
		h = http.FileServer(http.Dir(dir))
	default:
		return fmt.Errorf("-serve-ref: unknown reference %q (echo or files)", kind)
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
