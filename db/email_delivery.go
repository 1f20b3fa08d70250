package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoEmail means the account has no confirmed email address to send
// reports to.
var ErrNoEmail = errors.New("the account has no confirmed email address")

// EmailDeliveryOwner is what a dossier's email password is sealed for
// (sealbox.SealValue's owner): the account and the dossier, so a sealed
// password copied to another row does not open.
func EmailDeliveryOwner(accountID, patientID int64) string {
	return fmt.Sprintf("email-delivery:%d:%d", accountID, patientID)
}

// SetEmailDelivery turns on (or renews with a new password) the delivery
// of each new report of the dossier to the account's email, as a PDF
// encrypted under the password sealed in sealed. The account must have the
// dossier (ErrNotFound) and a confirmed email (ErrNoEmail). Audited.
func (d *DB) SetEmailDelivery(ctx context.Context, accountID, patientID int64, sealed []byte, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		l, err := loadLink(ctx, tx, accountID, patientID)
		if err != nil {
			return err
		}
		var email string
		if err := tx.QueryRowContext(ctx, `SELECT email FROM accounts WHERE id = ?`, accountID).Scan(&email); err != nil {
			return mapErr(err)
		}
		if email == "" {
			return ErrNoEmail
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_deliveries(account_id, patient_id, password_sealed, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT(account_id, patient_id) DO UPDATE SET password_sealed = excluded.password_sealed,
			created_at = excluded.created_at`, accountID, patientID, sealed, now.UTC()); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionEmailDeliveryOn, ObjectType: "patient", ObjectID: patientID,
			Detail: fmt.Sprintf("account %d", accountID), PatientOnly: l.Relation == RelationSelf})
	})
	if err != nil {
		return fmt.Errorf("set email delivery of patient %d for account %d: %w", patientID, accountID, err)
	}
	return nil
}

// StopEmailDelivery turns the delivery by email off, dropping the reports
// not yet sent. Audited; turning it off again changes nothing.
func (d *DB) StopEmailDelivery(ctx context.Context, accountID, patientID int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		l, err := loadLink(ctx, tx, accountID, patientID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM email_deliveries WHERE account_id = ? AND patient_id = ?`, accountID, patientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE kind = 'report_attached' AND sent_at IS NULL
			AND account_id = ? AND patient_id = ?`, accountID, patientID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionEmailDeliveryOff, ObjectType: "patient", ObjectID: patientID,
			Detail: fmt.Sprintf("account %d", accountID), PatientOnly: l.Relation == RelationSelf})
	})
	if err != nil {
		return fmt.Errorf("stop email delivery of patient %d for account %d: %w", patientID, accountID, err)
	}
	return nil
}

// EmailDeliverySince tells since when the account gets the dossier's
// reports by email; zero when it does not.
func (d *DB) EmailDeliverySince(ctx context.Context, accountID, patientID int64) (time.Time, error) {
	var since time.Time
	err := d.r.QueryRowContext(ctx, `SELECT CAST(created_at AS TEXT) FROM email_deliveries WHERE account_id = ? AND patient_id = ?`,
		accountID, patientID).Scan(timeText{&since})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return since, fmt.Errorf("email delivery of patient %d for account %d: %w", patientID, accountID, err)
	}
	return since, nil
}

// EmailPassword returns the sealed password a queued report is encrypted
// under, and the account's language (the attachment's name), while the
// account still gets the dossier's reports by email and still sees the
// report; otherwise ErrNotFound (the message must not go).
func (d *DB) EmailPassword(ctx context.Context, m OutboxMessage, now time.Time) (sealed []byte, lang string, err error) {
	err = d.r.QueryRowContext(ctx, `SELECT e.password_sealed, a.lang FROM `+visibleReports+`
		JOIN email_deliveries e ON e.account_id = l.account_id AND e.patient_id = l.patient_id
		JOIN accounts a ON a.id = l.account_id
		WHERE d.id = ? AND l.account_id = ? AND v.patient_id = ? AND NOT `+protectedDoc+` AND `+visibleAt,
		m.DocumentID, m.AccountID, m.PatientID, now.UTC()).Scan(&sealed, &lang)
	if err != nil {
		return nil, "", fmt.Errorf("email password for message %d: %w", m.ID, mapErr(err))
	}
	return sealed, lang, nil
}

// queueEmailedReports queues, for the reports of the visit published at
// now, one email with the report attached (notice's AttachedSubject and
// AttachedBody, in the account's language) to each account that asked for
// its dossier's reports by email and sees the report: never a protected
// report. The report is encrypted when the message is sent.
func queueEmailedReports(ctx context.Context, tx *sql.Tx, visitID int64, notice Notice, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.id, a.email, v.patient_id, d.id, a.lang FROM `+visibleReports+`
		JOIN accounts a ON a.id = l.account_id
		JOIN email_deliveries e ON e.account_id = l.account_id AND e.patient_id = l.patient_id
		WHERE d.visit_id = ? AND d.published_at = ? AND a.email <> '' AND NOT `+protectedDoc+` AND `+visibleAt+`
		ORDER BY d.id, a.id`, visitID, now.UTC(), now.UTC())
	if err != nil {
		return err
	}
	var msgs []OutboxMessage
	for rows.Next() {
		m := OutboxMessage{Channel: ChannelEmail, Kind: "report_attached"}
		var lang string
		if err := rows.Scan(&m.AccountID, &m.Recipient, &m.PatientID, &m.DocumentID, &lang); err != nil {
			rows.Close()
			return err
		}
		text := notice.In(lang)
		m.Subject, m.Body = text.AttachedSubject, text.AttachedBody
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range msgs {
		if err := insertOutbox(ctx, tx, m, now); err != nil {
			return err
		}
	}
	return nil
}
