package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
	"fse/handlers"
	"fse/views"
)

// Tests of the admin pages: roles, staff, facilities, the audit log and the
// settings page.

// authSelection is a goquery selection.
type authSelection = goquery.Selection

// authStaffCount counts the staff rows.
func authStaffCount(t *testing.T, a *app) int {
	t.Helper()
	return authCount(t, a, `SELECT count(*) FROM staff`)
}

func TestAuthRoles(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	ctx := context.Background()

	for _, path := range []string{"/desk/admin/staff", "/desk/admin/facilities", "/desk/admin/audit", "/desk/admin/settings"} {
		rec := desk.get(path)
		if rec.Code != http.StatusForbidden {
			t.Errorf("reception GET %s: got %d, want 403", path, rec.Code)
			continue
		}
		if body := rec.Body.String(); !strings.Contains(body, "riservata agli amministratori") {
			t.Errorf("reception GET %s: 403 page lacks the Italian message:\n%s", path, body)
		}
	}

	staffBefore := authStaffCount(t, a)
	facilitiesBefore := authCount(t, a, `SELECT count(*) FROM facilities`)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/desk/admin/staff", url.Values{"username": {"intruso"}, "display_name": {"Intruso"}, "role": {"admin"}, "password": {"password-lunga-intruso"}}},
		{"/desk/admin/facilities", url.Values{"code": {"BS"}, "name": {"Sede Brescia"}}},
		{fmt.Sprintf("/desk/admin/staff/%d/active", a.adminID), url.Values{"active": {"0"}}},
	}
	for _, p := range posts {
		rec := desk.post(p.path, p.form)
		if rec.Code != http.StatusForbidden {
			t.Errorf("reception POST %s: got %d, want 403", p.path, rec.Code)
		}
		if body := rec.Body.String(); !strings.Contains(body, "riservata agli amministratori") {
			t.Errorf("reception POST %s: 403 page lacks the Italian message", p.path)
		}
	}
	if got, want := authStaffCount(t, a), staffBefore; got != want {
		t.Errorf("staff count: got %d, want %d", got, want)
	}
	if got, want := authCount(t, a, `SELECT count(*) FROM facilities`), facilitiesBefore; got != want {
		t.Errorf("facility count: got %d, want %d", got, want)
	}
	if _, err := a.db.StaffByUsername(ctx, "intruso"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("StaffByUsername(intruso): got err %v, want ErrNotFound", err)
	}
	admin, err := a.db.StaffByID(ctx, a.adminID)
	if err != nil {
		t.Fatal(err)
	}
	if !admin.Active {
		t.Error("a receptionist disabled the admin")
	}

	ad := a.adminClient()
	for _, path := range []string{"/desk/admin/staff", "/desk/admin/facilities", "/desk/admin/audit", "/desk/admin/settings"} {
		if rec := ad.get(path); rec.Code != http.StatusOK {
			t.Errorf("admin GET %s: got %d, want 200", path, rec.Code)
		}
	}
}

func TestAuthStaffDisable(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	desk := a.deskClient()
	token := authSessionToken(desk)
	if rec := desk.get("/desk"); rec.Code != http.StatusOK {
		t.Fatalf("desk GET /desk before disable: got %d, want 200", rec.Code)
	}
	admin := a.adminClient()

	rec := admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.deskID), url.Values{"active": {"0"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: got %d, want 303", rec.Code)
	}
	if st, err := a.db.StaffByID(ctx, a.deskID); err != nil || st.Active {
		t.Fatalf("after disable: active %v err %v, want inactive", st.Active, err)
	}
	authWantRedirectToLogin(t, "disabled member GET /desk", desk.get("/desk"))
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, authTokenHash(token)); got != 0 {
		t.Errorf("disabled member's session rows: got %d, want 0", got)
	}
	if got := len(a.auditActions(db.AuditFilter{Action: "staff.disable"})); got != 1 {
		t.Errorf("staff.disable audit rows: got %d, want 1", got)
	}

	if rec := authLoginAttempt(a.client(), receptionUser, receptionPass); rec.Code != http.StatusUnauthorized {
		t.Errorf("disabled member login: got %d, want 401", rec.Code)
	}

	if rec := admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.deskID), url.Values{"active": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("enable: got %d, want 303", rec.Code)
	}
	a.later() // disabling ended the sessions authenticated until then
	again := a.client()
	again.login(receptionUser, receptionPass)
	if rec := again.get("/desk"); rec.Code != http.StatusOK {
		t.Errorf("re-enabled member GET /desk: got %d, want 200", rec.Code)
	}

	rec = admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.adminID), url.Values{"active": {"0"}})
	if rec.Code != http.StatusConflict {
		t.Errorf("admin disables self: got %d, want 409", rec.Code)
	}
	if st, err := a.db.StaffByID(ctx, a.adminID); err != nil || !st.Active {
		t.Errorf("admin after self-disable attempt: active %v err %v, want active", st.Active, err)
	}
}

