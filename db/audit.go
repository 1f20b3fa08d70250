package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Actor is who performs an action, as written to the audit log.
type Actor struct {
	// Kind is one of the Actor* kinds.
	Kind string
	// ID is the staff or account id, 0 when there is none.
	ID int64
	// Name is the username shown in the log.
	Name string
	// IP is the client address.
	IP string
}

// Actor kinds.
const (
	ActorStaff       = "staff"
	ActorPatient     = "patient"
	ActorIntegration = "integration"
	ActorSystem      = "system"
	ActorCLI         = "cli"
)

// staffID is the actor's id for a "by staff" column, NULL for anyone else.
func (a Actor) staffID() any {
	if a.Kind == ActorStaff && a.ID != 0 {
		return a.ID
	}
	return nil
}

// integrationID is the actor's id for a "by integration" column, NULL for
// anyone else.
func (a Actor) integrationID() any {
	if a.Kind == ActorIntegration && a.ID != 0 {
		return a.ID
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeFailed = "failed"
)

// DetailLockedOut is the audit detail of an attempt refused because its
// key (a username, an account, a codice fiscale) is locked out.
const DetailLockedOut = "locked out"

// AuditEvent is one row of the audit log. It never carries passwords, codes
// or clinical content.
type AuditEvent struct {
	ID         int64
	At         time.Time
	Actor      Actor
	Action     string
	ObjectType string
	ObjectID   int64
	Outcome    string
	Detail     string
	// PatientOnly keeps the event out of the access history of every
	// account but the patient's own. Events about a protected or hidden
	// report, and the marks themselves, are so without asking.
	PatientOnly bool
}

// patientOnlyActions are about the patient's protected or hidden reports:
// a relative's account never sees them in its access history, so it never
// learns that there is something it cannot see.
var patientOnlyActions = []string{ActionVisitProtect, ActionVisitUnprotect, ActionReportProtect, ActionReportUnprotect,
	ActionReportHide, ActionReportUnhide}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertAudit(ctx context.Context, ex execer, e AuditEvent) error {
	var actorID, objectID any
	if e.Actor.ID != 0 {
		actorID = e.Actor.ID
	}
	if e.ObjectID != 0 {
		objectID = e.ObjectID
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	if slices.Contains(patientOnlyActions, e.Action) {
		e.PatientOnly = true
	}
	// The patient the event concerns is derived from its object, so the
	// patient's access history needs nothing from the callers. Deleting
	// callers audit before they delete. So is whether the event is the
	// patient's only: about a report that is protected or hidden when the
	// event happens.
	_, err := ex.ExecContext(ctx, `INSERT INTO audit_events
		(at, actor_kind, actor_id, actor_name, ip, action, object_type, object_id, outcome, detail, patient_id, patient_only)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, CASE ?7
			WHEN 'patient' THEN ?8
			WHEN 'visit' THEN (SELECT patient_id FROM visits WHERE id = ?8)
			WHEN 'document' THEN (SELECT v.patient_id FROM documents d JOIN visits v ON v.id = d.visit_id WHERE d.id = ?8)
		END, ?11 OR CASE ?7
			WHEN 'visit' THEN coalesce((SELECT protected FROM visits WHERE id = ?8), 0)
			WHEN 'document' THEN coalesce((SELECT `+protectedDoc+` OR d.hidden_at IS NOT NULL
				FROM documents d JOIN visits v ON v.id = d.visit_id WHERE d.id = ?8), 0)
			ELSE 0
		END)`,
		e.At.UTC(), e.Actor.Kind, actorID, e.Actor.Name, e.Actor.IP, e.Action, e.ObjectType, objectID, e.Outcome, e.Detail, e.PatientOnly)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit records one event on its own.
func (d *DB) Audit(ctx context.Context, e AuditEvent) error {
	return insertAudit(ctx, d.w, e)
}

// AuditFilter narrows ListAudit; zero fields match everything.
type AuditFilter struct {
	Action     string
	Actor      string
	ObjectType string
	ObjectID   int64
	Outcome    string
	From, To   time.Time
	Limit      int
	BeforeID   int64
}

// ListAudit returns events newest first. An Action or Actor longer than
// MaxSearchLen is ErrSearchTooLong (both are LIKE patterns).
func (d *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if utf8.RuneCountInString(f.Action) > MaxSearchLen || utf8.RuneCountInString(f.Actor) > MaxSearchLen {
		return nil, ErrSearchTooLong
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Action != "" {
		add("action LIKE ?", f.Action+"%")
	}
	if f.Actor != "" {
		add("actor_name LIKE ?", "%"+f.Actor+"%")
	}
	if f.ObjectType != "" {
		add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != 0 {
		add("object_id = ?", f.ObjectID)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.UTC())
	}
	if f.BeforeID != 0 {
		add("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT ` + auditCols + ` FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	out, err := scanAuditRows(rows)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

// PatientAccessLog returns the events about the given patients' data,
// newest first: who did what, and when. It is what a patient is entitled
// to see of their dossier's accesses.
func (d *DB) PatientAccessLog(ctx context.Context, patientIDs []int64, limit int) ([]AuditEvent, error) {
	if len(patientIDs) == 0 {
		return nil, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(patientIDs)), ",")
	args := make([]any, 0, len(patientIDs)+1)
	for _, id := range patientIDs {
		args = append(args, id)
	}
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE patient_id IN (`+marks+`) AND outcome = 'ok'
		ORDER BY at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("patient access log: %w", err)
	}
	out, err := scanAuditRows(rows)
	if err != nil {
		return nil, fmt.Errorf("patient access log: %w", err)
	}
	return out, nil
}

// AccountAccessLog returns what an account is entitled to see of its
// dossiers' accesses, newest first: the events about each linked patient's
// data, but about a relative's dossier none that is the patient's only
// (AuditEvent.PatientOnly).
func (d *DB) AccountAccessLog(ctx context.Context, accountID int64, limit int) ([]AuditEvent, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events e
		JOIN dossier_links l ON l.patient_id = e.patient_id AND l.account_id = ?
		WHERE e.outcome = 'ok' AND (NOT e.patient_only OR l.relation = 'self')
		ORDER BY e.at DESC, e.id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("access log of account %d: %w", accountID, err)
	}
	out, err := scanAuditRows(rows)
	if err != nil {
		return nil, fmt.Errorf("access log of account %d: %w", accountID, err)
	}
	return out, nil
}

const auditCols = `id, at, actor_kind, coalesce(actor_id,0), actor_name, ip, action, object_type, coalesce(object_id,0), outcome, detail`

func scanAuditRows(rows *sql.Rows) ([]AuditEvent, error) {
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		if err := rows.Scan(&e.ID, &e.At, &e.Actor.Kind, &e.Actor.ID, &e.Actor.Name, &e.Actor.IP,
			&e.Action, &e.ObjectType, &e.ObjectID, &e.Outcome, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountRecentAudit counts events of action about one object since since;
// it backs small daily limits (e.g. confirmation emails per account).
func (d *DB) CountRecentAudit(ctx context.Context, action, objectType string, objectID int64, since time.Time) (int, error) {
	var n int
	err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE action = ? AND object_type = ? AND object_id = ? AND at > ?`,
		action, objectType, objectID, since.UTC()).Scan(&n)
	if err != nil {
		return n, fmt.Errorf("count recent audit %s on %s %d: %w", action, objectType, objectID, err)
	}
	return n, nil
}
