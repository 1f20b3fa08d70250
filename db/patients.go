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

// Patient is a person in the front desk's registry, unique by codice fiscale.
type Patient struct {
	ID         int64
	FiscalCode string
	FirstName  string
	LastName   string
	BirthDate  time.Time
	BirthPlace string
	Sex        string
	// Mobile is E.164; SMS notifications and the family rule depend on it.
	Mobile    string
	Email     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// OnlineDisabledAt is when online delivery was turned off (consent
	// withdrawn); zero while it is on.
	OnlineDisabledAt time.Time
}

// OnlineDisabled reports whether the patient turned online delivery off.
func (p Patient) OnlineDisabled() bool { return !p.OnlineDisabledAt.IsZero() }

// FullName is "Last First" as the desk reads it.
func (p Patient) FullName() string { return p.LastName + " " + p.FirstName }

const patientCols = `id, fiscal_code, first_name, last_name, birth_date, birth_place, sex, mobile, email, created_at, updated_at,
	online_disabled_at`

func scanPatient(s interface{ Scan(...any) error }) (Patient, error) {
	var p Patient
	var off sql.NullTime
	err := s.Scan(&p.ID, &p.FiscalCode, &p.FirstName, &p.LastName, &p.BirthDate, &p.BirthPlace, &p.Sex,
		&p.Mobile, &p.Email, &p.CreatedAt, &p.UpdatedAt, &off)
	p.OnlineDisabledAt = off.Time
	return p, mapErr(err)
}

// Patient returns one patient.
func (d *DB) Patient(ctx context.Context, id int64) (Patient, error) {
	p, err := scanPatient(d.r.QueryRowContext(ctx, `SELECT `+patientCols+` FROM patients WHERE id = ?`, id))
	if err != nil {
		return p, fmt.Errorf("patient %d: %w", id, err)
	}
	return p, nil
}

// PatientByFiscalCode returns the patient with that normalized codice fiscale.
func (d *DB) PatientByFiscalCode(ctx context.Context, cf string) (Patient, error) {
	p, err := scanPatient(d.r.QueryRowContext(ctx, `SELECT `+patientCols+` FROM patients WHERE fiscal_code = ?`, cf))
	if err != nil {
		// No codice fiscale here: errors reach the server log.
		return p, fmt.Errorf("patient by fiscal code: %w", err)
	}
	return p, nil
}

// A desk search is a name, a codice fiscale or a number. Longer input is
// refused before it reaches SQLite, which refuses a LIKE pattern over 50,000
// bytes and an expression tree deeper than 1,000 (two conditions a word).
const (
	// MaxSearchLen is the longest search, in characters.
	MaxSearchLen = 100
	// MaxSearchWords is the most words a search may have.
	MaxSearchWords = 6
)

// Errors of SearchPatients for input past its bounds.
var (
	ErrSearchTooLong  = errors.New("search text too long")
	ErrSearchTooWordy = errors.New("search has too many words")
)

// SearchPatients finds patients by codice fiscale prefix, mobile (E.164 or
// its national digits) or name words, for the desk's search box. A search
// past MaxSearchLen or MaxSearchWords is ErrSearchTooLong or
// ErrSearchTooWordy.
func (d *DB) SearchPatients(ctx context.Context, q string, limit int) ([]Patient, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(q) > MaxSearchLen {
		return nil, ErrSearchTooLong
	}
	if len(strings.Fields(q)) > MaxSearchWords {
		return nil, ErrSearchTooWordy
	}
	var conds []string
	var args []any
	upper := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(q))
	conds = append(conds, "fiscal_code LIKE ?")
	args = append(args, upper+"%")
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	if len(digits) >= 6 {
		conds = append(conds, "mobile LIKE ?")
		args = append(args, "%"+digits+"%")
	}
	words := strings.Fields(q)
	nameConds := make([]string, 0, len(words))
	for _, w := range words {
		nameConds = append(nameConds, "(last_name LIKE ? OR first_name LIKE ?)")
		args = append(args, w+"%", w+"%")
	}
	conds = append(conds, "("+strings.Join(nameConds, " AND ")+")")
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, `SELECT `+patientCols+` FROM patients WHERE `+strings.Join(conds, " OR ")+
		` ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("search patients: %w", err)
	}
	defer rows.Close()
	var out []Patient
	for rows.Next() {
		p, err := scanPatient(rows)
		if err != nil {
			return nil, fmt.Errorf("search patients: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search patients: %w", err)
	}
	return out, nil
}

// upsertPatient creates the patient or updates the registry data typed at
// the desk, auditing which fields changed (names only, never values).
// ErrMobileChangeOnline means a clinic system tried to change the mobile of
// a patient whose dossier is active online: only the desk may.
var ErrMobileChangeOnline = errors.New("the patient reads reports online: only the desk may change their mobile")

func upsertPatient(ctx context.Context, tx *sql.Tx, p Patient, by Actor, now time.Time) (int64, error) {
	old, err := scanPatient(tx.QueryRowContext(ctx, `SELECT `+patientCols+` FROM patients WHERE fiscal_code = ?`, p.FiscalCode))
	if errors.Is(err, ErrNotFound) {
		res, err := tx.ExecContext(ctx, `INSERT INTO patients(fiscal_code, first_name, last_name, birth_date, birth_place, sex,
			mobile, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.FiscalCode, p.FirstName, p.LastName, p.BirthDate.UTC(), p.BirthPlace, p.Sex, p.Mobile, p.Email, now.UTC(), now.UTC())
		if err != nil {
			return 0, mapErr(err)
		}
		id, _ := res.LastInsertId()
		return id, insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionPatientCreate, ObjectType: "patient", ObjectID: id})
	}
	if err != nil {
		return 0, err
	}
	var changed []string
	for _, f := range []struct {
		name     string
		old, new string
	}{
		{"first_name", old.FirstName, p.FirstName},
		{"last_name", old.LastName, p.LastName},
		{"birth_place", old.BirthPlace, p.BirthPlace},
		{"mobile", old.Mobile, p.Mobile},
		{"email", old.Email, p.Email},
	} {
		if f.old != f.new {
			changed = append(changed, f.name)
		}
	}
	if len(changed) == 0 {
		return old.ID, nil
	}
	// A clinic system may not move a patient who reads reports online to
	// another mobile: with the slip's new code, whoever holds that number
	// could take over the dossier of every facility. The desk can, seeing
	// the patient.
	if by.Kind == ActorIntegration && old.Mobile != p.Mobile {
		var online int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, old.ID).Scan(&online); err != nil {
			return 0, err
		}
		if online > 0 {
			return 0, ErrMobileChangeOnline
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE patients SET first_name = ?, last_name = ?, birth_place = ?, mobile = ?, email = ?,
		updated_at = ? WHERE id = ?`, p.FirstName, p.LastName, p.BirthPlace, p.Mobile, p.Email, now.UTC(), old.ID)
	if err != nil {
		return 0, err
	}
	return old.ID, insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionPatientContactChange, ObjectType: "patient",
		ObjectID: old.ID, Detail: "changed: " + strings.Join(changed, ", ")})
}
