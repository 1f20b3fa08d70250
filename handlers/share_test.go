package handlers_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
)

// Tests of sharing with a doctor: a share code for one report or the whole
// dossier, opened at /condivisi with the patient's birth date, without an
// account, read-only, revocable, never outliving the reports.

// shCreate posts the share form of Giulia's dossier as c and returns the
// code shown ("" when refused) and the response.
func (f *rfFamily) shCreate(t testing.TB, c *client, form url.Values) (string, int) {
	t.Helper()
	rec := c.post(fmt.Sprintf("/fascicolo/%d/condividi", f.patient), form)
	code := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("[data-testid=share-code]").Text())
	return code, rec.Code
}

// doctor is a browser without an account, from another address.
func (a *app) doctor() *client {
	c := a.client()
	c.ip = "198.51.100.7"
	return c
}

// shOpen types the code and the birth date at /condivisi.
func shOpen(c *client, code, birth string) *http.Response {
	c.a.t.Helper()
	return c.post("/condivisi", url.Values{"code": {code}, "birth_date": {birth}}).Result()
}

// shListed lists the ids of the reports the doctor's page shows; nil when
// the page is not the list.
func shListed(t testing.TB, c *client) []int64 {
	t.Helper()
	rec := c.get("/condivisi/referti")
	if rec.Code != http.StatusOK {
		return nil
	}
	ids := []int64{}
	parseHTML(t, rec.Body.String()).Find(`[data-testid=shared-reports] a[download]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(strings.TrimPrefix(s.AttrOr("href", ""), "/condivisi/referti/"), 10, 64)
		ids = append(ids, id)
	})
	slices.Sort(ids)
	return ids
}

func TestSharingWithADoctor(t *testing.T) {
	tests := []struct {
		name   string
		policy db.ProtectedPolicy
		run    func(t *testing.T, f *rfFamily, echo, blood int64, echoPDF []byte)
	}{
		{"one report: the doctor sees and downloads only it, and the patient sees who did", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, blood int64, echoPDF []byte) {
				code, status := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(echo)}, "lifetime": {"1d"}})
				if status != http.StatusOK || !codePattern.MatchString(code) {
					t.Fatalf("create share: %d, code %q", status, code)
				}
				if n := authCount(t, f.a, `SELECT count(*) FROM shares WHERE instr(code_mac, ?) > 0`, []byte(code)); n != 0 {
					t.Errorf("the code is stored in clear")
				}
				doc := f.a.doctor()
				if res := shOpen(doc, strings.ToLower(strings.ReplaceAll(code, "-", " ")), rfGiuliaBirth); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("open: %d", res.StatusCode)
				}
				if got := shListed(t, doc); !slices.Equal(got, []int64{echo}) {
					t.Errorf("the doctor sees %v, want only %d", got, echo)
				}
				rec := doc.get(fmt.Sprintf("/condivisi/referti/%d", echo))
				if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), echoPDF) {
					t.Errorf("download of the shared report: %d, %d bytes", rec.Code, rec.Body.Len())
				}
				for _, id := range []int64{blood, fcMadeUpID} {
					if rec := doc.get(fmt.Sprintf("/condivisi/referti/%d", id)); rec.Code != http.StatusNotFound {
						t.Errorf("the doctor downloads report %d: %d, want 404", id, rec.Code)
					}
				}
				history := f.giulia.get("/fascicolo/accessi").Body.String()
				for _, want := range []string{"Apertura di una condivisione da parte di un medico",
					"Scaricamento di un referto condiviso da parte di un medico", "Medico con un codice di condivisione"} {
					if !strings.Contains(history, want) {
						t.Errorf("Giulia's access history lacks %q", want)
					}
				}
				if strings.Contains(f.mario.get("/fascicolo/accessi").Body.String(), "condivisione") {
					t.Errorf("Mario's access history shows Giulia's own share")
				}
				if strings.Contains(f.a.logs.String(), code) {
					t.Errorf("the share code reached the log")
				}
			}},
		{"the whole dossier: the reports published when it was shared", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, blood int64, _ []byte) {
				code, _ := f.shCreate(t, f.giulia, url.Values{"lifetime": {"7d"}})
				f.a.advance(time.Minute)
				later, _ := publishReport(t, f.desk, f.ownVisit, "Radiografia")
				doc := f.a.doctor()
				shOpen(doc, code, rfGiuliaBirth)
				if got := shListed(t, doc); !slices.Equal(got, fcIDs(echo, blood)) {
					t.Errorf("the doctor sees %v, want %v (not %d, published later)", got, fcIDs(echo, blood), later)
				}
			}},
		{"both the code and the birth date are needed", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, _ int64, _ []byte) {
				code, _ := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(echo)}, "lifetime": {"1d"}})
				doc := f.a.doctor()
				for _, try := range []struct{ code, birth string }{{code, "1978-05-15"}, {fcUnknownCode, rfGiuliaBirth}, {code, ""}} {
					if res := shOpen(doc, try.code, try.birth); res.StatusCode == http.StatusSeeOther {
						t.Errorf("opened with code %q and birth date %q", try.code, try.birth)
					}
				}
				if got := shListed(t, doc); got != nil {
					t.Errorf("without the right pair the doctor sees %v", got)
				}
			}},
		{"five wrong tries lock the code out, even with the right birth date", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, _ int64, _ []byte) {
				code, _ := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(echo)}, "lifetime": {"1d"}})
				for i := range 5 {
					f.a.doctor().post("/condivisi", url.Values{"code": {code}, "birth_date": {fmt.Sprintf("1978-05-%02d", 20+i)}})
				}
				other := f.a.doctor()
				other.ip = "203.0.113.9" // another address: the lock is on the code
				if res := shOpen(other, code, rfGiuliaBirth); res.StatusCode != http.StatusTooManyRequests {
					t.Errorf("the right pair after five wrong ones: %d, want 429", res.StatusCode)
				}
				f.a.advance(16 * time.Minute)
				if res := shOpen(other, code, rfGiuliaBirth); res.StatusCode != http.StatusSeeOther {
					t.Errorf("after the lock: %d, want 303", res.StatusCode)
				}
			}},
		{"revoked: the doctor loses access at once", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, _ int64, _ []byte) {
				code, _ := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(echo)}, "lifetime": {"14d"}})
				doc := f.a.doctor()
				shOpen(doc, code, rfGiuliaBirth)
				if got := shListed(t, doc); len(got) != 1 {
					t.Fatalf("before revoking the doctor sees %v", got)
				}
				page := parseHTML(t, f.giulia.get("/fascicolo/condivisioni").Body.String())
				// The list says whose dossier, which report and who shared it.
				listed := page.Find("main").Text()
				if strings.Count(listed, "Giulia Verdi") < 2 || strings.Contains(listed, "non più online") {
					t.Errorf("the shares' list does not name the patient, the report and its author:\n%s", strings.Join(strings.Fields(listed), " "))
				}
				action, _ := page.Find(`form[action$="/revoca"]`).Attr("action")
				if rec := f.mario.post(action, nil); rec.Code != http.StatusNotFound {
					t.Errorf("Mario revokes Giulia's share: %d, want 404", rec.Code)
				}
				if rec := f.giulia.post(action, nil); rec.Code != http.StatusSeeOther {
					t.Fatalf("revoke: %d", rec.Code)
				}
				if rec := doc.get(fmt.Sprintf("/condivisi/referti/%d", echo)); rec.Code != http.StatusNotFound {
					t.Errorf("download after revoking: %d, want 404", rec.Code)
				}
				if got := shListed(t, doc); got != nil {
					t.Errorf("after revoking the doctor sees %v", got)
				}
				if res := shOpen(f.a.doctor(), code, rfGiuliaBirth); res.StatusCode == http.StatusSeeOther {
					t.Errorf("a revoked code opens")
				}
			}},
		{"it ends with its lifetime, and never outlives the report", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, _ int64, _ []byte) {
				short, _ := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(echo)}, "lifetime": {"1h"}})
				d, _ := f.a.db.Document(t.Context(), echo)
				f.a.setNow(d.ExpiresAt.Add(-3 * 24 * time.Hour))
				long, _ := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(echo)}, "lifetime": {"14d"}})
				if got := authBody(t, f.a, `SELECT CAST(max(expires_at) AS TEXT) FROM shares`); !strings.HasPrefix(got, d.ExpiresAt.UTC().Format("2006-01-02 15:04:05")) {
					t.Errorf("a 14-day share of a report leaving in 3 days ends at %s, want %s", got, d.ExpiresAt.UTC())
				}
				if res := shOpen(f.a.doctor(), short, rfGiuliaBirth); res.StatusCode == http.StatusSeeOther {
					t.Errorf("a 1-hour share opens days later")
				}
				doc := f.a.doctor()
				shOpen(doc, long, rfGiuliaBirth)
				f.a.setNow(d.ExpiresAt)
				if got := shListed(t, doc); got != nil {
					t.Errorf("after the report's expiry the doctor sees %v", got)
				}
			}},
		{"PDF only: no name, no titles", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, _ int64, _ []byte) {
				code, _ := f.shCreate(t, f.giulia, url.Values{"lifetime": {"1d"}, "pdf_only": {"1"}})
				doc := f.a.doctor()
				shOpen(doc, code, rfGiuliaBirth)
				page := doc.get("/condivisi/referti").Body.String()
				for _, never := range []string{"Giulia", "Verdi", "Ecografia", "Esami del sangue", "Poliambulatorio"} {
					if strings.Contains(page, never) {
						t.Errorf("a PDF-only share shows %q", never)
					}
				}
				if got := shListed(t, doc); len(got) != 2 {
					t.Errorf("the PDF-only share lists %v, want both reports", got)
				}
			}},
		{"a relative's account shares what it sees, never what is hidden from it", db.ProtectedPaper,
			func(t *testing.T, f *rfFamily, echo, blood int64, _ []byte) {
				hide(f.giulia, blood, true)
				code, status := f.shCreate(t, f.mario, url.Values{"lifetime": {"1d"}})
				if status != http.StatusOK {
					t.Fatalf("Mario shares: %d", status)
				}
				doc := f.a.doctor()
				shOpen(doc, code, rfGiuliaBirth)
				if got := shListed(t, doc); !slices.Equal(got, []int64{echo}) {
					t.Errorf("Mario's share shows %v, want %d only", got, echo)
				}
				if _, status := f.shCreate(t, f.mario, url.Values{"referto": {itoa(blood)}, "lifetime": {"1d"}}); status != http.StatusNotFound {
					t.Errorf("Mario shares the hidden report: %d, want 404", status)
				}
			}},
		{"protected reports: only the patient's own account, explicitly", db.ProtectedSelf,
			func(t *testing.T, f *rfFamily, echo, blood int64, _ []byte) {
				hiv, _ := publishReport(t, f.desk, f.visit(t, true), "Test HIV")
				if code, status := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(hiv)}, "lifetime": {"1d"}}); status != http.StatusUnprocessableEntity || code != "" {
					t.Errorf("sharing a protected report without saying so: %d, code %q", status, code)
				}
				whole, _ := f.shCreate(t, f.giulia, url.Values{"lifetime": {"1d"}})
				doc := f.a.doctor()
				shOpen(doc, whole, rfGiuliaBirth)
				if got := shListed(t, doc); slices.Contains(got, hiv) {
					t.Errorf("a whole-dossier share shows the protected report without being asked")
				}
				explicit, status := f.shCreate(t, f.giulia, url.Values{"referto": {itoa(hiv)}, "lifetime": {"1d"}, "include_protected": {"1"}})
				if status != http.StatusOK {
					t.Fatalf("sharing the protected report explicitly: %d", status)
				}
				doc = f.a.doctor()
				shOpen(doc, explicit, rfGiuliaBirth)
				if got := shListed(t, doc); !slices.Equal(got, []int64{hiv}) {
					t.Errorf("the explicit share shows %v, want %d", got, hiv)
				}
				if _, status := f.shCreate(t, f.mario, url.Values{"lifetime": {"1d"}, "include_protected": {"1"}}); status != http.StatusUnprocessableEntity {
					t.Errorf("Mario shares protected reports: %d, want 422", status)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, tt.policy, nil))
			echo, echoPDF := publishReport(t, f.desk, f.ownVisit, "Ecografia")
			blood, _ := publishReport(t, f.desk, f.ownVisit, "Esami del sangue")
			tt.run(t, f, echo, blood, echoPDF)
		})
	}
}
