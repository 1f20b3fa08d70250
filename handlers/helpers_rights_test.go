package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
	"fse/internal/codicefiscale"
)

// The fixture shared by the tests of issue 10 (protected reports, hiding,
// majority, pickup, reminders, sharing, email): Giulia Verdi, an adult with
// an account of her own, whose dossier her husband Mario Rossi also has as
// a relative's (the desk first registered her with his mobile).

// Giulia Verdi, born 14/5/1978 in Mantova.
const (
	rfGiuliaCF     = "VRDGLI78E54E897T"
	rfGiuliaMobile = "+393405550101"
	rfGiuliaPhone  = "340 555 0101"
	rfGiuliaBirth  = "1978-05-14"
)

// rfGiuliaAcceptance is the desk's acceptance of Giulia with mobile.
func rfGiuliaAcceptance(a *app, mobile string) url.Values {
	f := a.acceptForm()
	f.Set("fiscal_code", rfGiuliaCF)
	f.Set("first_name", "Giulia")
	f.Set("last_name", "Verdi")
	f.Set("birth_date", rfGiuliaBirth)
	f.Set("birth_place", "Mantova")
	f.Set("sex", "F")
	f.Set("mobile", mobile)
	f.Set("email", "")
	f.Set("exams", "Visita ginecologica")
	return f
}

// rfFamily is Giulia (her own account) and Mario (her dossier as a
// relative's), with no report yet.
type rfFamily struct {
	a                    *app
	desk                 *client
	giulia, mario        *client
	giuliaID, marioID    int64
	patient              int64
	marioVisit, ownVisit int64
}

// newRightsApp is newApp with protected reports handled as policy says.
func newRightsApp(t *testing.T, policy db.ProtectedPolicy, configure func(*handlers.Config)) *app {
	t.Helper()
	if configure == nil {
		configure = func(*handlers.Config) {}
	}
	a := newAppWith(t, configure)
	a.db.SetProtectedReports(policy)
	return a
}

// rfSetup builds the family on a.
func rfSetup(t *testing.T, a *app) *rfFamily {
	t.Helper()
	f := &rfFamily{a: a, desk: a.deskClient()}
	var marioCode, ownCode string
	f.marioVisit, marioCode = f.desk.accept(rfGiuliaAcceptance(a, "333 123 4567"))
	f.patient = patientByCF(t, a, rfGiuliaCF).ID

	f.mario = a.register("Mario", "Rossi", "333 123 4567", "")
	f.marioID = accountIDOf(t, a, rossiMobile)
	rel := fcAddRelative(t, f.mario, url.Values{"first_name": {"Giulia"}, "last_name": {"Verdi"}, "birth_date": {rfGiuliaBirth},
		"birth_place": {"Mantova"}, "sex": {"F"}, "fiscal_code": {rfGiuliaCF}})
	if rec := fcActivateRelative(f.mario, rel, rfGiuliaCF, marioCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("Mario activates Giulia's dossier: status %d\n%s", rec.Code, rec.Body.String())
	}

	// Giulia gives the desk her own mobile and activates her own account.
	f.ownVisit, ownCode = f.desk.accept(rfGiuliaAcceptance(a, rfGiuliaPhone))
	f.giulia = a.register("Giulia", "Verdi", rfGiuliaPhone, "")
	f.giuliaID = accountIDOf(t, a, rfGiuliaMobile)
	if rec := f.giulia.activate(rfGiuliaCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("Giulia activates her dossier: status %d\n%s", rec.Code, rec.Body.String())
	}
	return f
}

// dossierPath is the account's page of Giulia's dossier.
func (f *rfFamily) dossierPath() string { return fmt.Sprintf("/fascicolo?p=%d", f.patient) }

// sees lists the reports c sees in Giulia's dossier.
func (f *rfFamily) sees(t testing.TB, c *client) []int64 { return fcReportIDs(t, c, f.dossierPath()) }

// visit accepts Giulia (her own mobile) for a new visit, protected or not.
func (f *rfFamily) visit(t testing.TB, protected bool) int64 {
	t.Helper()
	form := rfGiuliaAcceptance(f.a, rfGiuliaPhone)
	if protected {
		form.Set("protected", "1")
	}
	id, _ := f.desk.accept(form)
	return id
}

// notFoundPage is what any account gets for a report it may not see: the
// same answer as for a report id no row has.
func notFoundPage(t testing.TB, c *client, path string) (int, string) {
	t.Helper()
	rec := c.get(path)
	return rec.Code, strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("main").Text())
}

// wantSameAsMadeUp fails unless c gets for docID exactly what it gets for
// a made-up id: a 404 with the same page.
func wantSameAsMadeUp(t testing.TB, c *client, docID int64) {
	t.Helper()
	gotCode, gotBody := notFoundPage(t, c, fmt.Sprintf("/fascicolo/referti/%d", docID))
	madeCode, madeBody := notFoundPage(t, c, fmt.Sprintf("/fascicolo/referti/%d", fcMadeUpID))
	if gotCode != http.StatusNotFound || gotCode != madeCode || gotBody != madeBody {
		t.Errorf("report %d: status %d %q, made-up id: %d %q; want the same 404", docID, gotCode, gotBody, madeCode, madeBody)
	}
}

// rfChildCF is the codice fiscale of a child born on birth in Mantova.
func rfChildCF(t testing.TB, first string, birth time.Time) string {
	t.Helper()
	cf, err := codicefiscale.Generate("Rossi", first, birth, "M", "E897")
	if err != nil {
		t.Fatal(err)
	}
	return cf
}
