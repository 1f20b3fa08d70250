package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Account is a patient's online account.
type Account struct {
	ID                 int64
	FirstName          string
	LastName           string
	Mobile             string
	Email              string
	PasswordHash       string
	LoginOTP           bool
	NotifySMS          bool
	NotifyEmail        bool
	PrivacyVersion     string
	PrivacyAcceptedAt  time.Time
	SessionsValidAfter time.Time
	CreatedAt          time.Time
	LastLoginAt        time.Time
	// Factors counts the account's second factors (apps, passkeys).
	Factors int
	// Lang is the language of the owner's pages, SMS and emails: "it" or
	// "en" (empty is read as "it").
	Lang string
}

// FullName is "First Last" as the patient reads it.
func (a Account) FullName() string { return a.FirstName + " " + a.LastName }

// accountCols are read on every logged-in request: times as text (asText).
var accountCols = `id, first_name, last_name, mobile, email, password_hash, login_otp, notify_sms, notify_email,
	privacy_version, ` + asText("privacy_accepted_at") + `, ` + asText("sessions_valid_after") + `, ` + asText("created_at") + `,
	` + asText("last_login_at") + `, (SELECT count(*) FROM auth_factors f WHERE f.account_id = accounts.id), lang`

func scanAccount(s interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := s.Scan(&a.ID, &a.FirstName, &a.LastName, &a.Mobile, &a.Email, &a.PasswordHash, &a.LoginOTP, &a.NotifySMS,
		&a.NotifyEmail, &a.PrivacyVersion, timeText{&a.PrivacyAcceptedAt}, timeText{&a.SessionsValidAfter},
		timeText{&a.CreatedAt}, timeText{&a.LastLoginAt}, &a.Factors, &a.Lang)
	return a, mapErr(err)
}

// CreateAccount stores a verified registration. A mobile or email already
// in use gives ErrConflict.
func (d *DB) CreateAccount(ctx context.Context, a Account, ip string, now time.Time) (int64, error) {
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO accounts(first_name, last_name, mobile, email, password_hash, login_otp,
			notify_sms, notify_email, privacy_version, privacy_accepted_at, sessions_valid_after, created_at, lang)
			VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?, ?, ?)`,
			a.FirstName, a.LastName, a.Mobile, strings.ToLower(a.Email), a.PasswordHash, a.LoginOTP,
			a.PrivacyVersion, a.PrivacyAcceptedAt.UTC(), time.Unix(0, 0).UTC(), now.UTC(), accountLang(a.Lang))
		if err != nil {
			return mapErr(err)
		}
		id, _ = res.LastInsertId()
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: Actor{Kind: "patient", ID: id, IP: ip}, Action: ActionAccountRegister,
			ObjectType: "account", ObjectID: id, Detail: "privacy notice " + a.PrivacyVersion})
	})
	if err != nil {
		return 0, fmt.Errorf("create account: %w", err)
	}
	return id, nil
}

// accountLang is the language stored for an account: Italian unless
// English was asked.
func accountLang(l string) string {
	if l == "en" {
		return "en"
	}
	return "it"
}

// SetAccountLang records the language the account's owner chose ("it" or
// "en"; anything else is Italian).
func (d *DB) SetAccountLang(ctx context.Context, id int64, lang string) error {
	l := accountLang(lang)
	if _, err := d.w.ExecContext(ctx, `UPDATE accounts SET lang = ? WHERE id = ? AND lang <> ?`, l, id, l); err != nil {
		return fmt.Errorf("set language of account %d: %w", id, err)
	}
	return nil
}

// Account returns one account.
func (d *DB) Account(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(d.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if err != nil {
		return a, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}

// AccountByMobile returns the account registered with an E.164 mobile.
func (d *DB) AccountByMobile(ctx context.Context, mobile string) (Account, error) {
	a, err := scanAccount(d.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE mobile = ?`, mobile))
	if err != nil {
		return a, fmt.Errorf("account by mobile: %w", err)
	}
	return a, nil
}

