package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
)

// Tests of the desk's list "da pubblicare": per facility, the visits whose
// uploaded reports wait to be published.

// dwToPublish returns the list's rows: visit id to the row's text.
func dwToPublish(t *testing.T, c *client, query string) map[string]string {
	t.Helper()
	rec := c.get("/desk/da-pubblicare" + query)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /desk/da-pubblicare%s: status %d", query, rec.Code)
	}
	rows := map[string]string{}
	parseHTML(t, rec.Body.String()).Find("[data-testid=to-publish] tr[data-visit]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-visit")
		rows[id] = strings.Join(strings.Fields(s.Text()), " ")
	})
	return rows
}

func TestTheDeskListsPerFacilityTheVisitsWhoseReportsWaitToBePublished(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	cli := db.Actor{Kind: "cli", Name: "test"}
	north, err := a.db.CreateFacility(ctx, db.Facility{Code: "NO", Name: "Ambulatorio Nord"}, cli, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.SetStaffFacility(ctx, a.deskID, a.facilityID, cli, a.Now()); err != nil {
		t.Fatal(err)
	}
	c := a.deskClient()
	pdf := samplePDF(t, "Esami")
	waiting, _ := c.accept(a.acceptForm())
	repUploadOK(t, c, waiting, file{"Esami del sangue", "a.pdf", pdf}, file{"Glicemia", "b.pdf", pdf})
	nothingYet, _ := c.accept(a.acceptForm())
	elsewhere, _ := c.accept(accWith(a.acceptForm(), "facility", fmt.Sprint(north)))
	repUploadOK(t, c, elsewhere, file{"Radiografia", "c.pdf", pdf})

	// The list opens on the member's own facility.
	rows := dwToPublish(t, c, "")
	if len(rows) != 1 {
		t.Fatalf("own facility's list: %v, want only visit %d", rows, waiting)
	}
	if got := rows[fmt.Sprint(waiting)]; !strings.Contains(got, "Rossi Mario") || !strings.Contains(got, "2 referti") {
		t.Errorf("row of visit %d: %q, want the patient and 2 referti", waiting, got)
	}
	if _, ok := rows[fmt.Sprint(nothingYet)]; ok {
		t.Errorf("a visit without reports is listed")
	}
	if rows := dwToPublish(t, c, fmt.Sprintf("?facility=%d", north)); len(rows) != 1 || !strings.Contains(rows[fmt.Sprint(elsewhere)], "1 referto") {
		t.Errorf("the other facility's list: %v, want visit %d with 1 referto", rows, elsewhere)
	}

	// Published, the visit leaves the list.
	if rec := c.post(fmt.Sprintf("/desk/visits/%d/publish", waiting), url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish: status %d", rec.Code)
	}
	if rows := dwToPublish(t, c, ""); len(rows) != 0 {
		t.Errorf("after publishing: %v, want an empty list", rows)
	}
	if !strings.Contains(c.get("/desk/da-pubblicare").Body.String(), "Nessun referto in attesa di pubblicazione") {
		t.Error("the empty list does not say so")
	}
	// Reading the list (patients' names) is audited.
	if got := a.auditActions(db.AuditFilter{Action: db.ActionDraftsList}); len(got) != 4 || got[0].ObjectID != a.facilityID {
		t.Errorf("audit: %d events (first %+v), want 4, the first on facility %d", len(got), got, a.facilityID)
	}
}

// A report of a protected visit never goes online while protected
// reports go on paper (the default): it is not waiting to be published.
func TestTheListLeavesOutReportsThatGoOnPaperOnly(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visit, _ := c.accept(a.acceptForm())
	repUploadOK(t, c, visit, file{"Esami del sangue", "a.pdf", samplePDF(t, "Esami")})
	if rec := c.post(fmt.Sprintf("/desk/visits/%d/protected", visit), url.Values{"on": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("mark protected: status %d", rec.Code)
	}
	if rows := dwToPublish(t, c, ""); len(rows) != 0 {
		t.Errorf("list: %v, want no visit", rows)
	}
}
