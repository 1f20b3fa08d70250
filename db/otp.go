package db

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OTP purposes.
const (
	OTPRegister = "register"
	OTPLogin    = "login"
	OTPReset    = "reset"
	OTPContact  = "contact"
)

// OTPMaxAttempts wrong entries void a code.
const OTPMaxAttempts = 5

// Errors of CheckOTP; handlers explain each one.
var (
	ErrOTPWrong     = errors.New("wrong code")
	ErrOTPExpired   = errors.New("code expired")
	ErrOTPExhausted = errors.New("too many wrong codes")
	ErrOTPUsed      = errors.New("code already used")
)

// OTP is a one-time SMS code (without the code, which is only a MAC).
type OTP struct {
	ID        int64
	Purpose   string
	AccountID int64
	Mobile    string
	CreatedAt time.Time
	ExpiresAt time.Time
	Attempts  int
	UsedAt    time.Time
	// Budgeted counts the code in the portal's daily budget
	// (BudgetedOTPTimes). That record keeps neither the number nor the
	// account, so deleting the account does not give the budget back.
	Budgeted bool
}

// CreateOTP stores a new code's MAC, and its place in the daily budget
// when it counts there.
func (d *DB) CreateOTP(ctx context.Context, o OTP, mac []byte) (int64, error) {
	var acct any
	if o.AccountID != 0 {
		acct = o.AccountID
	}
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO otp_codes(purpose, account_id, mobile, code_mac, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, o.Purpose, acct, o.Mobile, mac, o.CreatedAt.UTC(), o.ExpiresAt.UTC())
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if o.Budgeted {
			_, err = tx.ExecContext(ctx, `INSERT INTO sms_code_budget(purpose, created_at) VALUES (?, ?)`, o.Purpose, o.CreatedAt.UTC())
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create otp: %w", err)
	}
	return id, nil
}

// OTPSendTimes returns when codes of one of purposes were sent since since
// to mobile or to accountID (0 for none), oldest first: the send limit
// counts both.
func (d *DB) OTPSendTimes(ctx context.Context, purposes []string, mobile string, accountID int64, since time.Time) ([]time.Time, error) {
	marks := strings.TrimSuffix(strings.Repeat("?,", len(purposes)), ",")
	args := []any{since.UTC()}
	for _, p := range purposes {
		args = append(args, p)
	}
	args = append(args, mobile, accountID)
	rows, err := d.r.QueryContext(ctx, `SELECT created_at FROM otp_codes WHERE created_at > ? AND purpose IN (`+marks+`)
		AND (mobile = ? OR account_id = ?) ORDER BY created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("otp send times: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("otp send times: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("otp send times: %w", err)
	}
	return out, nil
}

// BudgetedOTPTimes returns when the newest codes counted in the daily
// budget (OTP.Budgeted) were issued since since: at most n, newest first.
func (d *DB) BudgetedOTPTimes(ctx context.Context, since time.Time, n int) ([]time.Time, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT created_at FROM sms_code_budget WHERE created_at > ?
		ORDER BY created_at DESC LIMIT ?`, since.UTC(), n)
	if err != nil {
		return nil, fmt.Errorf("budgeted otp times: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("budgeted otp times: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("budgeted otp times: %w", err)
	}
	return out, nil
}

// OTPByID returns a code's metadata.
func (d *DB) OTPByID(ctx context.Context, id int64) (OTP, error) {
	var o OTP
	var acct sql.NullInt64
	var used sql.NullTime
	err := d.r.QueryRowContext(ctx, `SELECT id, purpose, account_id, mobile, created_at, expires_at, attempts, used_at
		FROM otp_codes WHERE id = ?`, id).Scan(&o.ID, &o.Purpose, &acct, &o.Mobile, &o.CreatedAt, &o.ExpiresAt, &o.Attempts, &used)
	o.AccountID, o.UsedAt = acct.Int64, used.Time
	if err != nil {
		return o, fmt.Errorf("otp %d: %w", id, mapErr(err))
	}
	return o, nil
}

// CheckOTP verifies a typed code against row id for purpose. A wrong code
// counts an attempt; the fifth voids the code. A right code is used up.
func (d *DB) CheckOTP(ctx context.Context, id int64, purpose string, mac []byte, now time.Time) (OTP, error) {
	return d.checkOTP(ctx, id, purpose, mac, now, true)
}

// VerifyOTP is CheckOTP without using the code up: a flow that must check
// more after the code (and may refuse) calls UseOTP once it accepts.
func (d *DB) VerifyOTP(ctx context.Context, id int64, purpose string, mac []byte, now time.Time) (OTP, error) {
	return d.checkOTP(ctx, id, purpose, mac, now, false)
}

// UseOTP uses up a verified code; ErrOTPUsed if it was used meanwhile.
func (d *DB) UseOTP(ctx context.Context, id int64, now time.Time) error {
	res, err := d.w.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`, now.UTC(), id)
	if err != nil {
		return fmt.Errorf("use otp %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("use otp %d: %w", id, ErrOTPUsed)
	}
	return nil
}

func (d *DB) checkOTP(ctx context.Context, id int64, purpose string, mac []byte, now time.Time, use bool) (OTP, error) {
	var o OTP
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var stored []byte
		var acct sql.NullInt64
		var used sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT id, purpose, account_id, mobile, created_at, expires_at, attempts, used_at, code_mac
			FROM otp_codes WHERE id = ? AND purpose = ?`, id, purpose).
			Scan(&o.ID, &o.Purpose, &acct, &o.Mobile, &o.CreatedAt, &o.ExpiresAt, &o.Attempts, &used, &stored)
		if err != nil {
			return mapErr(err)
		}
		o.AccountID, o.UsedAt = acct.Int64, used.Time
		switch {
		case !o.UsedAt.IsZero():
			return ErrOTPUsed
		case o.Attempts >= OTPMaxAttempts:
			return ErrOTPExhausted
		case !now.Before(o.ExpiresAt):
			return ErrOTPExpired
		}
		if subtle.ConstantTimeCompare(stored, mac) != 1 {
			o.Attempts++
			if _, err := tx.ExecContext(ctx, `UPDATE otp_codes SET attempts = ? WHERE id = ?`, o.Attempts, id); err != nil {
				return err
			}
			if o.Attempts >= OTPMaxAttempts {
				return errCommit{ErrOTPExhausted}
			}
			return errCommit{ErrOTPWrong}
		}
		if !use {
			return nil
		}
		o.UsedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE id = ?`, now.UTC(), id)
		return err
	})
	// A committed failure (a wrong code that counted) comes back as
	// errCommit; the caller gets the sentinel inside, with context.
	var ec errCommit
	if errors.As(err, &ec) {
		err = ec.err
	}
	if err != nil {
		return o, fmt.Errorf("check otp %d: %w", id, err)
	}
	return o, nil
}

// DeleteOldOTPs removes codes, and their places in the daily budget,
// created before before. Codes expire after minutes, but rows are kept a
// day so the send limits can count them.
func (d *DB) DeleteOldOTPs(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM otp_codes WHERE created_at < ?`, before.UTC())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sms_code_budget WHERE created_at < ?`, before.UTC())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete old otps: %w", err)
	}
	return n, nil
}
