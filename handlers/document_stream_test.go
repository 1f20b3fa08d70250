package handlers_test

import (
	"fmt"
	"net/http"
	"testing"

	"fse/db"
)

// A report that cannot be opened (its sealed header damaged) is a server
// error for whoever asks, and never counts as delivered: no first download
// time, no download or view in the access history.
func TestUnreadableReportIsNeverCountedAsDelivered(t *testing.T) {
	a := newApp(t)
	visitID, code, _ := a.publishedVisit()
	patient := a.register("Mario", "Rossi", rossiMobile, "")
	if rec := patient.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d", rec.Code)
	}
	docs, err := a.db.VisitDocuments(t.Context(), visitID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("VisitDocuments = %v, %v", docs, err)
	}
	id := docs[0].ID
	if _, err := a.raw.Exec(`UPDATE document_chunks SET data = zeroblob(length(data)) WHERE document_id = ? AND seq = 0`, id); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		who    *client
		path   string
		action string
	}{
		{patient, fmt.Sprintf("/fascicolo/referti/%d", id), db.ActionReportDownload},
		{patient, fmt.Sprintf("/fascicolo/referti/%d/apri", id), db.ActionReportViewOnline},
		{a.deskClient(), fmt.Sprintf("/desk/documents/%d/file", id), db.ActionReportView},
	} {
		if rec := tt.who.get(tt.path); rec.Code != http.StatusInternalServerError {
			t.Errorf("GET %s = %d, want 500", tt.path, rec.Code)
		}
		if ev := a.auditActions(db.AuditFilter{Action: tt.action}); len(ev) != 0 {
			t.Errorf("GET %s audited %d %s events for a report nobody could read", tt.path, len(ev), tt.action)
		}
	}
	var downloaded int
	if err := a.raw.QueryRow(`SELECT count(*) FROM documents WHERE id = ? AND first_downloaded_at IS NOT NULL`, id).Scan(&downloaded); err != nil {
		t.Fatal(err)
	}
	if downloaded != 0 {
		t.Error("first_downloaded_at set for a report that could not be opened")
	}
}
