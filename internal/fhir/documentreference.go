package fhir

import (
	"fmt"
	"slices"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Report is one PDF report as a sender delivers it, read from a FHIR
// DocumentReference: which visit it belongs to, the sender's own id for it,
// what it is, and the PDF itself.
type Report struct {
	// Accession is the clinic's accession number of the visit, such as
	// "MN-2026-00042": it decides whose dossier the report goes into.
	Accession string
	// ReportID is the sender's stable id of this report (the value of
	// masterIdentifier), the same on every delivery of it.
	ReportID string
	// Title is what the report is called: the DocumentReference's
	// description, else the name of its type.
	Title string
	// Status is the DocumentReference status: current, superseded or
	// entered-in-error.
	Status string
	// DocStatus is the status of the document itself (preliminary, final,
	// amended, entered-in-error), or empty when the sender gave none.
	DocStatus string
	// TypeCode, TypeSystem and TypeDisplay are the coding of the document
	// type, preferring LOINC (such as 11502-2 "Laboratory report").
	TypeCode, TypeSystem, TypeDisplay string
	// Date is when the DocumentReference was made, in UTC; zero when absent.
	Date time.Time
	// ContentType is the document's media type: always "application/pdf",
	// since nothing else is accepted.
	ContentType string
	// PDF is the document's bytes, decoded from base64. Whether they are a
	// well-formed PDF is for the caller to check.
	PDF []byte
	// FiscalCode is the patient's codice fiscale when subject.identifier
	// carries one (system http://hl7.it/sid/codiceFiscale or its OID), for
	// the caller to check against the visit; empty otherwise.
	FiscalCode string
}

// The codes of DocumentReference.status and docStatus in FHIR R4.
const (
	statusCurrent    = "current"
	statusSuperseded = "superseded"
	statusError      = "entered-in-error"

	docPreliminary = "preliminary"
	docFinal       = "final"
	docAmended     = "amended"
)

// documentReferenceIn is the incoming DocumentReference: the model, with the
// codes this package must judge itself read as plain strings (they shadow the
// model's fields of the same JSON name, which would turn a missing status
// into "current").
type documentReferenceIn struct {
	fm.DocumentReference
	Status    *string `json:"status"`
	DocStatus *string `json:"docStatus"`
}

// ParseDocumentReference reads a DocumentReference that carries a PDF report
// inline: the first content whose attachment has contentType application/pdf
// and base64 data. The fields of Report are found by these rules:
//
//   - Accession: an identifier (in DocumentReference.identifier or in
//     context.related[].identifier) whose type is v2-0203 "ACSN" (Accession
//     ID); failing that, a context.related[].identifier that has a system.
//     A related entry with only a display is not used: free text is not an
//     identifier. Two different values at the same level are an error.
//   - ReportID: masterIdentifier.value, else the first identifier that is
//     not the accession number.
//   - Title: description, else type.text, else the display of the type's
//     coding, else the attachment's title.
//
// An attachment given only by url is refused: documents are not fetched from
// elsewhere, they come inline or as a Binary in a transaction Bundle (see
// ParseBundle). When the report cannot be accepted the error is an
// *UnsupportedContentType if the document is not a PDF, else an *Invalid;
// both list every issue found, with FHIRPath locations.
func ParseDocumentReference(body []byte) (Report, error) {
	var p problems
	r := parseDocumentReference(body, "DocumentReference", nil, &p, true)
	if err := p.err(); err != nil {
		return Report{}, fmt.Errorf("parse DocumentReference: %w", err)
	}
	return r, nil
}

// parseDocumentReference reads one DocumentReference at root, resolving
// attachment urls through bins (nil outside a Bundle). checkType is false
// when the caller already dispatched on resourceType.
func parseDocumentReference(body []byte, root string, bins binaries, p *problems, checkType bool) Report {
	if checkType && !resourceType(body, "DocumentReference", p) {
		return Report{}
	}
	var in documentReferenceIn
	if is, ok := decode(body, &in, root); !ok {
		p.addIssue(is)
		return Report{}
	}
	d := &in.DocumentReference
	r := Report{
		Status:     oneOf(p, root+".status", in.Status, true, statusCurrent, statusSuperseded, statusError),
		DocStatus:  oneOf(p, root+".docStatus", in.DocStatus, false, docPreliminary, docFinal, docAmended, statusError),
		Accession:  accession(d, root, p),
		ReportID:   reportID(d),
		FiscalCode: subjectFiscalCode(d),
	}
	if r.ReportID == "" {
		p.add(root+".masterIdentifier", CodeRequired,
			"the report's own id is missing: send it in masterIdentifier (or as an identifier other than the accession number)")
	}
	if d.Date != nil {
		t, err := time.Parse(time.RFC3339, *d.Date)
		if err != nil {
			p.add(root+".date", CodeValue, "date %q is not a FHIR instant (such as 2026-03-14T10:32:05+01:00)", *d.Date)
		}
		r.Date = t.UTC()
	}
	var coding *fm.Coding
	r.TypeCode, r.TypeSystem, r.TypeDisplay, coding = documentType(d.Type)
	pdf, title := documentContent(d, root, bins, p)
	if pdf != nil {
		r.ContentType, r.PDF = pdfType, pdf
	}
	r.Title = firstText(d.Description, typeText(d.Type), displayOf(coding), anyDisplay(d.Type), title)
	return r
}

// accession finds the accession number of the visit; see
// ParseDocumentReference for the rule.
func accession(d *fm.DocumentReference, root string, p *problems) string {
	var typed, related []candidate
	hint := ""
	for i, id := range d.Identifier {
		if isAccessionType(id.Type) && text(id.Value) != "" {
			typed = append(typed, candidate{text(id.Value), fmt.Sprintf("%s.identifier[%d]", root, i)})
		}
	}
	if d.Context != nil {
		for i, rel := range d.Context.Related {
			path := fmt.Sprintf("%s.context.related[%d]", root, i)
			id := rel.Identifier
			switch {
			case id != nil && text(id.Value) != "" && isAccessionType(id.Type):
				typed = append(typed, candidate{text(id.Value), path + ".identifier"})
			case id != nil && text(id.Value) != "" && text(id.System) != "":
				related = append(related, candidate{text(id.Value), path + ".identifier"})
			case id != nil && text(id.Value) != "":
				hint = fmt.Sprintf(" (%s.identifier has no system and no ACSN type, so it is not taken as one)", path)
			case text(rel.Display) != "":
				hint = fmt.Sprintf(" (%s has only a display, which is free text, not an identifier)", path)
			}
		}
	}
	for _, level := range [][]candidate{typed, related} {
		if len(level) > 0 {
			return agree(level, p)
		}
	}
	p.add(root+".identifier", CodeRequired,
		"the accession number of the visit is missing: send it as an identifier with type %s#%s, "+
			"or in context.related.identifier with a system%s", v2IdentifierType, accessionCode, hint)
	return ""
}

// candidate is one value found for the accession number, and where.
type candidate struct {
	value, path string
}

// agree returns the accession number found at one level, reporting a second,
// different one: the report would otherwise go to a visit picked at random.
func agree(found []candidate, p *problems) string {
	for _, c := range found[1:] {
		if c.value != found[0].value {
			p.add(c.path, CodeInvalid, "two different accession numbers: %q here and %q in %s; a report belongs to one visit",
				c.value, found[0].value, found[0].path)
			break
		}
	}
	return found[0].value
}

// reportID returns the sender's id of the report.
func reportID(d *fm.DocumentReference) string {
	if d.MasterIdentifier != nil && text(d.MasterIdentifier.Value) != "" {
		return text(d.MasterIdentifier.Value)
	}
	for _, id := range d.Identifier {
		if !isAccessionType(id.Type) && text(id.Value) != "" {
			return text(id.Value)
		}
	}
	return ""
}

// The identifier type for an accession number: HL7 v2 table 0203, code ACSN.
const (
	v2IdentifierType     = "http://terminology.hl7.org/CodeSystem/v2-0203"
	v2IdentifierTypeSTU3 = "http://hl7.org/fhir/v2/0203"
	accessionCode        = "ACSN"
)

func isAccessionType(cc *fm.CodeableConcept) bool {
	if cc == nil {
		return false
	}
	for _, c := range cc.Coding {
		system := text(c.System)
		if text(c.Code) == accessionCode && (system == v2IdentifierType || system == v2IdentifierTypeSTU3) {
			return true
		}
	}
	return false
}

const loinc = "http://loinc.org"

// documentType returns the coding of the document type, LOINC first.
func documentType(cc *fm.CodeableConcept) (code, system, display string, chosen *fm.Coding) {
	if cc == nil || len(cc.Coding) == 0 {
		return "", "", "", nil
	}
	chosen = &cc.Coding[0]
	for i := range cc.Coding {
		if text(cc.Coding[i].System) == loinc && text(cc.Coding[i].Code) != "" {
			chosen = &cc.Coding[i]
			break
		}
	}
	return text(chosen.Code), text(chosen.System), firstText(chosen.Display, cc.Text), chosen
}

func typeText(cc *fm.CodeableConcept) *string {
	if cc == nil {
		return nil
	}
	return cc.Text
}

func displayOf(c *fm.Coding) *string {
	if c == nil {
		return nil
	}
	return c.Display
}

func anyDisplay(cc *fm.CodeableConcept) *string {
	if cc == nil {
		return nil
	}
	for _, c := range cc.Coding {
		if text(c.Display) != "" {
			return c.Display
		}
	}
	return nil
}

// firstText returns the first of the values that is not blank.
func firstText(values ...*string) string {
	for _, v := range values {
		if s := text(v); s != "" {
			return s
		}
	}
	return ""
}

// fiscalCodeSystems name the codice fiscale in an Identifier: HL7 Italia's
// URI and the OID of the Ministry of Economy's registry.
var fiscalCodeSystems = []string{"http://hl7.it/sid/codiceFiscale", "urn:oid:2.16.840.1.113883.2.9.4.3.2"}

// subjectFiscalCode is the patient's codice fiscale from subject.identifier.
func subjectFiscalCode(d *fm.DocumentReference) string {
	if d.Subject == nil || d.Subject.Identifier == nil || d.Subject.Identifier.Value == nil {
		return ""
	}
	id := d.Subject.Identifier
	if id.System != nil && slices.Contains(fiscalCodeSystems, *id.System) {
		return *id.Value
	}
	return ""
}