// AccountByEmail returns the account registered with an email address.
func (d *DB) AccountByEmail(ctx context.Context, email string) (Account, error) {
	if email == "" {
		return Account{}, fmt.Errorf("account by email: %w", ErrNotFound)
	}
	a, err := scanAccount(d.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE email = ?`, strings.ToLower(email)))
	if err != nil {
		return a, fmt.Errorf("account by email: %w", err)
	}
	return a, nil
}

// RecordAccountLogin, in one transaction, stores the login time (and, when
// rehash is not empty, the password hash with today's parameters), clears
// the failures counted on throttleKey and writes event.
func (d *DB) RecordAccountLogin(ctx context.Context, id int64, rehash, throttleKey string, event AuditEvent, now time.Time) error {
	q, args := `UPDATE accounts SET last_login_at = ? WHERE id = ?`, []any{now.UTC(), id}
	if rehash != "" {
		q, args = `UPDATE accounts SET last_login_at = ?, password_hash = ? WHERE id = ?`, []any{now.UTC(), rehash, id}
	}
	if err := d.recordLogin(ctx, q, args, throttleKey, event); err != nil {
		return fmt.Errorf("record login of account %d: %w", id, err)
	}
	return nil
}

// recordLogin writes what a successful login changes in one transaction:
// the account's row, the end of its failure count, the audit event. A
// login burst then costs one write each, beside the password hash.
func (d *DB) recordLogin(ctx context.Context, update string, args []any, throttleKey string, event AuditEvent) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, update, args...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = ?`, throttleKey); err != nil {
			return err
		}
		return insertAudit(ctx, tx, event)
	})
}

// SetAccountPassword replaces the password, ends every session of the
// account and queues the security notices, in one transaction.
func (d *DB) SetAccountPassword(ctx context.Context, id int64, hash string, by Actor, now time.Time, notices ...OutboxMessage) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ?, sessions_valid_after = ? WHERE id = ?`, hash, now.UTC(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		for _, m := range notices {
			m.AccountID = id
			if err := insertOutbox(ctx, tx, m, now); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionAccountPasswordChange, ObjectType: "account", ObjectID: id,
			Detail: "all sessions ended"})
	})
	if err != nil {
		return fmt.Errorf("set password of account %d: %w", id, err)
	}
	return nil
}

// Preferences are the settings a patient changes on the profile page.
type Preferences struct {
	LoginOTP    bool
	NotifySMS   bool
	NotifyEmail bool
}

// SetPreferences stores notification and login preferences.
func (d *DB) SetPreferences(ctx context.Context, id int64, p Preferences, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET login_otp = ?, notify_sms = ?, notify_email = ? WHERE id = ?`,
			p.LoginOTP, p.NotifySMS, p.NotifyEmail, id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionAccountPreferences, ObjectType: "account", ObjectID: id,
			Detail: fmt.Sprintf("login code %v, sms %v, email %v", p.LoginOTP, p.NotifySMS, p.NotifyEmail)})
	})
	if err != nil {
		return fmt.Errorf("set preferences of account %d: %w", id, err)
	}
	return nil
}

// SetContact changes the verified mobile or the email of an account.
func (d *DB) SetContact(ctx context.Context, id int64, mobile, email string, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		old, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
		if err != nil {
			return err
		}
		email = strings.ToLower(email)
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET mobile = ?, email = ?, notify_email = notify_email AND ? <> '' WHERE id = ?`,
			mobile, email, email, id); err != nil {
			return mapErr(err)
		}
		var changed []string
		if old.Mobile != mobile {
			changed = append(changed, "mobile")
		}
		if old.Email != email {
			changed = append(changed, "email")
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionAccountContactChange, ObjectType: "account", ObjectID: id,
			Detail: "changed: " + strings.Join(changed, ", ")})
	})
	if err != nil {
		return fmt.Errorf("set contact of account %d: %w", id, err)
	}
	return nil
}
