package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/passkey/passkeytest"
)

// Tests of what patients and staff share about passkeys (passkeys.go).

// One answer to a passkey login opens one session. Two copies of it sent
// at once each load the session before the other saves it, so both find
// the ceremony's state there; with a passkey whose signature counter stays
// 0 (passkeys synced between devices never count) the counter cannot tell
// them apart either. The copy of the session stands for the second
// request.
func TestPasskeyAnswerLogsInOnceEvenFromACopyOfTheSession(t *testing.T) {
	for _, tt := range []struct {
		name string
		// refused is the action a refused answer is audited as.
		refused string
		// start returns a browser about to answer at action with dev,
		// its session cookie, and a page its login opens.
		start func(t *testing.T, a *app) (c *client, dev *passkeytest.Authenticator, action, cookie, page string)
	}{
		{"patient without password", db.ActionAccountLogin, func(t *testing.T, a *app) (*client, *passkeytest.Authenticator, string, string, string) {
			_, dev := pkRossiWithPasskey(t, a)
			return a.client(), dev, "/accedi/passkey", paCookie, "/profilo"
		}},
		{"patient after the password", db.ActionAccountSecondFactor, func(t *testing.T, a *app) (*client, *passkeytest.Authenticator, string, string, string) {
			_, dev := pkRossiWithPasskey(t, a)
			return mfPasswordStep(t, a, patientPassword), dev, "/accedi/app/passkey", paCookie, "/profilo"
		}},
		{"staff after the password", db.ActionStaffSecondFactor, func(t *testing.T, a *app) (*client, *passkeytest.Authenticator, string, string, string) {
			mfNewMember(t, a, "laboratorio", db.RoleReception)
			enrol := a.client()
			authLoginAttempt(enrol, "laboratorio", newMemberPass)
			dev := pkDevice()
			pkWant(t, "add a passkey", pkAdd(t, enrol, dev, "/desk/security", "Chiavetta", newMemberPass), http.StatusOK, "/desk/security/codes")
			c := a.client()
			paWantRedirect(t, "password login", authLoginAttempt(c, "laboratorio", newMemberPass), "/desk/login/code")
			return c, dev, "/desk/login/passkey", authCookieName, "/desk"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			c, dev, action, cookie, page := tt.start(t, a)
			dev.NoCounter = true
			answer, err := dev.Get(pkOptions(t, c, action))
			if err != nil {
				t.Fatal(err)
			}
			second := sessionCopy(t, c, cookie)
			pkWant(t, "the answer", c.postJSON(action, answer), http.StatusOK, "")
			pkWant(t, "the same answer with the session read before", second.postJSON(action, answer), http.StatusUnprocessableEntity, "")
			if rec := second.get(page); rec.Code != http.StatusSeeOther {
				t.Errorf("%s in the second session: got %d, want a redirect to log in", page, rec.Code)
			}
			paWantStatus(t, page+" in the first session", c.get(page), http.StatusOK)
			ev := a.auditActions(db.AuditFilter{Action: tt.refused, Outcome: db.OutcomeFailed})
			if len(ev) != 1 || !strings.Contains(ev[0].Detail, "answered already") {
				t.Errorf("refusals audited: %+v, want the second answer's", ev)
			}
		})
	}
}