// Disabling a member ends their sessions for good: enabled again, they log
// in again; the session they had open does not come back.
func TestReEnablingAMemberDoesNotReviveTheirSessions(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	admin := a.adminClient()
	for _, active := range []string{"0", "1"} {
		if rec := admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.deskID), url.Values{"active": {active}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("active %s: got %d, want 303", active, rec.Code)
		}
	}
	authWantRedirectToLogin(t, "the session open before the member was disabled", desk.get("/desk"))
	a.later()
	again := a.client()
	again.login(receptionUser, receptionPass)
	paWantStatus(t, "a new login", again.get("/desk"), http.StatusOK)
}

func TestAuthAdminCreatesStaff(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.adminClient()

	rec := admin.post("/desk/admin/staff", url.Values{"username": {"laboratorio"}, "display_name": {"Laura Bianchi"},
		"role": {db.RoleReception}, "password": {"provetta azzurra sul bancone"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk/admin/staff" {
		t.Fatalf("create staff: got %d Location %q, want 303 to /desk/admin/staff", rec.Code, rec.Header().Get("Location"))
	}
	st, err := a.db.StaffByUsername(ctx, "laboratorio")
	if err != nil {
		t.Fatal(err)
	}
	if st.Role != db.RoleReception || st.DisplayName != "Laura Bianchi" || !st.Active {
		t.Errorf("new staff: got %+v", st)
	}
	if strings.Contains(st.PasswordHash, "provetta azzurra sul bancone") || !strings.HasPrefix(st.PasswordHash, "$argon2id$") {
		t.Errorf("stored password is not an argon2id hash: %q", st.PasswordHash)
	}
	// The password works; a new member sets up an app before anything else.
	if rec := authLoginAttempt(a.client(), "laboratorio", "provetta azzurra sul bancone"); rec.Code != http.StatusSeeOther ||
		rec.Header().Get("Location") != "/desk/security/app" {
		t.Errorf("new member's first login: got %d Location %q, want 303 to the enrolment", rec.Code, rec.Header().Get("Location"))
	}

	var created *db.AuditEvent
	for _, e := range a.auditActions(db.AuditFilter{Action: "staff.create"}) {
		if e.ObjectID == st.ID {
			created = &e
		}
	}
	if created == nil {
		t.Fatal("no staff.create audit row for the new member")
	}
	if created.Actor.Name != adminUser || created.Actor.Kind != "staff" {
		t.Errorf("staff.create actor: got %+v, want staff %s", created.Actor, adminUser)
	}
	if strings.Contains(authAuditDump(t, a), "provetta azzurra sul bancone") {
		t.Error("password written to the audit log")
	}

	for _, tc := range []struct {
		name      string
		form      url.Values
		status    int
		errorElem string
	}{
		{"duplicate", url.Values{"username": {receptionUser}, "role": {db.RoleReception}, "password": {"password-lunga-altra"}}, http.StatusConflict, "#e-username"},
		{"duplicate other case", url.Values{"username": {"SPORTELLO"}, "role": {db.RoleReception}, "password": {"password-lunga-altra"}}, http.StatusConflict, "#e-username"},
		{"short password", url.Values{"username": {"nuovo"}, "role": {db.RoleReception}, "password": {"corta12345"}}, http.StatusUnprocessableEntity, "#e-password"},
		{"11-char password", url.Values{"username": {"nuovo"}, "role": {db.RoleReception}, "password": {"12345678901"}}, http.StatusUnprocessableEntity, "#e-password"},
		{"space in username", url.Values{"username": {"a b"}, "role": {db.RoleReception}, "password": {"password-lunga-altra"}}, http.StatusUnprocessableEntity, "#e-username"},
		// The role <select> renders no field error (only reachable by a forged form): status only.
		{"bad role", url.Values{"username": {"nuovo"}, "role": {"root"}, "password": {"password-lunga-altra"}}, http.StatusUnprocessableEntity, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := authStaffCount(t, a)
			rec := admin.post("/desk/admin/staff", tc.form)
			if got, want := rec.Code, tc.status; got != want {
				t.Errorf("status: got %d, want %d", got, want)
			}
			if tc.errorElem != "" {
				if msg := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find(tc.errorElem).Text()); msg == "" {
					t.Errorf("no error message in %s", tc.errorElem)
				}
			}
			if got, want := authStaffCount(t, a), before; got != want {
				t.Errorf("staff count: got %d, want %d", got, want)
			}
		})
	}
}

