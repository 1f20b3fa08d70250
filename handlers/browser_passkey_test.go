package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"fse/db"
	"fse/handlers"
)

// TestBrowserPatientAddsAPasskeyAndLogsInWithIt drives headless Chromium
// with its virtual authenticator (the DevTools WebAuthn domain) standing in
// for the phone's fingerprint reader: a patient with an active dossier adds
// a passkey named "Telefono" from Il mio profilo → Sicurezza, logs out,
// clicks "Accedi con passkey" and lands in the dossier without typing a
// password.
func TestBrowserPatientAddsAPasskeyAndLogsInWithIt(t *testing.T) {
	ctx := browserContext(t)
	a, base := passkeyServer(t)

	_, code, _ := a.publishedVisit()
	if rec := a.register("Mario", "Rossi", "333 1234567", "").activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d", rec.Code)
	}
	addVirtualAuthenticator(t, ctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	browserDo(t, ctx, "password login",
		chromedp.Navigate(base+"/accedi"),
		chromedp.WaitVisible(css(`form[action="/accedi"] #f-identifier`)),
		chromedp.SendKeys(css("#f-identifier"), "333 1234567"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(`main a[href="/fascicolo/accessi"]`)),
	)
	browserDo(t, ctx, "Il mio profilo → Sicurezza → Aggiungi una passkey",
		chromedp.Click(css(`nav a[href="/profilo"]`)),
		chromedp.WaitVisible(css(`main a[href="/profilo/sicurezza"]`)),
		chromedp.Click(css(`main a[href="/profilo/sicurezza"]`)),
		chromedp.WaitVisible(css(`[data-testid=passkey-add] #pk-name`)),
		chromedp.SendKeys(css("#pk-name"), "Telefono"),
		chromedp.SendKeys(css("#pk-password"), patientPassword),
		chromedp.Click(css(`[data-testid=passkey-add] button[type=submit]`)),
		// The first second factor brings the recovery codes.
		chromedp.WaitVisible(css(`[data-testid=recovery-codes]`)),
		chromedp.Click(css(`main a[href="/profilo/sicurezza"]`)),
		chromedp.WaitVisible(css(`[data-testid=passkeys]`)),
	)
	if got := browserText(t, ctx, `[data-testid=passkeys]`); !strings.Contains(got, "Telefono") {
		t.Errorf("Sicurezza lists %q, want the new passkey", got)
	}
	a.later() // the first factor ended the sessions authenticated until now
	browserDo(t, ctx, "logout",
		chromedp.Click(css(`form[action="/esci"] button`)),
		chromedp.WaitVisible(css(`form[action="/accedi"] #f-identifier`)),
	)
	sms := paSMSCount(a)
	browserDo(t, ctx, "Accedi con passkey",
		chromedp.WaitVisible(css(`button[data-passkey-login="/accedi/passkey"]`)),
		chromedp.Click(css(`button[data-passkey-login="/accedi/passkey"]`)),
		chromedp.WaitVisible(css(`main a[href="/fascicolo/accessi"]`)),
	)
	if path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil || path != "/fascicolo" {
		t.Errorf("after the passkey login the browser is at %q (%v), want the dossier", path, err)
	}
	if got := paSMSCount(a) - sms; got != 0 {
		t.Errorf("%d SMS sent at the passkey login, want none", got)
	}
	logins := a.auditActions(db.AuditFilter{Action: db.ActionAccountLogin, Outcome: db.OutcomeOK})
	if last := logins[len(logins)-1]; !strings.Contains(last.Detail, `passkey "Telefono"`) {
		t.Errorf("last login audited as %+v, want the passkey", last)
	}
}

// passkeyServer serves a new app over HTTP for the browser. Passkeys need a
// secure context and a relying party that is a domain: the server listens
// on 127.0.0.1, the browser calls it localhost (base).
func passkeyServer(t *testing.T) (a *app, base string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://localhost:" + itoa(int64(ln.Addr().(*net.TCPAddr).Port))
	a = newAppWith(t, func(cfg *handlers.Config) { cfg.BaseURL = base })
	srv := httptest.NewUnstartedServer(a.e)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return a, base
}

// addVirtualAuthenticator gives the browser a platform authenticator (the
// DevTools WebAuthn domain) that verifies its user without asking.
func addVirtualAuthenticator(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn domain: %v", err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}}); err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}
}
