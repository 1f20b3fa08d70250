package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"fse/db"
)

// TestBrowserIntegrationPublishesAndThePatientDownloads: the HIS creates
// the acceptance over the API and prints the activation URL on its own
// slip; the patient opens it in a real browser, registers and activates;
// the LIS delivers the report over the API; the patient downloads the
// exact PDF, and the LIS sees when.
func TestBrowserIntegrationPublishesAndThePatientDownloads(t *testing.T) {
	ctx := browserContext(t)
	a := newApp(t)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	a.h.Config.BaseURL = srv.URL
	a.h.Intake.BaseURL = srv.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	his := a.integration(t, "CUP", []string{db.ScopeVisits})
	lis := a.integration(t, "Laboratorio analisi", []string{db.ScopeReports})
	call := func(method, path, token, contentType string, body []byte) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		return m
	}
	b, _ := json.Marshal(visitBody("CUP-2026-77"))
	visit := call(http.MethodPost, "/api/v1/visits", his, "application/json", b)
	activationURL := visit["activation_url"].(string)
	accession := visit["accession_number"].(string)

	browserDo(t, ctx, "open the HIS slip's link and register",
		chromedp.Navigate(activationURL),
		chromedp.WaitVisible(css(`.login a[href="/registrati"]`)),
		chromedp.Click(css(`.login a[href="/registrati"]`)),
		chromedp.WaitVisible(css(`input[name=consent]`)),
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.Submit(css(`input[name=consent]`)),
		chromedp.WaitVisible(css(`#f-first_name`)),
		chromedp.SendKeys(css("#f-first_name"), "Mario"),
		chromedp.SendKeys(css("#f-last_name"), "Rossi"),
		chromedp.SendKeys(css("#f-mobile"), "333 123 4567"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.SendKeys(css("#f-password2"), patientPassword),
		chromedp.Submit(css("#f-password2")),
		chromedp.WaitVisible(css(`#f-code`)),
	)
	browserDo(t, ctx, "SMS code",
		chromedp.SendKeys(css("#f-code"), a.lastSMSCode(rossiMobile)),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css(`#f-fiscal_code`)),
	)
	browserDo(t, ctx, "activate with the code the link carried",
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.SendKeys(css("#f-fiscal_code"), rossiCF),
		chromedp.Submit(css("#f-fiscal_code")),
		// The dossier, not the activation page's own heading.
		chromedp.WaitVisible(css(`section[aria-label^="Fascicolo di"]`)),
	)

	pdf := samplePDF(t, "Esami del sangue")
	call(http.MethodPut, "/api/v1/visits/"+accession+"/reports/LAB-1?title=Esami%20del%20sangue&publish=true", lis, "application/pdf", pdf)

	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "download the delivered report",
		chromedp.Navigate(srv.URL+"/fascicolo"),
		chromedp.WaitVisible(css(`a[download]`)),
		chromedp.Click(css(`a[download]`)),
	)
	if got := waitDownloads(t, downloads, 1); len(got) != 1 || got[0] != sha(pdf) {
		t.Fatalf("downloaded %v, want the PDF the LIS sent", got)
	}
	if !strings.Contains(browserText(t, ctx, `main`), "Esami del sangue") {
		t.Error("the dossier does not show the report's title")
	}
	status := call(http.MethodGet, "/api/v1/visits/"+accession, lis, "", nil)
	rep := status["reports"].([]any)[0].(map[string]any)
	if rep["state"] != "published" || rep["first_downloaded_at"] == nil {
		t.Errorf("the LIS sees %v, want published with the first download time", rep)
	}
}
