package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// timeColumns are every timestamp of the schema. RebaseTimes moves them
// together so a copy of the example database made months after it was
// seeded still looks fresh: reports not yet expired, codes still valid.
var timeColumns = []struct{ table, column string }{
	{"facilities", "created_at"}, {"staff", "created_at"}, {"staff", "last_login_at"},
	{"patients", "created_at"}, {"patients", "updated_at"}, {"patients", "online_disabled_at"},
	{"visits", "accepted_at"}, {"visits", "first_published_at"},
	{"activation_codes", "issued_at"}, {"activation_codes", "expires_at"}, {"activation_codes", "revoked_at"}, {"activation_codes", "used_at"},
	{"documents", "uploaded_at"}, {"documents", "published_at"}, {"documents", "expires_at"}, {"documents", "first_downloaded_at"},
	{"accounts", "privacy_accepted_at"}, {"accounts", "created_at"}, {"accounts", "last_login_at"},
	{"dossier_links", "consented_at"}, {"dossier_links", "activated_at"},
	{"relatives", "created_at"},
	{"audit_events", "at"},
}

// rowKey identifies a row for the update; WITHOUT ROWID tables have none.
func rowKey(table string) string {
	if table == "dossier_links" {
		return "account_id || ':' || patient_id"
	}
	return "rowid"
}

// RebaseTimes shifts every timestamp but birth dates, in one transaction,
// so that the newest acceptance happened a day before now. It exists for
// `fse demo`, which serves a fresh copy of a database seeded long ago.
func (d *DB) RebaseTimes(ctx context.Context, now time.Time) error {
	var latest time.Time
	if err := d.w.QueryRowContext(ctx, `SELECT accepted_at FROM visits ORDER BY accepted_at DESC LIMIT 1`).Scan(&latest); err != nil {
		return fmt.Errorf("rebase times: %w", mapErr(err))
	}
	delta := now.Add(-24 * time.Hour).Sub(latest)
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, tc := range timeColumns {
			if err := shiftColumn(ctx, tx, tc.table, tc.column, delta); err != nil {
				return fmt.Errorf("rebase %s.%s: %w", tc.table, tc.column, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebase times: %w", err)
	}
	return nil
}

func shiftColumn(ctx context.Context, tx *sql.Tx, table, column string, delta time.Duration) error {
	key := rowKey(table)
	rows, err := tx.QueryContext(ctx, `SELECT `+key+`, `+column+` FROM `+table+` WHERE `+column+` IS NOT NULL`)
	if err != nil {
		return err
	}
	type row struct {
		id string
		t  time.Time
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.t); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+column+` = ? WHERE `+key+` = ?`, r.t.Add(delta).UTC(), r.id); err != nil {
			return err
		}
	}
	return nil
}
