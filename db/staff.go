package db

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"time"
)

// Staff roles.
const (
	RoleAdmin     = "admin"
	RoleReception = "reception"
)

// Staff is a back-office user of the portal.
type Staff struct {
	ID           int64
	Username     string
	DisplayName  string
	Role         string
	PasswordHash string
	Active       bool
	CreatedAt    time.Time
	LastLoginAt  time.Time
	// Factors counts the member's second factors.
	Factors int
	// SessionsValidAfter ends the sessions started before it (a new
	// password, a reset of the factors); zero for never.
	SessionsValidAfter time.Time
	// MFAResetAt is when an admin reset the member's factors, until the
	// member has been told; zero otherwise.
	MFAResetAt time.Time
}

// SessionValid reports whether a session authenticated at authAt still
// counts.
func (s Staff) SessionValid(authAt time.Time) bool {
	return s.SessionsValidAfter.IsZero() || authAt.After(s.SessionsValidAfter)
}

const staffCols = `id, username, display_name, role, password_hash, active, created_at, last_login_at,
	(SELECT count(*) FROM auth_factors f WHERE f.staff_id = staff.id), sessions_valid_after, mfa_reset_at`

func scanStaff(s interface{ Scan(...any) error }) (Staff, error) {
	var st Staff
	var last, validAfter, reset sql.NullTime
	err := s.Scan(&st.ID, &st.Username, &st.DisplayName, &st.Role, &st.PasswordHash, &st.Active, &st.CreatedAt, &last,
		&st.Factors, &validAfter, &reset)
	st.LastLoginAt, st.SessionsValidAfter, st.MFAResetAt = last.Time, validAfter.Time, reset.Time
	return st, mapErr(err)
}

// CreateStaff adds a staff member with an already hashed password.
func (d *DB) CreateStaff(ctx context.Context, s Staff, by Actor, now time.Time) (int64, error) {
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO staff(username, display_name, role, password_hash, active, created_at)
			VALUES (?, ?, ?, ?, 1, ?)`, s.Username, s.DisplayName, s.Role, s.PasswordHash, now.UTC())
		if err != nil {
			return mapErr(err)
		}
		id, _ = res.LastInsertId()
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionStaffCreate, ObjectType: "staff", ObjectID: id,
			Detail: s.Username + " (" + s.Role + ")"})
	})
	if err != nil {
		return 0, fmt.Errorf("create staff: %w", err)
	}
	return id, nil
}

// StaffByUsername returns an active or disabled staff member by username.
func (d *DB) StaffByUsername(ctx context.Context, username string) (Staff, error) {
	s, err := scanStaff(d.r.QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE username = ?`, username))
	if err != nil {
		return s, fmt.Errorf("staff by username: %w", err)
	}
	return s, nil
}

// StaffByID returns one staff member.
func (d *DB) StaffByID(ctx context.Context, id int64) (Staff, error) {
	s, err := scanStaff(d.r.QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE id = ?`, id))
	if err != nil {
		return s, fmt.Errorf("staff %d: %w", id, err)
	}
	return s, nil
}

// ListStaff lists every staff member by username.
func (d *DB) ListStaff(ctx context.Context) ([]Staff, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+staffCols+` FROM staff ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []Staff
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("list staff: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return out, nil
}

// SetStaffActive enables or disables a staff member. A disabled member's
// sessions stop working at their next request, and end for good: enabling
// the member again does not revive them.
func (d *DB) SetStaffActive(ctx context.Context, id int64, active bool, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		q, args := `UPDATE staff SET active = 0, sessions_valid_after = ? WHERE id = ?`, []any{now.UTC(), id}
		if active {
			q, args = `UPDATE staff SET active = 1 WHERE id = ?`, []any{id}
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		action := ActionStaffDisable
		if active {
			action = ActionStaffEnable
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "staff", ObjectID: id})
	})
	if err != nil {
		return fmt.Errorf("set staff %d active %v: %w", id, active, err)
	}
	return nil
}

