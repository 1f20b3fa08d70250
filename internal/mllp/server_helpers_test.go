package mllp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a Server running on 127.0.0.1 with a random port.
type testServer struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	logs   *lockedBuffer
}

// startServer runs srv until the test ends; the server's logs are captured.
func startServer(t *testing.T, srv *Server) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), done: make(chan error, 1), logs: &lockedBuffer{}}
	srv.Log = slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return ts
}

// stop cancels the server's context and returns what Serve returned.
func (ts *testServer) stop(t *testing.T, within time.Duration) error {
	t.Helper()
	ts.cancel()
	select {
	case err := <-ts.done:
		ts.done <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("Serve did not return within %v of cancel", within)
		return nil
	}
}

// client is one test connection to the server.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	return &client{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (c *client) write(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// answer reads the next framed answer.
func (c *client) answer() string {
	c.t.Helper()
	msg, err := ReadFrame(c.br, 0)
	if err != nil {
		c.t.Fatalf("read answer: %v", err)
	}
	return string(msg)
}

// expectClosed asserts the server closes the connection without answering.
func (c *client) expectClosed() {
	c.t.Helper()
	msg, err := ReadFrame(c.br, 0)
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		c.t.Fatalf("got answer %q, error %v; want the connection closed", msg, err)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// echo answers every message with "ACK " and the message.
func echo(_ context.Context, _ net.Addr, msg []byte) []byte {
	return append([]byte("ACK "), msg...)
}
