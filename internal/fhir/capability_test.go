package fhir

import (
	"testing"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// The CapabilityStatement has what a FHIR client checks before talking to a
// server: the FHIR version, JSON, and which interactions DocumentReference
// and the system support.
func TestCapabilityStatementJSON(t *testing.T) {
	now := time.Date(2026, 3, 14, 10, 0, 0, 0, rome)
	body := CapabilityStatementJSON("https://referti.example.it/fhir/", "1.4.0", now)
	cs := parseJSON(t, body)
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"resourceType"}, "CapabilityStatement"},
		{[]any{"status"}, "active"},
		{[]any{"kind"}, "instance"},
		{[]any{"fhirVersion"}, "4.0.1"},
		{[]any{"date"}, "2026-03-14T09:00:00Z"},
		{[]any{"software", "name"}, "fse"},
		{[]any{"software", "version"}, "1.4.0"},
		{[]any{"implementation", "url"}, "https://referti.example.it/fhir"},
		{[]any{"rest", 0, "mode"}, "server"},
		{[]any{"rest", 0, "resource", 0, "type"}, "DocumentReference"},
		{[]any{"rest", 0, "resource", 0, "interaction", 0, "code"}, "create"},
		{[]any{"rest", 0, "resource", 0, "interaction", 1, "code"}, "search-type"},
		{[]any{"rest", 0, "resource", 0, "searchParam", 0, "name"}, "identifier"},
		{[]any{"rest", 0, "resource", 0, "searchParam", 0, "type"}, "token"},
		{[]any{"rest", 0, "resource", 0, "searchParam", 0, "definition"}, "http://hl7.org/fhir/SearchParameter/clinical-identifier"},
		{[]any{"rest", 0, "interaction", 0, "code"}, "transaction"},
	} {
		if got := at(t, cs, c.path...); got != c.want {
			t.Errorf("%v: got %v, want %v", c.path, got, c.want)
		}
	}
	json := false
	for _, f := range at(t, cs, "format").([]any) {
		json = json || f == "json" || f == "application/fhir+json"
	}
	if !json {
		t.Errorf("format does not list JSON: %v", cs["format"])
	}
	if n := len(at(t, cs, "rest", 0, "resource", 0, "interaction").([]any)); n != 2 {
		t.Errorf("DocumentReference has %d interactions, want create and search-type only", n)
	}
	got, err := fm.UnmarshalCapabilityStatement(body)
	if err != nil {
		t.Fatalf("the model library does not read it: %v", err)
	}
	if got.FhirVersion != fm.FHIRVersion4_0_1 || got.Rest[0].Resource[0].Type != fm.ResourceTypeDocumentReference {
		t.Errorf("read back: fhirVersion %v, resource %v", got.FhirVersion, got.Rest[0].Resource[0].Type)
	}
}
