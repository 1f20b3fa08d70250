package fhir

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	exampleInline = "documentreference-example-inline.json"
	exampleURL    = "documentreference-example.json"
	lab           = "documentreference-referto-lab.json"
)

func TestParseDocumentReference(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want Report
		pdf  string
	}{{
		// The R4 spec's example: accession from context.related (an
		// identifier with a system), report id from masterIdentifier.
		name: "spec example with inline PDF",
		body: testdata(t, exampleInline),
		want: Report{
			Accession: "urn:oid:1.3.6.1.4.1.21367.2005.3.7.2345",
			ReportID:  "urn:oid:1.3.6.1.4.1.21367.2005.3.7",
			Title:     "Physical", Status: "current", DocStatus: "preliminary",
			TypeCode: "34108-1", TypeSystem: "http://loinc.org", TypeDisplay: "Outpatient Note",
			Date:        time.Date(2005, 12, 23, 22, 43, 41, 0, time.UTC),
			ContentType: "application/pdf",
		},
		pdf: pdfExample,
	}, {
		name: "Italian lab report, accession typed ACSN",
		body: testdata(t, lab),
		want: Report{
			Accession: "MN-2026-00042", ReportID: "LAB-998877", FiscalCode: "RSSMRA58E52E897R",
			Title: "Esami del sangue", Status: "current", DocStatus: "final",
			TypeCode: "11502-2", TypeSystem: "http://loinc.org", TypeDisplay: "Laboratory report",
			Date:        time.Date(2026, 3, 14, 9, 32, 5, 0, time.UTC),
			ContentType: "application/pdf",
		},
		pdf: pdfLab,
	}, {
		name: "no description: title from type.text, no masterIdentifier: id from identifier",
		body: edited(t, lab, func(r map[string]any) {
			delete(r, "description")
			delete(r, "masterIdentifier")
			r["identifier"] = append(r["identifier"].([]any), map[string]any{"system": "urn:oid:2.16.840.1.113883.2.9.2.30.4.4", "value": "LAB-998877"})
			delete(r, "docStatus")
		}),
		want: Report{
			Accession: "MN-2026-00042", ReportID: "LAB-998877", FiscalCode: "RSSMRA58E52E897R",
			Title: "Referto di laboratorio", Status: "current",
			TypeCode: "11502-2", TypeSystem: "http://loinc.org", TypeDisplay: "Laboratory report",
			Date:        time.Date(2026, 3, 14, 9, 32, 5, 0, time.UTC),
			ContentType: "application/pdf",
		},
		pdf: pdfLab,
	}, {
		name: "PDF in the second content, beside a CDA given by url; content type with parameters; data with spaces; LOINC after a local code",
		body: edited(t, lab, func(r map[string]any) {
			typ := obj(t, r, "type")
			local := map[string]any{"system": "urn:oid:2.16.840.1.113883.2.9.2.30.6.1", "code": "REF-LAB", "display": "Referto laboratorio analisi"}
			typ["coding"] = append([]any{local}, typ["coding"].([]any)...)
			att := obj(t, r, "content", 0, "attachment")
			att["contentType"] = "Application/PDF; name=referto.pdf"
			b64 := att["data"].(string)
			att["data"] = b64[:40] + " " + b64[40:80] + "\n" + b64[80:]
			cda := map[string]any{"attachment": map[string]any{"contentType": "application/hl7-v3+xml", "url": "https://lis.example.it/cda/LAB-998877"}}
			r["content"] = []any{cda, r["content"].([]any)[0]}
			delete(r, "date")
		}),
		want: Report{
			Accession: "MN-2026-00042", ReportID: "LAB-998877", FiscalCode: "RSSMRA58E52E897R",
			Title: "Esami del sangue", Status: "current", DocStatus: "final",
			TypeCode: "11502-2", TypeSystem: "http://loinc.org", TypeDisplay: "Laboratory report",
			ContentType: "application/pdf",
		},
		pdf: pdfLab,
	}, {
		name: "superseded correction, accession only in related (untyped, with system), date with fractions",
		body: edited(t, lab, func(r map[string]any) {
			r["status"] = "superseded"
			r["docStatus"] = "amended"
			r["identifier"] = []any{}
			obj(t, r, "context", "related", 0)["identifier"] = map[string]any{"system": "urn:oid:2.16.840.1.113883.2.9.2.30.4.2", "value": "MN-2026-00042"}
			r["date"] = "2026-03-14T10:32:05.250+01:00"
		}),
		want: Report{
			Accession: "MN-2026-00042", ReportID: "LAB-998877", FiscalCode: "RSSMRA58E52E897R",
			Title: "Esami del sangue", Status: "superseded", DocStatus: "amended",
			TypeCode: "11502-2", TypeSystem: "http://loinc.org", TypeDisplay: "Laboratory report",
			Date:        time.Date(2026, 3, 14, 9, 32, 5, 250e6, time.UTC),
			ContentType: "application/pdf",
		},
		pdf: pdfLab,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDocumentReference(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.PDF) != tt.pdf {
				t.Errorf("PDF: got %q, want %q", got.PDF, tt.pdf)
			}
			got.PDF = nil
			if !got.Date.Equal(tt.want.Date) || got.Date.Location() != time.UTC {
				t.Errorf("Date: got %v, want %v in UTC", got.Date, tt.want.Date)
			}
			got.Date, tt.want.Date = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseDocumentReferenceRefusals(t *testing.T) {
	const att = "DocumentReference.content[0].attachment"
	tests := []struct {
		name string
		body []byte
		want refusal
	}{
		{"spec example unchanged: attachment by url only", testdata(t, exampleURL),
			refusal{path: att + ".url", code: CodeNotSupported, says: "not fetched from URLs"}},
		{"not JSON", []byte(`<DocumentReference xmlns="http://hl7.org/fhir"/>`),
			refusal{path: "DocumentReference", code: CodeStructure, says: "not valid JSON"}},
		{"empty body", nil,
			refusal{path: "DocumentReference", code: CodeStructure, says: "not valid JSON"}},
		{"JSON array", []byte(`[{"resourceType":"DocumentReference"}]`),
			refusal{path: "DocumentReference", code: CodeStructure, says: "must be a JSON object"}},
		{"no resourceType", edited(t, lab, func(r map[string]any) { delete(r, "resourceType") }),
			refusal{path: "resourceType", code: CodeRequired, says: "expected DocumentReference"}},
		{"a Bundle sent to the DocumentReference endpoint", testdata(t, "bundle-transaction-referti.json"),
			refusal{path: "resourceType", code: CodeInvalid, says: `"Bundle"`}},
		{"no content", edited(t, lab, func(r map[string]any) { delete(r, "content") }),
			refusal{path: "DocumentReference.content", code: CodeRequired, says: "content is missing"}},
		{"empty content", edited(t, lab, func(r map[string]any) { r["content"] = []any{} }),
			refusal{path: "DocumentReference.content", code: CodeRequired, says: "content is missing"}},
		{"attachment with neither data nor url", edited(t, lab, func(r map[string]any) {
			obj(t, r, "content", 0)["attachment"] = map[string]any{"contentType": "application/pdf"}
		}), refusal{path: att + ".data", code: CodeRequired, says: "neither data nor url"}},
		{"not a PDF: 415", edited(t, lab, func(r map[string]any) {
			a := obj(t, r, "content", 0, "attachment")
			a["contentType"] = "text/plain"
			a["data"] = base64.StdEncoding.EncodeToString([]byte("Emocromo: nella norma"))
			delete(a, "size")
			delete(a, "hash")
		}), refusal{unsupported: true, path: att + ".contentType", code: CodeNotSupported, says: `"text/plain"`}},
		{"data without contentType", edited(t, lab, func(r map[string]any) {
			delete(obj(t, r, "content", 0, "attachment"), "contentType")
		}), refusal{path: att + ".contentType", code: CodeRequired, says: "application/pdf"}},
		{"bad base64", edited(t, lab, func(r map[string]any) {
			obj(t, r, "content", 0, "attachment")["data"] = "JVBERi0xLjQK%%%not-base64"
		}), refusal{path: att + ".data", code: CodeInvalid, says: "not valid base64"}},
		{"empty data", edited(t, lab, func(r map[string]any) {
			obj(t, r, "content", 0, "attachment")["data"] = ""
		}), refusal{path: att + ".data", code: CodeRequired, says: "empty"}},
		{"size differs: truncated", edited(t, lab, func(r map[string]any) {
			obj(t, r, "content", 0, "attachment")["size"] = 4096
		}), refusal{path: att + ".size", code: CodeInvalid, says: "size says 4096 bytes but data holds 181"}},
		{"hash differs", edited(t, lab, func(r map[string]any) {
			obj(t, r, "content", 0, "attachment")["hash"] = "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
		}), refusal{path: att + ".hash", code: CodeInvalid, says: "SHA-1"}},
		{"size of the wrong JSON kind", edited(t, lab, func(r map[string]any) {
			obj(t, r, "content", 0, "attachment")["size"] = "181"
		}), refusal{path: "DocumentReference.content.attachment.size", code: CodeStructure, says: "JSON number, not a JSON string"}},
		{"no accession", edited(t, lab, func(r map[string]any) {
			delete(r, "identifier")
			delete(r, "context")
		}), refusal{path: "DocumentReference.identifier", code: CodeRequired, says: "ACSN"}},
		{"accession only as display", edited(t, lab, func(r map[string]any) {
			delete(r, "identifier")
			obj(t, r, "context")["related"] = []any{map[string]any{"display": "MN-2026-00042"}}
		}), refusal{path: "DocumentReference.identifier", code: CodeRequired, says: "only a display"}},
		{"two different accessions", edited(t, lab, func(r map[string]any) {
			obj(t, r, "context", "related", 0, "identifier")["value"] = "MN-2026-00043"
		}), refusal{path: "DocumentReference.context.related[0].identifier", code: CodeInvalid, says: `"MN-2026-00043" here and "MN-2026-00042"`}},
		{"no report id", edited(t, lab, func(r map[string]any) { delete(r, "masterIdentifier") }),
			refusal{path: "DocumentReference.masterIdentifier", code: CodeRequired, says: "report's own id"}},
		{"no status", edited(t, lab, func(r map[string]any) { delete(r, "status") }),
			refusal{path: "DocumentReference.status", code: CodeRequired, says: "current, superseded, entered-in-error"}},
		{"unknown status", edited(t, lab, func(r map[string]any) { r["status"] = "final" }),
			refusal{path: "DocumentReference.status", code: CodeValue, says: `"final" is not a valid status`}},
		{"status of the wrong JSON kind", edited(t, lab, func(r map[string]any) { r["status"] = 1 }),
			refusal{path: "DocumentReference.status", code: CodeStructure, says: "JSON string"}},
		{"unknown docStatus", edited(t, lab, func(r map[string]any) { r["docStatus"] = "signed" }),
			refusal{path: "DocumentReference.docStatus", code: CodeValue, says: "preliminary, final, amended"}},
		{"date without time zone", edited(t, lab, func(r map[string]any) { r["date"] = "2026-03-14" }),
			refusal{path: "DocumentReference.date", code: CodeValue, says: "instant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDocumentReference(tt.body)
			checkRefusal(t, err, tt.want)
		})
	}
}

// Every problem is reported at once, so the sender's integrator fixes them
// in one round.
func TestParseDocumentReferenceReportsEveryIssue(t *testing.T) {
	body := edited(t, lab, func(r map[string]any) {
		delete(r, "masterIdentifier")
		delete(r, "identifier")
		delete(r, "context")
		r["status"] = "draft"
		obj(t, r, "content", 0, "attachment")["data"] = "@@@"
	})
	_, err := ParseDocumentReference(body)
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("got %v, want *Invalid", err)
	}
	var paths []string
	for _, is := range inv.Issues {
		paths = append(paths, is.Path)
	}
	want := []string{
		"DocumentReference.status",
		"DocumentReference.identifier",
		"DocumentReference.masterIdentifier",
		"DocumentReference.content[0].attachment.data",
	}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("issue paths: got %v, want %v", paths, want)
	}
	if !strings.HasPrefix(err.Error(), "parse DocumentReference: invalid FHIR resource: DocumentReference.status: ") {
		t.Errorf("error message: %v", err)
	}
}

