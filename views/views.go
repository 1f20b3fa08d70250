// Package views holds fse's templ components and embedded static assets.
// It receives data from handlers and never queries the store.
package views

import (
	"embed"
	"fmt"
	"strings"
	"time"

	"fse/db"
	"fse/internal/phone"
)

//go:generate go tool templ generate

// Static holds the stylesheet and script served under /static/.
//
//go:embed static
var Static embed.FS

// rome is where dates are shown; storage stays UTC.
var rome = db.Rome

// Date formats t as an Italian calendar date in Rome time.
func Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(rome).Format("02/01/2006")
}

// DateTime formats t as Italian date and time in Rome time.
func DateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(rome).Format("02/01/2006 15:04")
}

// BirthDate formats a birth date, stored as UTC midnight, without shifting it.
func BirthDate(t time.Time) string { return t.UTC().Format("02/01/2006") }

// Phone shows an E.164 number the way Italians write it.
func Phone(e164 string) string { return phone.Display(e164) }

// Chrome is what every staff page's frame needs.
type Chrome struct {
	Title string
	// Staff is the logged-in member, nil on the login page.
	Staff *db.Staff
	// Flash is a one-time notice from the previous action.
	Flash string
	// Error is a page-level error message.
	Error string
	// LowDisk, set on admins' pages only, says the database's disk is
	// running out of room.
	LowDisk *LowDisk
	// SMSBudget, set on admins' pages only, says the portal's daily
	// budget of SMS codes is spent.
	SMSBudget *SMSBudget
}

// IsAdmin reports whether the logged-in member is an admin.
func (c Chrome) IsAdmin() bool { return c.Staff != nil && c.Staff.Role == db.RoleAdmin }

// LowDisk is the room left on the database's disk once it is below twice
// the minimum (--min-free-space).
type LowDisk struct {
	Free, Min int64
	// BelowMin: the portal reports itself degraded and writes may fail.
	BelowMin bool
}

// SMSBudget is the portal's daily budget of SMS codes once it is spent
// (--sms-daily-limit): codes for registrations, password resets and new
// mobiles are refused until Until.
type SMSBudget struct {
	Used       int
	Until, Now time.Time
}

// UsedText is how many codes went out in the last 24 hours.
func (b SMSBudget) UsedText() string { return fmt.Sprint(b.Used) }

// Form carries submitted values and per-field error messages back to a form.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// Get returns the submitted value of a field.
func (f Form) Get(name string) string { return f.Values[name] }

// Err returns the error message of a field.
func (f Form) Err(name string) string { return f.Errors[name] }

// HasErrors reports whether any field has an error.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 }

// RoleLabel names a staff role in Italian.
func RoleLabel(role string) string {
	switch role {
	case db.RoleAdmin:
		return "Amministratore"
	case db.RoleReception:
		return "Accettazione"
	}
	return role
}

func statusText(status int) string { return fmt.Sprintf("%d", status) }

func joinExams(exams []string) string { return strings.Join(exams, " · ") }

func uploadTitle(f Form, i int) string { return f.Values[fmt.Sprintf("title%d", i)] }
