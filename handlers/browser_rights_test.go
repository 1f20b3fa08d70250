package handlers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"fse/db"
	"fse/internal/pdfcrypt"
	"fse/jobs"
)

// Browser tests of issue 10: protected reports, hiding from relatives,
// sharing with a doctor, reports by email.

func bcss(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// browserDeskLogin logs the receptionist in, app code included.
func browserDeskLogin(t *testing.T, ctx context.Context, a *app, base string) {
	t.Helper()
	browserDo(t, ctx, "staff login",
		chromedp.Navigate(base+"/desk/login"),
		chromedp.SendKeys(bcss("#f-username"), receptionUser),
		chromedp.SendKeys(bcss("#f-password"), receptionPass),
		chromedp.Submit(bcss("#f-password")),
		chromedp.WaitVisible(bcss("#f-code")),
		chromedp.SendKeys(bcss("#f-code"), a.appCode(receptionUser)),
		chromedp.Submit(bcss("#f-code")),
		chromedp.WaitVisible(bcss(`a[href="/desk/accept"]`)),
	)
}

// browserPatientLogin logs a patient in with mobile and the test password
// and waits for the dossier page.
func browserPatientLogin(t *testing.T, ctx context.Context, base, mobile string) {
	t.Helper()
	browserDo(t, ctx, "patient login "+mobile,
		chromedp.Navigate(base+"/accedi"),
		chromedp.SendKeys(bcss(`#f-identifier`), mobile),
		chromedp.SendKeys(bcss(`#f-password`), patientPassword),
		chromedp.Submit(bcss(`#f-password`)),
		chromedp.WaitVisible(bcss(`section.card h2`)),
	)
}

// otherBrowser is a second browser context: its own cookies, as another
// person's browser.
func otherBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	other, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return other
}

// browserReportTitles lists the titles of the reports the page lists.
func browserReportTitles(t *testing.T, ctx context.Context) []string {
	t.Helper()
	titles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("li.report .report-title")).map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return titles
}

// TestBrowserProtectedAndHiddenReports: the desk marks a report
// "riservato" and the holder's family view never shows it; the patient
// hides another report from the parent's account, which then no longer
// sees it.
func TestBrowserProtectedAndHiddenReports(t *testing.T) {
	ctx := browserContext(t)
	a := newRightsApp(t, db.ProtectedSelf, nil)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	f := rfSetup(t, a)
	visit := f.visit(t, false)
	repUploadOK(t, f.desk, visit, file{"Emocromo", "a.pdf", samplePDF(t, "Emocromo")}, file{"Test HIV", "b.pdf", samplePDF(t, "Test HIV")})
	docs, err := a.db.VisitDocuments(t.Context(), visit)
	if err != nil || len(docs) != 2 {
		t.Fatalf("documents: %v, %d", err, len(docs))
	}

	// The desk marks "Test HIV" riservato and publishes the visit.
	desk := otherBrowser(t, ctx)
	browserDeskLogin(t, desk, a, srv.URL)
	row := fmt.Sprintf(`tr[data-document="%d"]`, docs[1].ID)
	browserDo(t, desk, "mark the report riservato",
		chromedp.Navigate(fmt.Sprintf("%s/desk/visits/%d", srv.URL, visit)),
		chromedp.Click(bcss(row+` form[action$="/protected"] button`)),
		chromedp.WaitVisible(bcss(row+` .tag.protected`)),
	)
	browserDo(t, desk, "publish",
		chromedp.Click(bcss(`form[action$="/publish"] button`)),
		chromedp.WaitVisible(bcss(`table .tag.ok`)),
	)
	if tag := browserText(t, desk, row+` .tag.protected`); !strings.Contains(tag, "solo al paziente") {
		t.Errorf("the desk's tag of the protected report says %q", tag)
	}

	// Mario, whose account has Giulia's dossier as a relative's, never
	// sees the protected report; Giulia does.
	mario := otherBrowser(t, ctx)
	browserPatientLogin(t, mario, srv.URL, "333 123 4567")
	browserDo(t, mario, "Mario opens Giulia's dossier",
		chromedp.Navigate(srv.URL+f.dossierPath()),
		chromedp.WaitVisible(bcss(`section[aria-label="Fascicolo di Giulia Verdi"] li.report`)),
	)
	if got := browserReportTitles(t, mario); strings.Join(got, ",") != "Emocromo" {
		t.Errorf("Mario's view of Giulia's dossier lists %q, want only Emocromo", got)
	}
	giulia := otherBrowser(t, ctx)
	browserPatientLogin(t, giulia, srv.URL, rfGiuliaPhone)
	if got := browserReportTitles(t, giulia); len(got) != 2 {
		t.Errorf("Giulia's own view lists %q, want both reports", got)
	}

	// Giulia hides Emocromo from the other accounts: Mario no longer sees
	// it, and nothing on his page says that something is hidden.
	browserDo(t, giulia, "Giulia hides Emocromo",
		chromedp.Click(bcss(`form[action$="/nascondi"] button`)),
		chromedp.WaitVisible(bcss(`[data-testid=hidden-tag]`)),
	)
	browserDo(t, mario, "Mario reloads Giulia's dossier",
		chromedp.Navigate(srv.URL+f.dossierPath()),
		chromedp.WaitVisible(bcss(`section[aria-label="Fascicolo di Giulia Verdi"] h2`)),
	)
	if got := browserReportTitles(t, mario); len(got) != 0 {
		t.Errorf("after Giulia hid it Mario's view lists %q", got)
	}
	if text := browserText(t, mario, `main`); strings.Contains(strings.ToLower(text), "nascost") {
		t.Errorf("Mario's page tells that something is hidden: %q", text)
	}
}

