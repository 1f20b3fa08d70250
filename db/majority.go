package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MajorityAge is when a patient takes control of their own data.
const MajorityAge = 18

// MajorityAt is the moment a patient born on birth (a date stored as UTC
// midnight) turns 18: midnight in Rome of the 18th birthday. Someone born
// on 29 February comes of age on 1 March when that year has no 29
// February, as time.Date normalises it (and as Italian practice counts).
func MajorityAt(birth time.Time) time.Time {
	b := birth.UTC()
	return time.Date(b.Year()+MajorityAge, b.Month(), b.Day(), 0, 0, 0, 0, Rome)
}

// MajorityTransfer records that relatives' links to a patient's dossier
// ended at the 18th birthday: the desk tells the young adult they may
// activate an account of their own.
type MajorityTransfer struct {
	PatientID  int64
	CameOfAge  time.Time
	LinksEnded int
	DoneAt     time.Time
}

// EndMinorLinks ends, in one transaction, every link of another account
// to the dossier of a patient who has turned 18 since it was made (a
// parent's link to a child's dossier): the relative goes from the holder's
// list with its link, each such account is told with notice (in its
// language, by SMS, email or both, as it chose) and loses its unsent report notices about
// the dossier, and each end is audited as "maggiore età". The patient's own
// link and links made when the patient was already an adult are never
// touched. notice must be neutral: no name, no dossier. Running it again
// ends nothing more. It returns how many links ended.
func (d *DB) EndMinorLinks(ctx context.Context, notice Notice, now time.Time) (int, error) {
	var ended int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		type link struct {
			account, patient, relative int64
			until                      time.Time
			mobile, email, lang        string
			sms, mail                  bool
		}
		rows, err := tx.QueryContext(ctx, `SELECT l.account_id, l.patient_id, coalesce(l.relative_id, 0), CAST(l.minor_until AS TEXT),
			a.mobile, a.email, a.notify_sms, a.notify_email, a.lang
			FROM dossier_links l JOIN accounts a ON a.id = l.account_id
			WHERE l.minor_until IS NOT NULL AND l.minor_until <= ? ORDER BY l.patient_id, l.account_id`, now.UTC())
		if err != nil {
			return err
		}
		var links []link
		for rows.Next() {
			var l link
			if err := rows.Scan(&l.account, &l.patient, &l.relative, timeText{&l.until}, &l.mobile, &l.email, &l.sms, &l.mail, &l.lang); err != nil {
				rows.Close()
				return err
			}
			links = append(links, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		system := Actor{Kind: ActorSystem, Name: "majority"}
		for _, l := range links {
			if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: system, Action: ActionDossierMajority, ObjectType: "patient",
				ObjectID: l.patient, Detail: fmt.Sprintf("account %d lost access at the patient's majority", l.account)}); err != nil {
				return err
			}
			if err := dropReportNotices(ctx, tx, l.patient, l.account); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM dossier_links WHERE account_id = ? AND patient_id = ?`, l.account, l.patient); err != nil {
				return err
			}
			if l.relative != 0 {
				if _, err := tx.ExecContext(ctx, `DELETE FROM relatives WHERE id = ?`, l.relative); err != nil {
					return err
				}
			}
			for _, m := range noticeMessages(notice.In(l.lang), l.account, l.mobile, l.email, l.sms, l.mail, "dossier_ended") {
				if err := insertOutbox(ctx, tx, m, now); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO majority_transfers(patient_id, came_of_age, links_ended, done_at)
				VALUES (?, ?, 1, ?) ON CONFLICT(patient_id) DO UPDATE SET links_ended = links_ended + 1, done_at = excluded.done_at`,
				l.patient, l.until.UTC(), now.UTC()); err != nil {
				return err
			}
		}
		ended = len(links)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("end links at majority: %w", err)
	}
	return ended, nil
}

// noticeMessages are the messages of notice for one account: SMS, email or
// both, as it chose (SMS when it chose email but has none).
func noticeMessages(n Notice, accountID int64, mobile, email string, sms, mail bool, kind string) []OutboxMessage {
	var out []OutboxMessage
	if sms || (mail && email == "") {
		out = append(out, OutboxMessage{Channel: ChannelSMS, Recipient: mobile, Body: n.SMS, Kind: kind, AccountID: accountID})
	}
	if mail && email != "" {
		out = append(out, OutboxMessage{Channel: ChannelEmail, Recipient: email, Subject: n.EmailSubject, Body: n.EmailBody,
			Kind: kind, AccountID: accountID})
	}
	return out
}

// MajorityTransferOf returns the record of relatives' links that ended at
// the patient's majority; ErrNotFound when none did.
func (d *DB) MajorityTransferOf(ctx context.Context, patientID int64) (MajorityTransfer, error) {
	var m MajorityTransfer
	err := d.r.QueryRowContext(ctx, `SELECT patient_id, CAST(came_of_age AS TEXT), links_ended, CAST(done_at AS TEXT)
		FROM majority_transfers WHERE patient_id = ?`, patientID).Scan(&m.PatientID, timeText{&m.CameOfAge}, &m.LinksEnded, timeText{&m.DoneAt})
	if err != nil {
		return m, fmt.Errorf("majority transfer of patient %d: %w", patientID, mapErr(err))
	}
	return m, nil
}