func TestAuthAdminFacilities(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.adminClient()

	rec := admin.post("/desk/admin/facilities", url.Values{"code": {"BS"}, "name": {"Sede Brescia"}, "address": {"Via Milano 2, Brescia"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create facility: got %d, want 303\n%s", rec.Code, rec.Body.String())
	}
	list := admin.get("/desk/admin/facilities")
	if list.Code != http.StatusOK {
		t.Fatalf("facility list: got %d", list.Code)
	}
	var listed bool
	parseHTML(t, list.Body.String()).Find("tbody tr").Each(func(_ int, s *authSelection) {
		if strings.TrimSpace(s.Find("td").Eq(0).Text()) == "BS" && strings.TrimSpace(s.Find("td").Eq(1).Text()) == "Sede Brescia" {
			listed = true
		}
	})
	if !listed {
		t.Error("new facility BS not listed")
	}
	var bsID int64
	fs, err := a.db.Facilities(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Code == "BS" {
			bsID = f.ID
		}
	}
	if bsID == 0 {
		t.Fatal("facility BS not in the database")
	}
	if got := len(a.auditActions(db.AuditFilter{Action: "facility.create", Actor: adminUser})); got != 1 {
		t.Errorf("facility.create audit rows by admin: got %d, want 1", got)
	}

	for _, tc := range []struct {
		name   string
		code   string
		status int
	}{
		{"duplicate", "BS", http.StatusConflict},
		{"duplicate lower case", "bs", http.StatusConflict},
		{"too short", "x", http.StatusUnprocessableEntity},
		{"symbols", "B-S", http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := authCount(t, a, `SELECT count(*) FROM facilities`)
			rec := admin.post("/desk/admin/facilities", url.Values{"code": {tc.code}, "name": {"Altra sede"}})
			if got, want := rec.Code, tc.status; got != want {
				t.Errorf("status: got %d, want %d", got, want)
			}
			if msg := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("#e-code").Text()); msg == "" {
				t.Error("no error message on #e-code")
			}
			if got, want := authCount(t, a, `SELECT count(*) FROM facilities`), before; got != want {
				t.Errorf("facility count: got %d, want %d", got, want)
			}
		})
	}

	options := func() map[string]bool {
		t.Helper()
		rec := admin.get("/desk/accept")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /desk/accept: got %d", rec.Code)
		}
		out := map[string]bool{}
		parseHTML(t, rec.Body.String()).Find("select[name=facility] option").Each(func(_ int, s *authSelection) {
			out[s.AttrOr("value", "")] = true
		})
		return out
	}
	bs, mn := fmt.Sprint(bsID), fmt.Sprint(a.facilityID)
	if opts := options(); !opts[bs] || !opts[mn] {
		t.Errorf("acceptance options before disabling: got %v, want %s and %s", opts, bs, mn)
	}
	if rec := admin.post(fmt.Sprintf("/desk/admin/facilities/%d/active", bsID), url.Values{"active": {"0"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable facility: got %d, want 303", rec.Code)
	}
	if opts := options(); opts[bs] || !opts[mn] {
		t.Errorf("acceptance options after disabling BS: got %v, want only %s", opts, mn)
	}
}

func TestAuthAuditPage(t *testing.T) {
	a := newApp(t)
	authLoginAttempt(a.client(), receptionUser, "password-sbagliata-123")
	authLoginAttempt(a.client(), "sconosciuto", "password-sbagliata-123")
	a.deskClient()
	admin := a.adminClient()
	if rec := admin.post("/desk/admin/facilities", url.Values{"code": {"BS"}, "name": {"Sede Brescia"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("create facility: got %d", rec.Code)
	}

	type row struct{ actor, action, outcome string }
	fetch := func(t *testing.T, query string) (int, []row, string) {
		t.Helper()
		rec := admin.get("/desk/admin/audit" + query)
		var rows []row
		doc := parseHTML(t, rec.Body.String())
		doc.Find("table tbody tr").Each(func(_ int, s *authSelection) {
			td := s.Find("td")
			rows = append(rows, row{strings.Join(strings.Fields(td.Eq(1).Text()), " "),
				strings.TrimSpace(td.Eq(3).Text()), strings.TrimSpace(td.Eq(5).Text())})
		})
		return rec.Code, rows, rec.Body.String()
	}

	t.Run("all", func(t *testing.T) {
		code, rows, _ := fetch(t, "")
		if code != http.StatusOK {
			t.Fatalf("status: got %d, want 200", code)
		}
		actions := map[string]bool{}
		for _, r := range rows {
			actions[r.action] = true
		}
		for _, want := range []string{"staff.login", "staff.create", "facility.create"} {
			if !actions[want] {
				t.Errorf("audit page lacks %s; got %v", want, actions)
			}
		}
	})

	for _, tc := range []struct {
		name, query string
		keep        func(row) bool
		want        int
	}{
		{"action", "?action=staff.login", func(r row) bool { return r.action == "staff.login" }, 4},
		{"outcome", "?outcome=failed", func(r row) bool { return r.outcome == "failed" }, 2},
		// sportello: a wrong password, then a password and an app's code.
		{"actor", "?actor=sportello", func(r row) bool { return strings.Contains(r.actor, "sportello") }, 3},
		{"date range", "?from=2026-03-10&to=2026-03-10", func(row) bool { return true }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, rows, _ := fetch(t, tc.query)
			if code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", code)
			}
			if len(rows) == 0 {
				t.Fatal("no rows")
			}
			for _, r := range rows {
				if !tc.keep(r) {
					t.Errorf("row %+v does not match %s", r, tc.query)
				}
			}
			if tc.want >= 0 && len(rows) != tc.want {
				t.Errorf("rows: got %d, want %d", len(rows), tc.want)
			}
		})
	}

	t.Run("out of range", func(t *testing.T) {
		code, rows, body := fetch(t, "?from=2025-01-01&to=2025-01-31")
		if code != http.StatusOK {
			t.Errorf("status: got %d, want 200", code)
		}
		if len(rows) != 0 || !strings.Contains(body, "Nessun evento") {
			t.Errorf("got %d rows, want none and \"Nessun evento\"", len(rows))
		}
	})

	t.Run("bad date", func(t *testing.T) {
		code, rows, body := fetch(t, "?from=31-12-2026")
		if code != http.StatusUnprocessableEntity {
			t.Errorf("status: got %d, want 422", code)
		}
		if msg := strings.TrimSpace(parseHTML(t, body).Find("#e-from").Text()); msg == "" {
			t.Error("no error message on #e-from")
		}
		if len(rows) != 0 {
			t.Errorf("rows with an invalid filter: got %d, want 0", len(rows))
		}
	})
}

// TestAuditFilterPastItsBoundsIs422: the audit page's action and user
// filters are LIKE patterns; one of 60,000 characters is a 422 with an
// Italian message, not a 500 from SQLite ("LIKE or GLOB pattern too
// complex").
func TestAuditFilterPastItsBoundsIs422(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	for _, query := range []string{"actor=" + strings.Repeat("s", 60000), "action=" + strings.Repeat("staff.", 10000),
		"actor=" + strings.Repeat("s", db.MaxSearchLen+1)} {
		rec := admin.get("/desk/admin/audit?" + query)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%.20s…: status %d, want 422", query, rec.Code)
			continue
		}
		if got := flashError(t, rec.Body.String()); !strings.Contains(got, "troppo lungo") {
			t.Errorf("%.20s…: message %q, want the Italian one", query, got)
		}
	}
	if rec := admin.get("/desk/admin/audit?actor=" + strings.Repeat("s", db.MaxSearchLen)); rec.Code != http.StatusOK {
		t.Errorf("a filter at the bound: %d, want 200", rec.Code)
	}
	if strings.Contains(a.logs.String(), "request failed") {
		t.Errorf("a filter was logged as a server error:\n%s", a.logs.String())
	}
}

