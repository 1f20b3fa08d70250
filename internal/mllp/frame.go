// Package mllp carries HL7 v2 messages over TCP with the Minimal Lower Layer
// Protocol: it frames and unframes messages and runs a server that hands each
// message to a handler and sends back the acknowledgment the handler builds.
//
// The package knows nothing of HL7 itself; message content is opaque bytes
// and is never logged, because it holds patient data.
package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// The framing bytes: a message travels as StartBlock, the message bytes,
// EndBlock, CarriageReturn.
const (
	// StartBlock (VT, 0x0B) opens a frame.
	StartBlock byte = 0x0B
	// EndBlock (FS, 0x1C) closes a frame.
	EndBlock byte = 0x1C
	// CarriageReturn (0x0D) follows EndBlock.
	CarriageReturn byte = 0x0D
)

// DefaultMaxMessage is the frame size limit used when none is given: room
// for a report PDF of about 20 MiB once base64 has grown it by a third.
const DefaultMaxMessage = 32 << 20

// ErrNoStartBlock means more bytes than the frame size limit arrived without
// a start block: the peer is not speaking MLLP.
var ErrNoStartBlock = errors.New("mllp: no start block")

// ErrControlByte means a message to be framed contains a start or end block
// byte, which would corrupt the framing; HL7 text never contains them.
var ErrControlByte = errors.New("mllp: message contains a start or end block byte")

// FrameTooLargeError is returned when a frame's content exceeds the limit.
// The reader stops soon after the limit, so the rest of the frame is usually
// still unread: the caller cannot tell where the next frame starts and
// should close the connection.
type FrameTooLargeError struct {
	// Limit is the size limit in bytes that the frame exceeded.
	Limit int
	// endRead records that the frame's end block was consumed with the
	// bytes that exceeded the limit, so there is nothing left to drain.
	endRead bool
}

// Error describes the limit that was exceeded.
func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("mllp: frame larger than %d bytes", e.Limit)
}

// ReadFrame reads the next framed message from r and returns its content
// without the framing bytes. Bytes before the start block are discarded; use
// ReadFrameSkipping to learn how many. A frame over max bytes (max <= 0 means
// DefaultMaxMessage) fails with a *FrameTooLargeError. The end of input
// before any frame returns io.EOF, and inside a frame an error wrapping
// io.ErrUnexpectedEOF.
func ReadFrame(r *bufio.Reader, max int) ([]byte, error) {
	msg, _, err := ReadFrameSkipping(r, max)
	return msg, err
}

// ReadFrameSkipping is ReadFrame that also reports how many bytes it
// discarded, so that a server can log a peer that sends garbage. Discarded
// bytes are those before the start block, not counting CR and LF (which some
// senders put between frames), and the content of a frame abandoned because
// a new start block arrived before its end block (a sender that gave up on
// a message and began again).
func ReadFrameSkipping(r *bufio.Reader, max int) (msg []byte, skipped int, err error) {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	skipped, err = skipToStart(r, max)
	if err != nil {
		return nil, skipped, err
	}
	msg, restarted, err := readContent(r, max)
	skipped += restarted
	if err != nil {
		return nil, skipped, err
	}
	return msg, skipped, nil
}

// WriteFrame writes msg to w as one MLLP frame, in a single Write so that a
// frame is not split into needless TCP segments.
func WriteFrame(w io.Writer, msg []byte) error {
	if bytes.IndexByte(msg, StartBlock) >= 0 || bytes.IndexByte(msg, EndBlock) >= 0 {
		return ErrControlByte
	}
	frame := make([]byte, 0, len(msg)+3)
	frame = append(frame, StartBlock)
	frame = append(frame, msg...)
	frame = append(frame, EndBlock, CarriageReturn)
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("mllp: write frame: %w", err)
	}
	return nil
}

// skipToStart consumes bytes up to and including the next start block. It
// gives up after limit bytes so that a peer streaming garbage is cut off.
// It returns the number of discarded bytes that were not CR or LF.
func skipToStart(r *bufio.Reader, limit int) (skipped int, err error) {
	for total := 0; ; total++ {
		b, err := r.ReadByte()
		if err != nil {
			return skipped, err
		}
		if b == StartBlock {
			return skipped, nil
		}
		if b != '\r' && b != '\n' {
			skipped++
		}
		if total >= limit {
			return skipped, fmt.Errorf("%w in %d bytes", ErrNoStartBlock, total+1)
		}
	}
}

// readContent reads a frame's content after its start block, up to the end
// block, and consumes the carriage return after it when it has already
// arrived. A frame ended by EndBlock alone is accepted: waiting for a
// missing CR would stall a sender that is waiting for our answer, and a CR
// that arrives later is discarded by skipToStart as a line break.
//
// It works on whatever the bufio.Reader holds rather than with ReadSlice, so
// that the size limit is enforced as bytes arrive, not only once the
// buffer is full. On a *FrameTooLargeError it also returns the first max
// bytes of content, from which a server can salvage the message header.
func readContent(r *bufio.Reader, max int) (msg []byte, restarted int, err error) {
	var buf []byte
	for {
		if _, err := r.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, restarted, fmt.Errorf("mllp: input ended inside a frame after %d bytes: %w", len(buf), io.ErrUnexpectedEOF)
			}
			return nil, restarted, fmt.Errorf("mllp: read frame after %d bytes: %w", len(buf), err)
		}
		chunk, _ := r.Peek(r.Buffered())
		consume := len(chunk)
		end := bytes.IndexByte(chunk, EndBlock)
		if end >= 0 {
			chunk, consume = chunk[:end], end+1
		}
		if i := bytes.LastIndexByte(chunk, StartBlock); i >= 0 {
			// A new start block before the end: the sender abandoned the
			// frame and started over; only the new frame counts.
			restarted += len(buf) + i
			buf = buf[:0]
			chunk = chunk[i+1:]
		}
		if len(buf)+len(chunk) > max {
			buf = append(buf, chunk[:max-len(buf)]...)
			_, _ = r.Discard(consume)
			return buf, restarted, &FrameTooLargeError{Limit: max, endRead: end >= 0}
		}
		buf = append(buf, chunk...)
		_, _ = r.Discard(consume)
		if end >= 0 {
			if r.Buffered() > 0 {
				if next, _ := r.Peek(1); next[0] == CarriageReturn {
					_, _ = r.Discard(1)
				}
			}
			if buf == nil {
				buf = []byte{}
			}
			return buf, restarted, nil
		}
	}
}
