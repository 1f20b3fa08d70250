package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"fse/internal/notify"
	"fse/jobs"
)

// TestBrowserWholeLoop drives the whole product in headless Chromium: the
// desk accepts a patient and prints the slip, uploads and publishes a PDF;
// the patient follows the slip's QR link, registers with the SMS code read
// from the gateway, activates, is notified of a second report, downloads
// both and gets the exact bytes; 60 days later the expire job removes them.
func TestBrowserWholeLoop(t *testing.T) {
	ctx := browserContext(t)
	a := newApp(t)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	// The slip's QR must open this test server.
	a.h.Config.BaseURL = srv.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	dir := t.TempDir()
	pdf1 := samplePDF(t, "Esami del sangue")
	pdf2 := samplePDF(t, "Ecografia")
	for name, b := range map[string][]byte{"uno.pdf": pdf1, "due.pdf": pdf2} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// 1. Front desk: login, acceptance, slip.
	browserDo(t, ctx, "staff login",
		chromedp.Navigate(srv.URL+"/desk/login"),
		chromedp.SendKeys(css("#f-username"), receptionUser),
		chromedp.SendKeys(css("#f-password"), receptionPass),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#f-code")),
		chromedp.SendKeys(css("#f-code"), a.appCode(receptionUser)),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css(`a[href="/desk/accept"]`)),
		chromedp.Navigate(srv.URL+"/desk/accept"),
		chromedp.SendKeys(css("#f-fiscal_code"), rossiCF),
		chromedp.SendKeys(css("#f-last_name"), "Rossi"),
		chromedp.SendKeys(css("#f-first_name"), "Mario"),
		chromedp.SetValue(css("#f-birth_date"), "1985-12-10"),
		chromedp.SendKeys(css("#f-birth_place"), "San Giuliano Terme"),
		chromedp.Click(css(`input[name=sex][value=M]`)),
		chromedp.SendKeys(css("#f-mobile"), "333 123 4567"),
		chromedp.SendKeys(css("#f-exams"), "Emocromo"),
		chromedp.Submit(css("#f-exams")),
		chromedp.WaitVisible(css(`[data-testid=activation-code]`)),
	)
	code := browserText(t, ctx, `[data-testid=activation-code]`)
	qrTarget := srv.URL + "/attiva#codice=" + code
	// The QR encodes exactly that URL; the code is in the fragment only.
	if !strings.Contains(browserText(t, ctx, `article.slip`), strings.TrimPrefix(srv.URL, "http://")) {
		t.Error("slip does not show the portal address")
	}

	upload := func(stage, title, path string) {
		t.Helper()
		browserDo(t, ctx, stage,
			chromedp.Click(css(`a[href^="/desk/visits/"]`)),
			chromedp.WaitVisible(css(`#title0`)),
			chromedp.SendKeys(css("#title0"), title),
			chromedp.SetUploadFiles(css("#file0"), []string{path}),
			chromedp.Submit(css("#title0")),
			chromedp.WaitVisible(css(`form[action$="/publish"] button`)),
			chromedp.Click(css(`form[action$="/publish"] button`)),
			chromedp.WaitVisible(css(`table .tag.ok`)), // published; the upload's flash is already there
		)
	}
	upload("upload and publish the first report", "Esami del sangue", filepath.Join(dir, "uno.pdf"))
	visitPath, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "staff logout", chromedp.Click(css(`form[action="/desk/logout"] button`)), chromedp.WaitVisible(css("#f-username")))

	// 2. The patient scans the QR: not logged in, so login page; registers.
	browserDo(t, ctx, "open the QR link and register",
		chromedp.Navigate(qrTarget),
		chromedp.WaitVisible(css(`a[href="/registrati"]`)),
		chromedp.Click(css(`.login a[href="/registrati"]`)),
		chromedp.WaitVisible(css(`input[name=consent]`)),
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.Submit(css(`input[name=consent]`)),
		chromedp.WaitVisible(css(`#f-first_name`)),
		chromedp.SendKeys(css("#f-first_name"), "Mario"),
		chromedp.SendKeys(css("#f-last_name"), "Rossi"),
		chromedp.SendKeys(css("#f-mobile"), "+39 333 123 4567"),
		chromedp.SendKeys(css("#f-password"), patientPassword),
		chromedp.SendKeys(css("#f-password2"), patientPassword),
		chromedp.Submit(css("#f-password2")),
		chromedp.WaitVisible(css(`#f-code`)),
	)
	browserDo(t, ctx, "SMS code and activation",
		chromedp.SendKeys(css("#f-code"), a.lastSMSCode(rossiMobile)),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css(`#f-fiscal_code`)),
	)
	// The code from the QR fragment was kept across registration and filled in.
	filled, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#f-code").value`))
	if err != nil || filled != code {
		t.Fatalf("activation code field = %q (%v), want the slip's %q filled from the QR link", filled, err, code)
	}
	browserDo(t, ctx, "activate",
		chromedp.Click(css(`input[name=consent]`)),
		chromedp.SendKeys(css("#f-fiscal_code"), strings.ToLower(rossiCF)),
		chromedp.Submit(css("#f-fiscal_code")),
		chromedp.WaitVisible(css(`a[download]`)),
	)

	// 3. A second report is published: the patient is notified.
	staff := a.deskClient()
	rec := staff.upload(visitIDFromPath(t, visitPath), file{"Ecografia", "due.pdf", pdf2})
	if rec.Code != 303 {
		t.Fatalf("second upload: %d", rec.Code)
	}
	staff.post(visitPath+"/publish", nil)
	if err := (jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Now: a.Now, Log: slog.New(slog.DiscardHandler)}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := a.smsTo(rossiMobile)
	last := msgs[len(msgs)-1]
	if !strings.Contains(last, "nuovo documento") || strings.Contains(last, "Ecografia") || strings.Contains(last, "Rossi") {
		t.Errorf("notification SMS = %q: want a neutral 'nuovo documento' text", last)
	}

	// 4. The patient downloads both reports, as files, and gets the exact bytes.
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "download",
		chromedp.Navigate(srv.URL+"/fascicolo"),
		chromedp.WaitVisible(css(`a[download]`)),
		chromedp.Click(css(`li.report:nth-child(1) a[download]`)),
		chromedp.Click(css(`li.report:nth-child(2) a[download]`)),
	)
	got := waitDownloads(t, downloads, 2)
	want := map[string]bool{sha(pdf1): true, sha(pdf2): true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
		t.Fatalf("downloaded SHA-256 = %v, want the two uploaded files %v", got, want)
	}

	// 5. Sixty days later the expire job removes them for good.
	a.advance(61 * 24 * time.Hour)
	if err := (jobs.Expire{DB: a.db, Now: a.Now, Log: slog.New(slog.DiscardHandler)}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "dossier after expiry", chromedp.Navigate(srv.URL+"/fascicolo"), chromedp.WaitVisible(css(`main h1`)))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("a[download]").length`))
	if err != nil || n != 0 {
		t.Fatalf("after expiry the dossier lists %d reports (%v), want 0", n, err)
	}
	var rows int
	if err := a.raw.QueryRow(`SELECT count(*) FROM documents`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("documents rows after expiry = %d (%v), want 0", rows, err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func visitIDFromPath(t *testing.T, path string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(path, "/desk/visits/%d", &id); err != nil {
		t.Fatalf("visit path %q: %v", path, err)
	}
	return id
}

// waitDownloads waits until n finished files are in dir and returns their SHA-256.
func waitDownloads(t *testing.T, dir string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		var sums []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".pdf") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil {
					sums = append(sums, sha(b))
				}
			}
		}
		if len(sums) == n && len(entries) == n {
			return sums
		}
		time.Sleep(100 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("downloads did not finish: %v", entries)
	return nil
}
