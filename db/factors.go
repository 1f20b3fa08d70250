package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Second-factor kinds: each has the same name, dates and removal.
const (
	// FactorTOTP is an authenticator app (RFC 6238).
	FactorTOTP = "totp"
	// FactorPasskey is a passkey (a WebAuthn credential).
	FactorPasskey = "passkey"
)

// ErrStepUsed means a TOTP code of a time step already accepted was
// presented again.
var ErrStepUsed = errors.New("code of a time step already used")

// ErrLastFactor means a removal would leave without a second factor an
// owner who must keep one.
var ErrLastFactor = errors.New("the last second factor is required")

// Owner is whose second factors and recovery codes these are: a patient's
// account or a staff member.
type Owner struct {
	// Staff is true for a staff member, false for a patient's account.
	Staff bool
	ID    int64
}

// AccountOwner is the owner for a patient's account.
func AccountOwner(id int64) Owner { return Owner{ID: id} }

// StaffOwner is the owner for a staff member.
func StaffOwner(id int64) Owner { return Owner{Staff: true, ID: id} }

// String names the owner ("account:12", "staff:3"): sealed secrets and
// recovery-code MACs are bound to it.
func (o Owner) String() string {
	if o.Staff {
		return "staff:" + strconv.FormatInt(o.ID, 10)
	}
	return "account:" + strconv.FormatInt(o.ID, 10)
}

// column is the owner's column in auth_factors and recovery_codes; never
// user input.
func (o Owner) column() string {
	if o.Staff {
		return "staff_id"
	}
	return "account_id"
}

// ids are the values of (account_id, staff_id) for the owner.
func (o Owner) ids() (account, staff any) {
	if o.Staff {
		return nil, o.ID
	}
	return o.ID, nil
}

// Factor is a second factor (without anything secret in clear).
type Factor struct {
	ID    int64
	Owner Owner
	// Kind is FactorTOTP or FactorPasskey.
	Kind string
	// Name is what the owner called it ("Telefono di Mario").
	Name string
	// Secret is the app's secret, sealed for its owner.
	Secret []byte
	// LastStep is the last TOTP time step accepted.
	LastStep int64
	// CredentialID is a passkey's credential id, unique across the portal.
	CredentialID []byte
	// Credential is a passkey's credential record (public key, signature
	// counter) as JSON; nothing in it is secret.
	Credential []byte
	CreatedAt  time.Time
	LastUsedAt time.Time
}

const factorCols = `id, coalesce(account_id, 0), coalesce(staff_id, 0), kind, name, secret, last_step, credential_id, credential,
	created_at, last_used_at`

func scanFactor(s interface{ Scan(...any) error }) (Factor, error) {
	var f Factor
	var account, staff int64
	var used sql.NullTime
	err := s.Scan(&f.ID, &account, &staff, &f.Kind, &f.Name, &f.Secret, &f.LastStep, &f.CredentialID, &f.Credential, &f.CreatedAt, &used)
	f.LastUsedAt = used.Time
	f.Owner = AccountOwner(account)
	if staff != 0 {
		f.Owner = StaffOwner(staff)
	}
	return f, mapErr(err)
}

// Factors returns the owner's second factors, oldest first.
func (d *DB) Factors(ctx context.Context, o Owner) ([]Factor, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+factorCols+` FROM auth_factors WHERE `+o.column()+` = ? ORDER BY id`, o.ID)
	if err != nil {
		return nil, fmt.Errorf("factors of %s: %w", o, err)
	}
	defer rows.Close()
	var out []Factor
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, fmt.Errorf("factors of %s: %w", o, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("factors of %s: %w", o, err)
	}
	return out, nil
}

