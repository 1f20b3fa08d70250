package views

import "fse/db"

// EnrolView is an authenticator app being added, as its page shows it.
type EnrolView struct {
	// QR is the inline SVG of the app's otpauth address.
	QR string
	// Secret is the secret in groups of four, for typing it by hand.
	Secret string
}

// Security is what a Sicurezza page shows: the second factors and the
// recovery codes left.
type Security struct {
	Factors      []db.Factor
	RecoveryLeft int
	// Required is set when the portal obliges this person to have a second
	// factor (staff, by --staff-mfa).
	Required bool
}

// HasFactor reports whether there is any second factor.
func (s Security) HasFactor() bool { return len(s.Factors) > 0 }

// CanRemove reports whether f may be removed: not the last one while a
// factor is required.
func (s Security) CanRemove(f db.Factor) bool { return !s.Required || len(s.Factors) > 1 }

// FewRecoveryCodes is true when it is time to make new ones.
func (s Security) FewRecoveryCodes() bool { return s.RecoveryLeft <= 3 }

// SecurityPage is "Il mio profilo → Sicurezza".
type SecurityPage struct {
	PChrome
	Security Security
	Form     Form
	// LoginSMS is set when an SMS code is asked at every login.
	LoginSMS bool
}

// EnrolPage adds an authenticator app to a patient's account.
type EnrolPage struct {
	PChrome
	Enrol EnrolView
	Form  Form
}

// RecoveryCodesPage shows new recovery codes, once.
type RecoveryCodesPage struct {
	PChrome
	Codes []string
}

// FactorLoginPage asks for the app's code (or a recovery code) at login,
// or to confirm a password reset.
type FactorLoginPage struct {
	PChrome
	Action string
	// Reset is set on the password reset's step.
	Reset bool
}

// DeskSecurityPage is a staff member's Sicurezza page.
type DeskSecurityPage struct {
	Chrome
	Security Security
}

// DeskEnrolPage adds an authenticator app to a staff member.
type DeskEnrolPage struct {
	Chrome
	Enrol EnrolView
	Form  Form
	// MustEnrol is set while the member can do nothing else.
	MustEnrol bool
}

// DeskRecoveryCodesPage shows a staff member's new recovery codes, once.
type DeskRecoveryCodesPage struct {
	Chrome
	Codes []string
}

// DeskLoginCodePage asks a staff member for the app's code after the password.
type DeskLoginCodePage struct {
	Chrome
}
