package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"fse/internal/codicefiscale"
)

// TestBrowserFamilyAndDeletion extends the whole loop for the leaflet's
// sections 3 and 4: the holder adds a child registered at the desk with
// the same mobile, activates the child's dossier, downloads the child's
// report, then deletes the account.
func TestBrowserFamilyAndDeletion(t *testing.T) {
	ctx := browserContext(t)
	a := newApp(t)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	a.h.Config.BaseURL = srv.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// The desk: the holder, and the child with the holder's mobile, each
	// with a published report.
	desk := a.deskClient()
	_, holderCode := desk.accept(a.acceptForm())
	childCF, err := codicefiscale.Generate("Rossi", "Luca", time.Date(2015, 6, 3, 0, 0, 0, 0, time.UTC), "M", "E897")
	if err != nil {
		t.Fatal(err)
	}
	child := a.acceptForm()
	child.Set("fiscal_code", childCF)
	child.Set("first_name", "Luca")
	child.Set("birth_date", "2015-06-03")
	child.Set("birth_place", "Mantova")
	child.Set("exams", "Visita pediatrica")
	childVisit, childCode := desk.accept(child)
	childPDF := samplePDF(t, "Visita pediatrica")
	if rec := desk.upload(childVisit, file{"Visita pediatrica", "luca.pdf", childPDF}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d", rec.Code)
	}
	desk.post("/desk/visits/"+itoa(childVisit)+"/publish", nil)

	// The holder registers and activates their own dossier in the browser.
	browserDo(t, ctx, "register",
		chromedp.Navigate(srv.URL+"/registrati"),
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.Submit(css(`input[name=consent]`)),
		chromedp.WaitVisible(css(`#f-first_name`)),
		chromedp.SendKeys(css("#f-first_name"), "Mario"),
		chromedp.SendKeys(css("#f-last_name"), "Rossi"),
		chromedp.SendKeys(css("#f-mobile"), "3331234567"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.SendKeys(css("#f-password2"), patientPassword),
		chromedp.Submit(css("#f-password2")),
		chromedp.WaitVisible(css(`#f-code`)),
	)
	browserDo(t, ctx, "own activation",
		chromedp.SendKeys(css("#f-code"), a.lastSMSCode(rossiMobile)),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css(`#f-fiscal_code`)),
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.SendKeys(css("#f-fiscal_code"), rossiCF),
		chromedp.SendKeys(css("#f-code"), holderCode),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css(`section[aria-label="Fascicolo di Mario Rossi"]`)),
	)
	// "Mio Profilo" → Familiari: add the child, activate with the child's slip.
	browserDo(t, ctx, "add the child",
		chromedp.Navigate(srv.URL+"/profilo"),
		chromedp.Click(css(`a[href="/profilo/familiari"]`)),
		chromedp.WaitVisible(css(`#f-fiscal_code`)),
		chromedp.SendKeys(css("#f-first_name"), "Luca"),
		chromedp.SendKeys(css("#f-last_name"), "Rossi"),
		chromedp.SetValue(css("#f-birth_date"), "2015-06-03"),
		chromedp.SendKeys(css("#f-birth_place"), "Mantova"),
		chromedp.Click(css(`input[name=sex][value=M]`)),
		chromedp.SendKeys(css("#f-fiscal_code"), childCF),
		chromedp.Submit(css("#f-fiscal_code")),
		chromedp.WaitVisible(css(`input[name=code]`)),
	)
	browserDo(t, ctx, "activate the child's dossier",
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.SendKeys(css(`input[name=code]`), strings.ToLower(childCode)),
		chromedp.Submit(css(`input[name=code]`)),
		chromedp.WaitVisible(css(`nav.dossiers`)),
	)
	browserArtifact(t, ctx, "dossier-child.png")
	heading := browserText(t, ctx, `section.card h2`)
	if heading != "Luca Rossi" {
		t.Errorf("after activation the dossier shown is %q, want the child's", heading)
	}
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "download the child's report", chromedp.Click(css(`li.report a[download]`)))
	if got := waitDownloads(t, downloads, 1); got[0] != sha(childPDF) {
		t.Fatal("the child's downloaded report differs from the uploaded one")
	}
	// Switching to the holder's own dossier shows only the holder's visit.
	browserDo(t, ctx, "switch to own dossier",
		chromedp.Click(css(`nav.dossiers a:not([aria-current])`)),
		chromedp.WaitVisible(css(`section[aria-label="Fascicolo di Mario Rossi"]`)),
	)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.report").length`)); err != nil || n != 0 {
		t.Errorf("the holder's dossier lists %d reports (%v), want none (the child's report must not show)", n, err)
	}

	// Delete the account, password typed again.
	browserDo(t, ctx, "delete the account",
		chromedp.Navigate(srv.URL+"/profilo/elimina"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(`.flash`)),
	)
	if flash := browserText(t, ctx, `.flash`); !strings.Contains(flash, "eliminato") {
		t.Errorf("after deletion the page says %q", flash)
	}
	if rec := a.client().post("/accedi", url.Values{"identifier": {rossiMobile}, "password": {patientPassword}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("login after deletion: %d, want 401", rec.Code)
	}
	var docs int
	a.raw.QueryRowContext(context.Background(), `SELECT count(*) FROM documents WHERE published_at IS NOT NULL`).Scan(&docs)
	if docs != 0 {
		t.Errorf("%d published reports remain after deleting the only account of both dossiers", docs)
	}
	if _, err := a.db.PatientByFiscalCode(context.Background(), childCF); err != nil {
		t.Errorf("the desk registry lost the child: %v", err)
	}
}

// browserArtifact saves a phone-sized screenshot of the current page when
// FSE_BROWSER_ARTIFACTS names a directory, for people to look at.
func browserArtifact(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FSE_BROWSER_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
