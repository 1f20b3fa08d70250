package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Throttle counts failures per key (a username, a codice fiscale...) in
// SQLite, so lockouts survive restarts and apply whatever the client IP.
type Throttle struct {
	// MaxFailures within Window trigger a lock of LockFor.
	MaxFailures int
	Window      time.Duration
	LockFor     time.Duration
}

// Throttle keys named in more than one place: the handlers count them, and
// the ways back for a locked-out member (ResetStaffFactors,
// SetStaffPassword) clear them. The part before the first colon is the
// key's kind in Stats.

// StaffLoginKey counts the password logins of the member called username.
func StaffLoginKey(username string) string { return "staff:" + strings.ToLower(username) }

// StaffReauthKey counts the passwords a logged-in member types again
// before a change to their second factors.
func StaffReauthKey(id int64) string { return "staff-reauth:" + strconv.FormatInt(id, 10) }

// FactorKey counts the second-factor attempts (an app's or recovery
// code, a passkey) of owner over a quarter of an hour.
func FactorKey(o Owner) string { return "factor:" + o.String() }

// FactorDayKey counts the owner's wrong second factors over the day.
func FactorDayKey(o Owner) string { return "factor-day:" + o.String() }

// LockedUntil returns when the lock on key ends, or the zero time if key is not locked.
func (d *DB) LockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var until sql.NullTime
	err := d.r.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = ?`, key).Scan(&until)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		// Fail closed: a lockout that cannot be read must not let a
		// brute-force attempt through.
		return time.Time{}, fmt.Errorf("read lockout: %w", err)
	case !until.Valid || !until.Time.After(now):
		return time.Time{}, nil
	}
	return until.Time, nil
}

// ClearFailures forgets the failures of key after a success.
func (d *DB) ClearFailures(ctx context.Context, key string) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = ?`, key); err != nil {
		// No key here: it is a username or a codice fiscale.
		return fmt.Errorf("clear failures: %w", err)
	}
	return nil
}

// ClaimAttempt counts an attempt on key before it is checked, in one
// transaction with the lock read, so attempts sent in parallel cannot all
// pass the lock before their failures are recorded. The attempt that
// reaches MaxFailures still runs and sets the lock; later ones are refused
// with the lock's end. A success must call ClearFailures.
func (d *DB) ClaimAttempt(ctx context.Context, t Throttle, key string, now time.Time) (time.Time, error) {
	var locked time.Time
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var failures int
		var first time.Time
		var until sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT failures, first_at, locked_until FROM login_throttle WHERE key = ?`, key).
			Scan(&failures, &first, &until)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if until.Valid && until.Time.After(now) {
			locked = until.Time
			return nil
		}
		if errors.Is(err, sql.ErrNoRows) || now.Sub(first) > t.Window {
			failures, first = 0, now
		}
		failures++
		var lock any
		if failures >= t.MaxFailures {
			lock = now.Add(t.LockFor).UTC()
			failures, first = 0, now
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_throttle(key, failures, first_at, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at,
			locked_until = excluded.locked_until`, key, failures, first.UTC(), lock)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("claim attempt: %w", err)
	}
	return locked, nil
}
