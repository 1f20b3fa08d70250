package mllp

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestServerAnswersMessagesInOrder(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := &Server{Handler: func(ctx context.Context, remote net.Addr, msg []byte) []byte {
		if calls.Add(1) == 1 {
			<-release
		}
		return echo(ctx, remote, msg)
	}}
	ts := startServer(t, srv)
	c := dial(t, ts.addr)
	// Both messages are sent at once; the second must not be handled before
	// the first has been answered.
	c.write(frame(testMessage) + frame("MSH|second"))
	time.Sleep(100 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times while the first message was unanswered, want 1", n)
	}
	close(release)
	if got, want := c.answer(), "ACK "+testMessage; got != want {
		t.Fatalf("first answer = %q, want %q", got, want)
	}
	if got, want := c.answer(), "ACK MSH|second"; got != want {
		t.Fatalf("second answer = %q, want %q", got, want)
	}
}

func TestServerSlowSenderDoesNotBlockOthers(t *testing.T) {
	ts := startServer(t, &Server{Handler: echo})
	slow := dial(t, ts.addr)
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		for _, b := range []byte(frame("MSH|slow sender, one byte at a time")) {
			if _, err := slow.conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(100 * time.Millisecond) // the slow frame has started
	fast := dial(t, ts.addr)
	start := time.Now()
	fast.write(frame("MSH|fast"))
	if got, want := fast.answer(), "ACK MSH|fast"; got != want {
		t.Fatalf("fast answer = %q, want %q", got, want)
	}
	if elapsed := time.Since(start); elapsed > 300*time.Millisecond {
		t.Errorf("fast sender waited %v behind the slow one", elapsed)
	}
	select {
	case <-slowDone:
		t.Fatal("the slow sender finished first: the test proves nothing")
	default:
	}
	<-slowDone
	if got, want := slow.answer(), "ACK MSH|slow sender, one byte at a time"; got != want {
		t.Fatalf("slow answer = %q, want %q", got, want)
	}
}

func TestServerGarbageBeforeStartBlock(t *testing.T) {
	ts := startServer(t, &Server{Handler: echo})
	c := dial(t, ts.addr)
	c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + frame(testMessage))
	if got, want := c.answer(), "ACK "+testMessage; got != want {
		t.Fatalf("answer = %q, want %q", got, want)
	}
	c.write("\r\n" + frame("MSH|next")) // a line break between frames is tolerated
	if got, want := c.answer(), "ACK MSH|next"; got != want {
		t.Fatalf("answer = %q, want %q", got, want)
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "discarded bytes before a start block") || !strings.Contains(logs, "bytes=21") {
		t.Errorf("the discarded bytes were not reported:\n%s", logs)
	}
}

func TestServerAllowRefuses(t *testing.T) {
	var asked atomic.Value
	var handled atomic.Bool
	srv := &Server{
		Handler: func(context.Context, net.Addr, []byte) []byte { handled.Store(true); return []byte("AA") },
		Allow: func(remote net.Addr) bool {
			asked.Store(remote.String())
			return false
		},
	}
	ts := startServer(t, srv)
	c := dial(t, ts.addr)
	c.write(frame(testMessage))
	c.expectClosed()
	if handled.Load() {
		t.Error("a refused connection reached the handler")
	}
	if got, want := asked.Load(), c.conn.LocalAddr().String(); got != want {
		t.Errorf("Allow was asked about %v, want the client %v", got, want)
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "refused by Allow") {
		t.Errorf("the refusal was not logged:\n%s", logs)
	}
}

func TestServerHandlerFailures(t *testing.T) {
	srv := &Server{Handler: func(ctx context.Context, remote net.Addr, msg []byte) []byte {
		switch string(msg) {
		case "MSH|nil":
			return nil
		case "MSH|panic":
			panic("handler bug")
		case "MSH|framing":
			return []byte("bad\x1canswer")
		}
		return echo(ctx, remote, msg)
	}}
	ts := startServer(t, srv)
	for _, msg := range []string{"MSH|nil", "MSH|panic", "MSH|framing"} {
		c := dial(t, ts.addr)
		c.write(frame(msg))
		c.expectClosed()
	}
	// The server survives all of them.
	c := dial(t, ts.addr)
	c.write(frame("MSH|ok"))
	if got, want := c.answer(), "ACK MSH|ok"; got != want {
		t.Fatalf("answer = %q, want %q", got, want)
	}
}

func TestServerNeverLogsContent(t *testing.T) {
	srv := &Server{Handler: echo, MaxMessage: 128, Reject: func(net.Addr, []byte, error) []byte { return []byte("AR") }}
	ts := startServer(t, srv)
	c := dial(t, ts.addr)
	c.write("junk RSSMRA80A01E897X " + frame(testMessage))
	c.answer()
	c.write(frame(testMessage + strings.Repeat("OBX|1|TX|||RSSMRA80A01E897X\r", 10)))
	c.answer()
	c.expectClosed()
	_ = ts.stop(t, 2*time.Second)
	logs := ts.logs.String()
	for _, secret := range []string{"RSSMRA80A01E897X", "MSH|", "junk"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains message content %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "mllp message answered") || !strings.Contains(logs, "too large") {
		t.Errorf("the log lacks the expected events:\n%s", logs)
	}
}

func TestListenAndServe(t *testing.T) {
	srv := &Server{Addr: "127.0.0.1:0", Handler: echo}
	if srv.ListenAddr() != nil {
		t.Fatal("ListenAddr is set before listening")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	deadline := time.Now().Add(2 * time.Second)
	for srv.ListenAddr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the server did not start listening")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := dial(t, srv.ListenAddr().String())
	c.write(frame("MSH|1"))
	if got, want := c.answer(), "ACK MSH|1"; got != want {
		t.Fatalf("answer = %q, want %q", got, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe returned %v, want nil", err)
	}
}

func TestServeWithoutHandler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{}).Serve(context.Background(), ln); err == nil {
		t.Fatal("Serve without a Handler returned nil")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener was left open")
	}
}
