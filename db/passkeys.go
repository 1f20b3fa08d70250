package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Passkeys are second factors of kind FactorPasskey (Factors, AddFactor,
// RemoveFactor serve them as every factor); what is theirs alone is the
// lookup by credential id and the record updated at each use.

// PasskeyByCredential finds the passkey with credential id credentialID,
// whoever owns it: a passwordless login knows nothing else yet.
// ErrNotFound when no passkey has it.
func (d *DB) PasskeyByCredential(ctx context.Context, credentialID []byte) (Factor, error) {
	f, err := scanFactor(d.r.QueryRowContext(ctx, `SELECT `+factorCols+` FROM auth_factors
		WHERE credential_id = ? AND kind = ?`, credentialID, FactorPasskey))
	if err != nil {
		return f, fmt.Errorf("passkey by credential: %w", err)
	}
	return f, nil
}

// UsePasskey stores passkey id's credential record as a login left it (its
// new signature counter) and when it was used, if the record is still
// prev, the one the login was checked against: two logins racing with one
// passkey cannot both pass its counter check, and the counter never goes
// back. ErrConflict when another login stored a record meanwhile,
// ErrNotFound when the passkey was removed.
func (d *DB) UsePasskey(ctx context.Context, id int64, prev, credential []byte, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_factors SET credential = ?, last_used_at = ? WHERE id = ? AND kind = ? AND credential = ?`,
			credential, now.UTC(), id, FactorPasskey, prev)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auth_factors WHERE id = ? AND kind = ?)`, id, FactorPasskey).
			Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrConflict
		}
		return ErrNotFound
	})
	if err != nil {
		return fmt.Errorf("use passkey %d: %w", id, err)
	}
	return nil
}

// StartPasskeyCeremony records a login ceremony (id, the hash of its
// state) until expires, and deletes those expired.
func (d *DB) StartPasskeyCeremony(ctx context.Context, id []byte, expires, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= ?`, now.UTC()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO passkey_ceremonies(id, expires_at) VALUES (?, ?)`, id, expires.UTC())
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("start passkey ceremony: %w", err)
	}
	return nil
}

// TakePasskeyCeremony ends the login ceremony id as its answer is checked,
// in one statement: of two answers to one ceremony, only one takes it.
// ErrNotFound when it was taken already, never started or has expired.
func (d *DB) TakePasskeyCeremony(ctx context.Context, id []byte, now time.Time) error {
	res, err := d.w.ExecContext(ctx, `DELETE FROM passkey_ceremonies WHERE id = ? AND expires_at > ?`, id, now.UTC())
	if err != nil {
		return fmt.Errorf("take passkey ceremony: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("take passkey ceremony: %w", ErrNotFound)
	}
	return nil
}
