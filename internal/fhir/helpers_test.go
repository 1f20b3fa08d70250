package fhir

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The PDFs inside the testdata resources (base64 there). They are minimal
// PDF-shaped bytes: whether a PDF is well formed is not this package's job.
const (
	pdfBody    = "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	pdfExample = "%PDF-1.4\n% documentreference-example: Physical\n" + pdfBody
	pdfLab     = "%PDF-1.4\n% referto LAB-998877: esami del sangue\n" + pdfBody
	pdfRX      = "%PDF-1.4\n% referto RAD-551200: RX torace\n" + pdfBody
)

// testdata returns the bytes of a file in testdata/.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edited returns a testdata resource changed by edit, which works on the
// generic JSON (objects are map[string]any, arrays []any).
func edited(t *testing.T, name string, edit func(r map[string]any)) []byte {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(testdata(t, name), &r); err != nil {
		t.Fatal(err)
	}
	edit(r)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at walks generic JSON by object keys and array indexes; it fails the test
// when a step is missing.
func at(t *testing.T, v any, steps ...any) any {
	t.Helper()
	for i, s := range steps {
		switch s := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("step %d (%q): not an object: %v", i, s, v)
			}
			if v, ok = m[s]; !ok {
				t.Fatalf("step %d: no %q in %v", i, s, m)
			}
		case int:
			a, ok := v.([]any)
			if !ok || s >= len(a) {
				t.Fatalf("step %d ([%d]): not an array that long: %v", i, s, v)
			}
			v = a[s]
		}
	}
	return v
}

// obj returns the object at steps, for editing.
func obj(t *testing.T, v any, steps ...any) map[string]any {
	t.Helper()
	m, ok := at(t, v, steps...).(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", steps)
	}
	return m
}

// parseJSON decodes a JSON answer into generic JSON, failing on bad JSON.
func parseJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, b)
	}
	return v
}

// refusal is what a test expects of a refused request: the kind of error
// (415 or not) and one issue that must be among those reported.
type refusal struct {
	unsupported bool
	path, code  string
	says        string // a fragment of the diagnostics
}

// checkRefusal checks that err is the expected kind and reports the
// expected issue.
func checkRefusal(t *testing.T, err error, want refusal) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted, want refused")
	}
	var issues []Issue
	var inv *Invalid
	var uns *UnsupportedContentType
	switch {
	case errors.As(err, &uns):
		if !want.unsupported {
			t.Errorf("error is UnsupportedContentType (415), want Invalid: %v", err)
		}
		issues = uns.Issues
	case errors.As(err, &inv):
		if want.unsupported {
			t.Errorf("error is Invalid, want UnsupportedContentType (415): %v", err)
		}
		issues = inv.Issues
	default:
		t.Fatalf("error %T is neither Invalid nor UnsupportedContentType: %v", err, err)
	}
	for _, is := range issues {
		if is.Path == want.path && is.Code == want.code && strings.Contains(is.Diagnostics, want.says) {
			return
		}
	}
	t.Errorf("no issue {%s %s ...%q...} among:\n%s", want.path, want.code, want.says, joinIssues(issues))
}
