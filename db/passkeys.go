package db

import (
	"context"
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
// new signature counter) and when it was used. ErrNotFound when the
// passkey was removed meanwhile.
func (d *DB) UsePasskey(ctx context.Context, id int64, credential []byte, now time.Time) error {
	res, err := d.w.ExecContext(ctx, `UPDATE auth_factors SET credential = ?, last_used_at = ? WHERE id = ? AND kind = ?`,
		credential, now.UTC(), id, FactorPasskey)
	if err != nil {
		return fmt.Errorf("use passkey %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("use passkey %d: %w", id, ErrNotFound)
	}
	return nil
}
