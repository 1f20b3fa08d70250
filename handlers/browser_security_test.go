package handlers_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fse/db"
	"fse/internal/mfa"
)

// TestBrowserPatientAddsAnAppAndLogsInWithIt drives headless Chromium: a
// patient opens Il mio profilo → Sicurezza, adds an authenticator app by
// typing the key the page shows (as when the QR code cannot be scanned)
// and its first code, sees the recovery codes once, logs out, and logs in
// with the password and the app's next code instead of an SMS.
func TestBrowserPatientAddsAnAppAndLogsInWithIt(t *testing.T) {
	ctx := browserContext(t)
	a := newApp(t)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	a.register("Mario", "Rossi", "333 1234567", "")
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	login := func(stage, wait string) {
		t.Helper()
		browserDo(t, ctx, stage,
			chromedp.Navigate(srv.URL+"/accedi"),
			chromedp.WaitVisible(css(`form[action="/accedi"] #f-identifier`)),
			chromedp.SendKeys(css("#f-identifier"), "333 1234567"),
			chromedp.SendKeys(css("#f-password"), patientPassword),
			chromedp.Submit(css("#f-password")),
			chromedp.WaitVisible(css(wait)),
		)
	}
	login("password login", "#f-fiscal_code") // no dossier yet: the activation page

	browserDo(t, ctx, "Il mio profilo → Sicurezza → Aggiungi un'app",
		chromedp.Click(css(`nav a[href="/profilo"]`)),
		chromedp.WaitVisible(css(`main a[href="/profilo/sicurezza"]`)),
		chromedp.Click(css(`main a[href="/profilo/sicurezza"]`)),
		chromedp.WaitVisible(css(`main a[href="/profilo/sicurezza/app"]`)),
		chromedp.Click(css(`main a[href="/profilo/sicurezza/app"]`)),
		chromedp.WaitVisible(css(`[data-testid=totp-secret]`)),
	)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".qrbox svg").length`)); err != nil || n != 1 {
		t.Errorf("QR codes on the enrolment page: %d (%v), want 1", n, err)
	}
	secret := strings.Join(strings.Fields(browserText(t, ctx, `[data-testid=totp-secret]`)), "")
	code, err := mfa.CodeAt(secret, mfa.Step(a.Now()))
	if err != nil {
		t.Fatalf("the page's key %q: %v", secret, err)
	}
	browserDo(t, ctx, "confirm the app",
		chromedp.SendKeys(css("#f-code"), code),
		chromedp.SendKeys(css("#f-name"), "Telefono di Mario"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(`[data-testid=recovery-codes]`)),
	)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=recovery-codes] code").length`)); err != nil || n != mfa.RecoveryCodeCount {
		t.Errorf("recovery codes shown: %d (%v), want %d", n, err, mfa.RecoveryCodeCount)
	}
	a.later() // the first factor ended the sessions authenticated until now
	browserDo(t, ctx, "back to Sicurezza",
		chromedp.Click(css(`main a[href="/profilo/sicurezza"]`)),
		chromedp.WaitVisible(css(`[data-testid=factors]`)),
	)
	if got := browserText(t, ctx, `[data-testid=factors]`); !strings.Contains(got, "Telefono di Mario") {
		t.Errorf("Sicurezza lists %q, want the new app", got)
	}
	browserDo(t, ctx, "logout",
		chromedp.Click(css(`form[action="/esci"] button`)),
		chromedp.WaitVisible(css(`form[action="/accedi"] #f-identifier`)),
	)

	sms := paSMSCount(a)
	login("password step", `form[action="/accedi/app"] #f-code`)
	a.advance(mfa.Period) // the phone shows the next code
	next, err := mfa.CodeAt(secret, mfa.Step(a.Now()))
	if err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "the app's code",
		chromedp.SendKeys(css("#f-code"), next),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css("#f-fiscal_code")),
	)
	if got := paSMSCount(a) - sms; got != 0 {
		t.Errorf("%d SMS sent at the login with the app, want none", got)
	}
	if n := mfCount(a, db.ActionAccountSecondFactor, db.OutcomeOK); n != 1 {
		t.Errorf("logins with the app's code audited: %d, want 1", n)
	}
}