// TestBrowserShareWithADoctor: the patient makes a share code; a doctor,
// in a second browser context without an account, opens it with the birth
// date, sees and downloads the report; the patient's access history shows
// it.
func TestBrowserShareWithADoctor(t *testing.T) {
	ctx := browserContext(t)
	a := newRightsApp(t, db.ProtectedPaper, nil)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	a.h.Config.BaseURL = srv.URL
	f := rfSetup(t, a)
	echo, pdf := publishReport(t, f.desk, f.ownVisit, "Ecografia")
	publishReport(t, f.desk, f.ownVisit, "Esami del sangue")

	giulia := otherBrowser(t, ctx)
	browserPatientLogin(t, giulia, srv.URL, rfGiuliaPhone)
	browserDo(t, giulia, "share the echo",
		chromedp.Navigate(fmt.Sprintf("%s/fascicolo/%d/condividi?referto=%d", srv.URL, f.patient, echo)),
		chromedp.Click(bcss(`input[name=lifetime][value="3d"]`)),
		chromedp.Submit(bcss(`input[name=lifetime][value="3d"]`)),
		chromedp.WaitVisible(bcss(`[data-testid=share-code]`)),
	)
	code := browserText(t, giulia, `[data-testid=share-code]`)
	if !codePattern.MatchString(code) {
		t.Fatalf("share code %q", code)
	}

	doctor := otherBrowser(t, ctx)
	browserDo(t, doctor, "the doctor opens the share",
		chromedp.Navigate(srv.URL+"/condivisi"),
		chromedp.SendKeys(bcss(`#f-code`), code),
		chromedp.SetValue(bcss(`#f-birth_date`), rfGiuliaBirth),
		chromedp.Submit(bcss(`#f-code`)),
		chromedp.WaitVisible(bcss(`[data-testid=shared-reports]`)),
	)
	if got := browserReportTitles(t, doctor); strings.Join(got, ",") != "Ecografia" {
		t.Errorf("the doctor sees %q, want only Ecografia", got)
	}
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(doctor, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
		BrowserContextID: chromedp.FromContext(doctor).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	browserDo(t, doctor, "the doctor downloads it", chromedp.Click(bcss(`[data-testid=shared-reports] a[download]`)))
	if got := waitDownloads(t, downloads, 1); got[0] != sha(pdf) {
		t.Error("the doctor's download differs from the report")
	}

	browserDo(t, giulia, "Giulia's access history",
		chromedp.Navigate(srv.URL+"/fascicolo/accessi"),
		chromedp.WaitVisible(bcss(`table`)),
	)
	history := browserText(t, giulia, `table`)
	for _, want := range []string{"Medico con un codice di condivisione", "Scaricamento di un referto condiviso da parte di un medico"} {
		if !strings.Contains(history, want) {
			t.Errorf("Giulia's access history lacks %q", want)
		}
	}
}

// TestBrowserReportByEmail: the patient asks, in the browser, for the
// dossier's reports by email with a password of their choice; the next
// report arrives at the test SMTP server as an encrypted PDF that opens
// with that password and not without it.
func TestBrowserReportByEmail(t *testing.T) {
	ctx := browserContext(t)
	a := newRightsApp(t, db.ProtectedPaper, nil)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	f := rfSetup(t, a)
	edGiveEmail(t, a, f.giulia, rfGiuliaPhone, edEmail)

	giulia := otherBrowser(t, ctx)
	browserPatientLogin(t, giulia, srv.URL, rfGiuliaPhone)
	browserDo(t, giulia, "ask for reports by email",
		chromedp.Navigate(fmt.Sprintf("%s/fascicolo/%d/email", srv.URL, f.patient)),
		chromedp.SendKeys(bcss(`#f-password`), edPassword),
		chromedp.SendKeys(bcss(`#f-password2`), edPassword),
		chromedp.SendKeys(bcss(`#f-current`), patientPassword),
		chromedp.Submit(bcss(`#f-current`)),
		chromedp.WaitVisible(bcss(`section[aria-label="Fascicolo di Giulia Verdi"]`)),
	)
	if flash := browserText(t, giulia, `.flash`); !strings.Contains(flash, "per email") {
		t.Errorf("after opting in the page says %q", flash)
	}

	publishReport(t, f.desk, f.ownVisit, "Ecografia addome")
	server, sender := pdStartSMTP(t)
	if err := (jobs.Deliver{DB: a.db, Email: sender, Now: a.Now, Log: a.logs.Logger(),
		Attach: jobs.ReportAttacher{DB: a.db, Keys: a.keys, Now: a.Now}}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var file []byte
	for _, m := range server.received() {
		if _, f, _ := edAttachment(t, m.data); f != nil {
			file = f
		}
	}
	if file == nil {
		t.Fatal("no email with the report reached the SMTP server")
	}
	if _, err := pdfcrypt.Decrypt(file, edPassword); err != nil {
		t.Errorf("the emailed PDF does not open with the password: %v", err)
	}
	if _, err := pdfcrypt.Decrypt(file, ""); err == nil {
		t.Error("the emailed PDF opens without a password")
	}
}
