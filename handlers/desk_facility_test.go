package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"fse/db"
)

// The acceptance form and the desk's lists open on the member's own
// facility, not on the first by name.
func TestTheDeskOpensOnTheMembersFacility(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	cli := db.Actor{Kind: "cli", Name: "test"}
	// "Ambulatorio Nord" comes before "Poliambulatorio Test" by name.
	north, err := a.db.CreateFacility(ctx, db.Facility{Code: "NO", Name: "Ambulatorio Nord"}, cli, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := a.deskClient()
	selected := func() string {
		t.Helper()
		v, _ := parseHTML(t, c.get("/desk/accept").Body.String()).Find("#f-facility option[selected]").Attr("value")
		return v
	}
	if got, want := selected(), fmt.Sprint(north); got != want {
		t.Errorf("without a facility of their own: selected %s, want the first by name %s", got, want)
	}
	admin := a.adminClient()
	if rec := admin.post(fmt.Sprintf("/desk/admin/staff/%d/facility", a.deskID), url.Values{"facility": {fmt.Sprint(a.facilityID)}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("set facility: status %d\n%s", rec.Code, rec.Body.String())
	}
	if got, want := selected(), fmt.Sprint(a.facilityID); got != want {
		t.Errorf("with their own facility: selected %s, want %s", got, want)
	}
	// The desk's lists open on it too.
	for _, list := range []string{"/desk/uncollected", "/desk/da-pubblicare"} {
		v, _ := parseHTML(t, c.get(list).Body.String()).Find("#f-facility option[selected]").Attr("value")
		if v != fmt.Sprint(a.facilityID) {
			t.Errorf("%s opens on facility %s, want %d", list, v, a.facilityID)
		}
	}
	// A disabled facility is not offered: the form falls back to the first.
	if err := a.db.SetFacilityActive(ctx, a.facilityID, false, cli, a.Now()); err != nil {
		t.Fatal(err)
	}
	if got, want := selected(), fmt.Sprint(north); got != want {
		t.Errorf("own facility disabled: selected %s, want %s", got, want)
	}
}
