package fhir

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

var rome = time.FixedZone("CET", 3600)

func storedLab() Stored {
	return Stored{
		ID: 42, Accession: "MN-2026-00042", ReportID: "LAB-998877", Title: "Esami del sangue",
		Date:            time.Date(2026, 3, 14, 10, 32, 5, 0, rome),
		Published:       time.Date(2026, 3, 14, 11, 0, 0, 0, time.UTC),
		Expires:         time.Date(2026, 5, 13, 11, 0, 0, 0, time.UTC),
		FirstDownloaded: time.Date(2026, 3, 15, 18, 20, 0, 0, time.UTC),
		Facility:        "Poliambulatorio Mantova",
	}
}

func TestDocumentReferenceJSON(t *testing.T) {
	body := DocumentReferenceJSON(storedLab())
	d := parseJSON(t, body)
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"resourceType"}, "DocumentReference"},
		{[]any{"id"}, "42"},
		{[]any{"status"}, "current"},
		{[]any{"docStatus"}, "final"},
		{[]any{"masterIdentifier", "value"}, "LAB-998877"},
		{[]any{"identifier", 0, "value"}, "MN-2026-00042"},
		{[]any{"identifier", 0, "type", "coding", 0, "system"}, "http://terminology.hl7.org/CodeSystem/v2-0203"},
		{[]any{"identifier", 0, "type", "coding", 0, "code"}, "ACSN"},
		{[]any{"description"}, "Esami del sangue"},
		{[]any{"date"}, "2026-03-14T09:32:05Z"},
		{[]any{"custodian", "display"}, "Poliambulatorio Mantova"},
		{[]any{"content", 0, "attachment", "contentType"}, "application/pdf"},
		{[]any{"extension", 0, "url"}, ExtensionPublished},
		{[]any{"extension", 0, "valueDateTime"}, "2026-03-14T11:00:00Z"},
		{[]any{"extension", 1, "url"}, ExtensionExpires},
		{[]any{"extension", 1, "valueDateTime"}, "2026-05-13T11:00:00Z"},
		{[]any{"extension", 2, "url"}, ExtensionFirstDownloaded},
		{[]any{"extension", 2, "valueDateTime"}, "2026-03-15T18:20:00Z"},
	} {
		if got := at(t, d, c.path...); got != c.want {
			t.Errorf("%v: got %v, want %v", c.path, got, c.want)
		}
	}
	att := obj(t, d, "content", 0, "attachment")
	if _, ok := att["data"]; ok {
		t.Error("the attachment carries data: the PDF must never be returned through FHIR")
	}
	if _, ok := att["url"]; ok {
		t.Error("the attachment carries a url: the PDF must never be returned through FHIR")
	}
	// The model library reads it back, so other FHIR clients can too.
	if _, err := fm.UnmarshalDocumentReference(body); err != nil {
		t.Errorf("the model library does not read it: %v", err)
	}
}

// What fse writes, its own reader understands the same way: accession,
// report id, title and status survive the trip.
func TestDocumentReferenceJSONRoundTrip(t *testing.T) {
	for _, state := range []string{"", "published", StateSuperseded, StateEnteredInError} {
		t.Run("state "+state, func(t *testing.T) {
			s := storedLab()
			s.State = state
			var d map[string]any
			if err := json.Unmarshal(DocumentReferenceJSON(s), &d); err != nil {
				t.Fatal(err)
			}
			obj(t, d, "content", 0, "attachment")["data"] = base64.StdEncoding.EncodeToString([]byte(pdfLab))
			body, _ := json.Marshal(d)
			r, err := ParseDocumentReference(body)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus := map[string]string{"": "current", "published": "current",
				StateSuperseded: "superseded", StateEnteredInError: "entered-in-error"}[state]
			if r.Accession != s.Accession || r.ReportID != s.ReportID || r.Title != s.Title ||
				r.Status != wantStatus || r.DocStatus != "final" || !r.Date.Equal(s.Date) {
				t.Errorf("got %+v from %+v", r, s)
			}
		})
	}
}

// Empty values are left out, since FHIR forbids empty strings.
func TestDocumentReferenceJSONLeavesOutEmpty(t *testing.T) {
	body := string(DocumentReferenceJSON(Stored{ID: 7}))
	for _, absent := range []string{`""`, "masterIdentifier", "identifier", "description", "date", "custodian", "extension"} {
		if strings.Contains(body, absent) {
			t.Errorf("%s in %s", absent, body)
		}
	}
}

func TestSearchSetJSON(t *testing.T) {
	second := storedLab()
	second.ID, second.ReportID, second.Title, second.State = 43, "LAB-998878", "Esame urine", StateSuperseded
	tests := []struct {
		name string
		docs []Stored
		ids  []string
	}{
		{"two matches", []Stored{storedLab(), second}, []string{"42", "43"}},
		{"no match", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := SearchSetJSON("https://referti.example.it/fhir/", tt.docs)
			b := parseJSON(t, body)
			if at(t, b, "resourceType") != "Bundle" || at(t, b, "type") != "searchset" {
				t.Errorf("not a searchset Bundle: %s", body)
			}
			if got := at(t, b, "total"); got != float64(len(tt.ids)) {
				t.Errorf("total: got %v, want %d", got, len(tt.ids))
			}
			if len(tt.ids) == 0 {
				if _, ok := b["entry"]; ok {
					t.Errorf("an empty result has entries: %s", body)
				}
				return
			}
			for i, id := range tt.ids {
				if got, want := at(t, b, "entry", i, "fullUrl"), "https://referti.example.it/fhir/DocumentReference/"+id; got != want {
					t.Errorf("entry %d fullUrl: got %v, want %v", i, got, want)
				}
				if got := at(t, b, "entry", i, "resource", "id"); got != id {
					t.Errorf("entry %d id: got %v, want %v", i, got, id)
				}
				if got := at(t, b, "entry", i, "search", "mode"); got != "match" {
					t.Errorf("entry %d search mode: got %v", i, got)
				}
			}
			if got := at(t, b, "entry", 1, "resource", "status"); got != "superseded" {
				t.Errorf("second entry status: got %v, want superseded", got)
			}
			if strings.Contains(string(body), `"data"`) {
				t.Error("the searchset carries document data")
			}
			if _, err := fm.UnmarshalBundle(body); err != nil {
				t.Errorf("the model library does not read it: %v", err)
			}
		})
	}
}
