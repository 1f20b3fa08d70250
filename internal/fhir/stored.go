package fhir

import (
	"strconv"
	"strings"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Stored is a report as fse holds it, the input of the read side of the API.
// The PDF is not part of it: it is never returned through FHIR.
type Stored struct {
	// ID is fse's id of the report, the id of the DocumentReference.
	ID int64
	// Accession is the visit's accession number, such as "MN-2026-00042".
	Accession string
	// ReportID is the sender's id of the report, as received.
	ReportID string
	// Title is the report's title, as received.
	Title string
	// State decides DocumentReference.status: StateSuperseded and
	// StateEnteredInError map to those statuses, any other state to current.
	State string
	// Date is the date of the report as the sender gave it.
	Date time.Time
	// Published is when the report was made visible to the patient.
	Published time.Time
	// Expires is when the report leaves the patient's dossier.
	Expires time.Time
	// FirstDownloaded is when the patient (or a relative) first downloaded
	// the report, which counts as collecting it.
	FirstDownloaded time.Time
	// Facility is the name of the clinic that holds the report.
	Facility string
}

// The states of a Stored report that read as something other than a current
// DocumentReference.
const (
	// StateSuperseded is a report replaced by a corrected one ("referto
	// rettificato"); it reads as status superseded.
	StateSuperseded = "superseded"
	// StateEnteredInError is a report withdrawn because it should never have
	// been sent; it reads as status entered-in-error.
	StateEnteredInError = "entered-in-error"
)

// Extension URLs for what fse knows of a report beyond the DocumentReference
// elements; each extension carries a valueDateTime.
const (
	// ExtensionPublished carries Stored.Published.
	ExtensionPublished = "urn:fse:fhir:extension:published"
	// ExtensionExpires carries Stored.Expires.
	ExtensionExpires = "urn:fse:fhir:extension:expires"
	// ExtensionFirstDownloaded carries Stored.FirstDownloaded.
	ExtensionFirstDownloaded = "urn:fse:fhir:extension:first-downloaded"
)

// DocumentReferenceJSON returns the JSON of the DocumentReference for a
// stored report: id, status by state, docStatus final, masterIdentifier (the
// sender's report id), the accession number as an identifier of type ACSN,
// description (the title), date, custodian (the facility), the fse dates as
// extensions, and one content whose attachment says application/pdf but
// carries neither data nor url: the PDF is for the patient only.
func DocumentReferenceJSON(r Stored) []byte {
	return mustJSON(documentReference(r), "DocumentReference")
}

func documentReference(r Stored) fm.DocumentReference {
	final := fm.CompositionStatusFinal
	d := fm.DocumentReference{
		Id:        ptr(strconv.FormatInt(r.ID, 10)),
		Status:    documentStatus(r.State),
		DocStatus: &final,
		Content:   []fm.DocumentReferenceContent{{Attachment: fm.Attachment{ContentType: ptr(pdfType)}}},
	}
	if r.ReportID != "" {
		d.MasterIdentifier = &fm.Identifier{Value: ptr(r.ReportID)}
	}
	if r.Accession != "" {
		d.Identifier = []fm.Identifier{{
			Type: &fm.CodeableConcept{Coding: []fm.Coding{{
				System: ptr(v2IdentifierType), Code: ptr(accessionCode), Display: ptr("Accession ID"),
			}}},
			Value: ptr(r.Accession),
		}}
	}
	if r.Title != "" {
		d.Description = ptr(r.Title)
		d.Content[0].Attachment.Title = ptr(r.Title)
	}
	if !r.Date.IsZero() {
		d.Date = ptr(instant(r.Date))
	}
	if r.Facility != "" {
		d.Custodian = &fm.Reference{Display: ptr(r.Facility)}
	}
	for _, e := range []struct {
		url string
		at  time.Time
	}{
		{ExtensionPublished, r.Published},
		{ExtensionExpires, r.Expires},
		{ExtensionFirstDownloaded, r.FirstDownloaded},
	} {
		if !e.at.IsZero() {
			d.Extension = append(d.Extension, fm.Extension{Url: e.url, ValueDateTime: ptr(instant(e.at))})
		}
	}
	return d
}

// documentStatus maps a stored state to DocumentReference.status.
func documentStatus(state string) fm.DocumentReferenceStatus {
	switch state {
	case StateSuperseded:
		return fm.DocumentReferenceStatusSuperseded
	case StateEnteredInError:
		return fm.DocumentReferenceStatusEnteredInError
	}
	return fm.DocumentReferenceStatusCurrent
}

// instant formats a time as a FHIR instant, in UTC.
func instant(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// SearchSetJSON returns the JSON of a searchset Bundle holding docs, in
// order: total is their number, and each entry has the fullUrl
// base/DocumentReference/id, the DocumentReference and search mode match.
// base is the FHIR base URL, such as "https://referti.example.it/fhir".
func SearchSetJSON(base string, docs []Stored) []byte {
	base = strings.TrimRight(base, "/")
	b := fm.Bundle{Type: fm.BundleTypeSearchset, Total: ptr(len(docs))}
	match := fm.SearchEntryModeMatch
	for _, r := range docs {
		b.Entry = append(b.Entry, fm.BundleEntry{
			FullUrl:  ptr(base + "/DocumentReference/" + strconv.FormatInt(r.ID, 10)),
			Resource: mustJSON(documentReference(r), "DocumentReference"),
			Search:   &fm.BundleEntrySearch{Mode: &match},
		})
	}
	return mustJSON(b, "searchset Bundle")
}
