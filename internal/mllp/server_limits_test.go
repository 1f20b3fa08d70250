package mllp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

func TestServerOversizeMessage(t *testing.T) {
	const limit = 64
	oversize := frame("MSH|^~\\&|LIS|LABMN|FSE|POLIMN|20260312||ORU^R01|C77|P|2.5\rOBX|1|ED|||^AP^PDF^Base64^" + strings.Repeat("QUJD", 40))
	t.Run("with Reject", func(t *testing.T) {
		var handled atomic.Bool
		var gotHead []byte
		srv := &Server{
			MaxMessage: limit,
			Handler:    func(context.Context, net.Addr, []byte) []byte { handled.Store(true); return []byte("AA") },
			Reject: func(_ net.Addr, head []byte, reason error) []byte {
				gotHead = head
				var tooLarge *FrameTooLargeError
				if !errors.As(reason, &tooLarge) || tooLarge.Limit != limit {
					return []byte("wrong reason")
				}
				return []byte("AR for C77")
			},
		}
		c := dial(t, startServer(t, srv).addr)
		c.write(oversize)
		if got, want := c.answer(), "AR for C77"; got != want {
			t.Fatalf("answer = %q, want %q", got, want)
		}
		c.expectClosed()
		if handled.Load() {
			t.Error("the handler got an oversize message")
		}
		if want := oversize[1 : 1+limit]; string(gotHead) != want {
			t.Errorf("Reject got head %q, want %q", gotHead, want)
		}
	})
	t.Run("with Reject, arriving in pieces", func(t *testing.T) {
		srv := &Server{MaxMessage: limit, Handler: echo, Reject: func(net.Addr, []byte, error) []byte { return []byte("AR") }}
		c := dial(t, startServer(t, srv).addr)
		c.write(oversize[:limit+10]) // over the limit, end block not yet sent
		time.Sleep(50 * time.Millisecond)
		c.write(oversize[limit+10:])
		if got, want := c.answer(), "AR"; got != want {
			t.Fatalf("answer = %q, want %q", got, want)
		}
		c.expectClosed()
	})
	t.Run("without Reject", func(t *testing.T) {
		c := dial(t, startServer(t, &Server{MaxMessage: limit, Handler: echo}).addr)
		c.write(oversize)
		c.expectClosed()
	})
	t.Run("end block never comes", func(t *testing.T) {
		srv := &Server{
			MaxMessage: limit, FrameTimeout: 200 * time.Millisecond, Handler: echo,
			Reject: func(net.Addr, []byte, error) []byte { return []byte("AR") },
		}
		c := dial(t, startServer(t, srv).addr)
		c.write("\x0b" + strings.Repeat("x", 2*limit))
		c.expectClosed()
	})
}

func TestDrainFrame(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool
		rest  string
	}{
		{"end within the limit", strings.Repeat("x", 30) + "\x1c\x0dnext", true, "\x0dnext"},
		{"end beyond the limit", strings.Repeat("x", 100) + "\x1c", false, ""},
		{"input ends", "xxx", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(tt.input)), 16)
			if got := drainFrame(br, 40); got != tt.want {
				t.Fatalf("drainFrame = %v, want %v", got, tt.want)
			}
			if tt.want {
				if rest, _ := io.ReadAll(br); string(rest) != tt.rest {
					t.Errorf("left %q unread, want %q", rest, tt.rest)
				}
			}
		})
	}
}

func TestServerTimeouts(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		c := dial(t, startServer(t, &Server{Handler: echo, ReadTimeout: 100 * time.Millisecond}).addr)
		c.write(frame("MSH|1"))
		c.answer()
		start := time.Now()
		c.expectClosed()
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("idle connection closed after %v", elapsed)
		}
	})
	t.Run("frame", func(t *testing.T) {
		var handled atomic.Bool
		srv := &Server{
			Handler:      func(context.Context, net.Addr, []byte) []byte { handled.Store(true); return []byte("AA") },
			FrameTimeout: 100 * time.Millisecond,
		}
		ts := startServer(t, srv)
		c := dial(t, ts.addr)
		c.write("\x0bMSH|^~\\&|LIS") // and then nothing
		c.expectClosed()
		if handled.Load() {
			t.Error("the handler got an incomplete message")
		}
		if logs := ts.logs.String(); !strings.Contains(logs, "took too long") {
			t.Errorf("the frame timeout was not logged:\n%s", logs)
		}
	})
}

func TestServerMaxConns(t *testing.T) {
	ts := startServer(t, &Server{Handler: echo, MaxConns: 1})
	first := dial(t, ts.addr)
	first.write(frame("MSH|1"))
	first.answer() // the first connection is certainly registered
	second := dial(t, ts.addr)
	second.write(frame("MSH|2"))
	second.expectClosed()
	first.conn.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		c := dial(t, ts.addr)
		c.write(frame("MSH|3"))
		if msg, err := ReadFrame(c.br, 0); err == nil {
			if got := string(msg); got != "ACK MSH|3" {
				t.Fatalf("answer = %q", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection accepted after the first one closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