// HasFactor reports whether the owner has any second factor.
func (d *DB) HasFactor(ctx context.Context, o Owner) (bool, error) {
	var has bool
	err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auth_factors WHERE `+o.column()+` = ?)`, o.ID).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("has factor %s: %w", o, err)
	}
	return has, nil
}

// AddFactor stores a confirmed factor for f.Owner, audits event and queues
// notices, in one transaction. firstCodes (recovery-code MACs) are stored
// only when the owner had no factor before, replacing any left over; the
// result says whether they were. A passkey whose credential id is already
// stored is ErrConflict.
func (d *DB) AddFactor(ctx context.Context, f Factor, firstCodes [][]byte, event AuditEvent, now time.Time, notices ...OutboxMessage) (id int64, codesStored bool, err error) {
	o := f.Owner
	account, staff := o.ids()
	err = d.tx(ctx, func(tx *sql.Tx) error {
		var had bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auth_factors WHERE `+o.column()+` = ?)`, o.ID).Scan(&had); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO auth_factors(account_id, staff_id, kind, name, secret, last_step,
			credential_id, credential, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			account, staff, f.Kind, f.Name, f.Secret, f.LastStep, f.CredentialID, f.Credential, now.UTC())
		if err != nil {
			return mapErr(err)
		}
		id, _ = res.LastInsertId()
		if !had && len(firstCodes) > 0 {
			if err := replaceRecoveryCodes(ctx, tx, o, firstCodes, now); err != nil {
				return err
			}
			codesStored = true
		}
		event.At, event.ObjectID = now, id
		if event.ObjectType == "" {
			event.ObjectType = "factor"
		}
		return insertAuditAndNotices(ctx, tx, event, o, now, notices)
	})
	if err != nil {
		return 0, false, fmt.Errorf("add factor for %s: %w", o, err)
	}
	return id, codesStored, nil
}

// RemoveFactor deletes the owner's factor id (ErrNotFound when it is not
// theirs), and the recovery codes with the last factor, audits event and
// queues notices, in one transaction. With keepOne (a member the staff
// policy obliges to have a factor) the last factor stays: ErrLastFactor.
// It is counted in the same transaction, so two removals sent at once
// cannot each leave the other's factor as the last and take both.
func (d *DB) RemoveFactor(ctx context.Context, o Owner, id int64, keepOne bool, event AuditEvent, now time.Time, notices ...OutboxMessage) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_factors WHERE id = ? AND `+o.column()+` = ?`, id, o.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if keepOne {
			var left bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auth_factors WHERE `+o.column()+` = ?)`, o.ID).Scan(&left); err != nil {
				return err
			}
			if !left {
				return ErrLastFactor
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE `+o.column()+` = ?
			AND NOT EXISTS (SELECT 1 FROM auth_factors WHERE `+o.column()+` = ?)`, o.ID, o.ID); err != nil {
			return err
		}
		event.At, event.ObjectID = now, id
		if event.ObjectType == "" {
			event.ObjectType = "factor"
		}
		return insertAuditAndNotices(ctx, tx, event, o, now, notices)
	})
	if err != nil {
		return fmt.Errorf("remove factor %d of %s: %w", id, o, err)
	}
	return nil
}

// EndSessions ends every session of the owner authenticated before now
// (their sessions_valid_after): the caller stamps the session that goes on
// after now. ErrNotFound when the owner does not exist.
func (d *DB) EndSessions(ctx context.Context, o Owner, now time.Time) error {
	table := "accounts"
	if o.Staff {
		table = "staff"
	}
	res, err := d.w.ExecContext(ctx, `UPDATE `+table+` SET sessions_valid_after = ? WHERE id = ?`, now.UTC(), o.ID)
	if err != nil {
		return fmt.Errorf("end sessions of %s: %w", o, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("end sessions of %s: %w", o, ErrNotFound)
	}
	return nil
}

// UseTOTPStep records that factor id accepted a code of time step step. A
// step not after the last accepted one is ErrStepUsed: checked and written
// in one statement, so two logins racing with one code cannot both pass.
func (d *DB) UseTOTPStep(ctx context.Context, id, step int64, now time.Time) error {
	res, err := d.w.ExecContext(ctx, `UPDATE auth_factors SET last_step = ?, last_used_at = ? WHERE id = ? AND last_step < ?`,
		step, now.UTC(), id, step)
	if err != nil {
		return fmt.Errorf("use factor %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("use factor %d: %w", id, ErrStepUsed)
	}
	return nil
}

// ReplaceRecoveryCodes replaces the owner's recovery codes with macs,
// audits event and queues notices. An owner without a factor has nothing
// to recover: ErrNotFound.
func (d *DB) ReplaceRecoveryCodes(ctx context.Context, o Owner, macs [][]byte, event AuditEvent, now time.Time, notices ...OutboxMessage) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var has bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auth_factors WHERE `+o.column()+` = ?)`, o.ID).Scan(&has); err != nil {
			return err
		}
		if !has {
			return ErrNotFound
		}
		if err := replaceRecoveryCodes(ctx, tx, o, macs, now); err != nil {
			return err
		}
		event.At = now
		return insertAuditAndNotices(ctx, tx, event, o, now, notices)
	})
	if err != nil {
		return fmt.Errorf("replace recovery codes of %s: %w", o, err)
	}
	return nil
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, o Owner, macs [][]byte, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE `+o.column()+` = ?`, o.ID); err != nil {
		return err
	}
	account, staff := o.ids()
	for _, m := range macs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes(account_id, staff_id, code_mac, created_at) VALUES (?, ?, ?, ?)`,
			account, staff, m, now.UTC()); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode uses up the owner's unused recovery code with mac,
