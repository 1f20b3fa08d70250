package fhir

import (
	"strings"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// identifierSearchParam is the definition of DocumentReference's identifier
// search parameter in FHIR R4 (shared with other clinical resources).
const identifierSearchParam = "http://hl7.org/fhir/SearchParameter/clinical-identifier"

// CapabilityStatementJSON returns the JSON of the CapabilityStatement served
// at base/metadata: a FHIR 4.0.1 server instance that speaks JSON, where
// DocumentReference supports create and search by identifier (token), and
// the system supports transaction Bundles. version is fse's version; now is
// the statement's date.
func CapabilityStatementJSON(base, version string, now time.Time) []byte {
	base = strings.TrimRight(base, "/")
	cs := fm.CapabilityStatement{
		Name:        ptr("FseReportDelivery"),
		Title:       ptr("fse: referti online"),
		Status:      fm.PublicationStatusActive,
		Date:        instant(now),
		Description: ptr("Receives PDF reports (referti) as DocumentReference, to publish them to patients."),
		Kind:        fm.CapabilityStatementKindInstance,
		Software:    &fm.CapabilityStatementSoftware{Name: "fse", Version: nonEmpty(version)},
		Implementation: &fm.CapabilityStatementImplementation{
			Description: "fse report delivery",
			Url:         nonEmpty(base),
		},
		FhirVersion: fm.FHIRVersion4_0_1,
		Format:      []string{"application/fhir+json", "json"},
		Rest: []fm.CapabilityStatementRest{{
			Mode: fm.RestfulCapabilityModeServer,
			Documentation: ptr("Reports arrive as a DocumentReference with the PDF inline, or as a transaction Bundle " +
				"of DocumentReference and Binary entries. The PDF itself is never returned."),
			Resource: []fm.CapabilityStatementRestResource{{
				Type: fm.ResourceTypeDocumentReference,
				Interaction: []fm.CapabilityStatementRestResourceInteraction{
					{Code: fm.TypeRestfulInteractionCreate},
					{Code: fm.TypeRestfulInteractionSearchType},
				},
				SearchParam: []fm.CapabilityStatementRestResourceSearchParam{{
					Name:       "identifier",
					Definition: ptr(identifierSearchParam),
					Type:       fm.SearchParamTypeToken,
					Documentation: ptr("The sender's report id (masterIdentifier) or the visit's accession number " +
						"(identifier of type ACSN)."),
				}},
			}},
			Interaction: []fm.CapabilityStatementRestInteraction{{Code: fm.SystemRestfulInteractionTransaction}},
		}},
	}
	return mustJSON(cs, "CapabilityStatement")
}

// nonEmpty returns nil for an empty string, since FHIR forbids empty values.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
