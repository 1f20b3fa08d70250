package fhir

import (
	"fmt"
	"strings"
)

// Issue type codes (FHIR R4 value set "IssueType") for Issue.Code: the ones
// this package produces, and the ones a caller needs for its own answers.
const (
	// CodeInvalid is for content that breaks a rule of this API or of FHIR.
	CodeInvalid = "invalid"
	// CodeStructure is for a body that is not JSON, or an element of the
	// wrong JSON kind.
	CodeStructure = "structure"
	// CodeRequired is for a required element that is missing.
	CodeRequired = "required"
	// CodeValue is for an element whose value is not one of the allowed codes.
	CodeValue = "value"
	// CodeNotSupported is for content that is valid FHIR but that this
	// server does not handle (a url-only attachment, a non-PDF document).
	CodeNotSupported = "not-supported"
	// CodeNotFound is for a reference, or a requested resource, that does
	// not exist.
	CodeNotFound = "not-found"
	// CodeDuplicate is for the same report sent twice in one request.
	CodeDuplicate = "duplicate"
	// CodeConflict is for a request that contradicts what the server holds.
	CodeConflict = "conflict"
	// CodeSecurity is for an authentication or authorization failure.
	CodeSecurity = "security"
	// CodeTooCostly is for a request too large to process.
	CodeTooCostly = "too-costly"
	// CodeProcessing is for a failure to process a valid request.
	CodeProcessing = "processing"
	// CodeException is for an unexpected internal error.
	CodeException = "exception"
)

// Issue is one problem with a request, shaped like an OperationOutcome issue.
// Path is a FHIRPath expression for the element at fault, such as
// "DocumentReference.content[0].attachment.data" ("DocumentReference" or
// "Bundle" alone when the body is not JSON, "resourceType" when it is the
// wrong resource); a caller may leave it empty for a problem with no place.
// Code is an issue type such as CodeInvalid; Diagnostics is a sentence for
// the integrator on the sending side.
type Issue struct {
	Path        string
	Code        string
	Diagnostics string
}

// String returns the issue as one line, path first.
func (i Issue) String() string {
	if i.Path == "" {
		return i.Diagnostics
	}
	return i.Path + ": " + i.Diagnostics
}

// Invalid is the error for a resource that cannot be accepted as it is. It
// lists every problem found, not only the first, so the sender can fix them
// all at once; a caller answers 400 with OperationOutcome(err.Issues...).
type Invalid struct {
	Issues []Issue
}

// Error returns the issues on one line.
func (e *Invalid) Error() string {
	return "invalid FHIR resource: " + joinIssues(e.Issues)
}

// UnsupportedContentType is the error for a document delivered in a format
// other than PDF. It is a separate type so that a caller can answer 415
// rather than 400. ContentType is the first offending media type as sent;
// Issues lists the content type issues first, then any other problem found.
type UnsupportedContentType struct {
	ContentType string
	Issues      []Issue
}

// Error names the refused content type and lists the issues.
func (e *UnsupportedContentType) Error() string {
	return fmt.Sprintf("unsupported document content type %q: %s", e.ContentType, joinIssues(e.Issues))
}

func joinIssues(issues []Issue) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		parts[i] = is.String()
	}
	return strings.Join(parts, "; ")
}

// problems collects the issues found while reading one request.
type problems struct {
	issues      []Issue
	media       []Issue
	contentType string
}

func (p *problems) add(path, code, format string, args ...any) {
	p.issues = append(p.issues, Issue{Path: path, Code: code, Diagnostics: fmt.Sprintf(format, args...)})
}

func (p *problems) addIssue(is Issue) {
	p.issues = append(p.issues, is)
}

// unsupported records a document whose bytes were delivered in a format
// other than PDF; it makes the whole request a 415.
func (p *problems) unsupported(path, contentType string) {
	if len(p.media) == 0 {
		p.contentType = contentType
	}
	p.media = append(p.media, Issue{Path: path, Code: CodeNotSupported, Diagnostics: fmt.Sprintf(
		"content type %q is not accepted: reports are accepted as application/pdf only", contentType)})
}

// err returns the collected problems as the error a caller maps to a status,
// or nil when there are none.
func (p *problems) err() error {
	switch {
	case len(p.media) > 0:
		return &UnsupportedContentType{ContentType: p.contentType, Issues: append(append([]Issue(nil), p.media...), p.issues...)}
	case len(p.issues) > 0:
		return &Invalid{Issues: p.issues}
	}
	return nil
}
