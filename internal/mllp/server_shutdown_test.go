package mllp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestServerShutdownClosesIdleConnections(t *testing.T) {
	ts := startServer(t, &Server{Handler: echo}) // default 5-minute idle timeout
	c := dial(t, ts.addr)
	c.write(frame("MSH|1"))
	c.answer()
	start := time.Now()
	if err := ts.stop(t, 2*time.Second); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("shutdown took %v with only an idle connection", elapsed)
	}
	c.expectClosed()
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Error("the listener still accepts connections after shutdown")
	}
}

func TestServerShutdownFinishesCurrentMessage(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := &Server{Handler: func(ctx context.Context, remote net.Addr, msg []byte) []byte {
		close(started)
		<-release
		if ctx.Err() != nil {
			return []byte("cancelled")
		}
		return echo(ctx, remote, msg)
	}}
	ts := startServer(t, srv)
	c := dial(t, ts.addr)
	c.write(frame("MSH|in flight"))
	<-started
	ts.cancel()
	time.AfterFunc(200*time.Millisecond, func() { close(release) })
	if got, want := c.answer(), "ACK MSH|in flight"; got != want {
		t.Fatalf("answer = %q, want %q", got, want)
	}
	c.expectClosed()
	if err := ts.stop(t, 2*time.Second); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
}

func TestServerShutdownTimeoutCancelsHandler(t *testing.T) {
	started := make(chan struct{})
	srv := &Server{
		ShutdownTimeout: 100 * time.Millisecond,
		Handler: func(ctx context.Context, _ net.Addr, _ []byte) []byte {
			close(started)
			<-ctx.Done()
			return nil
		},
	}
	ts := startServer(t, srv)
	c := dial(t, ts.addr)
	c.write(frame("MSH|stuck"))
	<-started
	if err := ts.stop(t, 2*time.Second); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	c.expectClosed()
	if logs := ts.logs.String(); !strings.Contains(logs, "shutdown timeout") {
		t.Errorf("the forced close was not logged:\n%s", logs)
	}
}

func TestServerClose(t *testing.T) {
	srv := &Server{Handler: echo}
	ts := startServer(t, srv)
	c := dial(t, ts.addr)
	c.write(frame("MSH|1"))
	c.answer()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
		ts.done <- err
	case <-time.After(time.Second):
		t.Fatal("Serve did not return after Close")
	}
	c.expectClosed()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close returned %v, want ErrServerClosed", err)
	}
}
