package views

import (
	"strconv"

	"github.com/a-h/templ"

	"fse/db"
)

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
	// PasskeysOn is set when passkeys can be added (the portal has an
	// http(s) address, whose host the passkeys belong to).
	PasskeysOn bool
}

// HasFactor reports whether there is any second factor.
func (s Security) HasFactor() bool { return len(s.Factors) > 0 }

// Apps are the authenticator apps, oldest first.
func (s Security) Apps() []db.Factor { return s.ofKind(db.FactorTOTP) }

// Passkeys are the passkeys, oldest first.
func (s Security) Passkeys() []db.Factor { return s.ofKind(db.FactorPasskey) }

// ShowsPasskeys reports whether the page has a passkeys section: when they
// can be added, or some remain from when they could.
func (s Security) ShowsPasskeys() bool { return s.PasskeysOn || len(s.Passkeys()) > 0 }

func (s Security) ofKind(kind string) []db.Factor {
	var out []db.Factor
	for _, f := range s.Factors {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

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

// SecondStep is what the second step of a login (or of a password reset)
// offers its owner.
type SecondStep struct {
	// App is set when the owner has an authenticator app: the code field
	// asks for its code (a recovery code works too); otherwise it asks for
	// a recovery code.
	App bool
	// PasskeyAction is where the page's script runs a passkey's ceremony;
	// empty when the owner has no passkey or passkeys are off.
	PasskeyAction string
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

// FactorLoginPage asks for the second factor at login, or to confirm a
// password reset: the passkey, the app's code or a recovery code.
type FactorLoginPage struct {
	PChrome
	Step   SecondStep
	Action string
	// Reset is set on the password reset's step.
	Reset bool
	// Form carries a refused code's error, at the code's field.
	Form Form
}

// factorCodeAttrs are the code field's attributes at a login's second
// step: the focus goes to the app's code, unless an error summary takes
// it.
func factorCodeAttrs(app bool, f Form) templ.Attributes {
	a := templ.Attributes{"autocomplete": "one-time-code", "maxlength": "20", "required": true, "autocapitalize": "characters", "spellcheck": "false"}
	if app && !f.HasErrors() {
		a["autofocus"] = true
	}
	return a
}

// DeskSecurityPage is a staff member's Sicurezza page.
type DeskSecurityPage struct {
	Chrome
	Security Security
}

// DeskEnrolPage adds an authenticator app, or a passkey, to a staff
// member.
type DeskEnrolPage struct {
	Chrome
	Enrol EnrolView
	Form  Form
	// PasskeysOn offers a passkey instead of the app.
	PasskeysOn bool
	// MustEnrol is set while the member can do nothing else.
	MustEnrol bool
}

// DeskRecoveryCodesPage shows a staff member's new recovery codes, once.
type DeskRecoveryCodesPage struct {
	Chrome
	Codes []string
}

// DeskLoginCodePage asks a staff member for the second factor after the
// password: the passkey, the app's code or a recovery code.
type DeskLoginCodePage struct {
	Chrome
	Step SecondStep
}

// FactorKindLabel names a second factor's kind.
func FactorKindLabel(kind string) string {
	if kind == db.FactorPasskey {
		return "Passkey"
	}
	return "App di autenticazione"
}

// deskFactorPath is the address of a staff member's factor.
func deskFactorPath(f db.Factor) string {
	kind := "app"
	if f.Kind == db.FactorPasskey {
		kind = "passkey"
	}
	return "/desk/security/" + kind + "/" + strconv.FormatInt(f.ID, 10)
}
