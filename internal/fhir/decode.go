package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

// decode unmarshals one resource's JSON into v. When it fails it returns the
// issue to report, with root ("DocumentReference", "Bundle.entry[2].resource")
// as the start of its path.
func decode(body []byte, v any, root string) (Issue, bool) {
	err := json.Unmarshal(body, v)
	if err == nil {
		return Issue{}, true
	}
	var syntax *json.SyntaxError
	var kind *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Issue{Path: root, Code: CodeStructure, Diagnostics: fmt.Sprintf(
			"not valid JSON at byte %d: %v", syntax.Offset, err)}, false
	case errors.As(err, &kind):
		field := jsonPath(kind.Field)
		path, what := root, "the resource"
		if field != "" {
			path = root + "." + field
			what = field
		}
		return Issue{Path: path, Code: CodeStructure, Diagnostics: fmt.Sprintf(
			"%s must be a JSON %s, not a JSON %s", what, jsonKind(kind.Type), kind.Value)}, false
	default:
		// The model library's own enumerated codes (Identifier.use,
		// relatesTo.code, request.method...) fail here without a path.
		return Issue{Path: root, Code: CodeValue, Diagnostics: err.Error()}, false
	}
}

// resourceType checks that body is a JSON object of resource type want. It
// runs before the full decode, so that a resource of another type is
// reported as such rather than as a list of elements that do not fit.
func resourceType(body []byte, want string, p *problems) bool {
	var head struct {
		ResourceType *string `json:"resourceType"`
	}
	if is, ok := decode(body, &head, want); !ok {
		p.addIssue(is)
		return false
	}
	switch rt := text(head.ResourceType); rt {
	case want:
		return true
	case "":
		p.add("resourceType", CodeRequired, "resourceType is missing: expected %s", want)
	default:
		p.add("resourceType", CodeInvalid, "resourceType is %q: expected %s", rt, want)
	}
	return false
}

// jsonPath turns the field path of a decoding error into FHIRPath steps. It
// drops the Go names of the model structs embedded in the shadowing types
// (documentReferenceIn, entryIn): FHIR element names never start upper case.
func jsonPath(field string) string {
	var steps []string
	for _, step := range strings.Split(field, ".") {
		if step != "" && !unicode.IsUpper(rune(step[0])) {
			steps = append(steps, step)
		}
	}
	return strings.Join(steps, ".")
}

// jsonKind names the JSON kind that a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// text returns the trimmed value of an optional FHIR string.
func text(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

// ptr returns a pointer to v, for the optional fields of the models.
func ptr[T any](v T) *T {
	return &v
}

// oneOf checks an enumerated code read as a plain string: it reports a
// missing required code or one outside allowed, and returns the code.
func oneOf(p *problems, path string, code *string, required bool, allowed ...string) string {
	if code == nil {
		if required {
			p.add(path, CodeRequired, "%s is required: one of %s", lastStep(path), strings.Join(allowed, ", "))
		}
		return ""
	}
	for _, a := range allowed {
		if *code == a {
			return a
		}
	}
	p.add(path, CodeValue, "%q is not a valid %s: use one of %s", *code, lastStep(path), strings.Join(allowed, ", "))
	return ""
}

// lastStep returns the last element name of a FHIRPath, for messages.
func lastStep(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
