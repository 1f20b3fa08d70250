package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Outbox channels, as allowed by the outbox table's CHECK constraint.
const (
	// ChannelSMS sends through the SMS gateway.
	ChannelSMS = "sms"
	// ChannelEmail sends through SMTP.
	ChannelEmail = "email"
)

// maxOutboxError is how much of a delivery error is kept in last_error.
const maxOutboxError = 300

// OutboxMessage is a queued notification.
type OutboxMessage struct {
	ID int64
	// Channel is ChannelSMS or ChannelEmail.
	Channel string
	// Recipient is an E.164 mobile number or an e-mail address.
	Recipient string
	// Subject is the e-mail subject; empty for SMS.
	Subject string
	// Body is the text sent; RecentOutbox leaves it empty.
	Body string
	// Kind is what caused the message: report_available, security...
	Kind string
	// AccountID is the account the message is about, 0 when none.
	AccountID int64
	// PatientID is the dossier a report notice is about, 0 when none.
	PatientID int64
	// DocumentID is the report the message carries as an attachment,
	// encrypted when it is sent; 0 when none.
	DocumentID int64
	// CreatedAt is when the message was queued.
	CreatedAt time.Time
	// Attempts counts failed delivery attempts.
	Attempts int
	// NextAttemptAt is when the message becomes due.
	NextAttemptAt time.Time
	// LastError is the last delivery error, at most 300 characters.
	LastError string
	// SentAt is when the message was delivered; zero while unsent.
	SentAt time.Time
	// FailedAt is when delivery was given up; zero unless failed for good.
	FailedAt time.Time
}

const outboxCols = `id, channel, recipient, subject, body, kind, coalesce(account_id, 0), created_at,
	attempts, next_attempt_at, last_error, sent_at, failed_at, coalesce(patient_id, 0), coalesce(document_id, 0)`

// outboxColsNoBody is outboxCols with the body replaced by an empty string.
const outboxColsNoBody = `id, channel, recipient, subject, '', kind, coalesce(account_id, 0), created_at,
	attempts, next_attempt_at, last_error, sent_at, failed_at, coalesce(patient_id, 0), coalesce(document_id, 0)`

func scanOutbox(s interface{ Scan(...any) error }) (OutboxMessage, error) {
	var m OutboxMessage
	var sent, failed sql.NullTime
	err := s.Scan(&m.ID, &m.Channel, &m.Recipient, &m.Subject, &m.Body, &m.Kind, &m.AccountID, &m.CreatedAt,
		&m.Attempts, &m.NextAttemptAt, &m.LastError, &sent, &failed, &m.PatientID, &m.DocumentID)
	m.SentAt, m.FailedAt = sent.Time, failed.Time
	return m, mapErr(err)
}

func validChannel(c string) bool { return c == ChannelSMS || c == ChannelEmail }

