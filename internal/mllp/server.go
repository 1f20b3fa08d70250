package mllp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Defaults for the Server fields left at zero.
const (
	// DefaultAddr is the port IANA registered for HL7 over MLLP.
	DefaultAddr = ":2575"
	// DefaultReadTimeout is how long an idle connection may wait for its
	// next message. Senders usually keep one connection open all day, and
	// most send a message every few minutes at worst.
	DefaultReadTimeout = 5 * time.Minute
	// DefaultFrameTimeout is how long one message may take to arrive once
	// its start block has: 32 MiB at a slow 2 Mbit/s takes about two minutes.
	DefaultFrameTimeout = 2 * time.Minute
	// DefaultMaxConns bounds concurrent connections; a clinic has a handful
	// of senders, each with one or two connections.
	DefaultMaxConns = 64
	// DefaultShutdownTimeout is how long shutdown waits for messages being
	// received or handled before it closes their connections.
	DefaultShutdownTimeout = 10 * time.Second
)

// ErrServerClosed is returned by Serve and ListenAndServe when they are
// called on a server that has already been closed.
var ErrServerClosed = errors.New("mllp: server closed")

// Server accepts MLLP connections and answers every message with the bytes
// its Handler returns, in HL7 original acknowledgment mode: on each
// connection messages are read one at a time, and the next is read only once
// the previous one has been answered. Each connection has its own goroutine,
// so a slow or stuck sender never delays the others.
//
// Fields must be set before Serve is called and not changed afterwards.
// The zero value of every field but Handler is usable.
type Server struct {
	// Addr is the TCP address ListenAndServe listens on; empty means
	// DefaultAddr.
	Addr string
	// Handler processes one message and returns the acknowledgment to send,
	// without framing. It is called with a context cancelled when shutdown
	// gives up waiting, and must return promptly then. A nil or empty answer
	// closes the connection without answering, so the sender will resend the
	// message later. Handler is required.
	Handler func(ctx context.Context, remote net.Addr, msg []byte) []byte
	// Reject, when set, builds the answer to a message larger than
	// MaxMessage, from head, its first bytes (at most 4 KiB, enough for the
	// MSH segment whose control id the answer should echo), and reason.
	// Without Reject an oversize message gets no answer. Either way the
	// connection is closed afterwards; see readOversize.
	Reject func(remote net.Addr, head []byte, reason error) []byte
	// Allow, when set, is asked about every new connection; a connection it
	// refuses is closed at once, before anything is read.
	Allow func(remote net.Addr) bool
	// Log receives connection events; nil discards them. Message content is
	// never logged, only addresses, sizes and durations.
	Log *slog.Logger
	// MaxMessage is the largest message accepted, in bytes; zero means
	// DefaultMaxMessage.
	MaxMessage int
	// ReadTimeout is how long a connection may stay idle between messages;
	// zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// FrameTimeout is how long one message may take to arrive once it has
	// started, and how long writing an answer may take; zero means
	// DefaultFrameTimeout.
	FrameTimeout time.Duration
	// MaxConns bounds the number of open connections; a connection beyond
	// it is closed at once. Zero means DefaultMaxConns.
	MaxConns int
	// ShutdownTimeout bounds how long shutdown waits for messages in flight;
	// zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	mu      sync.Mutex
	ln      net.Listener
	serving bool
	closed  bool
	quit    chan struct{} // closed by Close
	done    chan struct{} // closed when Serve has returned
	conns   map[*conn]struct{}
	wg      sync.WaitGroup
}

// ListenAndServe listens on s.Addr and serves connections until ctx is
// cancelled or Close is called; see Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mllp: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is cancelled or Close is called,
// then closes ln and shuts down: idle connections are closed at once, and
// connections in the middle of a message may finish it (and send its answer)
// for up to ShutdownTimeout before they are closed and their Handler's
// context is cancelled. It returns nil after such a shutdown, and an error if
// accepting fails for another reason, if a Handler ignored its cancelled
// context, or if the server was already closed or serving.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Handler == nil {
		ln.Close()
		return errors.New("mllp: Server.Handler is nil")
	}
	s.mu.Lock()
	s.init()
	if s.closed || s.serving {
		closed := s.closed
		s.mu.Unlock()
		ln.Close()
		if closed {
			return ErrServerClosed
		}
		return errors.New("mllp: Serve called twice")
	}
	s.serving, s.ln = true, ln
	s.mu.Unlock()
	defer close(s.done)

	// Handlers get a context that outlives ctx: a message being stored when
	// shutdown starts should be stored and acknowledged, not aborted.
	handlerCtx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-s.quit:
		case <-stopped:
		}
		ln.Close()
	}()

	s.log().Info("mllp server listening", "addr", ln.Addr().String())
	acceptErr := s.acceptLoop(ctx, ln, handlerCtx)
	close(stopped)
	s.log().Info("mllp server stopping", "addr", ln.Addr().String())
	if err := s.shutdown(cancelHandlers); err != nil {
		return errors.Join(acceptErr, err)
	}
	return acceptErr
}

