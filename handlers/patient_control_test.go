package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
	"fse/internal/codicefiscale"
)

// Tests of the patient's control over online delivery: disabling and
// enabling a dossier, resetting it, deleting a report, deleting the account,
// and what a parent may do once the child has an account.

// fcDBFiles returns the database file and its WAL (when present).
func fcDBFiles(t testing.TB, a *app) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{a.db.Path, a.db.Path + "-wal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

// fcFindable reports which database file holds window.
func fcFindable(t testing.TB, a *app, window []byte) string {
	t.Helper()
	for p, b := range fcDBFiles(t, a) {
		if bytes.Contains(b, window) {
			return p
		}
	}
	return ""
}

// fcCipherWindow returns 32 bytes of the document's stored ciphertext that
// can be found in the database files as they are now, so that not finding
// them later means they were erased.
func fcCipherWindow(t testing.TB, a *app, docID int64) []byte {
	t.Helper()
	var data []byte
	if err := a.raw.QueryRowContext(context.Background(), `SELECT data FROM document_chunks WHERE document_id = ? ORDER BY seq LIMIT 1`,
		docID).Scan(&data); err != nil {
		t.Fatalf("chunk of document %d: %v", docID, err)
	}
	if len(data) < 64 {
		t.Fatalf("chunk of document %d has only %d bytes", docID, len(data))
	}
	for _, off := range []int{len(data) / 2, len(data) / 3, 2 * len(data) / 3, 40, len(data) - 40} {
		w := bytes.Clone(data[off : off+32])
		if fcFindable(t, a, w) != "" {
			return w
		}
	}
	t.Fatalf("no window of document %d's ciphertext is in the database files", docID)
	return nil
}

func TestFamilyControlDisableEnable(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	childPage := fmt.Sprintf("/fascicolo?p=%d", f.childPatient)
	deskPage := fmt.Sprintf("/desk/patients/%d", f.childPatient)
	if strings.Contains(f.desk.get(deskPage).Body.String(), "disattivato dal paziente") {
		t.Fatal("the desk shows the service disabled before it was")
	}

	base := fmt.Sprintf("/fascicolo/%d/", f.childPatient)
	if rec := f.holder.get(base + "disattiva"); rec.Code != http.StatusOK {
		t.Fatalf("disable confirmation: %d", rec.Code)
	}
	if n := authCount(t, a, `SELECT count(*) FROM patients WHERE online_disabled_at IS NOT NULL`); n != 0 {
		t.Fatal("the confirmation page disabled the service")
	}
	rec := f.holder.post(base+"disattiva", url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != childPage {
		t.Fatalf("disable: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	if got := fcReportIDs(t, f.holder, childPage); len(got) != 0 {
		t.Errorf("disabled dossier lists %v", got)
	}
	if rec := fcDownload(f.holder, f.childDoc); rec.Code != http.StatusNotFound {
		t.Errorf("download from a disabled dossier: %d, want 404", rec.Code)
	}
	if rec := f.holder.get(fmt.Sprintf("/fascicolo/referti/%d/apri", f.childDoc)); rec.Code != http.StatusNotFound {
		t.Errorf("online view from a disabled dossier: %d, want 404", rec.Code)
	}
	fcWantDownload(t, f.holder, f.ownDoc, f.ownPDF) // only the child's dossier is off
	if !strings.Contains(f.desk.get(deskPage).Body.String(), "disattivato dal paziente") {
		t.Error("the desk patient page does not say the patient disabled the service")
	}
	if ev := a.auditActions(db.AuditFilter{Action: "dossier.disable", ObjectType: "patient", ObjectID: f.childPatient}); len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("dossier.disable audit: %+v", ev)
	}

	// The desk cannot publish any more, and nobody is notified.
	outbox := authCount(t, a, `SELECT count(*) FROM outbox`)
	visit, _ := f.desk.accept(fcChildAcceptance(a, f.childCF, "333 123 4567"))
	if rec := f.desk.upload(visit, file{"Ecografia addome", "e.pdf", samplePDF(t, "Ecografia addome")}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d", rec.Code)
	}
	if rec := f.desk.post(fmt.Sprintf("/desk/visits/%d/publish", visit), nil); rec.Code != http.StatusConflict {
		t.Errorf("publish for a disabled dossier: %d, want 409", rec.Code)
	}
	newDoc := lastDocument(t, a, visit)
	if n := authCount(t, a, `SELECT count(*) FROM documents WHERE id = ? AND published_at IS NULL`, newDoc); n != 1 {
		t.Error("the report was published although the patient disabled the service")
	}
	if got := authCount(t, a, `SELECT count(*) FROM outbox`); got != outbox {
		t.Errorf("%d messages queued by a refused publication", got-outbox)
	}

	// Re-enabling needs the consent again.
	var consented time.Time
	if err := a.raw.QueryRow(`SELECT consented_at FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
		f.holderID, f.childPatient).Scan(&consented); err != nil {
		t.Fatal(err)
	}
	a.advance(2 * time.Hour)
	if rec := f.holder.get(base + "riattiva"); rec.Code != http.StatusOK {
		t.Errorf("enable confirmation: %d", rec.Code)
	}
	rec = f.holder.post(base+"riattiva", url.Values{})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("enable without consent: %d, want 422", rec.Code)
	}
	if parseHTML(t, rec.Body.String()).Find("#e-consent").Length() != 1 {
		t.Error("the missing consent is not shown")
	}
	if n := authCount(t, a, `SELECT count(*) FROM patients WHERE id = ? AND online_disabled_at IS NOT NULL`, f.childPatient); n != 1 {
		t.Error("enable without consent turned the service on")
	}
	if n := len(a.auditActions(db.AuditFilter{Action: "dossier.enable"})); n != 0 {
		t.Errorf("%d dossier.enable events without consent", n)
	}

	rec = f.holder.post(base+"riattiva", url.Values{"consent": {"1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != childPage {
		t.Fatalf("enable: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if got, want := fcReportIDs(t, f.holder, childPage), fcIDs(f.childDoc); !fcSameIDs(got, want) {
		t.Errorf("re-enabled dossier lists %v, want %v", got, want)
	}
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF)
	if ev := a.auditActions(db.AuditFilter{Action: "dossier.enable", ObjectType: "patient", ObjectID: f.childPatient}); len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("dossier.enable audit: %+v", ev)
	}
	var version string
	if err := a.raw.QueryRow(`SELECT consented_at, privacy_version FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
		f.holderID, f.childPatient).Scan(&consented, &version); err != nil {
		t.Fatal(err)
	}
	if !consented.Equal(a.Now()) || version != handlers.DossierPrivacyVersion {
		t.Errorf("consent after enabling: %v version %q, want %v version %q", consented, version, a.Now(), handlers.DossierPrivacyVersion)
	}
}

// fcSecondChildReport publishes another report for the child.
func fcSecondChildReport(t *testing.T, f *fcFamily) (int64, []byte) {
	t.Helper()
	visit, _ := f.desk.accept(fcChildAcceptance(f.a, f.childCF, "333 123 4567"))
	return publishReport(t, f.desk, visit, "Ecografia addome")
}

func TestFamilyControlResetDossier(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	doc2, _ := fcSecondChildReport(t, f)
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF) // first_downloaded_at is set
	if n := authCount(t, a, `SELECT count(*) FROM documents WHERE id = ? AND first_downloaded_at IS NOT NULL`, f.childDoc); n != 1 {
		t.Fatal("the download was not recorded")
	}
	windows := [][]byte{fcCipherWindow(t, a, f.childDoc), fcCipherWindow(t, a, doc2)}
	ownChunks := authCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, f.ownDoc)

	path := fmt.Sprintf("/fascicolo/%d/azzera", f.childPatient)
	rec := f.holder.get(path)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Azzerare lo storico") {
		t.Fatalf("reset confirmation: %d", rec.Code)
	}
	if n := authCount(t, a, `SELECT count(*) FROM documents WHERE id IN (?, ?)`, f.childDoc, doc2); n != 2 {
		t.Fatal("the confirmation page deleted reports")
	}
	rec = f.holder.post(path, url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != fmt.Sprintf("/fascicolo?p=%d", f.childPatient) {
		t.Fatalf("reset: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	checks := []struct {
		name  string
		query string
		args  []any
		want  int
	}{
		{"child's reports", `SELECT count(*) FROM documents d JOIN visits v ON v.id = d.visit_id WHERE v.patient_id = ? AND d.published_at IS NOT NULL`, []any{f.childPatient}, 0},
		{"child's chunks", `SELECT count(*) FROM document_chunks WHERE document_id IN (?, ?)`, []any{f.childDoc, doc2}, 0},
		{"download history", `SELECT count(*) FROM documents WHERE id = ? AND first_downloaded_at IS NOT NULL`, []any{f.childDoc}, 0},
		{"own report", `SELECT count(*) FROM documents WHERE id = ?`, []any{f.ownDoc}, 1},
		{"own chunks", `SELECT count(*) FROM document_chunks WHERE document_id = ?`, []any{f.ownDoc}, ownChunks},
	}
	for _, c := range checks {
		if got := authCount(t, a, c.query, c.args...); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.name, got, c.want)
		}
	}
	// Erasure from the WAL is the background checkpointer's (db.ErasureDeadline).
	for i, w := range windows {
		if !erasedWithin(t, a, w, 5*time.Second) {
			t.Errorf("ciphertext of report %d still in %s after the reset", i+1, fcFindable(t, a, w))
		}
	}
	if got := fcReportIDs(t, f.holder, fmt.Sprintf("/fascicolo?p=%d", f.childPatient)); len(got) != 0 {
		t.Errorf("reset dossier still lists %v", got)
	}
	for _, id := range []int64{f.childDoc, doc2} {
		if rec := fcDownload(f.holder, id); rec.Code != http.StatusNotFound {
			t.Errorf("download of deleted report %d: %d, want 404", id, rec.Code)
		}
	}
	fcWantDownload(t, f.holder, f.ownDoc, f.ownPDF)

	ev := a.auditActions(db.AuditFilter{Action: "dossier.reset", ObjectType: "patient", ObjectID: f.childPatient})
	if len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Fatalf("dossier.reset audit: %+v", ev)
	}
	detail := strings.ToLower(ev[0].Detail)
	for _, secret := range []string{"visita", "pediatric", "ecografia", "addome", "emocromo", "glicemia", "luca"} {
		if strings.Contains(detail, secret) {
			t.Errorf("dossier.reset detail %q names %q", ev[0].Detail, secret)
		}
	}
}

