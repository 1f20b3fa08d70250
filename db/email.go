package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrTokenExpired means an email confirmation link is too old.
var ErrTokenExpired = errors.New("confirmation link expired")

// StartEmailVerification records that account wants email, confirmed by a
// link whose token has the given MAC; a newer request replaces an older one.
func (d *DB) StartEmailVerification(ctx context.Context, accountID int64, email string, mac []byte, now, expires time.Time) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO email_verifications(account_id, email, token_mac, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT(account_id) DO UPDATE SET email = excluded.email, token_mac = excluded.token_mac,
		created_at = excluded.created_at, expires_at = excluded.expires_at`,
		accountID, strings.ToLower(email), mac, now.UTC(), expires.UTC())
	if err != nil {
		return fmt.Errorf("start email verification for account %d: %w", accountID, mapErr(err))
	}
	return nil
}

// PendingEmail returns the address an account is confirming, or "".
func (d *DB) PendingEmail(ctx context.Context, accountID int64, now time.Time) (string, error) {
	var email string
	err := d.r.QueryRowContext(ctx, `SELECT email FROM email_verifications WHERE account_id = ? AND expires_at > ?`,
		accountID, now.UTC()).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return email, fmt.Errorf("pending email of account %d: %w", accountID, err)
	}
	return email, nil
}

// ConfirmEmail makes the address of the token's request the account's
// email. ErrNotFound for an unknown token, ErrTokenExpired for an old one,
// ErrConflict when another account confirmed the address first.
func (d *DB) ConfirmEmail(ctx context.Context, mac []byte, ip string, now time.Time) (int64, error) {
	var accountID int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var email string
		var expires time.Time
		if err := tx.QueryRowContext(ctx, `SELECT account_id, email, expires_at FROM email_verifications WHERE token_mac = ?`, mac).
			Scan(&accountID, &email, &expires); err != nil {
			return mapErr(err)
		}
		if !now.Before(expires) {
			return ErrTokenExpired
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET email = ? WHERE id = ?`, email, accountID); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM email_verifications WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: Actor{Kind: "patient", ID: accountID, IP: ip}, Action: ActionAccountEmailVerified,
			ObjectType: "account", ObjectID: accountID})
	})
	if err != nil {
		return accountID, fmt.Errorf("confirm email: %w", err)
	}
	return accountID, nil
}

// DeleteExpiredEmailVerifications removes confirmation requests past their expiry.
func (d *DB) DeleteExpiredEmailVerifications(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM email_verifications WHERE expires_at <= ?`, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete expired email verifications: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return n, fmt.Errorf("delete expired email verifications: %w", err)
	}
	return n, nil
}

// CancelEmailVerification forgets an account's pending address.
func (d *DB) CancelEmailVerification(ctx context.Context, accountID int64) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM email_verifications WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("cancel email verification of account %d: %w", accountID, err)
	}
	return nil
}
