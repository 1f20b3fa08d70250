package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SlipContacts is what the pickup slip prints for the patient at home,
// besides the facility's own address and phone: whom to ask for help with
// the online service, and the data controller's and the DPO's contacts,
// which the service's privacy notice says are on the slip. Admins edit it.
type SlipContacts struct {
	HelpPhone  string
	HelpEmail  string
	Controller string
	DPO        string
	// UpdatedAt is when an admin last saved it; zero for never.
	UpdatedAt time.Time
}

// MaxSlipContactLen is the longest text of one contact field, in
// characters: a name, an address, a phone and an email fit.
const MaxSlipContactLen = 300

// MissingPrivacyContacts reports whether the controller's or the DPO's
// contacts are missing, which the privacy notice promises on the slip.
func (c SlipContacts) MissingPrivacyContacts() bool { return c.Controller == "" || c.DPO == "" }

// SlipContacts returns the contacts printed on the slip.
func (d *DB) SlipContacts(ctx context.Context) (SlipContacts, error) {
	var c SlipContacts
	var updated sql.NullTime
	err := d.r.QueryRowContext(ctx, `SELECT help_phone, help_email, controller, dpo, updated_at FROM slip_contacts WHERE id = 1`).
		Scan(&c.HelpPhone, &c.HelpEmail, &c.Controller, &c.DPO, &updated)
	c.UpdatedAt = updated.Time
	if err != nil {
		return c, fmt.Errorf("slip contacts: %w", mapErr(err))
	}
	return c, nil
}

// SetSlipContacts replaces the contacts printed on the slip, audited.
func (d *DB) SetSlipContacts(ctx context.Context, c SlipContacts, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO slip_contacts(id, help_phone, help_email, controller, dpo, updated_at, updated_by)
			VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET help_phone = excluded.help_phone,
			help_email = excluded.help_email, controller = excluded.controller, dpo = excluded.dpo,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			c.HelpPhone, c.HelpEmail, c.Controller, c.DPO, now.UTC(), by.staffID()); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionSlipContacts})
	})
	if err != nil {
		return fmt.Errorf("set slip contacts: %w", err)
	}
	return nil
}
