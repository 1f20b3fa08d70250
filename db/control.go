package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNotPatient means the patient has their own account, and only they may
// do this to their dossier (consent is the patient's: at 18 the young adult
// takes control from the parents).
var ErrNotPatient = errors.New("only the patient's own account may do this")

// manage loads inside tx the account's link to the dossier and checks
// that it may manage it (DossierLink.MayManage).
func manage(ctx context.Context, tx *sql.Tx, accountID, patientID int64) error {
	l, err := loadLink(ctx, tx, accountID, patientID)
	if err != nil {
		return err
	}
	if !l.MayManage() {
		return ErrNotPatient
	}
	return nil
}

// SetOnlineDelivery turns a dossier's online delivery off (consent
// withdrawn: nothing more published online, no notifications, existing
// reports hidden) or on again with a new consent to privacyVersion.
func (d *DB) SetOnlineDelivery(ctx context.Context, accountID, patientID int64, on bool, privacyVersion string, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if on {
			if err := manage(ctx, tx, accountID, patientID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE patients SET online_disabled_at = NULL WHERE id = ?`, patientID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE dossier_links SET consented_at = ?, privacy_version = ?
				WHERE account_id = ? AND patient_id = ?`, now.UTC(), privacyVersion, accountID, patientID); err != nil {
				return err
			}
			return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionDossierEnable, ObjectType: "patient", ObjectID: patientID,
				Detail: "consent given again, notice " + privacyVersion})
		}
		if _, err := loadLink(ctx, tx, accountID, patientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE patients SET online_disabled_at = ? WHERE id = ? AND online_disabled_at IS NULL`,
			now.UTC(), patientID); err != nil {
			return err
		}
		// Notifications stop at once, including those still queued.
		if err := dropReportNotices(ctx, tx, patientID, 0); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionDossierDisable, ObjectType: "patient", ObjectID: patientID,
			Detail: "consent withdrawn"})
	})
	if err != nil {
		return fmt.Errorf("set online delivery of patient %d by account %d: %w", patientID, accountID, err)
	}
	return nil
}

// deletePublished deletes, inside tx, every published report of patientID
// (rows and ciphertext chunks) and returns how many went. Each deletion is
// audited first, so the patient's access history keeps it.
func deletePublished(ctx context.Context, tx *sql.Tx, patientID int64, by Actor, action string, now time.Time) (int, error) {
	ids, err := queryIDs(ctx, tx, `SELECT d.id FROM documents d JOIN visits v ON v.id = d.visit_id
		WHERE v.patient_id = ? AND d.published_at IS NOT NULL`, patientID)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "document", ObjectID: id}); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ResetDossier deletes every online report of a dossier the account has,
// for good; the caller then checkpoints the WAL.
func (d *DB) ResetDossier(ctx context.Context, accountID, patientID int64, by Actor, now time.Time) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if err := manage(ctx, tx, accountID, patientID); err != nil {
			return err
		}
		var err error
		if n, err = deletePublished(ctx, tx, patientID, by, ActionReportDeleteByPatient, now); err != nil {
			return err
		}
		if err := dropReportNotices(ctx, tx, patientID, 0); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionDossierReset, ObjectType: "patient", ObjectID: patientID,
			Detail: fmt.Sprintf("%d reports deleted", n)})
	})
	if err != nil {
		return n, fmt.Errorf("reset dossier of patient %d by account %d: %w", patientID, accountID, err)
	}
	return n, nil
}

// DeleteReport deletes one published report of a dossier the account has;
// when the patient has their own account, only they may.
func (d *DB) DeleteReport(ctx context.Context, accountID, docID int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var patientID int64
		// Only a report the account sees (not another's, nor one protected
		// or hidden from it): the same ErrNotFound as a made-up id.
		err := tx.QueryRowContext(ctx, `SELECT v.patient_id FROM `+visibleReports+`
			WHERE d.id = ? AND l.account_id = ? AND `+visibleAt, docID, accountID, now.UTC()).Scan(&patientID)
		if err != nil {
			return mapErr(err)
		}
		if err := manage(ctx, tx, accountID, patientID); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionReportDeleteByPatient, ObjectType: "document", ObjectID: docID}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, docID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete report %d by account %d: %w", docID, accountID, err)
	}
	return nil
}

// AccountDeletion says what deleting an account removed.
type AccountDeletion struct {
	// OrphanedDossiers are dossiers no other account has any more.
	OrphanedDossiers int
	// ReportsDeleted are the online reports of those dossiers.
	ReportsDeleted int
}

// DeleteAccount removes an account with its relatives, dossier links,
// consents, preferences, pending codes and queued messages; deletes the
// online reports of every dossier no other account has; and keeps one
// audit record by whom and from where (by: the holder and their address),
// with no name, number or email. The desk's registry stays.
func (d *DB) DeleteAccount(ctx context.Context, accountID int64, by Actor, now time.Time) (AccountDeletion, error) {
	var out AccountDeletion
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var mobile, email string
		if err := tx.QueryRowContext(ctx, `SELECT mobile, email FROM accounts WHERE id = ?`, accountID).Scan(&mobile, &email); err != nil {
			return mapErr(err)
		}
		patients, err := queryIDs(ctx, tx, `SELECT patient_id FROM dossier_links WHERE account_id = ?`, accountID)
		if err != nil {
			return err
		}
		// Links, relatives, codes tied to the account and queued messages go
		// with the account (ON DELETE CASCADE); codes sent before the account
		// existed are found by number.
		if _, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM otp_codes WHERE mobile = ?`, mobile); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE sent_at IS NULL AND (recipient = ? OR (recipient = ? AND ? <> ''))`,
			mobile, email, email); err != nil {
			return err
		}
		system := Actor{Kind: "system", Name: "account deletion"}
		for _, p := range patients {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, p).Scan(&others); err != nil {
				return err
			}
			if others > 0 {
				continue
			}
			n, err := deletePublished(ctx, tx, p, system, ActionReportDeleteByPatient, now)
			if err != nil {
				return err
			}
			out.OrphanedDossiers++
			out.ReportsDeleted += n
		}
		// Who and from where, as for every other action, but no name, no
		// number: only that an account was deleted.
		by.Name = ""
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionAccountDelete,
			ObjectType: "account", ObjectID: accountID,
			Detail: fmt.Sprintf("%d dossiers unlinked, %d reports deleted", len(patients), out.ReportsDeleted)})
	})
	if err != nil {
		return out, fmt.Errorf("delete account %d: %w", accountID, err)
	}
	return out, nil
}

// RevokeOtherAccounts ends every other account's access to the patient's
// dossier; only the patient's own account may do it. It returns how many
// accounts lost access.
func (d *DB) RevokeOtherAccounts(ctx context.Context, accountID, patientID int64, by Actor, now time.Time) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		l, err := loadLink(ctx, tx, accountID, patientID)
		if errors.Is(err, ErrNotFound) || err == nil && !l.MayRevokeOthers() {
			return ErrNotPatient
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE kind IN (`+reportNoticeKinds+`) AND sent_at IS NULL AND patient_id = ?
			AND account_id <> ?`, patientID, accountID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM dossier_links WHERE patient_id = ? AND account_id <> ?`, patientID, accountID)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionDossierRevokeOthers, ObjectType: "patient", ObjectID: patientID,
			Detail: fmt.Sprintf("%d accounts lost access", n)})
	})
	if err != nil {
		return n, fmt.Errorf("revoke other accounts of patient %d by account %d: %w", patientID, accountID, err)
	}
	return n, nil
}

// UnlinkDossier removes a dossier from the account (a relative's goes with
// the relative); the reports stay for the patient and other accounts.
func (d *DB) UnlinkDossier(ctx context.Context, accountID, patientID int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var relative sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT relative_id FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
			accountID, patientID).Scan(&relative); err != nil {
			return mapErr(err)
		}
		if err := dropReportNotices(ctx, tx, patientID, accountID); err != nil {
			return err
		}
		if relative.Valid {
			if _, err := tx.ExecContext(ctx, `DELETE FROM relatives WHERE id = ?`, relative.Int64); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dossier_links WHERE account_id = ? AND patient_id = ?`, accountID, patientID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionDossierUnlink, ObjectType: "patient", ObjectID: patientID,
			Detail: fmt.Sprintf("account %d", accountID)})
	})
	if err != nil {
		return fmt.Errorf("unlink dossier of patient %d from account %d: %w", patientID, accountID, err)
	}
	return nil
}