// audits event and queues notices, in one transaction, and returns how many
// codes are left. A code that is not the owner's, or was used, is
// ErrNotFound.
func (d *DB) UseRecoveryCode(ctx context.Context, o Owner, mac []byte, event AuditEvent, now time.Time, notices ...OutboxMessage) (int, error) {
	var left int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE id =
			(SELECT id FROM recovery_codes WHERE `+o.column()+` = ? AND code_mac = ? AND used_at IS NULL LIMIT 1)`, now.UTC(), o.ID, mac)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE `+o.column()+` = ? AND used_at IS NULL`, o.ID).
			Scan(&left); err != nil {
			return err
		}
		event.At = now
		if event.Detail == "" {
			event.Detail = fmt.Sprintf("%d recovery codes left", left)
		}
		return insertAuditAndNotices(ctx, tx, event, o, now, notices)
	})
	if err != nil {
		return 0, fmt.Errorf("use recovery code of %s: %w", o, err)
	}
	return left, nil
}

// RecoveryCodesLeft returns how many unused recovery codes the owner has.
func (d *DB) RecoveryCodesLeft(ctx context.Context, o Owner) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE `+o.column()+` = ? AND used_at IS NULL`, o.ID).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("recovery codes of %s: %w", o, err)
	}
	return n, nil
}

// insertAuditAndNotices writes an event and the notices it causes to the
// owner (a staff member has no contacts: the caller passes none).
func insertAuditAndNotices(ctx context.Context, tx *sql.Tx, event AuditEvent, o Owner, now time.Time, notices []OutboxMessage) error {
	for _, m := range notices {
		if !o.Staff {
			m.AccountID = o.ID
		}
		if err := insertOutbox(ctx, tx, m, now); err != nil {
			return err
		}
	}
	return insertAudit(ctx, tx, event)
}

// StaffMFAPolicy says which staff members must have a second factor
// (`fse serve --staff-mfa`).
type StaffMFAPolicy string

// The staff MFA policies.
const (
	// StaffMFARequired: every member (the default).
	StaffMFARequired StaffMFAPolicy = "required"
	// StaffMFAAdmins: admins only.
	StaffMFAAdmins StaffMFAPolicy = "admins"
	// StaffMFAOff: nobody is obliged; those with a factor still use it.
	StaffMFAOff StaffMFAPolicy = "off"
)

// ParseStaffMFAPolicy reads a policy name.
func ParseStaffMFAPolicy(s string) (StaffMFAPolicy, error) {
	switch p := StaffMFAPolicy(s); p {
	case StaffMFARequired, StaffMFAAdmins, StaffMFAOff:
		return p, nil
	}
	return "", fmt.Errorf("want required, admins or off, got %q", s)
}

// Requires reports whether a member with role must have a second factor.
// The zero policy is StaffMFARequired.
func (p StaffMFAPolicy) Requires(role string) bool {
	switch p {
	case StaffMFAOff:
		return false
	case StaffMFAAdmins:
		return role == RoleAdmin
	}
	return true
}