func TestAuthSettingsPage(t *testing.T) {
	const warning = "I referti restano online 60 giorni: le linee guida del Garante indicano un massimo di 45 giorni."
	a := newAppWith(t, func(cfg *handlers.Config) {
		cfg.RetentionDays = 60
		cfg.Settings = []views.Setting{{Name: "Permanenza online dei referti", Value: "60 giorni", Note: "--retention-days"}}
		cfg.Warnings = []string{warning}
	})
	rec := a.adminClient().get("/desk/admin/settings")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	var retention string
	doc.Find("tr").Each(func(_ int, s *authSelection) {
		if strings.TrimSpace(s.Find("th").Text()) == "Permanenza online dei referti" {
			retention = strings.TrimSpace(s.Find("td").First().Text())
		}
	})
	if got, want := retention, "60 giorni"; got != want {
		t.Errorf("retention setting: got %q, want %q", got, want)
	}
	if got := strings.TrimSpace(doc.Find(".warn[role=alert]").Text()); got != warning {
		t.Errorf("warning: got %q, want %q", got, warning)
	}

	plain := newApp(t)
	rec = plain.adminClient().get("/desk/admin/settings")
	if n := parseHTML(t, rec.Body.String()).Find(".warn").Length(); n != 0 {
		t.Errorf("warnings with none configured: got %d, want 0", n)
	}
}
