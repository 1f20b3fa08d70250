package fhir

import (
	"encoding/base64"
	"testing"
)

const bundle = "bundle-transaction-referti.json"

// entries returns the entry array of a Bundle being edited.
func entries(t *testing.T, r map[string]any) []any {
	t.Helper()
	return at(t, r, "entry").([]any)
}

func TestParseBundle(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want []Report // PDF compared separately, by pdfs
		pdfs []string
	}{{
		name: "transaction: a DocumentReference pointing at a Binary, and one with inline data",
		body: testdata(t, bundle),
		want: []Report{
			{Accession: "MN-2026-00042", ReportID: "LAB-998877", Title: "Esami del sangue", Status: "current", DocStatus: "final",
				TypeCode: "11502-2", TypeSystem: "http://loinc.org", TypeDisplay: "Laboratory report", ContentType: "application/pdf"},
			{Accession: "MN-2026-00043", ReportID: "RAD-551200", Title: "RX torace", Status: "current", DocStatus: "amended",
				TypeCode: "18748-4", TypeSystem: "http://loinc.org", TypeDisplay: "Diagnostic imaging study", ContentType: "application/pdf"},
		},
		pdfs: []string{pdfLab, pdfRX},
	}, {
		name: "batch, Binary after the DocumentReference, attachment without contentType",
		body: edited(t, bundle, func(r map[string]any) {
			r["type"] = "batch"
			e := entries(t, r)
			delete(obj(t, e[1], "resource", "content", 0, "attachment"), "contentType")
			r["entry"] = []any{e[1], e[0]}
		}),
		want: []Report{
			{Accession: "MN-2026-00042", ReportID: "LAB-998877", Title: "Esami del sangue", Status: "current", DocStatus: "final",
				TypeCode: "11502-2", TypeSystem: "http://loinc.org", TypeDisplay: "Laboratory report", ContentType: "application/pdf"},
		},
		pdfs: []string{pdfLab},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBundle(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d reports, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if string(got[i].PDF) != tt.pdfs[i] {
					t.Errorf("report %d PDF: got %q, want %q", i, got[i].PDF, tt.pdfs[i])
				}
				if got[i].Date.IsZero() {
					t.Errorf("report %d: no date", i)
				}
				got[i].PDF, got[i].Date = nil, tt.want[i].Date
				if got[i].Accession != tt.want[i].Accession || got[i].ReportID != tt.want[i].ReportID ||
					got[i].Title != tt.want[i].Title || got[i].Status != tt.want[i].Status || got[i].DocStatus != tt.want[i].DocStatus ||
					got[i].TypeCode != tt.want[i].TypeCode || got[i].TypeDisplay != tt.want[i].TypeDisplay || got[i].ContentType != tt.want[i].ContentType {
					t.Errorf("report %d:\ngot  %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseBundleRefusals(t *testing.T) {
	const labAtt = "Bundle.entry[1].resource.content[0].attachment"
	tests := []struct {
		name string
		body []byte
		want refusal
	}{
		{"a DocumentReference sent to the Bundle endpoint", testdata(t, lab),
			refusal{path: "resourceType", code: CodeInvalid, says: `"DocumentReference": expected Bundle`}},
		{"not JSON", []byte(`{"resourceType": "Bundle", "type": "transaction", "entry": [`),
			refusal{path: "Bundle", code: CodeStructure, says: "not valid JSON"}},
		{"no type", edited(t, bundle, func(r map[string]any) { delete(r, "type") }),
			refusal{path: "Bundle.type", code: CodeRequired, says: "transaction"}},
		{"document Bundle", edited(t, bundle, func(r map[string]any) { r["type"] = "document" }),
			refusal{path: "Bundle.type", code: CodeNotSupported, says: `"document"`}},
		{"no entries", edited(t, bundle, func(r map[string]any) { delete(r, "entry") }),
			refusal{path: "Bundle.entry", code: CodeRequired, says: "no entries"}},
		{"only a Binary", edited(t, bundle, func(r map[string]any) { r["entry"] = entries(t, r)[:1] }),
			refusal{path: "Bundle.entry", code: CodeRequired, says: "no DocumentReference"}},
		{"attachment url names no entry", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[1], "resource", "content", 0, "attachment")["url"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
		}), refusal{path: labAtt + ".url", code: CodeNotFound, says: "no Binary in this Bundle has fullUrl urn:uuid:00000000"}},
		{"attachment url to an outside server", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[1], "resource", "content", 0, "attachment")["url"] = "https://lis.example.it/Binary/LAB-998877"
		}), refusal{path: labAtt + ".url", code: CodeNotFound, says: "not fetched from URLs"}},
		{"Binary not a PDF: 415", edited(t, bundle, func(r map[string]any) {
			delete(obj(t, entries(t, r)[1], "resource", "content", 0, "attachment"), "contentType")
			obj(t, entries(t, r)[0], "resource")["contentType"] = "application/dicom"
		}), refusal{unsupported: true, path: "Bundle.entry[0].resource.contentType", code: CodeNotSupported, says: "application/dicom"}},
		{"Binary and attachment disagree on the type: the Binary decides, 415", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[0], "resource")["contentType"] = "image/tiff"
		}), refusal{unsupported: true, path: labAtt + ".contentType", code: CodeInvalid, says: `differs from "image/tiff"`}},
		{"Binary with bad base64", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[0], "resource")["data"] = "JVBERi0x LjQK ***"
		}), refusal{path: "Bundle.entry[0].resource.data", code: CodeInvalid, says: "not valid base64"}},
		{"Binary without data", edited(t, bundle, func(r map[string]any) {
			delete(obj(t, entries(t, r)[0], "resource"), "data")
		}), refusal{path: "Bundle.entry[0].resource.data", code: CodeRequired, says: "missing"}},
		{"Binary without fullUrl", edited(t, bundle, func(r map[string]any) {
			delete(obj(t, entries(t, r)[0]), "fullUrl")
		}), refusal{path: "Bundle.entry[0].fullUrl", code: CodeRequired, says: "needs a fullUrl"}},
		{"Binary nobody points at", edited(t, bundle, func(r map[string]any) {
			e := entries(t, r)
			extra := map[string]any{"fullUrl": "urn:uuid:5d0c7f2e-1b9a-4c3e-8f47-2a6b9e0d1c55", "resource": map[string]any{
				"resourceType": "Binary", "contentType": "application/pdf", "data": base64.StdEncoding.EncodeToString([]byte(pdfRX))}}
			r["entry"] = append(e, extra)
		}), refusal{path: "Bundle.entry[3]", code: CodeInvalid, says: "not the attachment of any DocumentReference"}},
		{"Patient entry", edited(t, bundle, func(r map[string]any) {
			r["entry"] = append(entries(t, r), map[string]any{"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
				"resource": map[string]any{"resourceType": "Patient", "gender": "female"}, "request": map[string]any{"method": "POST", "url": "Patient"}})
		}), refusal{path: "Bundle.entry[3].resource", code: CodeNotSupported, says: "Patient entries are not accepted"}},
		{"DELETE request", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[2], "request")["method"] = "DELETE"
		}), refusal{path: "Bundle.entry[2].request.method", code: CodeNotSupported, says: "DELETE"}},
		{"request without method", edited(t, bundle, func(r map[string]any) {
			delete(obj(t, entries(t, r)[2], "request"), "method")
		}), refusal{path: "Bundle.entry[2].request.method", code: CodeRequired, says: "POST"}},
		{"fullUrl of the wrong JSON kind", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[2])["fullUrl"] = 3
		}), refusal{path: "Bundle.entry.fullUrl", code: CodeStructure, says: "JSON string, not a JSON number"}},
		{"two entries with one fullUrl", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[2])["fullUrl"] = at(t, r, "entry", 1, "fullUrl")
		}), refusal{path: "Bundle.entry[2].fullUrl", code: CodeDuplicate, says: "also the fullUrl of Bundle.entry[1]"}},
		{"the same report twice", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[2], "resource", "masterIdentifier")["value"] = "LAB-998877"
		}), refusal{path: "Bundle.entry[2].resource", code: CodeDuplicate, says: `"LAB-998877" is also the id of Bundle.entry[1]`}},
		{"entry without resource", edited(t, bundle, func(r map[string]any) {
			delete(obj(t, entries(t, r)[2]), "resource")
		}), refusal{path: "Bundle.entry[2].resource", code: CodeRequired, says: "no resource"}},
		{"DocumentReference without accession, path into the Bundle", edited(t, bundle, func(r map[string]any) {
			res := obj(t, entries(t, r)[1], "resource")
			delete(res, "identifier")
			delete(res, "context")
		}), refusal{path: "Bundle.entry[1].resource.identifier", code: CodeRequired, says: "accession number"}},
		{"inline DocumentReference with bad base64", edited(t, bundle, func(r map[string]any) {
			obj(t, entries(t, r)[2], "resource", "content", 0, "attachment")["data"] = "not base64!"
		}), refusal{path: "Bundle.entry[2].resource.content[0].attachment.data", code: CodeInvalid, says: "not valid base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports, err := ParseBundle(tt.body)
			if reports != nil {
				t.Errorf("got %d reports with an error: a refused Bundle yields none", len(reports))
			}
			checkRefusal(t, err, tt.want)
		})
	}
}
