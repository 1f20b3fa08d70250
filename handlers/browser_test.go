package handlers_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/sealbox"
)

// browserContext starts headless Chromium for a test. Without Chromium the
// test skips with a message, except in CI (CI=true), where it must run.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI=true but no Chromium found: .ci/run must install the Debian package chromium")
		}
		t.Skip("browser test skipped: Chromium not installed (apt-get install chromium, or run .ci/run)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// An Italian browser, as the clinic's patients have: headless
		// Chromium otherwise asks for English, and gets it.
		chromedp.Flag("lang", "it-IT"),
		chromedp.Flag("accept-lang", "it-IT,it"),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser; it must not carry a timeout, which
	// would stop the whole browser. Later steps get one.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// browserText runs a text query and fails the test on error.
func browserText(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// browserDo runs steps and fails the test naming the stage on error.
func browserDo(t *testing.T, ctx context.Context, stage string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
}

// pdfPageObjects finds the page objects of a PDF ("/Type /Page", not
// "/Type /Pages").
var pdfPageObjects = regexp.MustCompile(`/Type\s*/Page[^s]`)

// heldUploads is the test server's door: a report upload is read whole,
// then waits for release before it reaches the portal, so the test sees
// the browser's progress bar at the moment every byte is sent.
type heldUploads struct {
	next    http.Handler
	release chan struct{}
}

func (h *heldUploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/documents") {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	h.next.ServeHTTP(w, r)
}

// TestBrowserFrontDesk drives the desk in a real browser: login, accept a
// patient, print the slip, upload and publish a report.
func TestBrowserFrontDesk(t *testing.T) {
	ctx := browserContext(t)
	a := newApp(t)
	// Uploads wait at the door until the test has seen the progress bar
	// full: the browser has sent every byte, the server has not answered.
	uploads := &heldUploads{next: a.e, release: make(chan struct{})}
	srv := httptest.NewServer(uploads)
	defer srv.Close()
	// The longest contacts an admin may plausibly set: the slip must still
	// fit one A5 page.
	if err := a.db.SetSlipContacts(context.Background(), db.SlipContacts{HelpPhone: "0376 123456", HelpEmail: "referti@poliambulatorio.example.it",
		Controller: "Poliambulatorio Test Srl, Via Roma 1, 46100 Mantova (MN), tel. 0376 123456, privacy@poliambulatorio.example.it",
		DPO:        "Studio Associato Protezione Dati, Via Verdi 10, 46100 Mantova, dpo@poliambulatorio.example.it"},
		db.Actor{Kind: "cli", Name: "test"}, a.Now()); err != nil {
		t.Fatal(err)
	}
	pdf := samplePDF(t, "Esami del sangue")
	pdfPath := filepath.Join(t.TempDir(), "referto-laboratorio.pdf")
	if err := os.WriteFile(pdfPath, pdf, 0o600); err != nil {
		t.Fatal(err)
	}

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	browserDo(t, ctx, "staff login",
		chromedp.Navigate(srv.URL+"/desk/login"),
		chromedp.SendKeys(css("#f-username"), receptionUser),
		chromedp.SendKeys(css("#f-password"), receptionPass),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#f-code")),
		chromedp.SendKeys(css("#f-code"), a.appCode(receptionUser)),
		chromedp.Submit(css("#f-code")),
		chromedp.WaitVisible(css(`a[href="/desk/accept"]`)),
	)
	// Typing the codice fiscale fills birth date and sex; the birth place
	// left empty is filled by the server from the same code.
	browserDo(t, ctx, "acceptance",
		chromedp.Navigate(srv.URL+"/desk/accept"),
		chromedp.SendKeys(css("#f-fiscal_code"), "rssmra85t10a562s"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#f-birth_date").value === "1985-12-10"`),
	)
	sexChecked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("input[name=sex]:checked") || {}).value || ""`))
	if err != nil || sexChecked != "M" {
		t.Errorf("sex after typing the codice fiscale: %q (%v), want M", sexChecked, err)
	}
	if got, want := browserText(t, ctx, `[data-fiscal-code-reading]`), "Nato il 10/12/1985 a San Giuliano Terme (PI)"; !strings.Contains(got, want) {
		t.Errorf("reading of the codice fiscale: %q, want it to contain %q", got, want)
	}
	browserDo(t, ctx, "acceptance",
		chromedp.SendKeys(css("#f-last_name"), "Rossi"),
		chromedp.SendKeys(css("#f-first_name"), "Mario"),
		chromedp.SendKeys(css("#f-mobile"), "333 123 4567"),
		chromedp.SendKeys(css("#f-exams"), "Emocromo"),
		chromedp.Submit(css("#f-exams")),
		chromedp.WaitVisible(css(`[data-testid=activation-code]`)),
	)
	code := browserText(t, ctx, `[data-testid=activation-code]`)
	slipText := browserText(t, ctx, `article.slip`)
	qrCount, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("article.slip svg.qr").length`))
	if err != nil {
		t.Fatal(err)
	}
	// On paper, the QR's hint and the footer are at least 10 pt (13.33 px).
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	smallest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Math.min(...Array.from(
		document.querySelectorAll("article.slip .hint-qr, article.slip .hint-qr *, article.slip footer, article.slip footer *"),
		e => parseFloat(getComputedStyle(e).fontSize)))`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	if smallest < 13.33 {
		t.Errorf("printed slip: the QR hint or footer has %.2f px text, want at least 10 pt (13.33 px)", smallest)
	}
	slipPDF, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize()))
	if err != nil {
		t.Fatalf("print slip: %v", err)
	}
	// The upload shows its progress bar, full once every byte is sent.
	browserDo(t, ctx, "upload",
		chromedp.Click(css(`a[href^="/desk/visits/"]`)),
		chromedp.WaitVisible(css(`#title0`)),
		chromedp.SendKeys(css("#title0"), "Esami del sangue"),
		chromedp.SetUploadFiles(css("#file0"), []string{pdfPath}),
		chromedp.Click(css(`form[data-upload-progress] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-upload-status][data-state=sent] progress`)),
	)
	progress, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(b => [b.value, b.max])(document.querySelector("[data-upload-status] progress"))`))
	if err != nil || len(progress) != 2 || progress[1] < float64(len(pdf)) || progress[0] != progress[1] {
		t.Errorf("progress bar when the files are sent: value/max %v (%v), want full, max at least the file's %d bytes", progress, err, len(pdf))
	}
	close(uploads.release)
	browserDo(t, ctx, "upload answered in place",
		chromedp.WaitVisible(css(`form[action$="/publish"] button`)),
	)
	if got := browserText(t, ctx, `.flash`); !strings.Contains(got, "1 referto caricato") {
		t.Errorf("after the upload the flash says %q", got)
	}
	browserDo(t, ctx, "publish",
		chromedp.Click(css(`form[action$="/publish"] button`)),
		chromedp.WaitVisible(css(`table .tag.ok`)), // the report's "pubblicato" tag, not the code status
	)
	flash := browserText(t, ctx, `.flash`)
	code = strings.TrimSpace(code)
	if !codePattern.MatchString(code) {
		t.Fatalf("slip code = %q, want XXXX-XXXX-XXXX", code)
	}
	if qrCount != 1 {
		t.Errorf("slip has %d QR codes, want 1", qrCount)
	}
	for _, want := range []string{"ROSSI", "Rossi Mario", "MN-2026-00001", "Emocromo", "60 giorni", "Registrati", "••• ••• 4567",
		"Valido fino al", "dpo@poliambulatorio.example.it"} {
		if !strings.Contains(slipText, want) && !strings.Contains(strings.ToUpper(slipText), strings.ToUpper(want)) {
			t.Errorf("slip text lacks %q", want)
		}
	}
	if len(slipPDF) < 1000 || !strings.HasPrefix(string(slipPDF), "%PDF-") {
		t.Errorf("printing the slip gave %d bytes, not a PDF", len(slipPDF))
	}
	if n := len(pdfPageObjects.FindAll(slipPDF, -1)); n != 1 {
		t.Errorf("the printed slip has %d pages, want 1 A5 page", n)
	}
	if dir := os.Getenv("FSE_BROWSER_ARTIFACTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "slip.pdf"), slipPDF, 0o644)
	}
	if !strings.Contains(flash, "1 referto pubblicato") {
		t.Errorf("after publishing the flash says %q", flash)
	}

	// The printed code is live, and the stored report decrypts to the bytes uploaded.
	bg := context.Background()
	st, err := a.db.CodeByMAC(bg, a.keys.MAC(sealbox.ActivationCode, actcode.Normalize(code)))
	if err != nil || !st.Usable(a.Now()) {
		t.Fatalf("slip code not usable: %+v, %v", st, err)
	}
	docs, err := a.db.VisitDocuments(bg, st.VisitID)
	if err != nil || len(docs) != 1 || !docs[0].Published() {
		t.Fatalf("visit documents = %+v, %v; want one published", docs, err)
	}
	plain, err := a.db.OpenDocument(bg, docs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(plain)
	if err != nil || string(got) != string(pdf) {
		t.Fatalf("stored report differs from the uploaded file (err %v)", err)
	}
}
