package hl7

import "errors"

// ErrorCode is an HL7 error condition code from table 0357, written into
// ERR-3 of a negative ACK so that the sender's integration engine can tell a
// malformed message from a message we could not store.
type ErrorCode int

// The error codes of HL7 table 0357 that fse uses.
const (
	// CodeSegmentSequence means segments are missing or out of order.
	CodeSegmentSequence ErrorCode = 100
	// CodeRequiredFieldMissing means a field the receiver needs is empty.
	CodeRequiredFieldMissing ErrorCode = 101
	// CodeDataTypeError means a value does not match its data type, such as
	// corrupt base64 in an ED field.
	CodeDataTypeError ErrorCode = 102
	// CodeTableValueNotFound means a coded value is not one the receiver
	// knows, such as an ED encoding other than Base64.
	CodeTableValueNotFound ErrorCode = 103
	// CodeUnsupportedMessageType means the receiver does not process this
	// message type or trigger event.
	CodeUnsupportedMessageType ErrorCode = 200
	// CodeApplicationInternalError means the message was fine but the
	// receiver failed to process it; the sender may retry later.
	CodeApplicationInternalError ErrorCode = 207
)

// Text returns the code's description as table 0357 spells it, which goes
// into the second component of ERR-3.
func (c ErrorCode) Text() string {
	switch c {
	case CodeSegmentSequence:
		return "Segment sequence error"
	case CodeRequiredFieldMissing:
		return "Required field missing"
	case CodeDataTypeError:
		return "Data type error"
	case CodeTableValueNotFound:
		return "Table value not found"
	case CodeUnsupportedMessageType:
		return "Unsupported message type"
	case CodeApplicationInternalError:
		return "Application internal error"
	}
	return "Unknown error"
}

// ErrorCodeOf returns the HL7 error code that describes err, for errors from
// this package (Parse, ParseORU, DocumentError). Any other error, such as a
// failure to store a report, is CodeApplicationInternalError.
func ErrorCodeOf(err error) ErrorCode {
	switch {
	case errors.Is(err, ErrEmpty), errors.Is(err, ErrNoMSH), errors.Is(err, ErrBadSegment),
		errors.Is(err, ErrSegmentSequence):
		return CodeSegmentSequence
	case errors.Is(err, ErrRequiredFieldMissing), errors.Is(err, ErrEmptyDocument):
		return CodeRequiredFieldMissing
	case errors.Is(err, ErrBadDelimiters), errors.Is(err, ErrTooLarge), errors.Is(err, ErrCorruptBase64),
		errors.Is(err, ErrRepeatedDocument):
		return CodeDataTypeError
	case errors.Is(err, ErrUnsupportedEncoding):
		return CodeTableValueNotFound
	case errors.Is(err, ErrUnsupportedMessageType):
		return CodeUnsupportedMessageType
	}
	return CodeApplicationInternalError
}
