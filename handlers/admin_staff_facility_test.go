package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"fse/db"
)

// Tests of each staff member's facility, which admins set on the staff
// page and the desk's forms open on.

func TestAdminsSetTheFacilityAMemberWorksAt(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.adminClient()
	path := fmt.Sprintf("/desk/admin/staff/%d/facility", a.deskID)

	if rec := admin.post(path, url.Values{"facility": {fmt.Sprint(a.facilityID)}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("set: status %d\n%s", rec.Code, rec.Body.String())
	}
	if got, err := a.db.StaffFacility(ctx, a.deskID); err != nil || got != a.facilityID {
		t.Errorf("stored facility: %d, %v; want %d", got, err, a.facilityID)
	}
	doc := parseHTML(t, admin.get("/desk/admin/staff").Body.String())
	sel := fmt.Sprintf("#facility-%d option[selected]", a.deskID)
	if got, _ := doc.Find(sel).Attr("value"); got != fmt.Sprint(a.facilityID) {
		t.Errorf("staff page: %s = %q, want %d", sel, got, a.facilityID)
	}
	if events := a.auditActions(db.AuditFilter{Action: db.ActionStaffFacility}); len(events) != 1 || events[0].ObjectID != a.deskID || events[0].Detail != "MN" {
		t.Errorf("audit: %+v, want one event on staff %d naming MN", events, a.deskID)
	}

	// "0" clears it; an unknown facility is refused.
	if rec := admin.post(path, url.Values{"facility": {"0"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("clear: status %d", rec.Code)
	}
	if got, _ := a.db.StaffFacility(ctx, a.deskID); got != 0 {
		t.Errorf("after clearing: facility %d, want none", got)
	}
	if rec := admin.post(path, url.Values{"facility": {"9999"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("unknown facility: status %d, want 422", rec.Code)
	}
	if rec := admin.post("/desk/admin/staff/9999/facility", url.Values{"facility": {fmt.Sprint(a.facilityID)}}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown member: status %d, want 404", rec.Code)
	}
	// Receptionists cannot change it, not even their own.
	if rec := a.deskClient().post(path, url.Values{"facility": {fmt.Sprint(a.facilityID)}}); rec.Code != http.StatusForbidden {
		t.Errorf("receptionist: status %d, want 403", rec.Code)
	}
}

func TestANewMemberCanBeGivenAFacilityAtCreation(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	form := url.Values{"username": {"sportello2"}, "display_name": {"Anna Neri"}, "role": {"reception"},
		"password": {"una frase lunga e non banale 42"}, "facility": {fmt.Sprint(a.facilityID)}}
	if rec := admin.post("/desk/admin/staff", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("create: status %d\n%s", rec.Code, rec.Body.String())
	}
	s, err := a.db.StaffByUsername(context.Background(), "sportello2")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.db.StaffFacility(context.Background(), s.ID); got != a.facilityID {
		t.Errorf("new member's facility: %d, want %d", got, a.facilityID)
	}

	form.Set("username", "sportello3")
	form.Set("facility", "9999")
	rec := admin.post("/desk/admin/staff", form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown facility: status %d, want 422", rec.Code)
	}
	if got := accFieldErrors(parseHTML(t, rec.Body.String()))["e-facility"]; got == "" {
		t.Error("no error at the facility field")
	}
	if _, err := a.db.StaffByUsername(context.Background(), "sportello3"); err == nil {
		t.Error("the member was created with an unknown facility")
	}
}
