package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Relative is a family member an account holder registered; their mobile
// and email are the holder's.
type Relative struct {
	ID         int64
	AccountID  int64
	FiscalCode string
	FirstName  string
	LastName   string
	BirthDate  time.Time
	BirthPlace string
	Sex        string
	CreatedAt  time.Time
	// PatientID is the linked dossier's patient, 0 until activation.
	PatientID int64
}

// CreateRelative registers a relative; the same codice fiscale twice on one
// account is ErrConflict.
func (d *DB) CreateRelative(ctx context.Context, r Relative, by Actor, now time.Time) (int64, error) {
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO relatives(account_id, fiscal_code, first_name, last_name, birth_date, birth_place, sex, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.AccountID, r.FiscalCode, r.FirstName, r.LastName, r.BirthDate.UTC(), r.BirthPlace, r.Sex, now.UTC())
		if err != nil {
			return mapErr(err)
		}
		id, _ = res.LastInsertId()
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionRelativeAdd, ObjectType: "relative", ObjectID: id})
	})
	if err != nil {
		return 0, fmt.Errorf("create relative: %w", err)
	}
	return id, nil
}

const relativeQuery = `SELECT r.id, r.account_id, r.fiscal_code, r.first_name, r.last_name, r.birth_date, r.birth_place, r.sex,
	r.created_at, coalesce(l.patient_id, 0)
	FROM relatives r LEFT JOIN dossier_links l ON l.relative_id = r.id AND l.account_id = r.account_id`

func scanRelative(s interface{ Scan(...any) error }) (Relative, error) {
	var r Relative
	err := s.Scan(&r.ID, &r.AccountID, &r.FiscalCode, &r.FirstName, &r.LastName, &r.BirthDate, &r.BirthPlace, &r.Sex,
		&r.CreatedAt, &r.PatientID)
	return r, mapErr(err)
}

// Relatives lists an account's relatives by first name.
func (d *DB) Relatives(ctx context.Context, accountID int64) ([]Relative, error) {
	rows, err := d.r.QueryContext(ctx, relativeQuery+` WHERE r.account_id = ? ORDER BY r.first_name, r.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("relatives of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Relative
	for rows.Next() {
		r, err := scanRelative(rows)
		if err != nil {
			return nil, fmt.Errorf("relatives of account %d: %w", accountID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("relatives of account %d: %w", accountID, err)
	}
	return out, nil
}

// Relative returns one of the account's relatives; another account's is ErrNotFound.
func (d *DB) Relative(ctx context.Context, accountID, id int64) (Relative, error) {
	r, err := scanRelative(d.r.QueryRowContext(ctx, relativeQuery+` WHERE r.id = ? AND r.account_id = ?`, id, accountID))
	if err != nil {
		return r, fmt.Errorf("relative %d of account %d: %w", id, accountID, err)
	}
	return r, nil
}

// RemoveRelative deletes a relative and, with it, the account's link to
// the relative's dossier: access ends at once.
func (d *DB) RemoveRelative(ctx context.Context, accountID, id int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var patientID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT l.patient_id FROM relatives r
			LEFT JOIN dossier_links l ON l.relative_id = r.id AND l.account_id = r.account_id
			WHERE r.id = ? AND r.account_id = ?`, id, accountID).Scan(&patientID)
		if err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM relatives WHERE id = ? AND account_id = ?`, id, accountID); err != nil {
			return err
		}
		if patientID.Valid {
			if err := dropReportNotices(ctx, tx, patientID.Int64, accountID); err != nil {
				return err
			}
		}
		e := AuditEvent{At: now, Actor: by, Action: ActionRelativeRemove, ObjectType: "relative", ObjectID: id}
		if patientID.Valid {
			e.ObjectType, e.ObjectID, e.Detail = "patient", patientID.Int64, fmt.Sprintf("relative %d removed, dossier access ended", id)
		}
		return insertAudit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("remove relative %d of account %d: %w", id, accountID, err)
	}
	return nil
}