func TestFamilyControlDeleteReport(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	doc2, _ := fcSecondChildReport(t, f)
	window := fcCipherWindow(t, a, doc2)

	path := fmt.Sprintf("/fascicolo/referti/%d/elimina", doc2)
	rec := f.holder.get(path)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Ecografia addome") {
		t.Fatalf("delete confirmation: %d", rec.Code)
	}
	if n := authCount(t, a, `SELECT count(*) FROM documents WHERE id = ?`, doc2); n != 1 {
		t.Fatal("the confirmation page deleted the report")
	}
	rec = f.holder.post(path, url.Values{})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if n := authCount(t, a, `SELECT count(*) FROM documents WHERE id = ?`, doc2); n != 0 {
		t.Error("the report row survived")
	}
	if n := authCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, doc2); n != 0 {
		t.Errorf("%d chunks of the deleted report survived", n)
	}
	if !erasedWithin(t, a, window, 5*time.Second) {
		t.Errorf("ciphertext of the deleted report still in %s", fcFindable(t, a, window))
	}
	if rec := fcDownload(f.holder, doc2); rec.Code != http.StatusNotFound {
		t.Errorf("download of the deleted report: %d, want 404", rec.Code)
	}
	// The other report of the same dossier stays.
	if got, want := fcReportIDs(t, f.holder, fmt.Sprintf("/fascicolo?p=%d", f.childPatient)), fcIDs(f.childDoc); !fcSameIDs(got, want) {
		t.Errorf("dossier lists %v, want %v", got, want)
	}
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF)
	if ev := a.auditActions(db.AuditFilter{Action: "report.delete_by_patient", ObjectType: "document", ObjectID: doc2}); len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("report.delete_by_patient audit: %+v", ev)
	}
}

