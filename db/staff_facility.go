package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// StaffFacility returns the facility a staff member works at, set by an
// admin; 0 when none is set.
func (d *DB) StaffFacility(ctx context.Context, staffID int64) (int64, error) {
	var id sql.NullInt64
	if err := d.r.QueryRowContext(ctx, `SELECT facility_id FROM staff WHERE id = ?`, staffID).Scan(&id); err != nil {
		return 0, fmt.Errorf("facility of staff %d: %w", staffID, mapErr(err))
	}
	return id.Int64, nil
}

// StaffFacilities returns every staff member's facility by member id, for
// the staff list; members without one are absent.
func (d *DB) StaffFacilities(ctx context.Context) (map[int64]int64, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, facility_id FROM staff WHERE facility_id IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("facilities of staff: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var staff, facility int64
		if err := rows.Scan(&staff, &facility); err != nil {
			return nil, fmt.Errorf("facilities of staff: %w", err)
		}
		out[staff] = facility
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("facilities of staff: %w", err)
	}
	return out, nil
}

// SetStaffFacility sets the facility a staff member works at (0 for none),
// audited. An unknown member or facility is ErrNotFound.
func (d *DB) SetStaffFacility(ctx context.Context, staffID, facilityID int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var facility any
		detail := "none"
		if facilityID != 0 {
			var code string
			if err := tx.QueryRowContext(ctx, `SELECT code FROM facilities WHERE id = ?`, facilityID).Scan(&code); err != nil {
				return mapErr(err)
			}
			facility, detail = facilityID, code
		}
		res, err := tx.ExecContext(ctx, `UPDATE staff SET facility_id = ? WHERE id = ?`, facility, staffID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionStaffFacility, ObjectType: "staff", ObjectID: staffID,
			Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("set facility of staff %d: %w", staffID, err)
	}
	return nil
}