// acceptLoop accepts connections until the listener is closed. It returns nil
// when the close was a requested shutdown.
func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, handlerCtx context.Context) error {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.stopping(ctx) {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("mllp: accept: %w", err)
			}
			// Anything else (too many open files, a connection reset while
			// queued) is usually transient: wait a little and try again.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log().Warn("mllp accept failed; retrying", "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			case <-s.quit:
			}
			continue
		}
		backoff = 0
		s.accept(handlerCtx, nc)
	}
}

// stopping reports whether a shutdown was requested.
func (s *Server) stopping(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

// accept admits a new connection, or closes it when Allow refuses it or the
// server is full, and starts its goroutine.
func (s *Server) accept(handlerCtx context.Context, nc net.Conn) {
	remote := nc.RemoteAddr()
	if s.Allow != nil && !s.Allow(remote) {
		s.log().Warn("mllp connection refused by Allow", "remote", remote.String())
		nc.Close()
		return
	}
	c := &conn{nc: nc}
	s.mu.Lock()
	if len(s.conns) >= s.maxConns() {
		s.mu.Unlock()
		s.log().Warn("mllp connection refused: too many connections", "remote", remote.String(), "max_conns", s.maxConns())
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		s.serveConn(handlerCtx, c)
	}()
}

// shutdown stops every connection: idle ones at once, busy ones after their
// current message or after ShutdownTimeout, whichever comes first.
func (s *Server) shutdown(cancelHandlers context.CancelFunc) error {
	s.mu.Lock()
	for c := range s.conns {
		c.stop()
	}
	s.mu.Unlock()
	if s.waitConns(s.shutdownTimeout()) {
		return nil
	}
	s.mu.Lock()
	n := len(s.conns)
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	cancelHandlers()
	s.log().Warn("mllp shutdown timeout: closed connections in the middle of a message", "conns", n)
	if s.waitConns(s.shutdownTimeout()) {
		return nil
	}
	return fmt.Errorf("mllp: shutdown: %d connection handlers did not return after their context was cancelled", n)
}

// waitConns waits up to d for every connection goroutine to return.
func (s *Server) waitConns(d time.Duration) bool {
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-finished:
		return true
	case <-timer.C:
		return false
	}
}

// Close stops the server as cancelling Serve's context does, and waits until
// Serve has returned. It must not be called from a Handler, which would
// make shutdown wait for the Handler that is waiting for shutdown.
func (s *Server) Close() error {
	s.mu.Lock()
	s.init()
	if !s.closed {
		s.closed = true
		close(s.quit)
	}
	serving, done := s.serving, s.done
	s.mu.Unlock()
	if serving {
		<-done
	}
	return nil
}

// ListenAddr returns the address the server listens on, which tells tests
// the port chosen for ":0", or nil before Serve has started. (It cannot be
// called Addr: that is the field holding the configured address.)
func (s *Server) ListenAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// init creates the internal state on first use, so that the zero Server
// works; s.mu must be held.
func (s *Server) init() {
	if s.quit == nil {
		s.quit = make(chan struct{})
		s.done = make(chan struct{})
		s.conns = make(map[*conn]struct{})
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) maxMessage() int {
	if s.MaxMessage <= 0 {
		return DefaultMaxMessage
	}
	return s.MaxMessage
}

func (s *Server) readTimeout() time.Duration {
	if s.ReadTimeout <= 0 {
		return DefaultReadTimeout
	}
	return s.ReadTimeout
}

func (s *Server) frameTimeout() time.Duration {
	if s.FrameTimeout <= 0 {
		return DefaultFrameTimeout
	}
	return s.FrameTimeout
}

func (s *Server) maxConns() int {
	if s.MaxConns <= 0 {
		return DefaultMaxConns
	}
	return s.MaxConns
}

func (s *Server) shutdownTimeout() time.Duration {
	if s.ShutdownTimeout <= 0 {
		return DefaultShutdownTimeout
	}
	return s.ShutdownTimeout
}