func fcCopyCookies(c *client) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for k, v := range c.cookies {
		ck := *v
		out[k] = &ck
	}
	return out
}

func TestFamilyControlDeleteAccount(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	// The mother registers first, so the holder's account has the highest id.
	mother := a.register("Anna", "Rossi", "347 000 2222", "")

	childCF := fcChildCF(t)
	ownVisit, ownCode := desk.accept(a.acceptForm())
	ownDoc, _ := publishReport(t, desk, ownVisit, fcOwnTitle)
	childVisit, childCode := desk.accept(fcChildAcceptance(a, childCF, "333 123 4567"))
	childDoc, childPDF := publishReport(t, desk, childVisit, fcChildTitle)
	ownPatient, childPatient := patientByCF(t, a, rossiCF).ID, patientByCF(t, a, childCF).ID

	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := accountIDOf(t, a, rossiMobile)
	if rec := holder.activate(rossiCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("own activation: %d", rec.Code)
	}
	if rec := fcActivateRelative(holder, fcAddRelative(t, holder, fcRelativeForm(childCF)), childCF, childCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("child activation: %d", rec.Code)
	}
	// The mother shares the child's dossier.
	_, code2 := desk.accept(fcChildAcceptance(a, childCF, "347 000 2222"))
	if rec := fcActivateRelative(mother, fcAddRelative(t, mother, fcRelativeForm(childCF)), childCF, code2); rec.Code != http.StatusSeeOther {
		t.Fatalf("mother's activation: %d", rec.Code)
	}
	// A new report of the holder queues a notice for the holder.
	ownVisit2, _ := desk.accept(a.acceptForm())
	ownDoc2, _ := publishReport(t, desk, ownVisit2, "Glicemia")

	second := a.loginPatient(rossiMobile) // used right after the deletion
	third := a.loginPatient(rossiMobile)  // left untouched until after re-registration

	pre := []struct {
		name, query string
		args        []any
	}{
		{"relatives", `SELECT count(*) FROM relatives WHERE account_id = ?`, []any{holderID}},
		{"dossier links", `SELECT count(*) FROM dossier_links WHERE account_id = ?`, []any{holderID}},
		{"otp codes", `SELECT count(*) FROM otp_codes WHERE mobile = ?`, []any{rossiMobile}},
		{"queued messages", `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND (recipient = ? OR account_id = ?)`, []any{rossiMobile, holderID}},
	}
	for _, p := range pre {
		if authCount(t, a, p.query, p.args...) == 0 {
			t.Fatalf("setup: no %s to delete", p.name)
		}
	}
	patients := authCount(t, a, `SELECT count(*) FROM patients`)
	visits := authCount(t, a, `SELECT count(*) FROM visits`)

	// Wrong password: nothing happens.
	if rec := holder.get("/profilo/elimina"); rec.Code != http.StatusOK {
		t.Fatalf("deletion page: %d", rec.Code)
	}
	before := fcState(t, a)
	rec := holder.post("/profilo/elimina", url.Values{"password": {"non è la mia password"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d, want 422", rec.Code)
	}
	if parseHTML(t, rec.Body.String()).Find("#e-password").Length() != 1 {
		t.Error("wrong password not shown on the field")
	}
	// The wrong password counts against the account's re-authentication
	// lock and is audited; nothing else changes.
	after := fcState(t, a)
	for q := range after {
		if strings.Contains(q, "login_throttle") || strings.Contains(q, "audit_events") {
			delete(before, q)
			delete(after, q)
		}
	}
	fcAssertSameState(t, before, after)
	if n := authCount(t, a, `SELECT count(*) FROM audit_events WHERE action = 'account.reauthenticate' AND outcome = 'failed'`); n != 1 {
		t.Errorf("failed re-authentications audited = %d, want 1", n)
	}
	if n := authCount(t, a, `SELECT failures FROM login_throttle WHERE key = ?`, "reauth:"+itoa(holderID)); n != 1 {
		t.Errorf("re-authentication failures after a wrong password = %d, want 1", n)
	}
	if n := authCount(t, a, `SELECT count(*) FROM accounts WHERE id = ?`, holderID); n != 1 {
		t.Fatal("a wrong password deleted the account")
	}

	oldCookies := fcCopyCookies(holder)
	rec = holder.post("/profilo/elimina", url.Values{"password": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("deletion: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	replay := a.client()
	replay.cookies = oldCookies
	for name, c := range map[string]*client{"replayed cookie": replay, "second session": second} {
		rec := c.get("/fascicolo")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
			t.Errorf("%s after deletion: %d %q, want 303 /accedi", name, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := a.client().post("/accedi", url.Values{"identifier": {rossiMobile}, "password": {patientPassword}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("login after deletion: %d, want 401", rec.Code)
	}

	gone := []struct {
		name, query string
		args        []any
		want        int
	}{
		{"account", `SELECT count(*) FROM accounts WHERE id = ? OR mobile = ?`, []any{holderID, rossiMobile}, 0},
		{"relatives", `SELECT count(*) FROM relatives WHERE account_id = ?`, []any{holderID}, 0},
		{"dossier links", `SELECT count(*) FROM dossier_links WHERE account_id = ?`, []any{holderID}, 0},
		{"otp codes", `SELECT count(*) FROM otp_codes WHERE mobile = ?`, []any{rossiMobile}, 0},
		{"queued messages", `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND (recipient = ? OR account_id = ?)`, []any{rossiMobile, holderID}, 0},
		{"orphaned dossier's reports", `SELECT count(*) FROM documents d JOIN visits v ON v.id = d.visit_id WHERE v.patient_id = ? AND d.published_at IS NOT NULL`, []any{ownPatient}, 0},
		{"orphaned dossier's chunks", `SELECT count(*) FROM document_chunks WHERE document_id IN (?, ?)`, []any{ownDoc, ownDoc2}, 0},
		{"shared dossier's report", `SELECT count(*) FROM documents WHERE id = ?`, []any{childDoc}, 1},
		{"shared dossier's link", `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, []any{childPatient}, 1},
		{"patients", `SELECT count(*) FROM patients`, nil, patients},
		{"visits", `SELECT count(*) FROM visits`, nil, visits},
	}
	for _, g := range gone {
		if got := authCount(t, a, g.query, g.args...); got != g.want {
			t.Errorf("%s: %d rows after deletion, want %d", g.name, got, g.want)
		}
	}
	if authCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, childDoc) == 0 {
		t.Error("the shared dossier's report lost its ciphertext")
	}
	fcWantDownload(t, mother, childDoc, childPDF)

	ev := a.auditActions(db.AuditFilter{Action: "account.delete"})
	if len(ev) != 1 {
		t.Fatalf("%d account.delete audit rows, want 1", len(ev))
	}
	if ev[0].Actor.Name != "" || ev[0].Actor.IP != holder.ip {
		t.Errorf("account.delete audit keeps actor_name %q, ip %q; want no name, the holder's address %s", ev[0].Actor.Name, ev[0].Actor.IP, holder.ip)
	}
	for _, secret := range []string{"Rossi", "Mario", "333", rossiMobile} {
		if strings.Contains(ev[0].Detail, secret) {
			t.Errorf("account.delete detail %q names %q", ev[0].Detail, secret)
		}
	}

	// The account's id is free again: whoever registers next must not
	// inherit a session of the deleted account.
	stranger := a.register("Paolo", "Bianchi", "347 999 8888", "")
	strangerID := accountIDOf(t, a, "+393479998888")
	rec = third.get("/fascicolo")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
		profile := third.get("/profilo")
		t.Errorf("a session of the deleted account (id %d) works after another person registered (id %d): GET /fascicolo %d %q, want 303 /accedi; "+
			"its /profilo (%d) shows Paolo Bianchi: %v",
			holderID, strangerID, rec.Code, rec.Header().Get("Location"), profile.Code, strings.Contains(profile.Body.String(), "Paolo Bianchi"))
	}
	if rec := stranger.get("/attiva"); rec.Code != http.StatusOK {
		t.Errorf("new account: /attiva %d", rec.Code)
	}

	// The same mobile can register again.
	again := a.register("Mario", "Rossi", "333 123 4567", "")
	if rec := again.get("/attiva"); rec.Code != http.StatusOK {
		t.Errorf("re-registered account: /attiva %d", rec.Code)
	}
	if n := authCount(t, a, `SELECT count(*) FROM dossier_links l JOIN accounts a ON a.id = l.account_id WHERE a.mobile = ?`, rossiMobile); n != 0 {
		t.Errorf("the re-registered account inherited %d dossiers", n)
	}
}

// TestDisableDropsQueuedNotices: turning a dossier off, or resetting it,
// stops notices already queued but not yet sent.
func TestDisableDropsQueuedNotices(t *testing.T) {
	for _, action := range []string{"disattiva", "azzera"} {
		t.Run(action, func(t *testing.T) {
			a := newApp(t)
			visitID, code, _ := a.publishedVisit()
			c := a.register("Mario", "Rossi", "333 1234567", "")
			c.activate(rossiCF, code)
			desk := a.deskClient()
			desk.upload(visitID, file{"Secondo referto", "b.pdf", samplePDF(t, "Secondo")})
			desk.post("/desk/visits/"+itoa(visitID)+"/publish", nil)
			count := func() (n int) {
				a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'report_available' AND sent_at IS NULL`).Scan(&n)
				return n
			}
			if count() != 1 {
				t.Fatalf("queued notices before %s = %d, want 1", action, count())
			}
			p, _ := a.db.PatientByFiscalCode(context.Background(), rossiCF)
			if rec := c.post("/fascicolo/"+itoa(p.ID)+"/"+action, nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("%s: %d", action, rec.Code)
			}
			if count() != 0 {
				t.Errorf("queued notices after %s = %d, want 0", action, count())
			}
		})
	}
}

// TestPatientOwnsTheirDossier: once the patient has their own account, a
// parent's family link cannot turn the service back on or reset it, and
// the patient can end the parent's access. Any account can unlink a
// dossier from itself.
func TestPatientOwnsTheirDossier(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	desk := a.deskClient()
	lucaCF, _ := codicefiscale.Generate("Rossi", "Luca", time.Date(2005, 6, 3, 0, 0, 0, 0, time.UTC), "M", "E897")
	luca := a.acceptForm()
	luca.Set("fiscal_code", lucaCF)
	luca.Set("first_name", "Luca")
	luca.Set("birth_date", "2005-06-03")
	luca.Set("birth_place", "Mantova")
	lucaVisit, parentCode := desk.accept(luca) // registered with the father's mobile
	desk.upload(lucaVisit, file{"Visita", "v.pdf", samplePDF(t, "Visita")})
	desk.post("/desk/visits/"+itoa(lucaVisit)+"/publish", nil)
	father := a.register("Mario", "Rossi", "333 1234567", "")
	if rec := father.post("/profilo/familiari", url.Values{"first_name": {"Luca"}, "last_name": {"Rossi"}, "birth_date": {"2005-06-03"},
		"birth_place": {"Mantova"}, "sex": {"M"}, "fiscal_code": {lucaCF}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add relative: %d", rec.Code)
	}
	rels, _ := a.db.Relatives(ctx, 1)
	if rec := father.post("/profilo/familiari/"+itoa(rels[0].ID)+"/attiva", url.Values{"consent": {"1"}, "fiscal_code": {lucaCF}, "code": {parentCode}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("family activation: %d", rec.Code)
	}
	// Luca, now adult, gives the desk his own mobile and activates his own dossier.
	luca.Set("mobile", "347 222 3333")
	_, ownCode := desk.accept(luca)
	son := a.register("Luca", "Rossi", "347 222 3333", "")
	if rec := son.activate(lucaCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("own activation: %d", rec.Code)
	}
	p, _ := a.db.PatientByFiscalCode(ctx, lucaCF)
	pid := itoa(p.ID)

	son.post("/fascicolo/"+pid+"/disattiva", nil)
	if rec := father.post("/fascicolo/"+pid+"/riattiva", url.Values{"consent": {"1"}}); rec.Code != http.StatusForbidden {
		t.Errorf("father re-enabling the son's dossier: %d, want 403", rec.Code)
	}
	if rec := father.post("/fascicolo/"+pid+"/azzera", nil); rec.Code != http.StatusForbidden {
		t.Errorf("father resetting the son's dossier: %d, want 403", rec.Code)
	}
	if p, _ := a.db.Patient(ctx, p.ID); !p.OnlineDisabled() {
		t.Error("the father turned the son's service back on")
	}
	son.post("/fascicolo/"+pid+"/riattiva", url.Values{"consent": {"1"}})
	docs, _ := a.db.VisitDocuments(ctx, lucaVisit)
	if rec := father.get("/fascicolo/referti/" + itoa(docs[0].ID) + "/elimina"); rec.Code != http.StatusForbidden {
		t.Errorf("father's deletion page for the son's report: %d, want 403", rec.Code)
	}
	if strings.Contains(father.get("/fascicolo?p="+pid).Body.String(), "/elimina") {
		t.Error("the father is offered a deletion he would be refused")
	}
	if rec := father.post("/fascicolo/referti/"+itoa(docs[0].ID)+"/elimina", nil); rec.Code != http.StatusForbidden {
		t.Errorf("father deleting the son's report: %d, want 403", rec.Code)
	}
	if docs, _ := a.db.VisitDocuments(ctx, lucaVisit); len(docs) != 1 {
		t.Error("the father deleted the son's report")
	}
	if rec := father.post("/fascicolo/"+pid+"/revoca", nil); rec.Code != http.StatusForbidden {
		t.Errorf("father revoking the son's access: %d, want 403", rec.Code)
	}
	if rec := son.post("/fascicolo/"+pid+"/revoca", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("son revoking others: %d", rec.Code)
	}
	if links, _ := a.db.DossierLinks(ctx, 1); len(links) != 0 {
		t.Errorf("father still has %d dossier links after the son revoked others", len(links))
	}
	if rec := father.get("/fascicolo?p=" + pid); rec.Code == http.StatusOK {
		t.Error("father still sees the son's dossier after revocation")
	}
	if rec := son.post("/fascicolo/"+pid+"/scollega", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("unlink: %d", rec.Code)
	}
	if rec := son.get("/fascicolo"); rec.Header().Get("Location") != "/attiva" {
		t.Errorf("after unlinking the only dossier /fascicolo goes to %q, want /attiva", rec.Header().Get("Location"))
	}
	if _, err := a.db.Patient(ctx, p.ID); err != nil {
		t.Errorf("unlinking touched the registry: %v", err)
	}
}
