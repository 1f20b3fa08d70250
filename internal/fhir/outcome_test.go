package fhir

import (
	"errors"
	"testing"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

func TestOperationOutcome(t *testing.T) {
	tests := []struct {
		name     string
		issue    Issue
		wantCode string
	}{
		{"invalid with a path", Issue{Path: "DocumentReference.content[0].attachment.data", Code: CodeInvalid, Diagnostics: "data is not valid base64"}, "invalid"},
		{"structure", Issue{Code: CodeStructure, Diagnostics: "not JSON"}, "structure"},
		{"required", Issue{Code: CodeRequired, Diagnostics: "x"}, "required"},
		{"value", Issue{Code: CodeValue, Diagnostics: "x"}, "value"},
		{"not-supported", Issue{Code: CodeNotSupported, Diagnostics: "x"}, "not-supported"},
		{"not-found", Issue{Code: CodeNotFound, Diagnostics: "no such report"}, "not-found"},
		{"duplicate", Issue{Code: CodeDuplicate, Diagnostics: "x"}, "duplicate"},
		{"conflict", Issue{Code: CodeConflict, Diagnostics: "report already delivered"}, "conflict"},
		{"security", Issue{Code: CodeSecurity, Diagnostics: "bad token"}, "security"},
		{"too-costly", Issue{Code: CodeTooCostly, Diagnostics: "body over 20 MB"}, "too-costly"},
		{"processing", Issue{Code: CodeProcessing, Diagnostics: "x"}, "processing"},
		{"exception", Issue{Code: CodeException, Diagnostics: "database unavailable"}, "exception"},
		{"empty code", Issue{Diagnostics: "x"}, "processing"},
		{"code that FHIR does not have", Issue{Code: "oops", Diagnostics: "x"}, "processing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := OperationOutcome(tt.issue)
			oo := parseJSON(t, body)
			if got := at(t, oo, "resourceType"); got != "OperationOutcome" {
				t.Errorf("resourceType: got %v", got)
			}
			if got := at(t, oo, "issue", 0, "severity"); got != "error" {
				t.Errorf("severity: got %v", got)
			}
			if got := at(t, oo, "issue", 0, "code"); got != tt.wantCode {
				t.Errorf("code: got %v, want %v", got, tt.wantCode)
			}
			if got := at(t, oo, "issue", 0, "diagnostics"); got != tt.issue.Diagnostics {
				t.Errorf("diagnostics: got %v", got)
			}
			_, hasExpr := obj(t, oo, "issue", 0)["expression"]
			if hasExpr != (tt.issue.Path != "") {
				t.Errorf("expression present: %v, path %q", hasExpr, tt.issue.Path)
			}
			if tt.issue.Path != "" {
				if got := at(t, oo, "issue", 0, "expression", 0); got != tt.issue.Path {
					t.Errorf("expression: got %v", got)
				}
			}
			back, err := fm.UnmarshalOperationOutcome(body)
			if err != nil || back.Issue[0].Code.Code() != tt.wantCode {
				t.Errorf("the model library reads back %v, %v", back.Issue, err)
			}
		})
	}
}

// FHIR requires at least one issue, so even a call without any yields a
// valid OperationOutcome.
func TestOperationOutcomeWithoutIssues(t *testing.T) {
	oo := parseJSON(t, OperationOutcome())
	if n := len(at(t, oo, "issue").([]any)); n != 1 {
		t.Errorf("got %d issues, want 1", n)
	}
}

// The caller's path from a refused upload to the answer: every issue found
// becomes an issue of the OperationOutcome, in order, with its location.
func TestOperationOutcomeFromRefusal(t *testing.T) {
	body := edited(t, lab, func(r map[string]any) {
		delete(r, "masterIdentifier")
		obj(t, r, "content", 0, "attachment")["data"] = "%%%"
	})
	_, err := ParseDocumentReference(body)
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("got %v, want *Invalid", err)
	}
	oo := parseJSON(t, OperationOutcome(inv.Issues...))
	want := []string{"DocumentReference.masterIdentifier", "DocumentReference.content[0].attachment.data"}
	issues := at(t, oo, "issue").([]any)
	if len(issues) != len(want) {
		t.Fatalf("got %d issues, want %d", len(issues), len(want))
	}
	for i, w := range want {
		if got := at(t, issues[i], "expression", 0); got != w {
			t.Errorf("issue %d expression: got %v, want %v", i, got, w)
		}
	}
}
