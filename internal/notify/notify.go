// Package notify delivers short notifications (activation codes, "a new
// report is ready") by SMS through an HTTP gateway, by email over SMTP, or to
// the terminal during `fse demo`.
//
// Every Sender keeps patient data out of what it returns: recipients, message
// text and credentials are never logged, and errors are built so that a caller
// can log them without leaking them.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Message is one notification to one recipient.
type Message struct {
	To      string // E.164 mobile for SMS, email address for email
	Subject string // email only
	Body    string // plain text
	// Attachments are files sent with an email (a report, encrypted); an
	// SMS sender refuses a message that has any.
	Attachments []Attachment
}

// Attachment is a file attached to an email.
type Attachment struct {
	// Name is the file name the recipient sees: it must say nothing about
	// the content (no exam, no patient).
	Name        string
	ContentType string
	Data        []byte
}

// Sender delivers one message or returns an error; it never logs recipients or bodies.
//
// Implementations must be safe for concurrent use, because the outbox worker
// may deliver several messages at once.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// errNoRecipient is returned before any network traffic, so a caller bug is
// reported as such instead of as a gateway failure.
var errNoRecipient = errors.New("notify: message has no recipient")

// Console prints messages to W for `fse demo` only, so a person trying the demo sees SMS codes.
//
// It must never be wired up in production: it writes codes and recipients in
// clear text, which is exactly what the real senders avoid.
type Console struct {
	W       io.Writer
	Channel string // "SMS" or "EMAIL", printed as a label
}

// Send writes m as one framed block, so that codes stand out in the demo's
// log output; the Subject line is printed only when there is one (email).
func (c Console) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.To == "" {
		return errNoRecipient
	}
	label := c.Channel
	if label == "" {
		label = "MESSAGE"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "── %s to %s ──\n", label, m.To)
	if m.Subject != "" {
		fmt.Fprintf(&b, "Subject: %s\n", m.Subject)
	}
	b.WriteString(m.Body)
	if !strings.HasSuffix(m.Body, "\n") {
		b.WriteByte('\n')
	}
	for _, a := range m.Attachments {
		fmt.Fprintf(&b, "[attachment %s, %s, %d bytes]\n", a.Name, a.ContentType, len(a.Data))
	}
	// One Write call keeps blocks from concurrent sends from interleaving
	// line by line.
	if _, err := io.WriteString(c.W, b.String()); err != nil {
		return fmt.Errorf("notify: console: %w", err)
	}
	return nil
}

// redactedError hides secrets and personal data in the text of an error that
// comes from a library we do not control (go-mail puts recipients in its
// messages), while Unwrap still lets callers inspect the original with
// errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every non-empty secret replaced in its text, under
// a prefix that says what was being done.
func redact(prefix string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &redactedError{msg: prefix + ": " + msg, err: err}
}
