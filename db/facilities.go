package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Facility is one of the clinic group's sites; its code prefixes accession numbers.
type Facility struct {
	ID        int64
	Code      string
	Name      string
	Address   string
	Phone     string
	Active    bool
	CreatedAt time.Time
}

const facilityCols = `id, code, name, address, phone, active, created_at`

func scanFacility(s interface{ Scan(...any) error }) (Facility, error) {
	var f Facility
	err := s.Scan(&f.ID, &f.Code, &f.Name, &f.Address, &f.Phone, &f.Active, &f.CreatedAt)
	return f, mapErr(err)
}

// CreateFacility adds a facility and audits it.
func (d *DB) CreateFacility(ctx context.Context, f Facility, by Actor, now time.Time) (int64, error) {
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO facilities(code, name, address, phone, active, created_at)
			VALUES (?, ?, ?, ?, 1, ?)`, f.Code, f.Name, f.Address, f.Phone, now.UTC())
		if err != nil {
			return mapErr(err)
		}
		id, _ = res.LastInsertId()
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionFacilityCreate, ObjectType: "facility", ObjectID: id, Detail: f.Code})
	})
	if err != nil {
		return 0, fmt.Errorf("create facility %s: %w", f.Code, err)
	}
	return id, nil
}

// SetFacilityActive enables or disables a facility; disabled ones are not
// offered at acceptance but keep their history.
func (d *DB) SetFacilityActive(ctx context.Context, id int64, active bool, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE facilities SET active = ? WHERE id = ?`, active, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		action := ActionFacilityDisable
		if active {
			action = ActionFacilityEnable
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "facility", ObjectID: id})
	})
	if err != nil {
		return fmt.Errorf("set facility %d active %v: %w", id, active, err)
	}
	return nil
}

// Facility returns one facility.
func (d *DB) Facility(ctx context.Context, id int64) (Facility, error) {
	f, err := scanFacility(d.r.QueryRowContext(ctx, `SELECT `+facilityCols+` FROM facilities WHERE id = ?`, id))
	if err != nil {
		return f, fmt.Errorf("facility %d: %w", id, err)
	}
	return f, nil
}

// FacilityByCode returns the facility with that code (any case).
func (d *DB) FacilityByCode(ctx context.Context, code string) (Facility, error) {
	f, err := scanFacility(d.r.QueryRowContext(ctx, `SELECT `+facilityCols+` FROM facilities WHERE code = upper(?)`, code))
	if err != nil {
		return f, fmt.Errorf("facility by code: %w", err)
	}
	return f, nil
}

// Facilities lists facilities by name; onlyActive hides disabled ones.
func (d *DB) Facilities(ctx context.Context, onlyActive bool) ([]Facility, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+facilityCols+` FROM facilities
		WHERE active OR NOT ? ORDER BY name`, onlyActive)
	if err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	defer rows.Close()
	var out []Facility
	for rows.Next() {
		f, err := scanFacility(rows)
		if err != nil {
			return nil, fmt.Errorf("list facilities: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	return out, nil
}
