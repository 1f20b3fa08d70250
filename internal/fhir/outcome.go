package fhir

import (
	"encoding/json"
	"fmt"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// OperationOutcome returns the JSON of an OperationOutcome with one issue of
// severity error per Issue: its Code as the issue type (CodeProcessing when
// empty or not a FHIR issue type), its Diagnostics, and its Path as the
// expression. With no issues it still returns a valid resource, with a single
// "processing" issue, since FHIR requires at least one.
func OperationOutcome(issues ...Issue) []byte {
	if len(issues) == 0 {
		issues = []Issue{{Code: CodeProcessing, Diagnostics: "the request could not be processed"}}
	}
	oo := fm.OperationOutcome{Issue: make([]fm.OperationOutcomeIssue, len(issues))}
	for i, is := range issues {
		out := fm.OperationOutcomeIssue{Severity: fm.IssueSeverityError, Code: issueType(is.Code)}
		if is.Diagnostics != "" {
			out.Diagnostics = ptr(is.Diagnostics)
		}
		if is.Path != "" {
			out.Expression = []string{is.Path}
		}
		oo.Issue[i] = out
	}
	return mustJSON(oo, "OperationOutcome")
}

// issueType converts an issue code to the model's enumeration.
func issueType(code string) fm.IssueType {
	var t fm.IssueType
	quoted, _ := json.Marshal(code)
	if code == "" || t.UnmarshalJSON(quoted) != nil {
		return fm.IssueTypeProcessing
	}
	return t
}

// mustJSON marshals a resource built by this package. The models hold only
// strings, numbers and slices, so a failure is a bug here, not bad input.
func mustJSON(v any, what string) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fhir: marshal %s: %v", what, err))
	}
	return b
}
