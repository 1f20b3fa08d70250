package main

import (
	"flag"
	"strconv"
	"strings"

	"fse/db"
	"fse/jobs"
	"fse/views"
)

// rightsConfig holds the settings of the Garante's special cases and the
// patient's further rights: protected reports and the expiry reminder.
type rightsConfig struct {
	// protected is what a protected ("riservato") report means online.
	protected db.ProtectedPolicy
	// expiryReminderDays is how many days before a report leaves the portal
	// a patient who never downloaded it is reminded; 0 turns it off.
	expiryReminderDays int
}

// defaultExpiryReminderDays is --expiry-reminder-days' default.
const defaultExpiryReminderDays = 7

func (r *rightsConfig) addFlags(fs *flag.FlagSet) {
	r.protected = db.ProtectedPaper
	fs.Func("protected-reports", "protected reports (\"riservato\": HIV, sexual violence, termination of pregnancy, addiction, "+
		"anonymous birth): paper (never online, the default) or self (only in the patient's own account)", func(v string) (err error) {
		r.protected, err = db.ParseProtectedPolicy(v)
		return err
	})
	fs.IntVar(&r.expiryReminderDays, "expiry-reminder-days", defaultExpiryReminderDays,
		"days before a report leaves the portal that a patient who never downloaded it is reminded, once (0: off)")
}

// addJobFlags adds what `fse jobs run remind` needs: the reminder's days,
// and the portal's address for the notices' link.
func (r *rightsConfig) addJobFlags(fs *flag.FlagSet) *string {
	fs.IntVar(&r.expiryReminderDays, "expiry-reminder-days", defaultExpiryReminderDays,
		"days before a report leaves the portal that a patient who never downloaded it is reminded, once (0: off)")
	return fs.String("base-url", "http://localhost:8080", "public address of the portal, in the reminders' link")
}

// jobs is the configuration of the jobs of the patient's further rights.
func (r rightsConfig) jobs(baseURL string) jobs.RightsConfig {
	return jobs.RightsConfig{BaseURL: strings.TrimRight(baseURL, "/"), ExpiryReminderDays: r.expiryReminderDays}
}

func (r rightsConfig) validate() error {
	if r.expiryReminderDays < 0 || r.expiryReminderDays > 365 {
		return usagef("--expiry-reminder-days must be between 0 and 365, got %d", r.expiryReminderDays)
	}
	return nil
}

// policy is the protected-report policy, paper when unset (the demo).
func (r rightsConfig) policy() db.ProtectedPolicy {
	if r.protected == "" {
		return db.ProtectedPaper
	}
	return r.protected
}

// settings are the lines of the admin's settings page.
func (r rightsConfig) settings() []views.Setting {
	protected := "solo su carta: mai pubblicati online"
	if !r.policy().PaperOnly() {
		protected = "online solo nell'account del paziente, mai ai familiari"
	}
	reminder := "disattivato"
	if r.expiryReminderDays > 0 {
		reminder = strconv.Itoa(r.expiryReminderDays) + " giorni prima"
	}
	return []views.Setting{
		{Name: "Referti riservati", Value: protected, Note: "--protected-reports paper|self"},
		{Name: "Avviso prima della rimozione di un referto mai scaricato", Value: reminder, Note: "--expiry-reminder-days (0: disattivato)"},
	}
}
