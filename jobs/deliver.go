package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"fse/db"
	"fse/internal/notify"
)

const (
	// deliverBatch is how many due messages are read at a time.
	deliverBatch = 50
	// deliverPerRun caps the messages attempted in one run, so a large
	// backlog is spread over several runs instead of one very long one.
	deliverPerRun = 500
	// sendTimeout bounds one message's delivery.
	sendTimeout = 30 * time.Second
	// defaultMaxAttempts applies when Deliver.MaxAttempts is 0.
	defaultMaxAttempts = 10
	// OutboxRetention is how long sent and failed messages are kept before
	// Deliver prunes them.
	OutboxRetention = 90 * 24 * time.Hour
	// maxBackoff caps the wait between attempts.
	maxBackoff = 6 * time.Hour
)

// Deliver sends queued notifications with retries and exponential backoff.
//
// Delivery is at least once: a message whose send succeeded but whose
// MarkSent failed is sent again on a later run.
type Deliver struct {
	// DB is the store holding the outbox.
	DB *db.DB
	// SMS sends text messages; nil when no SMS gateway is configured: SMS
	// stay queued, without consuming attempts.
	SMS notify.Sender
	// Email sends e-mail; nil when no SMTP is configured: emails stay queued,
	// without consuming attempts.
	Email notify.Sender
	// Now is the clock.
	Now func() time.Time
	// Log receives counts and, per failure, only the message id, channel and
	// the error with the recipient blanked out: never recipients, subjects
	// or bodies, which may hint at clinical facts.
	Log *slog.Logger
	// MaxAttempts is how many failed attempts make a message fail for good;
	// 0 means 10.
	MaxAttempts int
	// Attach builds the attachment of a message that carries a report (a
	// report by email); nil fails such messages.
	Attach Attacher
}

// Backoff is the wait after the n-th failed attempt (n >= 1; smaller n count
// as 1): 1 min * 2^(n-1), capped at 6 h.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 20 { // 2^19 minutes is far past the cap; avoid overflow
		return maxBackoff
	}
	return min(time.Minute<<(n-1), maxBackoff)
}

// RunOnce implements Job. It sends the messages due now on the configured
// channels, in batches, at most 500 per run; a message that fails is
// rescheduled after Backoff, or given up on after MaxAttempts failures. A
// failing message does not stop the others: only database errors (and
// cancellation of ctx) end the run early with an error. It then prunes sent
// and failed messages older than OutboxRetention.
func (j Deliver) RunOnce(ctx context.Context) error {
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	senders := map[string]notify.Sender{}
	var channels, unconfigured []string
	for _, c := range []struct {
		name string
		s    notify.Sender
	}{{db.ChannelSMS, j.SMS}, {db.ChannelEmail, j.Email}} {
		if c.s == nil {
			unconfigured = append(unconfigured, c.name)
			continue
		}
		senders[c.name] = c.s
		channels = append(channels, c.name)
	}

	// Messages are due relative to the start of the run, so one rescheduled
	// during the run is not attempted again before the next run.
	start := j.Now().UTC()
	var sent, failed, final, attempted int
	seen := map[int64]bool{}
	for attempted < deliverPerRun && len(channels) > 0 {
		batch, err := j.DB.DueMessages(ctx, start, channels, min(deliverBatch, deliverPerRun-attempted))
		if err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
		progress := false
		for _, m := range batch {
			if seen[m.ID] { // only if the clock went backwards
				continue
			}
			seen[m.ID] = true
			progress = true
			attempted++
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("deliver: stopped after %d messages: %w", attempted-1, err)
			}
			sendErr := j.send(ctx, senders[m.Channel], m)
			if sendErr != nil && ctx.Err() != nil {
				// Shutting down: the attempt was cut short, it does not count.
				return fmt.Errorf("deliver: stopped after %d messages: %w", attempted-1, ctx.Err())
			}
			now := j.Now().UTC()
			if sendErr == nil {
				if err := j.DB.MarkSent(ctx, m.ID, now); err != nil {
					if errors.Is(err, db.ErrNotFound) { // account deleted meanwhile
						log.Debug("deliver: message vanished", "id", m.ID, "channel", m.Channel)
						continue
					}
					return fmt.Errorf("deliver: %w", err)
				}
				sent++
				if m.DocumentID != 0 {
					if err := j.DB.Audit(ctx, db.AuditEvent{At: now, Actor: db.Actor{Kind: db.ActorSystem, Name: "deliver"},
						Action: db.ActionReportEmailed, ObjectType: "document", ObjectID: m.DocumentID,
						Detail: fmt.Sprintf("account %d", m.AccountID)}); err != nil {
						return fmt.Errorf("deliver: %w", err)
					}
				}
				continue
			}
			errText := scrub(sendErr.Error(), m)
			attempt := m.Attempts + 1
			// A report no longer to be sent (gone, or the patient turned
			// the email off) is not retried.
			isFinal := attempt >= maxAttempts || errors.Is(sendErr, db.ErrNotFound)
			if err := j.DB.MarkAttemptFailed(ctx, m.ID, errText, now.Add(Backoff(attempt)), isFinal, now); err != nil {
				if errors.Is(err, db.ErrNotFound) {
					log.Debug("deliver: message vanished", "id", m.ID, "channel", m.Channel)
					continue
				}
				return fmt.Errorf("deliver: %w", err)
			}
			if isFinal {
				final++
				log.Error("deliver: message failed for good", "id", m.ID, "channel", m.Channel, "attempt", attempt, "err", errText)
			} else {
				failed++
				log.Warn("deliver: attempt failed", "id", m.ID, "channel", m.Channel, "attempt", attempt, "err", errText)
			}
		}
		if !progress || len(batch) < deliverBatch {
			break
		}
	}

	pruned, err := j.DB.PruneOutbox(ctx, j.Now().UTC().Add(-OutboxRetention))
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	log.Info("deliver", "sent", sent, "failed", failed, "final", final, "pruned", pruned, "unconfigured", unconfigured)
	return nil
}

// send delivers m with its own timeout, with the report it carries
// attached; a panicking sender is one failed message, not a crashed run.
func (j Deliver) send(ctx context.Context, s notify.Sender, m db.OutboxMessage) (err error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sender panicked: %v", r)
		}
	}()
	msg := notify.Message{To: m.Recipient, Subject: m.Subject, Body: m.Body}
	if m.DocumentID != 0 {
		if j.Attach == nil {
			return errNoAttacher
		}
		if msg.Attachments, err = j.Attach.Attach(ctx, m); err != nil {
			return fmt.Errorf("attach the report: %w", err)
		}
	}
	return s.Send(ctx, msg)
}

// scrub removes the message's recipient, subject and body from an error
// text: gateways and SMTP servers often echo the address back, and the
// text goes to the log and to the admin page.
func scrub(errText string, m db.OutboxMessage) string {
	for _, r := range []struct{ secret, mask string }{
		{m.Body, "[body]"},
		{m.Subject, "[subject]"},
		{m.Recipient, "[recipient]"},
		{strings.TrimPrefix(m.Recipient, "+"), "[recipient]"}, // 39333..., as some gateways write it
	} {
		if r.secret == "" {
			continue
		}
		errText = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(r.secret)).ReplaceAllLiteralString(errText, r.mask)
	}
	return errText
}
