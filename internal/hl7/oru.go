package hl7

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by ParseORU, wrapped with details.
var (
	// ErrUnsupportedMessageType means MSH-9 is not ORU^R01.
	ErrUnsupportedMessageType = errors.New("hl7: unsupported message type")
	// ErrRequiredFieldMissing means a field fse needs, such as MSH-10, is
	// empty.
	ErrRequiredFieldMissing = errors.New("hl7: required field missing")
	// ErrSegmentSequence means segments are missing or out of the order
	// ORU^R01 prescribes, such as an OBX before any OBR.
	ErrSegmentSequence = errors.New("hl7: segment sequence error")
	// ErrMultiplePatients means the message carries results for more than
	// one patient (several PID segments). fse refuses it rather than risk
	// filing a report under the wrong patient.
	ErrMultiplePatients = errors.New("hl7: more than one patient in one message")
)

// ORU is what fse reads from an ORU^R01 (unsolicited observation result):
// the message identity, the patient, and per order the report documents.
type ORU struct {
	// ControlID is MSH-10, which the ACK echoes.
	ControlID string
	// SendingApp is MSH-3: its namespace id, or its universal id (an OID)
	// when the namespace id is empty.
	SendingApp string
	// SendingFacility is MSH-4, read like SendingApp.
	SendingFacility string
	// ProcessingID is MSH-11: P (production), T (training) or D (debugging).
	ProcessingID string
	// Version is MSH-12, such as "2.5".
	Version string
	// PatientIDs are the repetitions of PID-3, such as the codice fiscale and
	// the LIS's own patient number; empty when the message has no PID (the
	// standard allows it, and the caller decides whether to refuse it).
	// Like PatientName it is patient data: for checking the message against
	// the visit it names, not for logs.
	PatientIDs []PatientID
	// PatientName is the first repetition of PID-5.
	PatientName PersonName
	// Orders are the ORDER_OBSERVATION groups, one per OBR, in order.
	Orders []Order
}

// PatientID is one patient identifier from PID-3 (data type CX).
type PatientID struct {
	// ID is the identifier itself (CX.1), such as a codice fiscale.
	ID string
	// AssigningAuthority is the first component of CX.4, such as "MEF".
	AssigningAuthority string
	// TypeCode is CX.5, such as "NNITA" for an Italian national identifier.
	TypeCode string
}

// PersonName is a patient name from PID-5 (data type XPN).
type PersonName struct {
	// Family is the surname (XPN.1, first subcomponent).
	Family string
	// Given is the first name (XPN.2).
	Given string
}

// CodedValue is a code with its text and coding system (data types CE, CWE).
type CodedValue struct {
	// Code is the identifier, such as the LOINC code "24323-8".
	Code string
	// Text is the human-readable description.
	Text string
	// System names the coding system, such as "LN" for LOINC.
	System string
}

// Order is one ORDER_OBSERVATION group: an OBR and the OBX segments that
// follow it.
type Order struct {
	// PlacerOrder is OBR-2 (first component): the number the ordering
	// system, usually the front desk, gave the request.
	PlacerOrder string
	// FillerOrder is OBR-3 (first component): the number the lab gave it.
	FillerOrder string
	// ServiceID is OBR-4: what was requested.
	ServiceID CodedValue
	// ObservationTime is OBR-7 as sent (an HL7 timestamp, such as
	// "20260312083000+0100"), left to the caller to interpret.
	ObservationTime string
	// ResultStatus is OBR-25: F final, C corrected, P preliminary...
	ResultStatus string
	// Documents are the OBX segments of value type ED, in order.
	Documents []Document
}

// ParseORU extracts the ORU^R01 content fse needs from a parsed message.
// MSH-9 must be ORU^R01, optionally with the message structure ORU_R01.
//
// A problem with one document does not fail the message: that Document
// carries a *DocumentError in Err and the others decode normally, so the
// caller can decide whether to accept the rest. Only problems with the
// message as a whole (its type, its control id, the segment order) are
// returned as an error.
//
// Each OBX is one document: the continuation some senders use, where one PDF
// is split across consecutive OBX segments, is not supported, and each such
// part would decode (or fail) on its own.
func ParseORU(m *Message) (*ORU, error) {
	msh := m.First("MSH")
	if msh == nil {
		return nil, fmt.Errorf("parse ORU: %w", ErrNoMSH)
	}
	if err := checkORUType(msh.Field(9)); err != nil {
		return nil, fmt.Errorf("parse ORU: %w", err)
	}
	o := &ORU{
		ControlID:       msh.Field(10).Value(),
		SendingApp:      hierarchicDesignator(msh.Field(3)),
		SendingFacility: hierarchicDesignator(msh.Field(4)),
		ProcessingID:    msh.Field(11).Value(),
		Version:         msh.Field(12).Value(),
	}
	if o.ControlID == "" {
		return nil, fmt.Errorf("parse ORU: MSH-10 (message control id): %w", ErrRequiredFieldMissing)
	}
	if err := o.readGroups(m); err != nil {
		return nil, fmt.Errorf("parse ORU %s: %w", printable(o.ControlID, 40), err)
	}
	return o, nil
}

