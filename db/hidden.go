package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SetReportHidden hides a report from every other account linked to the
// patient's dossier (a parent, a spouse), or shows it to them again
// ("oscuramento"). Only the patient's own account may (ErrNotPatient); a
// report the account does not see is ErrNotFound. It takes effect at once:
// the other accounts get the same ErrNotFound as for a made-up id.
func (d *DB) SetReportHidden(ctx context.Context, accountID, docID int64, hidden bool, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var relation string
		var patientID int64
		if err := tx.QueryRowContext(ctx, `SELECT l.relation, v.patient_id FROM `+visibleReports+`
			WHERE d.id = ? AND l.account_id = ? AND `+visibleAt, docID, accountID, now.UTC()).Scan(&relation, &patientID); err != nil {
			return mapErr(err)
		}
		if relation != RelationSelf {
			return ErrNotPatient
		}
		var at any
		action := ActionReportUnhide
		if hidden {
			at, action = now.UTC(), ActionReportHide
		}
		res, err := tx.ExecContext(ctx, `UPDATE documents SET hidden_at = ? WHERE id = ? AND (hidden_at IS NULL) = ?`, at, docID, hidden)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already so
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "document", ObjectID: docID})
	})
	if err != nil {
		return fmt.Errorf("set report %d hidden %t by account %d: %w", docID, hidden, accountID, err)
	}
	return nil
}

// MayHide tells whether the account may hide the dossier's reports from
// the other accounts linked to it: only the patient's own account may.
func (l DossierLink) MayHide() bool { return l.Relation == RelationSelf }
