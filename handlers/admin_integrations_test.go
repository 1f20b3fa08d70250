package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAdminCreatesAndRevokesAnIntegration(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	form := url.Values{"name": {"Laboratorio analisi"}, "facility": {fmt.Sprint(a.facilityID)}, "scope_reports": {"1"},
		"allow_cidr": {"192.0.2.0/24"}}
	rec := admin.post("/desk/admin/integrations", form)
	if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "/token") {
		t.Fatalf("create: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	page := admin.follow(rec)
	token := strings.TrimSpace(parseHTML(t, page.Body.String()).Find("[data-testid=integration-token]").Text())
	if !strings.HasPrefix(token, "fse_") {
		t.Fatalf("token page shows %q", token)
	}
	// Shown once: the page again sends the admin back with an explanation.
	if again := admin.follow(rec); again.Code != http.StatusSeeOther || strings.Contains(admin.follow(again).Body.String(), token) {
		t.Error("the token was shown twice")
	}
	list := admin.get("/desk/admin/integrations").Body.String()
	if !strings.Contains(list, "Laboratorio analisi") || !strings.Contains(list, "192.0.2.0/24") || strings.Contains(list, token) {
		t.Error("the list does not show the integration (or shows its token)")
	}
	// The token works from its network, for its scope only.
	if rec := a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: token}); rec.Code != http.StatusNotFound {
		t.Errorf("GET with the new token: %d, want 404 (authenticated, no such visit)", rec.Code)
	}
	wantProblem(t, a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, visitBody("X")), http.StatusForbidden)

	in, err := a.db.IntegrationByName(t.Context(), "Laboratorio analisi")
	if err != nil {
		t.Fatal(err)
	}
	if rec := admin.post(fmt.Sprintf("/desk/admin/integrations/%d/revoke", in.ID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rec.Code)
	}
	wantProblem(t, a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: token}), http.StatusUnauthorized)
	// The refused attempt is listed for the admin, by address.
	if got := admin.get("/desk/admin/integrations").Body.String(); !strings.Contains(got, "192.0.2.50") {
		t.Error("refused attempts are not shown")
	}
	// Reception staff cannot manage integrations.
	if rec := a.deskClient().get("/desk/admin/integrations"); rec.Code != http.StatusForbidden {
		t.Errorf("reception: %d, want 403", rec.Code)
	}
}

func TestAdminIntegrationFormErrors(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	for _, tt := range []struct {
		field string
		form  url.Values
	}{
		{"name", url.Values{"facility": {fmt.Sprint(a.facilityID)}, "scope_visits": {"1"}}},
		{"facility", url.Values{"name": {"CUP"}, "facility": {"999"}, "scope_visits": {"1"}}},
		{"scope", url.Values{"name": {"CUP"}, "facility": {fmt.Sprint(a.facilityID)}}},
		{"allow_cidr", url.Values{"name": {"CUP"}, "facility": {fmt.Sprint(a.facilityID)}, "scope_visits": {"1"}, "allow_cidr": {"10.0.0.1"}}},
	} {
		rec := admin.post("/desk/admin/integrations", tt.form)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "field-error") {
			t.Errorf("%s: %d, want 422 with the error at the field", tt.field, rec.Code)
		}
	}
	if n := authCount(t, a, `SELECT count(*) FROM integrations`); n != 0 {
		t.Errorf("integrations = %d, want 0", n)
	}
}