// RecordStaffLogin is RecordAccountLogin for a staff member.
func (d *DB) RecordStaffLogin(ctx context.Context, id int64, rehash, throttleKey string, event AuditEvent, now time.Time) error {
	q, args := `UPDATE staff SET last_login_at = ? WHERE id = ?`, []any{now.UTC(), id}
	if rehash != "" {
		q, args = `UPDATE staff SET last_login_at = ?, password_hash = ? WHERE id = ?`, []any{now.UTC(), rehash, id}
	}
	if err := d.recordLogin(ctx, q, args, throttleKey, event); err != nil {
		return fmt.Errorf("record login of staff %d: %w", id, err)
	}
	return nil
}

// SetStaffPassword replaces a member's password (already hashed), ends
// their sessions and lifts their lockouts (clearStaffLocks), audited, in
// one transaction.
func (d *DB) SetStaffPassword(ctx context.Context, id int64, hash string, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var username string
		err := tx.QueryRowContext(ctx, `UPDATE staff SET password_hash = ?, sessions_valid_after = ? WHERE id = ? RETURNING username`,
			hash, now.UTC(), id).Scan(&username)
		if err != nil {
			return mapErr(err)
		}
		if err := clearStaffLocks(ctx, tx, id, username); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionStaffPasswordSet, ObjectType: "staff", ObjectID: id,
			Detail: "all sessions ended"})
	})
	if err != nil {
		return fmt.Errorf("set password of staff %d: %w", id, err)
	}
	return nil
}

// ResetStaffFactors removes every second factor and recovery code of a
// member, ends their sessions, lifts their lockouts (clearStaffLocks) and
// remembers to tell them at their next login, audited, in one transaction.
// It returns how many factors went.
func (d *DB) ResetStaffFactors(ctx context.Context, id int64, by Actor, now time.Time) (int, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var username string
		err := tx.QueryRowContext(ctx, `UPDATE staff SET sessions_valid_after = ?, mfa_reset_at = ? WHERE id = ? RETURNING username`,
			now.UTC(), now.UTC(), id).Scan(&username)
		if err != nil {
			return mapErr(err)
		}
		if err := clearStaffLocks(ctx, tx, id, username); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_factors WHERE staff_id = ?`, id)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE staff_id = ?`, id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionStaffFactorsReset, ObjectType: "staff", ObjectID: id,
			Detail: fmt.Sprintf("%d factors removed, recovery codes removed, all sessions ended", n)})
	})
	if err != nil {
		return 0, fmt.Errorf("reset factors of staff %d: %w", id, err)
	}
	return int(n), nil
}

// clearStaffLocks forgets the member's failed logins, passwords typed
// again and second factors, and the locks they set: whoever gives a locked-out
// member a new password or new factors lets them back in at once.
func clearStaffLocks(ctx context.Context, tx *sql.Tx, id int64, username string) error {
	owner := StaffOwner(id)
	_, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key IN (?, ?, ?, ?)`,
		StaffLoginKey(username), StaffReauthKey(id), FactorKey(owner), FactorDayKey(owner))
	return err
}

// ClearStaffResetNotice forgets the reset of the member's factors once
// they have been told.
func (d *DB) ClearStaffResetNotice(ctx context.Context, id int64) error {
	if _, err := d.w.ExecContext(ctx, `UPDATE staff SET mfa_reset_at = NULL WHERE id = ?`, id); err != nil {
		return fmt.Errorf("clear reset notice of staff %d: %w", id, err)
	}
	return nil
}

// CountAdmins returns how many active admins exist.
func (d *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE role = 'admin' AND active`).Scan(&n); err != nil {
		return n, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

var usernamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,39}$`)

// ValidUsername reports whether u is an acceptable staff login name.
func ValidUsername(u string) bool { return usernamePattern.MatchString(u) }
