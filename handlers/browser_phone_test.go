package handlers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The patient pages on a phone, in headless Chromium: at 390 and 320 CSS
// pixels wide, with the text at 100 % and at 200 % (the browser's text size
// setting), no page scrolls sideways and nothing sticks out of the screen;
// every tap target is at least 44×44 px (WCAG 2.2's target size; links
// inside a sentence are the rule's inline exception), and checkboxes and
// radios at least 24 px, within a label at least 44 px tall.

// phone is a screen and a text size.
type phone struct {
	width, height int64
	// text is the browser's default font size in px: 16 is 100 %, 32 is 200 %.
	text int64
}

func (p phone) String() string { return fmt.Sprintf("%d px, text %d %%", p.width, p.text*100/16) }

var phones = []phone{{390, 844, 16}, {320, 640, 16}, {390, 844, 32}, {320, 640, 32}}

// phoneProblems is run in the page: it lists what does not fit a phone.
const phoneProblems = `(() => {
  const doc = document.documentElement, vw = doc.clientWidth, out = [];
  if (doc.scrollWidth > vw) out.push("the page scrolls sideways: " + doc.scrollWidth + " px wide in " + vw);
  // Off screen until focused, as the skip link.
  const offScreen = e => { const r = e.getBoundingClientRect(); return r.right <= 0 || r.bottom <= 0; };
  const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && e.checkVisibility({ visibilityProperty: true }); };
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : "") +
    " «" + (e.textContent || e.value || e.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ").slice(0, 40) + "»";
  for (const e of document.body.querySelectorAll("*")) {
    if (!shown(e) || e.closest(".visually-hidden") || offScreen(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.right > vw + 0.5) out.push("sticks out " + Math.round(r.right - vw) + " px: " + name(e));
    // A field's text scrolls inside it, as fields do.
    else if (!e.matches("input, textarea, select") && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) out.push("its content overflows it by " + (e.scrollWidth - e.clientWidth) + " px: " + name(e));
  }
  // A link in a sentence is WCAG's inline exception: its block holds more text.
  const inSentence = a => { const b = a.parentElement.closest("p, li, dd, td, label, span"); return b && b.textContent.trim() !== a.textContent.trim(); };
  for (const e of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
    if (!shown(e) || offScreen(e)) continue;
    const r = e.getBoundingClientRect(), size = Math.round(r.width) + "×" + Math.round(r.height) + " px";
    if (e.matches("input[type=checkbox], input[type=radio]")) {
      if (r.width < 24 || r.height < 24) out.push("a " + e.type + " of " + size + ": " + name(e.closest("label") || e));
      const l = e.closest("label");
      if (l && l.getBoundingClientRect().height < 44) out.push("a " + e.type + "'s label " + Math.round(l.getBoundingClientRect().height) + " px tall: " + name(l));
      continue;
    }
    if (e.matches("a") && inSentence(e)) continue;
    if (r.width < 44 || r.height < 44) out.push("a target of " + size + ": " + name(e));
  }
  return out;
})()`

// setPhone sets the screen and the text size.
func setPhone(t *testing.T, ctx context.Context, p phone) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(p.width, p.height, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.SetFontSizes, page.SetFontSizesParams{FontSizes: &page.FontSizes{Standard: p.text, Fixed: p.text * 13 / 16}}); err != nil {
		t.Fatal(err)
	}
}

// checkPhone reports what on the current page does not fit p.
func checkPhone(t *testing.T, ctx context.Context, p phone, what string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](phoneProblems))
	if err != nil {
		t.Fatalf("%s at %s: %v", what, p, err)
	}
	for _, pr := range problems {
		t.Errorf("%s at %s: %s", what, p, pr)
	}
}

