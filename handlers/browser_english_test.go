package handlers_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAPatientSwitchesToEnglishAndEveryPageFitsAPhone: in an
// Italian browser the patient taps the visible "English" link on the
// first page and logs in; every page of the tour, public and behind login,
// is then English and fits each phone (no sideways scrolling, 44 px
// targets) with its longer words, the header still on one row; the
// "Italiano" link brings Italian back.
func TestBrowserAPatientSwitchesToEnglishAndEveryPageFitsAPhone(t *testing.T) {
	ctx := browserContext(t)
	tr := newTour(t)
	srv := httptest.NewServer(tr.a.e)
	defer srv.Close()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	setPhone(t, ctx, phones[1])
	browserDo(t, ctx, "the first page, in Italian, and its English link",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(css(`[data-testid=switch-language]`)),
		chromedp.Click(css(`[data-testid=switch-language]`)),
		chromedp.WaitVisible(css(`html[lang=en] main h1`)),
	)
	if h1 := browserText(t, ctx, "main h1"); h1 != "Your medical reports, online" {
		t.Errorf("after the English link the first page says %q", h1)
	}
	browserDo(t, ctx, "login in English",
		chromedp.Navigate(srv.URL+"/accedi"),
		chromedp.WaitVisible(css(`#f-identifier`)),
		chromedp.SendKeys(css("#f-identifier"), "333 1234567"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(`html[lang=en] main section[aria-label]`)),
	)
	for _, s := range tr.stops() {
		visitOnPhones(t, ctx, srv.URL, s.path, "html[lang=en] main h1")
	}

	const rows = `[...new Set([...document.querySelectorAll("header.top > *")].filter(e => e.checkVisibility())
		.map(e => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); }))].length`
	for _, p := range phones[:2] {
		setPhone(t, ctx, p)
		browserDo(t, ctx, "dossier", chromedp.Navigate(srv.URL+"/fascicolo"), chromedp.WaitVisible(css("html[lang=en] main h1")))
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](rows))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("at %s the English header sits on %d rows, want one", p, n)
		}
	}

	browserDo(t, ctx, "back to Italian",
		chromedp.Click(css(`[data-testid=switch-language]`)),
		chromedp.WaitVisible(css(`html[lang=it] main h1`)),
	)
	if got := browserText(t, ctx, `[data-testid=switch-language]`); got != "English" {
		t.Errorf("the Italian page's switch says %q", got)
	}
	if !strings.HasPrefix(browserText(t, ctx, "main h1"), "Il mio fascicolo") && !strings.Contains(browserText(t, ctx, "main"), "Fascicolo di") {
		t.Errorf("after Italiano the dossier says %q", browserText(t, ctx, "main h1"))
	}
}
