package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"fse/internal/codicefiscale"
)

// The family fixture shared by the family and control tests: Mario Rossi,
// his son Luca, their dossiers and the helpers that look at them.

// Luca Rossi, Mario Rossi's son, born 3/6/2015 in Mantova (E897).
const (
	fcChildBirth = "2015-06-03"
	fcChildTitle = "Visita pediatrica"
	fcOwnTitle   = "Esami del sangue"
	// fcUnknownCode is well formed but never issued.
	fcUnknownCode = "2222-3333-4444"
	// fcMadeUpID is an id no row has.
	fcMadeUpID = 987654
)

// fcChildCF returns the child's codice fiscale.
func fcChildCF(t testing.TB) string {
	t.Helper()
	cf, err := codicefiscale.Generate("Rossi", "Luca", time.Date(2015, 6, 3, 0, 0, 0, 0, time.UTC), "M", "E897")
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// fcChildAcceptance is the desk's acceptance of the child with mobile.
func fcChildAcceptance(a *app, cf, mobile string) url.Values {
	f := a.acceptForm()
	f.Set("fiscal_code", cf)
	f.Set("first_name", "Luca")
	f.Set("birth_date", fcChildBirth)
	f.Set("birth_place", "Mantova")
	f.Set("mobile", mobile)
	f.Set("email", "")
	f.Set("exams", fcChildTitle)
	return f
}

// fcRelativeForm is the holder's "add a relative" form for the child.
func fcRelativeForm(cf string) url.Values {
	return url.Values{"first_name": {"Luca"}, "last_name": {"Rossi"}, "birth_date": {fcChildBirth},
		"birth_place": {"Mantova"}, "sex": {"M"}, "fiscal_code": {cf}}
}

var fcActivatePath = regexp.MustCompile(`^/profilo/familiari/(\d+)/attiva$`)

// fcAddRelative adds a relative and returns its id, read from the redirect
// to its activation page.
func fcAddRelative(t testing.TB, c *client, form url.Values) int64 {
	t.Helper()
	rec := c.post("/profilo/familiari", form)
	m := fcActivatePath.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("add relative: status %d, location %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func fcActivateRelative(c *client, relativeID int64, cf, code string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.post(fmt.Sprintf("/profilo/familiari/%d/attiva", relativeID), url.Values{"consent": {"1"}, "fiscal_code": {cf}, "code": {code}})
}

// fcReportIDs returns the ids of the reports listed on a dossier page.
func fcReportIDs(t testing.TB, c *client, target string) []int64 {
	t.Helper()
	rec := c.get(target)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d", target, rec.Code)
	}
	ids := []int64{}
	doc := parseHTML(t, rec.Body.String())
	for _, n := range doc.Find("li.report a[download]").Nodes {
		for _, at := range n.Attr {
			if at.Key != "href" {
				continue
			}
			id, err := strconv.ParseInt(strings.TrimPrefix(at.Val, "/fascicolo/referti/"), 10, 64)
			if err != nil {
				t.Fatalf("report link %q", at.Val)
			}
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func fcIDs(ids ...int64) []int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func fcSameIDs(a, b []int64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// fcDownload fetches a report of the client's dossiers.
func fcDownload(c *client, docID int64) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.get(fmt.Sprintf("/fascicolo/referti/%d", docID))
}

// fcWantDownload fails unless the report downloads with exactly want.
func fcWantDownload(t testing.TB, c *client, docID int64, want []byte) {
	t.Helper()
	rec := fcDownload(c, docID)
	if rec.Code != http.StatusOK {
		t.Fatalf("download %d: status %d, want 200", docID, rec.Code)
	}
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("download %d: %d bytes differ from the uploaded %d bytes", docID, rec.Body.Len(), len(want))
	}
}

// fcFamily is Mario Rossi (the holder, Rossi's mobile) with his own dossier
// and his son Luca's, each with one published report.
type fcFamily struct {
	a                        *app
	desk, holder             *client
	holderID                 int64
	childCF                  string
	ownPatient, childPatient int64
	relativeID               int64
	ownDoc, childDoc         int64
	ownPDF, childPDF         []byte
}

func fcSetup(t *testing.T) *fcFamily {
	t.Helper()
	a := newApp(t)
	f := &fcFamily{a: a, desk: a.deskClient(), childCF: fcChildCF(t)}
	ownVisit, ownCode := f.desk.accept(a.acceptForm())
	f.ownDoc, f.ownPDF = publishReport(t, f.desk, ownVisit, fcOwnTitle)
	childVisit, childCode := f.desk.accept(fcChildAcceptance(a, f.childCF, "333 123 4567"))
	f.childDoc, f.childPDF = publishReport(t, f.desk, childVisit, fcChildTitle)
	f.ownPatient, f.childPatient = patientByCF(t, a, rossiCF).ID, patientByCF(t, a, f.childCF).ID

	f.holder = a.register("Mario", "Rossi", "333 123 4567", "")
	f.holderID = accountIDOf(t, a, rossiMobile)
	if rec := f.holder.activate(rossiCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("own activation: status %d", rec.Code)
	}
	f.relativeID = fcAddRelative(t, f.holder, fcRelativeForm(f.childCF))
	rec := fcActivateRelative(f.holder, f.relativeID, f.childCF, childCode)
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/fascicolo?p=%d", f.childPatient); rec.Code != http.StatusSeeOther || got != want {
		t.Fatalf("relative activation: status %d, location %q; want 303 to %q\n%s", rec.Code, got, want, rec.Body.String())
	}
	return f
}

// fcDump returns every row of query as text, to compare states.
func fcDump(t testing.TB, a *app, query string) string {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fcState is everything a patient action could change. Refusals are
// audited as denied, for admins: they are left out, and tests that expect
// them count them.
func fcState(t testing.TB, a *app) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT id, visit_id, published_at, expires_at, first_downloaded_at FROM documents ORDER BY id`,
		`SELECT document_id, seq, length(data) FROM document_chunks ORDER BY 1, 2`,
		`SELECT id, account_id, fiscal_code FROM relatives ORDER BY id`,
		`SELECT account_id, patient_id, relation, relative_id, privacy_version, consented_at FROM dossier_links ORDER BY 1, 2`,
		`SELECT id, mobile, online_disabled_at FROM patients ORDER BY id`,
		`SELECT id, used_at FROM activation_codes ORDER BY id`,
		`SELECT key, failures FROM login_throttle ORDER BY key`,
		`SELECT action, object_type, object_id, outcome FROM audit_events WHERE actor_kind = 'patient' AND outcome <> 'denied' ORDER BY id`,
	} {
		out[q] = fcDump(t, a, q)
	}
	return out
}

func fcAssertSameState(t testing.TB, before, after map[string]string) {
	t.Helper()
	for q, b := range before {
		if after[q] != b {
			t.Errorf("state changed:\n%s\nbefore:\n%safter:\n%s", q, b, after[q])
		}
	}
}
