package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// remindBatch is how many reports one reminder transaction handles.
const remindBatch = 200

// QueueExpiryNotices queues the one reminder of each report that leaves
// the portal within days (expires_at <= now + days) and that nobody
// downloaded nor picked up on paper: notice(expires), in the account's
// language (Notice.In), to every account that sees the report now (so
// never to a relative for a protected or hidden report, never while the
// patient has the service off), by SMS, email or both as each chose; one message per account and day of expiry. Each
// report is reminded once, whether or not any account sees it, audited. It
// returns how many reports were handled.
func (d *DB) QueueExpiryNotices(ctx context.Context, days int, notice func(expires time.Time) Notice, now time.Time) (int, error) {
	if days <= 0 {
		return 0, nil
	}
	total := 0
	for {
		n, err := d.queueExpiryBatch(ctx, days, notice, now)
		total += n
		if err != nil {
			return total, fmt.Errorf("queue expiry notices: %w", err)
		}
		if n < remindBatch {
			return total, nil
		}
	}
}

func (d *DB) queueExpiryBatch(ctx context.Context, days int, notice func(time.Time) Notice, now time.Time) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		ids, err := queryIDs(ctx, tx, `SELECT d.id FROM documents d WHERE d.complete AND d.published_at IS NOT NULL
			AND d.expiry_notice_at IS NULL AND d.first_downloaded_at IS NULL AND d.paper_pickup_at IS NULL
			AND d.expires_at > ? AND d.expires_at <= ?
			AND NOT EXISTS (SELECT 1 FROM external_reports x WHERE x.document_id = d.id AND x.first_downloaded_at IS NOT NULL)
			ORDER BY d.expires_at, d.id LIMIT ?`, now.UTC(), now.Add(time.Duration(days)*24*time.Hour).UTC(), remindBatch)
		if err != nil {
			return err
		}
		n = len(ids)
		type key struct {
			account, patient int64
			day              string
		}
		sent := map[key]bool{}
		system := Actor{Kind: ActorSystem, Name: "remind"}
		for _, id := range ids {
			msgs, told, err := expiryMessages(ctx, tx, id, notice, now, func(account, patient int64, day string) bool {
				k := key{account, patient, day}
				first := !sent[k]
				sent[k] = true
				return first
			})
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if err := insertOutbox(ctx, tx, m, now); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET expiry_notice_at = ? WHERE id = ?`, now.UTC(), id); err != nil {
				return err
			}
			if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: system, Action: ActionReportExpiryNotice, ObjectType: "document",
				ObjectID: id, Detail: fmt.Sprintf("%d accounts told", told)}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// expiryMessages are the reminders of one report, for the accounts that
// see it; first says whether an account was not yet told about that
// dossier and day. told counts the accounts that see the report.
func expiryMessages(ctx context.Context, tx *sql.Tx, docID int64, notice func(time.Time) Notice, now time.Time,
	first func(account, patient int64, day string) bool) (msgs []OutboxMessage, told int, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT a.id, v.patient_id, a.mobile, a.email, a.notify_sms, a.notify_email, CAST(d.expires_at AS TEXT),
		a.lang FROM `+visibleReports+` JOIN accounts a ON a.id = l.account_id WHERE d.id = ? AND `+visibleAt, docID, now.UTC())
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var account, patient int64
		var mobile, email, lang string
		var sms, mail bool
		var expires time.Time
		if err := rows.Scan(&account, &patient, &mobile, &email, &sms, &mail, timeText{&expires}, &lang); err != nil {
			return nil, 0, err
		}
		told++
		if !first(account, patient, expires.In(Rome).Format(time.DateOnly)) {
			continue
		}
		for _, m := range noticeMessages(notice(expires).In(lang), account, mobile, email, sms, mail, "report_expiring") {
			m.PatientID = patient
			msgs = append(msgs, m)
		}
	}
	return msgs, told, rows.Err()
}