// A non-PDF document is a 415 even when the metadata has problems too, and
// the error still lists those.
func TestUnsupportedContentTypeKeepsOtherIssues(t *testing.T) {
	body := edited(t, lab, func(r map[string]any) {
		delete(r, "masterIdentifier")
		a := obj(t, r, "content", 0, "attachment")
		a["contentType"] = "image/jpeg"
		delete(a, "size")
		delete(a, "hash")
	})
	_, err := ParseDocumentReference(body)
	var uns *UnsupportedContentType
	if !errors.As(err, &uns) {
		t.Fatalf("got %v, want *UnsupportedContentType", err)
	}
	if uns.ContentType != "image/jpeg" {
		t.Errorf("ContentType: got %q", uns.ContentType)
	}
	if len(uns.Issues) != 2 || uns.Issues[0].Code != CodeNotSupported || uns.Issues[1].Path != "DocumentReference.masterIdentifier" {
		t.Errorf("issues: got %v, want the content type first, then the missing id", uns.Issues)
	}
}

// The bytes handed back are exactly the decoded attachment, not a prefix or
// a re-encoding.
func TestParseDocumentReferencePDFBytes(t *testing.T) {
	pdf := append([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), bytes.Repeat([]byte{0, 0xff, '\r', '\n'}, 300)...)
	body := edited(t, lab, func(r map[string]any) {
		a := obj(t, r, "content", 0, "attachment")
		a["data"] = base64.StdEncoding.EncodeToString(pdf)
		a["size"] = len(pdf)
		delete(a, "hash")
	})
	got, err := ParseDocumentReference(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.PDF, pdf) {
		t.Errorf("PDF: got %d bytes, want the %d sent", len(got.PDF), len(pdf))
	}
}
