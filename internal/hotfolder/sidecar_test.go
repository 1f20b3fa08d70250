package hotfolder

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSidecarWinsOverName(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	put(t, w.Dir, "MN-1__Dal nome.pdf", "%PDF")
	put(t, w.Dir, "MN-1__Dal nome.json", `{"accession": "MN-9", "title": "Dal JSON", "report_id": "R-77", "publish": false}`)

	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Imported: 1})
	calls := imp.Calls()
	if len(calls) != 1 {
		t.Fatalf("got %d import calls, want 1", len(calls))
	}
	f := calls[0].File
	if f.Accession != "MN-9" || f.Title != "Dal JSON" || f.ReportID != "R-77" || f.Name != "MN-1__Dal nome.pdf" {
		t.Errorf("file = %+v, want the sidecar's values", f)
	}
	if f.Publish == nil || *f.Publish {
		t.Errorf("publish = %v, want false", f.Publish)
	}
	wantFiles(t, w.Dir)
	wantFiles(t, filepath.Join(w.Dir, "done"), "MN-1__Dal nome.json", "MN-1__Dal nome.pdf")
}

func TestSidecarOptionalFields(t *testing.T) {
	tests := []struct {
		json     string
		publish  string // "nil", "true" or "false"
		reportID string
	}{
		{`{"accession": "MN-1", "title": "Eco"}`, "nil", "scan0001"},
		{`{"accession": "MN-1", "title": "Eco", "publish": null, "report_id": ""}`, "nil", "scan0001"},
		{`{"accession": "MN-1", "title": "Eco", "publish": true}`, "true", "scan0001"},
		{`{"accession": "MN-1", "title": "Eco", "publish": false, "report_id": "LIS-5"}`, "false", "LIS-5"},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			imp := &recorder{}
			w, _ := newWatcher(t, imp)
			put(t, w.Dir, "scan0001.PDF", "%PDF")
			put(t, w.Dir, "scan0001.json", tt.json)
			scan(t, w)
			wantSummary(t, scan(t, w), Summary{Imported: 1})
			f := imp.Calls()[0].File
			publish := "nil"
			if f.Publish != nil {
				publish = map[bool]string{true: "true", false: "false"}[*f.Publish]
			}
			if publish != tt.publish || f.ReportID != tt.reportID || f.Accession != "MN-1" || f.Title != "Eco" {
				t.Errorf("file = %+v (publish %s), want publish %s, report id %q", f, publish, tt.publish, tt.reportID)
			}
		})
	}
}

func TestBadSidecarIsRefusedWithItsPDF(t *testing.T) {
	tests := []struct {
		label, json, reason string
	}{
		{"not json", `accession: MN-1`, "non è un JSON valido"},
		{"unknown field", `{"accession": "MN-1", "title": "Eco", "titel": "x"}`, "titel"},
		{"wrong type", `{"accession": 42, "title": "Eco"}`, "non è un JSON valido"},
		{"trailing data", `{"accession": "MN-1", "title": "Eco"} {}`, "non è un JSON valido"},
		{"missing title", `{"accession": "MN-1"}`, "mancano i campi obbligatori: title"},
		{"blank accession", `{"accession": "  ", "title": "Eco"}`, "mancano i campi obbligatori: accession"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			imp := &recorder{}
			w, _ := newWatcher(t, imp)
			// The name is valid on its own, but the sidecar wins, even when bad.
			put(t, w.Dir, "MN-1__Eco.pdf", "%PDF")
			put(t, w.Dir, "MN-1__Eco.json", tt.json)
			scan(t, w)
			wantSummary(t, scan(t, w), Summary{Refused: 1})
			if n := len(imp.Calls()); n != 0 {
				t.Errorf("importer called %d times", n)
			}
			wantFiles(t, w.Dir)
			failed := filepath.Join(w.Dir, "failed")
			wantFiles(t, failed, "MN-1__Eco.json", "MN-1__Eco.pdf", "MN-1__Eco.txt")
			reason := read(t, filepath.Join(failed, "MN-1__Eco.txt"))
			if !strings.Contains(reason, tt.reason) || !strings.Contains(reason, "MN-1__Eco.json") {
				t.Errorf("reason = %q, want it to name the sidecar and contain %q", reason, tt.reason)
			}
		})
	}
}

func TestLoneSidecarWaitsThenFails(t *testing.T) {
	imp := &recorder{}
	w, clock := newWatcher(t, imp)
	put(t, w.Dir, "scan0001.json", `{"accession": "MN-1", "title": "Eco"}`)

	wantSummary(t, scan(t, w), Summary{Pending: 1})
	clock.Advance(9 * time.Minute)
	wantSummary(t, scan(t, w), Summary{Pending: 1})
	clock.Advance(59 * time.Second)
	wantSummary(t, scan(t, w), Summary{Pending: 1})
	wantFiles(t, w.Dir, "scan0001.json")

	clock.Advance(time.Second)
	wantSummary(t, scan(t, w), Summary{Refused: 1})
	wantFiles(t, w.Dir)
	failed := filepath.Join(w.Dir, "failed")
	wantFiles(t, failed, "scan0001.json", "scan0001.txt")
	reason := read(t, filepath.Join(failed, "scan0001.txt"))
	if !strings.Contains(reason, "scan0001.pdf non è arrivato entro 10 minuti") || !strings.Contains(reason, "within 10 minutes") {
		t.Errorf("reason = %q", reason)
	}
}

func TestSidecarBeforeItsPDF(t *testing.T) {
	imp := &recorder{}
	w, clock := newWatcher(t, imp)
	put(t, w.Dir, "scan0001.json", `{"accession": "MN-1", "title": "Eco"}`)
	scan(t, w)
	clock.Advance(5 * time.Minute)
	scan(t, w)

	put(t, w.Dir, "scan0001.pdf", "%PDF")
	wantSummary(t, scan(t, w), Summary{Pending: 1})
	clock.Advance(6 * time.Minute) // the sidecar is now old, but it has its PDF
	wantSummary(t, scan(t, w), Summary{Imported: 1})
	if f := imp.Calls()[0].File; f.Accession != "MN-1" || f.Title != "Eco" {
		t.Errorf("file = %+v, want the sidecar's values", f)
	}
	wantFiles(t, filepath.Join(w.Dir, "done"), "scan0001.json", "scan0001.pdf")
}
