package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"fse/db"
)

// Tests of hiding a report from relatives ("oscuramento"): the patient's
// own account hides one report from every other account linked to the
// dossier, and shows it again.

// hide posts the hide (or show) form of a report as c.
func hide(c *client, docID int64, hidden bool) *http.Response {
	c.a.t.Helper()
	action := "mostra"
	if hidden {
		action = "nascondi"
	}
	return c.post(fmt.Sprintf("/fascicolo/referti/%d/%s", docID, action), nil).Result()
}

func TestHidingAReportFromRelatives(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *rfFamily, doc int64)
	}{
		{"hidden: the relative gets the 404 of a made-up id and no trace of it", func(t *testing.T, f *rfFamily, doc int64) {
			if res := hide(f.giulia, doc, true); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("hide: %d", res.StatusCode)
			}
			if got := f.sees(t, f.mario); len(got) != 0 {
				t.Errorf("Mario sees %v after Giulia hid the report", got)
			}
			wantSameAsMadeUp(t, f.mario, doc)
			for _, path := range []string{f.dossierPath(), "/fascicolo/accessi"} {
				if body := strings.ToLower(f.mario.get(path).Body.String()); strings.Contains(body, "nascost") {
					t.Errorf("Mario's %s tells that something is hidden", path)
				}
			}
			if got := f.sees(t, f.giulia); !slices.Equal(got, []int64{doc}) {
				t.Errorf("Giulia sees %v, want her hidden report too", got)
			}
			if page := f.giulia.get("/fascicolo/accessi").Body.String(); !strings.Contains(page, "Referto nascosto agli altri account") {
				t.Errorf("Giulia's access history does not show the hiding")
			}
			if got := len(repAudit(f.a, db.ActionReportHide)); got != 1 {
				t.Errorf("report.hide audited %d times, want 1", got)
			}
		}},
		{"shown again: the relative sees it at once", func(t *testing.T, f *rfFamily, doc int64) {
			hide(f.giulia, doc, true)
			if res := hide(f.giulia, doc, false); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("show: %d", res.StatusCode)
			}
			if got := f.sees(t, f.mario); !slices.Equal(got, []int64{doc}) {
				t.Errorf("Mario sees %v, want the report shown again", got)
			}
			if rec := fcDownload(f.mario, doc); rec.Code != http.StatusOK {
				t.Errorf("Mario downloads the report shown again: %d", rec.Code)
			}
			if got := len(repAudit(f.a, db.ActionReportUnhide)); got != 1 {
				t.Errorf("report.unhide audited %d times, want 1", got)
			}
		}},
		{"a relative's account may not hide the patient's report", func(t *testing.T, f *rfFamily, doc int64) {
			if res := hide(f.mario, doc, true); res.StatusCode != http.StatusForbidden {
				t.Errorf("Mario hides: %d, want 403", res.StatusCode)
			}
			if got := f.sees(t, f.mario); !slices.Equal(got, []int64{doc}) {
				t.Errorf("Mario sees %v, want the report still visible", got)
			}
		}},
		{"another patient's report and a made-up id are the same 404", func(t *testing.T, f *rfFamily, doc int64) {
			rossiVisit, _ := f.desk.accept(f.a.acceptForm())
			other, _ := publishReport(t, f.desk, rossiVisit, "Radiografia")
			for _, id := range []int64{other, fcMadeUpID} {
				if res := hide(f.giulia, id, true); res.StatusCode != http.StatusNotFound {
					t.Errorf("Giulia hides report %d: %d, want 404", id, res.StatusCode)
				}
			}
			if n := authCount(t, f.a, `SELECT count(*) FROM documents WHERE hidden_at IS NOT NULL`); n != 0 {
				t.Errorf("%d reports hidden", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, nil))
			doc, _ := publishReport(t, f.desk, f.ownVisit, "Ecografia")
			if got := f.sees(t, f.mario); !slices.Equal(got, []int64{doc}) {
				t.Fatalf("before hiding Mario sees %v, want %d", got, doc)
			}
			tt.run(t, f, doc)
		})
	}
}

// TestACorrectedReportStaysHidden: a clinic system's correction replaces
// a hidden report with a new one, hidden as well.
func TestACorrectedReportStaysHidden(t *testing.T) {
	f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, nil))
	token := f.a.integration(t, "LIS", []string{db.ScopeReports})
	v, err := f.a.db.Visit(t.Context(), f.ownVisit)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/visits/" + v.AccessionNumber() + "/reports/LAB-7?title=Esami&publish=true"
	if rec := f.a.apiPDF(t, path, token, samplePDF(t, "Esami v1")); rec.Code != http.StatusCreated {
		t.Fatalf("put: %d\n%s", rec.Code, rec.Body.String())
	}
	first := f.sees(t, f.giulia)
	hide(f.giulia, first[0], true)
	if rec := f.a.apiPDF(t, path, token, samplePDF(t, "Esami v2")); rec.Code != http.StatusOK {
		t.Fatalf("correction: %d\n%s", rec.Code, rec.Body.String())
	}
	second := f.sees(t, f.giulia)
	if len(second) != 1 || second[0] == first[0] {
		t.Fatalf("Giulia sees %v after the correction, want one new report", second)
	}
	if got := f.sees(t, f.mario); len(got) != 0 {
		t.Errorf("Mario sees the corrected version %v of a report Giulia hid", got)
	}
}
