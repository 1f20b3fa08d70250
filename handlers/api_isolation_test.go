package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"fse/db"
)

// Integrations of one facility never overwrite or withdraw each other's
// reports.
func TestAPIIntegrationsCannotTouchEachOthersReports(t *testing.T) {
	l := newLab(t)
	l.put(t, "LAB-1", "?title=Esami&publish=true", samplePDF(t, "Esami"))
	ris := l.a.integration(t, "Radiologia", []string{db.ScopeReports})
	path := "/api/v1/visits/" + l.accession + "/reports/LAB-1"
	wantProblem(t, l.a.apiPDF(t, path+"?title=RX&publish=true", ris, samplePDF(t, "RX")), http.StatusConflict)
	wantProblem(t, l.a.api(t, apiCall{method: http.MethodDelete, path: path, token: ris}), http.StatusConflict)
	if got := l.reports(t)["LAB-1"]; got["state"] != "published" || got["title"] != "Esami" {
		t.Errorf("the lab's report after the other integration's attempts: %v", got)
	}
	if len(l.a.auditActions(db.AuditFilter{Action: db.ActionReportCorrect})) != 0 {
		t.Error("a correction was recorded")
	}
}

// A HIS may not turn on online delivery the patient declined at the desk.
func TestAPIReissueRefusedForADeclinedVisit(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits})
	body := visitBody("CUP-9")
	body["online_declined"] = true
	acc := decode(t, a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, body))["accession_number"].(string)
	wantProblem(t, a.api(t, apiCall{method: http.MethodPost, path: "/api/v1/visits/" + acc + "/code", token: token}), http.StatusConflict)
	if m := decode(t, a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/" + acc, token: token})); m["online_declined"] != true {
		t.Errorf("visit after the refused reissue: %v", m)
	}
}

// A valid token keeps working while others behind the same address fail.
func TestAPIValidTokenIsNotLockedOutByOthersFailures(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits})
	for range 12 {
		a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: "fse_" + strings.Repeat("x", 43)})
	}
	wantProblem(t, a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: "fse_wrong"}),
		http.StatusTooManyRequests)
	if rec := a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: token}); rec.Code != http.StatusNotFound {
		t.Errorf("the valid token: %d, want it through (404: no such visit)", rec.Code)
	}
}

// A correction while the patient has the service off replaces the wrong
// report silently, so it is not shown again when they turn it back on.
func TestAPICorrectionWhileTheServiceIsOffReplacesSilently(t *testing.T) {
	l := newLab(t)
	l.put(t, "LAB-1", "?title=Esami&publish=true", samplePDF(t, "Sbagliato"))
	pid := patientByCF(t, l.a, rossiCF).ID
	l.patient.post(fmt.Sprintf("/fascicolo/%d/disattiva", pid), nil)
	notices := l.notices(t)
	right := samplePDF(t, "Giusto")
	if rec := l.put(t, "LAB-1", "?title=Esami", right); rec.Code != http.StatusOK || decode(t, rec)["outcome"] != "corrected" {
		t.Fatalf("correction while off: %d %s", rec.Code, rec.Body.String())
	}
	if l.notices(t) != notices {
		t.Error("a notice was queued while the service is off")
	}
	l.patient.post(fmt.Sprintf("/fascicolo/%d/riattiva", pid), map[string][]string{"consent": {"1"}})
	if got := l.download(t); string(got) != string(right) {
		t.Error("after turning the service on the patient sees the wrong report")
	}
}

// The clinic's pickup proof survives a correction: the patient collected
// the report, whichever version.
func TestAPIFirstDownloadSurvivesACorrection(t *testing.T) {
	l := newLab(t)
	l.put(t, "LAB-1", "?title=Esami&publish=true", samplePDF(t, "Prima"))
	l.download(t)
	l.put(t, "LAB-1", "?title=Esami", samplePDF(t, "Rettificato"))
	if got := l.reports(t)["LAB-1"]; got["first_downloaded_at"] == nil {
		t.Errorf("after the correction: %v, want the first download kept", got)
	}
}

// A HIS may not move a patient who reads reports online to another mobile.
func TestAPICannotChangeTheMobileOfAPatientOnline(t *testing.T) {
	l := newLab(t)
	body := visitBody("CUP-2")
	body["patient"].(map[string]any)["mobile"] = "347 000 1111"
	wantProblem(t, l.a.apiJSON(t, http.MethodPost, "/api/v1/visits", l.token, body), http.StatusConflict)
	if p := patientByCF(t, l.a, rossiCF); p.Mobile != rossiMobile {
		t.Errorf("mobile = %s, want unchanged", p.Mobile)
	}
}
