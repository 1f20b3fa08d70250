package mllp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// rejectHeadSize is how much of an oversize message Reject gets: the MSH
// segment, with the control id to echo, fits many times over.
const rejectHeadSize = 4 << 10

// conn is one accepted connection and the state shutdown needs: whether it
// is idle (waiting for a message, safe to close) or busy with one.
type conn struct {
	nc       net.Conn
	mu       sync.Mutex
	idle     bool
	stopping bool
}

// enterIdle sets the idle deadline and marks the connection idle, unless
// shutdown has begun. Both happen under the lock so that stop, which also
// takes it, cannot have its expired deadline overwritten by ours.
func (c *conn) enterIdle(deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return false
	}
	_ = c.nc.SetReadDeadline(deadline)
	c.idle = true
	return true
}

// enterBusy marks the connection busy with a message and sets the frame
// deadline, unless shutdown has begun: a message whose start block arrives
// during shutdown is left unanswered, and the sender will resend it.
func (c *conn) enterBusy(deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = false
	if c.stopping {
		return false
	}
	_ = c.nc.SetReadDeadline(deadline)
	return true
}

// stop asks the connection to end after its current message, and wakes it
// up at once if it is waiting for the next one.
func (c *conn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	if c.idle {
		_ = c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// serveConn reads and answers messages on one connection until the peer
// closes it, a timeout or protocol error occurs, or shutdown.
func (s *Server) serveConn(ctx context.Context, c *conn) {
	defer c.nc.Close()
	remote := c.nc.RemoteAddr()
	log := s.log().With("remote", remote.String())
	log.Info("mllp connection opened")
	br := bufio.NewReaderSize(c.nc, 64<<10)
	limit := s.maxMessage()
	for answered := 0; ; answered++ {
		if !c.enterIdle(time.Now().Add(s.readTimeout())) {
			log.Info("mllp connection closed for shutdown", "messages", answered)
			return
		}
		skipped, err := skipToStart(br, limit)
		if skipped > 0 {
			log.Warn("mllp discarded bytes before a start block", "bytes", skipped)
		}
		if err != nil {
			s.logReadEnd(log, c, true, answered, err)
			return
		}
		start := time.Now()
		if !c.enterBusy(start.Add(s.frameTimeout())) {
			log.Info("mllp connection closed for shutdown", "messages", answered)
			return
		}
		msg, restarted, err := readContent(br, limit)
		if restarted > 0 {
			log.Warn("mllp frame abandoned by the sender for a new start block", "bytes", restarted)
		}
		var tooLarge *FrameTooLargeError
		if errors.As(err, &tooLarge) {
			head := bytes.Clone(msg[:min(len(msg), rejectHeadSize)])
			s.readOversize(c, br, log, head, tooLarge)
			return
		}
		if err != nil {
			s.logReadEnd(log, c, false, answered, err)
			return
		}
		answer := s.handle(ctx, remote, msg, log)
		if len(answer) == 0 {
			log.Error("mllp handler gave no answer; closing so that the sender resends", "bytes", len(msg))
			return
		}
		if err := s.writeAnswer(c, answer); err != nil {
			log.Warn("mllp could not send the answer", "bytes", len(msg), "err", err)
			return
		}
		log.Info("mllp message answered", "bytes", len(msg), "answer_bytes", len(answer), "duration", time.Since(start))
	}
}

// handle calls the Handler, turning a panic into no answer so that one bad
// message cannot bring down the server.
func (s *Server) handle(ctx context.Context, remote net.Addr, msg []byte, log *slog.Logger) (answer []byte) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("mllp handler panicked", "bytes", len(msg), "panic", fmt.Sprint(r))
			answer = nil
		}
	}()
	return s.Handler(ctx, remote, msg)
}

// writeAnswer frames and sends an answer within the frame timeout, so that
// a peer that stopped reading cannot hold the goroutine forever.
func (s *Server) writeAnswer(c *conn, answer []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(s.frameTimeout()))
	return WriteFrame(c.nc, answer)
}

// readOversize deals with a message larger than MaxMessage. When Reject is
// set it reads on to the message's end block, discarding at most another
// MaxMessage bytes within what is left of the frame timeout, and sends
// Reject's answer: a sender that got no answer would time out and resend the
// same message forever, blocking everything queued behind it. Without
// Reject, or when the end block does not come, it sends nothing. Either way
// the connection is then closed, which is what a sender that ignores the
// answer also needs to notice.
func (s *Server) readOversize(c *conn, br *bufio.Reader, log *slog.Logger, head []byte, reason *FrameTooLargeError) {
	log.Warn("mllp message too large", "limit", s.maxMessage())
	if s.Reject == nil {
		return
	}
	if !reason.endRead && !drainFrame(br, s.maxMessage()) {
		log.Warn("mllp oversize message did not end in time; closing without an answer")
		return
	}
	answer := s.Reject(c.nc.RemoteAddr(), head, reason)
	if len(answer) == 0 {
		return
	}
	if err := s.writeAnswer(c, answer); err != nil {
		log.Warn("mllp could not send the reject", "err", err)
		return
	}
	log.Info("mllp oversize message rejected", "answer_bytes", len(answer))
}

// drainFrame discards bytes up to and including the next end block, giving
// up after limit bytes; it reports whether the end block was found. Like
// readContent it checks the limit as bytes arrive.
func drainFrame(r *bufio.Reader, limit int) bool {
	for total := 0; total <= limit; {
		if _, err := r.Peek(1); err != nil {
			return false
		}
		chunk, _ := r.Peek(r.Buffered())
		if end := bytes.IndexByte(chunk, EndBlock); end >= 0 {
			_, _ = r.Discard(end + 1)
			return true
		}
		total += len(chunk)
		_, _ = r.Discard(len(chunk))
	}
	return false
}

// logReadEnd logs why reading stopped, idle (between messages) or inside
// a message, at a level that matches how normal the reason is: peers
// closing and idle timeouts are routine, a message cut short is not.
func (s *Server) logReadEnd(log *slog.Logger, c *conn, idle bool, answered int, err error) {
	switch {
	case c.isStopping():
		log.Info("mllp connection closed for shutdown", "messages", answered)
	case idle && errors.Is(err, io.EOF):
		log.Info("mllp connection closed by the peer", "messages", answered)
	case idle && errors.Is(err, os.ErrDeadlineExceeded):
		log.Info("mllp connection idle too long; closing", "messages", answered, "timeout", s.readTimeout())
	case errors.Is(err, os.ErrDeadlineExceeded):
		log.Warn("mllp message took too long to arrive; closing", "messages", answered, "timeout", s.frameTimeout())
	case idle:
		log.Warn("mllp connection error between messages", "messages", answered, "err", err)
	default:
		log.Warn("mllp connection error inside a message", "messages", answered, "err", err)
	}
}
