package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// AuditCount is how many audit events of one kind were written.
type AuditCount struct {
	Action    string
	Outcome   string
	ActorKind string
	// LockedOut marks attempts refused by a lockout (DetailLockedOut).
	LockedOut bool
	N         int64
}

// LastAuditID is the id of the newest audit event, 0 when there is none.
// Counting from it (AuditCountsAfter) counts what happens from now on.
func (d *DB) LastAuditID(ctx context.Context) (int64, error) {
	var id int64
	if err := d.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM audit_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("last audit id: %w", err)
	}
	return id, nil
}

// LatestAuditTime is when the newest audit event happened, zero when
// there is none: a clock set back shows as events in the future.
func (d *DB) LatestAuditTime(ctx context.Context) (time.Time, error) {
	var at sql.NullString
	if err := d.r.QueryRowContext(ctx, `SELECT max(at) FROM audit_events`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("latest audit time: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	t, err := parseTime(at.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("latest audit time: %w", err)
	}
	return t, nil
}

// AuditCountsAfter counts the audit events after the event afterID, by
// action, outcome and kind of actor, and returns the id of the newest one
// counted (afterID when there is none). Only kinds and counts leave the
// database: never who, which object or from where. One writer assigns
// the ids in commit order, so nothing committed later can have an id at
// or below the one returned.
func (d *DB) AuditCountsAfter(ctx context.Context, afterID int64) ([]AuditCount, int64, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT action, outcome, actor_kind, detail = ?, count(*), max(id)
		FROM audit_events WHERE id > ? GROUP BY 1, 2, 3, 4`, DetailLockedOut, afterID)
	if err != nil {
		return nil, afterID, fmt.Errorf("count audit events: %w", err)
	}
	defer rows.Close()
	last := afterID
	var out []AuditCount
	for rows.Next() {
		var c AuditCount
		var maxID int64
		if err := rows.Scan(&c.Action, &c.Outcome, &c.ActorKind, &c.LockedOut, &c.N, &maxID); err != nil {
			return nil, afterID, fmt.Errorf("count audit events: %w", err)
		}
		out = append(out, c)
		last = max(last, maxID)
	}
	if err := rows.Err(); err != nil {
		return nil, afterID, fmt.Errorf("count audit events: %w", err)
	}
	return out, last, nil
}

// StoreStats are gauges the store reports at each metrics scrape (with
// OutboxStats).
type StoreStats struct {
	// LockedKeys counts the lockouts in force by kind of key ("staff",
	// "account", "activate-cf"...): the part of the key before its colon,
	// never the username, account or codice fiscale after it.
	LockedKeys map[string]int64
	// ReportsOnline counts the published reports not yet expired: what
	// the portal holds online for patients (whoever may see each one).
	ReportsOnline int64
}

// Stats reads StoreStats in one read transaction.
func (d *DB) Stats(ctx context.Context, now time.Time) (StoreStats, error) {
	s := StoreStats{LockedKeys: map[string]int64{}}
	err := d.r.readTx(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT key FROM login_throttle WHERE locked_until > ?`, now.UTC())
		if err != nil {
			return fmt.Errorf("lockouts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			if err := rows.Scan(&key); err != nil {
				return fmt.Errorf("lockouts: %w", err)
			}
			s.LockedKeys[keyKind(key)]++
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lockouts: %w", err)
		}
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM documents
			WHERE complete AND published_at IS NOT NULL AND expires_at > ?`, now.UTC()).Scan(&s.ReportsOnline); err != nil {
			return fmt.Errorf("reports online: %w", err)
		}
		return nil
	})
	if err != nil {
		return StoreStats{}, fmt.Errorf("store stats: %w", err)
	}
	return s, nil
}

// keyKind is the kind of a lockout key, "other" for a key without a
// plain prefix: whatever follows the colon identifies a person.
func keyKind(key string) string {
	kind, _, ok := strings.Cut(key, ":")
	if !ok || kind == "" || len(kind) > 24 || strings.Trim(kind, "abcdefghijklmnopqrstuvwxyz-") != "" {
		return "other"
	}
	return kind
}

// FileSizes returns the sizes of the database file and of its WAL (0
// while there is none).
func (d *DB) FileSizes() (db, wal int64, err error) {
	st, err := os.Stat(d.Path)
	if err != nil {
		return 0, 0, fmt.Errorf("database size: %w", err)
	}
	db = st.Size()
	st, err = os.Stat(d.Path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return db, 0, nil
	}
	if err != nil {
		return db, 0, fmt.Errorf("WAL size: %w", err)
	}
	return db, st.Size(), nil
}