// insertOutbox queues m inside an existing transaction, so that the message
// exists if and only if the event that causes it commits. The message is due
// at once (next_attempt_at = now); ID, attempts and the status fields of m
// are ignored.
func insertOutbox(ctx context.Context, ex execer, m OutboxMessage, now time.Time) error {
	if !validChannel(m.Channel) {
		return fmt.Errorf("queue %s message: unknown channel %q", m.Kind, m.Channel)
	}
	if m.Recipient == "" {
		return fmt.Errorf("queue %s %s message: no recipient", m.Kind, m.Channel)
	}
	var accountID, patientID, documentID any
	if m.AccountID != 0 {
		accountID = m.AccountID
	}
	if m.PatientID != 0 {
		patientID = m.PatientID
	}
	if m.DocumentID != 0 {
		documentID = m.DocumentID
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO outbox
		(channel, recipient, subject, body, kind, account_id, patient_id, created_at, attempts, next_attempt_at, last_error, document_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', ?)`,
		m.Channel, m.Recipient, m.Subject, m.Body, m.Kind, accountID, patientID, now.UTC(), now.UTC(), documentID)
	if err != nil {
		return fmt.Errorf("queue %s %s message: %w", m.Kind, m.Channel, mapErr(err))
	}
	return nil
}

// Enqueue queues m on its own, due at once. Code that queues a message as a
// consequence of another change should use insertOutbox in that change's
// transaction instead.
func (d *DB) Enqueue(ctx context.Context, m OutboxMessage, now time.Time) error {
	return insertOutbox(ctx, d.w, m, now)
}

// DueMessages returns unsent, unfailed messages with next_attempt_at <= now,
// oldest first, at most limit, only for the given channels (so a channel with
// no sender configured is skipped and stays queued without consuming
// attempts). No channels means no messages.
func (d *DB) DueMessages(ctx context.Context, now time.Time, channels []string, limit int) ([]OutboxMessage, error) {
	if len(channels) == 0 || limit <= 0 {
		return nil, nil
	}
	args := []any{now.UTC()}
	for _, c := range channels {
		args = append(args, c)
	}
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox
		WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
		AND channel IN (?`+strings.Repeat(", ?", len(channels)-1)+`)
		ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("due messages: %w", err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("due messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due messages: %w", err)
	}
	return out, nil
}

// MarkSent records that message id was delivered. It returns ErrNotFound
// when the message no longer exists (its account was deleted meanwhile).
func (d *DB) MarkSent(ctx context.Context, id int64, now time.Time) error {
	res, err := d.w.ExecContext(ctx, `UPDATE outbox SET sent_at = ? WHERE id = ?`, now.UTC(), id)
	if err != nil {
		return fmt.Errorf("mark message %d sent: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mark message %d sent: %w", id, ErrNotFound)
	}
	return nil
}

// truncateError cuts s to maxOutboxError characters without splitting a rune.
func truncateError(s string) string {
	if utf8.RuneCountInString(s) <= maxOutboxError {
		return s
	}
	r := []rune(s)
	return string(r[:maxOutboxError])
}

// MarkAttemptFailed increments attempts, stores errText (truncated to 300
// characters), and either schedules the next attempt at next or, when final,
// gives up with failed_at = now. It returns ErrNotFound when the message no
// longer exists.
func (d *DB) MarkAttemptFailed(ctx context.Context, id int64, errText string, next time.Time, final bool, now time.Time) error {
	var res sql.Result
	var err error
	if final {
		res, err = d.w.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_at = ?
			WHERE id = ?`, truncateError(errText), now.UTC(), id)
	} else {
		res, err = d.w.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
			WHERE id = ?`, truncateError(errText), next.UTC(), id)
	}
	if err != nil {
		return fmt.Errorf("mark message %d attempt failed: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mark message %d attempt failed: %w", id, ErrNotFound)
	}
	return nil
}

// OutboxStats summarises the outbox for the admin page and monitoring.
type OutboxStats struct {
	// Queued counts messages neither sent nor failed, due or not.
	Queued int
	// Failed counts messages given up on (until pruned).
	Failed int
	// SentLast24h counts messages delivered in the 24 hours before now.
	SentLast24h int
	// OldestQueued is the creation time of the oldest queued message; zero
	// when none is queued.
	OldestQueued time.Time
	// QueuedByChannel splits Queued by channel; channels with nothing queued
	// are absent.
	QueuedByChannel map[string]int
}