// checkORUType accepts MSH-9 = ORU^R01 or ORU^R01^ORU_R01.
func checkORUType(f Field) error {
	typ := strings.TrimSpace(f.Component(1).Value())
	event := strings.TrimSpace(f.Component(2).Value())
	structure := strings.TrimSpace(f.Component(3).Value())
	if typ == "ORU" && event == "R01" && (structure == "" || structure == "ORU_R01") {
		return nil
	}
	return fmt.Errorf("MSH-9 %q: %w", printable(f.Raw(), 40), ErrUnsupportedMessageType)
}

// readGroups walks the segments after MSH, collecting the patient and the
// orders. The walk is strict about the order of PID, OBR and OBX because a
// misplaced segment would attach a result to the wrong order or patient.
func (o *ORU) readGroups(m *Message) error {
	var (
		current      = -1 // index of the order OBX segments attach to, -1 before OBR
		seenPID      bool
		seenOrder    bool
		inSpecimen   bool // after SPM, OBX describe the specimen, not results
		segmentIndex int
	)
	for _, seg := range m.segments {
		segmentIndex++
		switch seg.name {
		case "MSH":
			if segmentIndex > 1 {
				return fmt.Errorf("segment %d: second MSH (batches are not supported): %w", segmentIndex, ErrSegmentSequence)
			}
		case "PID":
			if seenPID {
				return fmt.Errorf("segment %d: %w", segmentIndex, ErrMultiplePatients)
			}
			if seenOrder {
				return fmt.Errorf("segment %d: PID after OBR: %w", segmentIndex, ErrSegmentSequence)
			}
			seenPID = true
			o.readPatient(seg)
		case "ORC":
			// ORC opens the next order group; its OBR must come before any OBX.
			current, inSpecimen = -1, false
		case "OBR":
			o.Orders = append(o.Orders, readOrder(seg))
			current, inSpecimen, seenOrder = len(o.Orders)-1, false, true
		case "SPM":
			inSpecimen = true
		case "OBX":
			if current < 0 {
				return fmt.Errorf("segment %d: OBX without a preceding OBR: %w", segmentIndex, ErrSegmentSequence)
			}
			if inSpecimen || !isED(seg) {
				continue
			}
			ord := &o.Orders[current]
			ord.Documents = append(ord.Documents, readDocument(seg, segmentIndex))
		}
	}
	if !seenOrder {
		return fmt.Errorf("no OBR segment: %w", ErrSegmentSequence)
	}
	return nil
}

// readPatient reads PID-3 and PID-5.
func (o *ORU) readPatient(pid *Segment) {
	for _, rep := range pid.Field(3).Repetitions() {
		id := PatientID{
			ID:                 rep.Component(1).Value(),
			AssigningAuthority: rep.Component(4).Value(),
			TypeCode:           rep.Component(5).Value(),
		}
		if id != (PatientID{}) {
			o.PatientIDs = append(o.PatientIDs, id)
		}
	}
	name := pid.Field(5).Repetition(1)
	o.PatientName = PersonName{Family: name.Component(1).Value(), Given: name.Component(2).Value()}
}

// readOrder reads the OBR fields of an order.
func readOrder(obr *Segment) Order {
	return Order{
		PlacerOrder:     obr.Field(2).Value(),
		FillerOrder:     obr.Field(3).Value(),
		ServiceID:       codedValue(obr.Field(4)),
		ObservationTime: obr.Field(7).Value(),
		ResultStatus:    obr.Field(25).Value(),
	}
}

// codedValue reads a CE or CWE field.
func codedValue(f Field) CodedValue {
	return CodedValue{Code: f.Component(1).Value(), Text: f.Component(2).Value(), System: f.Component(3).Value()}
}

// hierarchicDesignator reads an HD field (namespace id ^ universal id ^
// universal id type), preferring the short namespace id.
func hierarchicDesignator(f Field) string {
	if ns := f.Component(1).Value(); ns != "" {
		return ns
	}
	return f.Component(2).Value()
}

// DocumentErrors returns the errors of the documents that failed to decode,
// in message order, or nil when all decoded.
func (o *ORU) DocumentErrors() []*DocumentError {
	if o == nil {
		return nil
	}
	var out []*DocumentError
	for _, ord := range o.Orders {
		for _, d := range ord.Documents {
			var de *DocumentError
			if errors.As(d.Err, &de) {
				out = append(out, de)
			}
		}
	}
	return out
}