// visitOnPhones opens path on every phone and checks it, waiting for wait.
func visitOnPhones(t *testing.T, ctx context.Context, base, path, wait string) {
	t.Helper()
	for _, p := range phones {
		setPhone(t, ctx, p)
		browserDo(t, ctx, "open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(wait)))
		checkPhone(t, ctx, p, path)
	}
}

// TestBrowserPublicPagesFitAPhone walks the tour's public pages, the
// registration's steps and the refused forms, on each phone.
func TestBrowserPublicPagesFitAPhone(t *testing.T) {
	ctx := browserContext(t)
	tr := newTour(t)
	srv := httptest.NewServer(tr.a.e)
	defer srv.Close()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	for _, s := range tr.stops() {
		if !s.loggedIn {
			visitOnPhones(t, ctx, srv.URL, s.path, "main h1")
		}
	}
	for i, p := range phones {
		setPhone(t, ctx, p)
		browserDo(t, ctx, "registration: consent refused",
			chromedp.Navigate(srv.URL+"/registrati"),
			chromedp.WaitVisible(css(`form[action="/registrati"] button[type=submit]`)),
			chromedp.Click(css(`form[action="/registrati"] button[type=submit]`)),
			chromedp.WaitVisible(css(`[data-error-summary]`)),
		)
		checkPhone(t, ctx, p, "/registrati refused")
		browserDo(t, ctx, "registration: the full notice opened",
			chromedp.Click(css(`details.notice-full summary`)),
			chromedp.WaitVisible(css(`details.notice-full[open] .notice p`)),
		)
		checkPhone(t, ctx, p, "/registrati with the full notice")
		browserDo(t, ctx, "registration: profile",
			chromedp.Click(css(`#f-consent`)),
			chromedp.Submit(css(`#f-consent`)),
			chromedp.WaitVisible(css(`#f-first_name`)),
		)
		checkPhone(t, ctx, p, "/registrati/profilo")
		browserDo(t, ctx, "registration: profile refused",
			chromedp.Submit(css(`#f-first_name`)),
			chromedp.WaitVisible(css(`[data-error-summary]`)),
		)
		checkPhone(t, ctx, p, "/registrati/profilo refused")
		browserDo(t, ctx, "registration: SMS code",
			chromedp.SendKeys(css("#f-first_name"), "Laura"),
			chromedp.SendKeys(css("#f-last_name"), "Bianchi"),
			chromedp.SendKeys(css("#f-mobile"), fmt.Sprintf("347 000 %04d", 2000+i)),
			chromedp.SendKeys(css("#f-password"), patientPassword),
			chromedp.SendKeys(css("#f-password2"), patientPassword),
			chromedp.Submit(css("#f-password2")),
			chromedp.WaitVisible(css(`form[action="/registrati/codice"] #f-code`)),
		)
		checkPhone(t, ctx, p, "/registrati/codice")
		browserDo(t, ctx, "login refused",
			chromedp.Navigate(srv.URL+"/accedi"),
			chromedp.WaitVisible(css(`#f-identifier`)),
			chromedp.SendKeys(css("#f-identifier"), "333 1234567"),
			chromedp.SendKeys(css("#f-password"), "una password sbagliata"),
			chromedp.Submit(css("#f-password")),
			chromedp.WaitVisible(css(`[data-error-summary]`)),
		)
		checkPhone(t, ctx, p, "/accedi refused")
	}
}

// TestBrowserPatientPagesFitAPhone walks the tour's pages behind login,
// with the dossier's controls and the header's menu open, and a refused
// activation, on each phone.
func TestBrowserPatientPagesFitAPhone(t *testing.T) {
	ctx := browserContext(t)
	tr := newTour(t)
	srv := httptest.NewServer(tr.a.e)
	defer srv.Close()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tourLogin(t, ctx, srv.URL)
	for _, s := range tr.stops() {
		if s.loggedIn {
			visitOnPhones(t, ctx, srv.URL, s.path, "main h1")
		}
	}
	for _, p := range phones {
		setPhone(t, ctx, p)
		browserDo(t, ctx, "the dossier's controls opened",
			chromedp.Navigate(srv.URL+"/fascicolo"),
			chromedp.WaitVisible(css(`details.controls summary`)),
			chromedp.Click(css(`details.controls summary`)),
			chromedp.WaitVisible(css(`details.controls[open] li a`)),
		)
		checkPhone(t, ctx, p, "/fascicolo with its controls")
		browserDo(t, ctx, "the header's menu opened",
			chromedp.Click(css(`header details.menu-narrow summary`)),
			chromedp.WaitVisible(css(`header details.menu-narrow[open] nav a[href="/profilo"]`)),
		)
		checkPhone(t, ctx, p, "/fascicolo with the menu open")
		browserDo(t, ctx, "activation refused",
			chromedp.Navigate(srv.URL+"/attiva"),
			chromedp.WaitVisible(css(`#f-fiscal_code`)),
			chromedp.Submit(css(`#f-fiscal_code`)),
			chromedp.WaitVisible(css(`[data-error-summary]`)),
		)
		checkPhone(t, ctx, p, "/attiva refused")
	}
}

// TestBrowserHeaderIsOneRowOnAPhone: on a phone the header is the brand
// and "Menu" side by side ("Esci" is in the menu, never alone on a line);
// on a wide screen the links themselves, "Esci" on the same row.
func TestBrowserHeaderIsOneRowOnAPhone(t *testing.T) {
	ctx := browserContext(t)
	tr := newTour(t)
	srv := httptest.NewServer(tr.a.e)
	defer srv.Close()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tourLogin(t, ctx, srv.URL)
	// The tops of the header's visible parts, rounded: one value is one row.
	const rows = `[...new Set([...document.querySelectorAll("header.top > *")].filter(e => e.checkVisibility())
		.map(e => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); }))]`
	for _, p := range []phone{{390, 844, 16}, {320, 640, 16}, {1024, 768, 16}} {
		setPhone(t, ctx, p)
		browserDo(t, ctx, "dossier", chromedp.Navigate(srv.URL+"/fascicolo"), chromedp.WaitVisible(css("main h1")))
		centres, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](rows))
		if err != nil {
			t.Fatal(err)
		}
		if len(centres) != 1 {
			t.Errorf("at %s the header's parts sit on %d rows (centres %v), want one", p, len(centres), centres)
		}
		esci, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("header form[action='/esci'] button")].filter(b => b.checkVisibility()).length`))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[p.width >= 1024]; esci != want {
			t.Errorf("at %s %d «Esci» buttons show in the header, want %d", p, esci, want)
		}
	}
}

// TestBrowserErrorSummaryTakesTheFocus: after a refused activation the
// focus is on the error summary; its link puts the focus in the field.
// The password's "Mostra" shows and hides what is typed.
func TestBrowserErrorSummaryTakesTheFocus(t *testing.T) {
	ctx := browserContext(t)
	tr := newTour(t)
	srv := httptest.NewServer(tr.a.e)
	defer srv.Close()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	focused := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(e => e.id || e.getAttribute("data-error-summary") !== null && "summary" || e.tagName)(document.activeElement)`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	browserDo(t, ctx, "login page",
		chromedp.Navigate(srv.URL+"/accedi"),
		chromedp.WaitVisible(css(`#f-identifier`)),
		chromedp.WaitVisible(css(`button[data-reveal="f-password"]`)),
		chromedp.SendKeys(css("#f-password"), "segreta"),
		chromedp.Click(css(`button[data-reveal="f-password"]`)),
	)
	if typ, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#f-password").type`)); err != nil || typ != "text" {
		t.Errorf("after «Mostra» the password field is %q (%v), want text", typ, err)
	}
	if label := browserText(t, ctx, `button[data-reveal="f-password"]`); label != "Nascondi" {
		t.Errorf("after «Mostra» the button says %q", label)
	}
	browserDo(t, ctx, "hide", chromedp.Click(css(`button[data-reveal="f-password"]`)))
	if typ, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#f-password").type`)); err != nil || typ != "password" {
		t.Errorf("after «Nascondi» the password field is %q (%v)", typ, err)
	}
	browserDo(t, ctx, "login",
		chromedp.SendKeys(css("#f-identifier"), "333 1234567"),
		chromedp.SetValue(css("#f-password"), patientPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(`section[aria-label="Fascicolo di Mario Rossi"]`)),
		chromedp.Navigate(srv.URL+"/attiva"),
		chromedp.WaitVisible(css(`#f-code`)),
		chromedp.Click(css(`#f-consent`)),
		chromedp.SendKeys(css(`#f-fiscal_code`), rossiCF),
		chromedp.SendKeys(css(`#f-code`), fcUnknownCode),
		chromedp.Submit(css(`#f-code`)),
		chromedp.WaitVisible(css(`[data-error-summary]`)),
	)
	if got := focused(); got != "summary" {
		t.Errorf("after a refused activation the focus is on %q, want the error summary", got)
	}
	browserDo(t, ctx, "follow the summary's link", chromedp.Click(css(`[data-error-summary] a[href="#f-code"]`)))
	if got := focused(); got != "f-code" {
		t.Errorf("after the summary's link the focus is on %q, want the code field", got)
	}
	if !strings.Contains(browserText(t, ctx, `#e-code`), "non validi") {
		t.Errorf("the code's error says %q", browserText(t, ctx, `#e-code`))
	}
}

// tourLogin logs the tour's patient, Mario Rossi, in with the password and
// waits for his dossier.
func tourLogin(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	browserDo(t, ctx, "login",
		chromedp.Navigate(base+"/accedi"),
		chromedp.WaitVisible(chromedp.CSS(`#f-identifier`)),
		chromedp.SendKeys(chromedp.CSS("#f-identifier"), "333 1234567"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), patientPassword),
		chromedp.Submit(chromedp.CSS("#f-password")),
		chromedp.WaitVisible(chromedp.CSS(`section[aria-label="Fascicolo di Mario Rossi"]`)),
	)
}