// OutboxStats counts queued, failed and recently sent messages.
func (d *DB) OutboxStats(ctx context.Context, now time.Time) (OutboxStats, error) {
	s := OutboxStats{QueuedByChannel: map[string]int{}}
	var oldest sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT
		coalesce(sum(sent_at IS NULL AND failed_at IS NULL), 0),
		coalesce(sum(failed_at IS NOT NULL), 0),
		coalesce(sum(sent_at IS NOT NULL AND sent_at > ?), 0),
		min(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN created_at END)
		FROM outbox`, now.Add(-24*time.Hour).UTC()).Scan(&s.Queued, &s.Failed, &s.SentLast24h, &oldest)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	if oldest.Valid {
		if s.OldestQueued, err = parseTime(oldest.String); err != nil {
			return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
		}
	}
	rows, err := d.r.QueryContext(ctx, `SELECT channel, count(*) FROM outbox
		WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY channel`)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats by channel: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch string
		var n int
		if err := rows.Scan(&ch, &n); err != nil {
			return OutboxStats{}, fmt.Errorf("outbox stats by channel: %w", err)
		}
		s.QueuedByChannel[ch] = n
	}
	if err := rows.Err(); err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats by channel: %w", err)
	}
	return s, nil
}

// RecentOutbox lists the latest messages for the admin page, newest first.
// Body is NOT returned (always "") because admins need status, not content.
// onlyProblems keeps failed messages and unsent ones with at least one
// failed attempt. limit defaults to 100 and is capped at 500.
func (d *DB) RecentOutbox(ctx context.Context, onlyProblems bool, limit int) ([]OutboxMessage, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := `SELECT ` + outboxColsNoBody + ` FROM outbox`
	if onlyProblems {
		q += ` WHERE failed_at IS NOT NULL OR (attempts > 0 AND sent_at IS NULL)`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := d.r.QueryContext(ctx, q, limit)
	if err != nil {
		return nil, fmt.Errorf("recent outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("recent outbox: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent outbox: %w", err)
	}
	return out, nil
}

// RetryFailed puts a failed message back in the queue (attempts reset to 0,
// failed_at cleared, due at now); last_error is kept until the next attempt.
// It is an admin action, audited as ActionOutboxRetry by by. It returns
// ErrNotFound when no failed message has that id.
func (d *DB) RetryFailed(ctx context.Context, id int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var channel string
		err := tx.QueryRowContext(ctx, `UPDATE outbox SET attempts = 0, failed_at = NULL, next_attempt_at = ?
			WHERE id = ? AND failed_at IS NOT NULL AND sent_at IS NULL RETURNING channel`, now.UTC(), id).Scan(&channel)
		if err != nil {
			return mapErr(err)
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionOutboxRetry, ObjectType: "outbox",
			ObjectID: id, Detail: channel})
	})
	if err != nil {
		return fmt.Errorf("retry message %d: %w", id, err)
	}
	return nil
}

// PruneOutbox deletes messages sent or failed before the given instant
// (normally now minus 90 days) and returns how many; queued messages are
// never pruned.
func (d *DB) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM outbox
		WHERE (sent_at IS NOT NULL AND sent_at < ?) OR (failed_at IS NOT NULL AND failed_at < ?)`,
		before.UTC(), before.UTC())
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return n, nil
}

// reportNoticeKinds are the kinds of messages about a dossier's reports:
// a new report, a report about to leave the portal, a report by email.
const reportNoticeKinds = `'report_available', 'report_expiring', 'report_attached'`

// dropReportNotices deletes the unsent messages about patientID's reports
// (for one account, or every account when accountID is 0).
func dropReportNotices(ctx context.Context, ex execer, patientID, accountID int64) error {
	// Failed notices go too: an admin's retry must not send one after the
	// patient withdrew consent.
	_, err := ex.ExecContext(ctx, `DELETE FROM outbox WHERE kind IN (`+reportNoticeKinds+`) AND sent_at IS NULL
		AND patient_id = ? AND (? = 0 OR account_id = ?)`, patientID, accountID, accountID)
	return err
}

// CountRecentOutbox counts messages of kind, queued for an account since
// since, whose body contains any of texts (a sentence in each language).
func (d *DB) CountRecentOutbox(ctx context.Context, accountID int64, kind string, since time.Time, texts ...string) (int, error) {
	var n int
	if len(texts) == 0 {
		return 0, errors.New("count recent outbox: no text to look for")
	}
	args := []any{accountID, kind, since.UTC()}
	match := make([]string, len(texts))
	for i, t := range texts {
		match[i] = "instr(body, ?) > 0"
		args = append(args, t)
	}
	err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE account_id = ? AND kind = ? AND created_at > ?
		AND (`+strings.Join(match, " OR ")+`)`, args...).Scan(&n)
	if err != nil {
		return n, fmt.Errorf("count recent %s messages of account %d: %w", kind, accountID, err)
	}
	return n, nil
}
