// Package fhir translates between FHIR R4 JSON and the neutral Report and
// Stored structs: it reads the DocumentReference (alone, or in a transaction
// Bundle with its Binary) that a lab or radiology system sends with a PDF
// report, and writes the DocumentReference, search Bundle, CapabilityStatement
// and OperationOutcome resources the API answers with.
//
// It knows FHIR and nothing of HTTP, the database or the rest of fse. The
// resource models come from github.com/samply/golang-fhir-models; the
// incoming enumerated codes it must judge (status, docStatus, Bundle.type) are
// read as plain strings, because the models silently turn a missing code into
// the first value of its list and report a wrong one without saying where.
package fhir
