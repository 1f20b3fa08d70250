package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"fse/internal/passkey/passkeytest"
)

// Helpers of the passkey tests: the page's script (static/passkey.js) as
// the handlers see it, with a software authenticator in place of the
// person's phone. The real script and Chromium's authenticator are
// exercised by TestBrowserPatientAddsAPasskeyAndLogsInWithIt.

// pkOrigin is the origin of the test app's pages (its Config.BaseURL).
const pkOrigin = "https://referti.example.it"

// pkDevice is a phone holding passkeys for the test portal.
func pkDevice() *passkeytest.Authenticator { return passkeytest.New(pkOrigin) }

// postJSON posts body as the script's fetch does.
func (c *client) postJSON(target string, body []byte) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.do(http.MethodPost, target, bytes.NewReader(body), "application/json")
}

// pkReply is what the script reads from an answer.
type pkReply struct {
	Redirect string `json:"redirect"`
	Error    string `json:"error"`
}

func pkRead(t testing.TB, rec *httptest.ResponseRecorder) pkReply {
	t.Helper()
	var r pkReply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("answer %d is not the script's JSON: %v\n%s", rec.Code, err, rec.Body.String())
	}
	return r
}

// pkWant fails unless rec is the script's JSON with status and, when set,
// the redirect.
func pkWant(t testing.TB, what string, rec *httptest.ResponseRecorder, status int, redirect string) pkReply {
	t.Helper()
	r := pkRead(t, rec)
	if rec.Code != status || (redirect != "" && r.Redirect != redirect) {
		t.Fatalf("%s: status %d, %+v; want %d, redirect %q", what, rec.Code, r, status, redirect)
	}
	return r
}

// pkAdd adds a passkey named name with the device, from the Sicurezza page
// at base ("/profilo/sicurezza" or "/desk/security"), as the script does:
// the options (after the password), the device's answer, its posting.
// It returns the last answer.
func pkAdd(t testing.TB, c *client, dev *passkeytest.Authenticator, base, name, password string) *httptest.ResponseRecorder {
	t.Helper()
	rec := c.post(base+"/passkey/opzioni", url.Values{"name": {name}, "password": {password}})
	if rec.Code != http.StatusOK {
		return rec
	}
	answer, err := dev.Create(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("the device refused to make a passkey: %v", err)
	}
	rec = c.postJSON(base+"/passkey", answer)
	c.a.later()
	return rec
}

// pkLogin runs a login's passkey ceremony at action ("/accedi/passkey",
// "/accedi/app/passkey", "/desk/login/passkey") with the device, as the
// script does, and returns the last answer.
func pkLogin(t testing.TB, c *client, dev *passkeytest.Authenticator, action string) *httptest.ResponseRecorder {
	t.Helper()
	rec := c.post(action+"/opzioni", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s/opzioni: %d\n%s", action, rec.Code, rec.Body.String())
	}
	answer, err := dev.Get(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("the device did not answer: %v", err)
	}
	return c.postJSON(action, answer)
}

// pkOptions asks action for a ceremony's options and returns them.
func pkOptions(t testing.TB, c *client, action string) []byte {
	t.Helper()
	rec := c.post(action+"/opzioni", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s/opzioni: %d\n%s", action, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// pkRossiWithPasskey registers Mario Rossi (with an email) and adds a
// passkey called "Telefono" from his device; it returns his logged-in
// client and the device.
func pkRossiWithPasskey(t *testing.T, a *app) (*client, *passkeytest.Authenticator) {
	t.Helper()
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	dev := pkDevice()
	pkWant(t, "add a passkey", pkAdd(t, c, dev, "/profilo/sicurezza", "Telefono", patientPassword), http.StatusOK, "/profilo/sicurezza/codici")
	return c, dev
}
