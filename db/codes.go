package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

func insertCode(ctx context.Context, tx *sql.Tx, visitID int64, mac []byte, by Actor, now time.Time, action string) error {
	if len(mac) == 0 {
		return fmt.Errorf("visit %d: empty activation code", visitID)
	}
	// A code lives until the visit's last published report expires, or 90
	// days when nothing is published yet.
	expires := now.Add(ActivationCodeLifetime)
	var last sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT max(expires_at) FROM documents WHERE visit_id = ? AND published_at IS NOT NULL`,
		visitID).Scan(&last); err != nil {
		return err
	}
	if last.Valid {
		t, err := parseTime(last.String)
		if err != nil {
			return err
		}
		expires = t
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO activation_codes(visit_id, code_mac, issued_at, issued_by, issued_by_integration, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, visitID, mac, now.UTC(), by.staffID(), by.integrationID(), expires.UTC())
	if err != nil {
		return mapErr(err)
	}
	codeID, _ := res.LastInsertId()
	return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "visit", ObjectID: visitID,
		Detail: fmt.Sprintf("code #%d", codeID)})
}

// ReissueCode revokes every unused code of the visit and stores a new one, in
// one transaction: only the MAC is kept, so a reprint needs a new code.
func (d *DB) ReissueCode(ctx context.Context, visitID int64, mac []byte, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var declined bool
		if err := tx.QueryRowContext(ctx, `SELECT online_declined FROM visits WHERE id = ?`, visitID).Scan(&declined); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE activation_codes SET revoked_at = ?
			WHERE visit_id = ? AND revoked_at IS NULL AND used_at IS NULL`, now.UTC(), visitID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionCodeRevoke, ObjectType: "visit", ObjectID: visitID,
				Detail: fmt.Sprintf("%d code(s) revoked by reprint", n)}); err != nil {
				return err
			}
		}
		if declined {
			// Reprinting a slip for a visit whose online delivery was declined
			// turns it on: the patient changed their mind at the desk.
			if _, err := tx.ExecContext(ctx, `UPDATE visits SET online_declined = 0 WHERE id = ?`, visitID); err != nil {
				return err
			}
		}
		return insertCode(ctx, tx, visitID, mac, by, now, ActionCodeReprint)
	})
	if err != nil {
		return fmt.Errorf("reissue code of visit %d: %w", visitID, err)
	}
	return nil
}

// CodeStatus says what an activation code MAC matches.
type CodeStatus struct {
	CodeID    int64
	VisitID   int64
	PatientID int64
	ExpiresAt time.Time
	RevokedAt time.Time
	UsedAt    time.Time
}

// Usable reports whether the code can still activate a dossier at now.
func (c CodeStatus) Usable(now time.Time) bool {
	return c.RevokedAt.IsZero() && c.UsedAt.IsZero() && c.ExpiresAt.After(now)
}

// CodeByMAC looks up an activation code by its MAC.
func (d *DB) CodeByMAC(ctx context.Context, mac []byte) (CodeStatus, error) {
	var c CodeStatus
	var revoked, used sql.NullTime
	err := d.r.QueryRowContext(ctx, `SELECT c.id, c.visit_id, v.patient_id, c.expires_at, c.revoked_at, c.used_at
		FROM activation_codes c JOIN visits v ON v.id = c.visit_id WHERE c.code_mac = ?`, mac).
		Scan(&c.CodeID, &c.VisitID, &c.PatientID, &c.ExpiresAt, &revoked, &used)
	c.RevokedAt, c.UsedAt = revoked.Time, used.Time
	if err != nil {
		return c, fmt.Errorf("code by mac: %w", mapErr(err))
	}
	return c, nil
}

// DeleteExpiredCodes removes activation codes that can no longer be used.
func (d *DB) DeleteExpiredCodes(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM activation_codes WHERE expires_at <= ?`, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete expired codes: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return n, fmt.Errorf("delete expired codes: %w", err)
	}
	return n, nil
}
