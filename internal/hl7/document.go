package hl7

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Reasons a single ED document fails to decode; a DocumentError wraps one.
var (
	// ErrEmptyDocument means an OBX of type ED carries no data.
	ErrEmptyDocument = errors.New("hl7: ED observation has no data")
	// ErrUnsupportedEncoding means the ED encoding (OBX-5.4) is not Base64.
	ErrUnsupportedEncoding = errors.New("hl7: ED encoding is not Base64")
	// ErrCorruptBase64 means the ED data is not valid base64.
	ErrCorruptBase64 = errors.New("hl7: ED data is not valid base64")
	// ErrRepeatedDocument means OBX-5 repeats. Repetitions of an ED value
	// have no agreed meaning, and keeping only the first would silently
	// drop the rest of a document.
	ErrRepeatedDocument = errors.New("hl7: ED observation value repeats")
)

// Document is one OBX segment of value type ED (encapsulated data), in
// practice a report PDF.
type Document struct {
	// SetID is OBX-1, the OBX's number within its order.
	SetID string
	// ObservationID is OBX-3: what the document is, in the sender's codes.
	ObservationID CodedValue
	// SourceApp is OBX-5.1, the application that produced the data.
	SourceApp string
	// TypeOfData is OBX-5.2, such as "AP" (application) or "application".
	TypeOfData string
	// DataSubtype is OBX-5.3, such as "PDF" or "pdf".
	DataSubtype string
	// Encoding is OBX-5.4, such as "Base64".
	Encoding string
	// Data is the decoded content (OBX-5.5). It is nil when Err is set.
	Data []byte
	// Err is a *DocumentError when this document could not be decoded.
	Err error
}

// DocumentError reports an ED document that could not be decoded. It names
// the OBX by set id and position so that the sender can find it, and never
// quotes the document's content.
type DocumentError struct {
	// SetID is OBX-1 of the failing segment.
	SetID string
	// Segment is the failing segment's position in the message, counting
	// MSH as 1; set ids restart in every order, positions do not.
	Segment int
	// Err is the reason: ErrEmptyDocument, ErrUnsupportedEncoding,
	// ErrCorruptBase64 or ErrRepeatedDocument, possibly wrapped.
	Err error
}

// Error describes the failure without any of the document's content.
func (e *DocumentError) Error() string {
	return fmt.Sprintf("OBX set id %q (segment %d): %v", printable(e.SetID, 20), e.Segment, e.Err)
}

// Unwrap returns the reason, so errors.Is(err, ErrCorruptBase64) works.
func (e *DocumentError) Unwrap() error { return e.Err }

// isED reports whether an OBX carries encapsulated data (OBX-2 = ED).
func isED(obx *Segment) bool {
	return strings.EqualFold(strings.TrimSpace(obx.Field(2).Value()), "ED")
}

// readDocument decodes the ED value of an OBX. OBX-5 holds the components
// source application ^ type of data ^ data subtype ^ encoding ^ data.
func readDocument(obx *Segment, position int) Document {
	doc := Document{SetID: obx.Field(1).Value(), ObservationID: codedValue(obx.Field(3))}
	fail := func(err error) Document {
		doc.Err = &DocumentError{SetID: doc.SetID, Segment: position, Err: err}
		return doc
	}
	reps := obx.Field(5).Repetitions()
	if len(reps) == 0 {
		return fail(ErrEmptyDocument)
	}
	for _, r := range reps[1:] {
		if r.Raw() != "" {
			return fail(ErrRepeatedDocument)
		}
	}
	ed := reps[0]
	doc.SourceApp = ed.Component(1).Value()
	doc.TypeOfData = ed.Component(2).Value()
	doc.DataSubtype = ed.Component(3).Value()
	doc.Encoding = ed.Component(4).Value()
	// The whole component is decoded, not its first subcomponent: a stray
	// subcomponent separator in the data must make the base64 fail rather
	// than silently cut the document short.
	data := obx.delims.UnescapeText(ed.Component(5).Raw())
	if strings.TrimSpace(data) == "" {
		return fail(ErrEmptyDocument)
	}
	if !strings.EqualFold(strings.TrimSpace(doc.Encoding), "Base64") {
		return fail(fmt.Errorf("encoding %q: %w", printable(doc.Encoding, 20), ErrUnsupportedEncoding))
	}
	decoded, err := decodeBase64(data)
	if err != nil {
		return fail(err)
	}
	if len(decoded) == 0 { // data such as "==": base64 of nothing
		return fail(ErrEmptyDocument)
	}
	doc.Data = decoded
	return doc
}

// decodeBase64 decodes standard base64, tolerating what senders do to long
// base64 values: line breaks (already unescaped from \.br\) and other white
// space anywhere, and missing "=" padding.
func decodeBase64(s string) ([]byte, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
		default:
			clean = append(clean, c)
		}
	}
	for len(clean) > 0 && clean[len(clean)-1] == '=' {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptBase64, err)
	}
	return out[:n], nil
}
