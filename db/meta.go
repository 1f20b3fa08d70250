package db

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrWrongKey means the key file is not the one this database was written with.
var ErrWrongKey = errors.New("the key file does not match this database")

// CheckKey compares check (a MAC made with the master key) with the one
// stored at first start, storing it if there is none.
func (d *DB) CheckKey(ctx context.Context, check []byte) error {
	var stored []byte
	err := d.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&stored)
	if errors.Is(mapErr(err), ErrNotFound) {
		if err := d.keyOpensReports(ctx); err != nil {
			return err
		}
		if _, err := d.w.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('key_check', ?)`, check); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read key check: %w", err)
	}
	if subtle.ConstantTimeCompare(stored, check) != 1 {
		return fmt.Errorf("check key: %w", ErrWrongKey)
	}
	return nil
}

// NeedsKey reports whether the database holds anything written with a
// master key (reports, activation or SMS codes, authenticator apps'
// secrets, recovery codes, or a key check), so a missing key file must
// stop the server instead of being replaced.
func (d *DB) NeedsKey(ctx context.Context) (bool, error) {
	var n int
	err := d.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM activation_codes)
		+ (SELECT count(*) FROM otp_codes) + (SELECT count(*) FROM auth_factors) + (SELECT count(*) FROM recovery_codes)
		+ (SELECT count(*) FROM meta WHERE key = 'key_check')`).Scan(&n)
	if err != nil {
		return n > 0, fmt.Errorf("count keyed rows: %w", err)
	}
	return n > 0, nil
}

// keyOpensReports checks the sealer's key on one stored report, the only
// proof of the key a database without a key check holds (one from before
// the check, or whose check row was removed): storing the check of a wrong
// key would lock the right one out for good.
func (d *DB) keyOpensReports(ctx context.Context) error {
	var id int64
	err := d.r.QueryRowContext(ctx, `SELECT document_id FROM document_chunks WHERE seq = 0 LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check key: %w", err)
	}
	if d.sealer == nil {
		return fmt.Errorf("check key: %w", errNoSealer)
	}
	if _, err := d.OpenDocument(ctx, id); err != nil {
		return fmt.Errorf("check key: it does not open report %d (%v): %w", id, err, ErrWrongKey)
	}
	return nil
}

// ProbeWrite commits one small write, so the health check can tell a
// database that still answers from one that can still store a session or
// an audit row: with the disk full, reads go on while every commit fails.
// It records when the last probe got through, in the meta row
// 'write_probe'.
func (d *DB) ProbeWrite(ctx context.Context, now time.Time) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('write_probe', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}
