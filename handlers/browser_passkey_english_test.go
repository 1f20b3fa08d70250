package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPasskeyRefusalsSpeakEnglish drives headless Chromium, in
// English, through the refusals the page's script explains: the server's
// (a wrong password, in the server's words) and the browser's own (the
// device already holds a passkey for the account, in the words the page
// gives the script).
func TestBrowserPasskeyRefusalsSpeakEnglish(t *testing.T) {
	ctx := browserContext(t)
	a, base := passkeyServer(t)

	a.register("Mario", "Rossi", "333 1234567", "")
	addVirtualAuthenticator(t, ctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	addPasskey := func(stage, name, password string) {
		t.Helper()
		browserDo(t, ctx, stage,
			chromedp.Navigate(base+"/profilo/sicurezza"),
			chromedp.WaitVisible(css(`[data-testid=passkey-add] #pk-name`)),
			chromedp.SendKeys(css("#pk-name"), name),
			chromedp.SendKeys(css("#pk-password"), password),
			chromedp.Click(css(`[data-testid=passkey-add] button[type=submit]`)),
		)
	}
	const box = `[data-testid=passkey-add] [data-passkey-error]`

	browserDo(t, ctx, "English, then the password login",
		chromedp.Navigate(base+"/lingua/en?torna=/accedi"),
		chromedp.WaitVisible(css(`form[action="/accedi"] #f-identifier`)),
		chromedp.SendKeys(css("#f-identifier"), "333 1234567"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.Submit(css("#f-password")),
		// The login page's form gone is the next page loaded: <main> alone
		// is on both, and navigating on during the login aborts it.
		chromedp.WaitNotPresent(css(`form[action="/accedi"] #f-identifier`)),
		chromedp.WaitVisible(css(`main`)),
	)
	addPasskey("a passkey with a wrong password", "Computer", "not my password")
	browserDo(t, ctx, "the server's refusal", chromedp.WaitVisible(css(box)))
	if got := browserText(t, ctx, box); got != "The current password is not correct." {
		t.Errorf("the wrong password is explained as %q, want the server's English words", got)
	}

	addPasskey("a first passkey", "Telefono", patientPassword)
	browserDo(t, ctx, "its recovery codes", chromedp.WaitVisible(css(`[data-testid=recovery-codes]`)))
	addPasskey("a second passkey on the same device", "Telefono 2", patientPassword)
	browserDo(t, ctx, "the browser's refusal", chromedp.WaitVisible(css(box)))
	if got := browserText(t, ctx, box); !strings.HasPrefix(got, "This device already has a passkey for your account") {
		t.Errorf("the device's refusal is explained as %q", got)
	}
}
