package hl7

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fieldValues reads the decoded value of several fields of one segment.
func fieldValues(s *Segment, ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = s.Field(n).Value()
	}
	return out
}

func TestAck(t *testing.T) {
	orig := mustParse(t, labORU())
	tests := []struct {
		name    string
		code    AckCode
		ec      ErrorCode
		text    string
		wantErr []string // ERR-3.1, ERR-3.2, ERR-3.3, ERR-4, ERR-8; nil: no ERR segment
	}{
		{"accept", AckAccept, 0, "", nil},
		{"accept with text", AckAccept, CodeDataTypeError, "1 referto archiviato", nil},
		{"error", AckError, CodeApplicationInternalError, "archivio non disponibile",
			[]string{"207", "Application internal error", "HL70357", "E", "archivio non disponibile"}},
		{"reject unsupported", AckReject, CodeUnsupportedMessageType, "MSH-9 ADT^A01 not supported",
			[]string{"200", "Unsupported message type", "HL70357", "E", "MSH-9 ADT^A01 not supported"}},
		{"required field", AckError, CodeRequiredFieldMissing, "no PID-3",
			[]string{"101", "Required field missing", "HL70357", "E", "no PID-3"}},
		{"data type", AckError, CodeDataTypeError, "OBX 2: bad base64",
			[]string{"102", "Data type error", "HL70357", "E", "OBX 2: bad base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := AckWithErrorCode(orig, tt.code, tt.ec, tt.text)
			ack := mustParse(t, string(raw))
			if got, want := segmentNames(ack), []string{"MSH", "MSA", "ERR"}[:2+min(1, len(tt.wantErr))]; !slices.Equal(got, want) {
				t.Fatalf("segments = %v, want %v", got, want)
			}
			msh := ack.First("MSH")
			// Addressed back to the sender: our name from its MSH-5/6, its from MSH-3/4.
			if got, want := fieldValues(msh, 3, 4, 5, 6, 11, 12), []string{"FSE", "POLIMN", "LIS", "LABMN", "P", "2.5"}; !slices.Equal(got, want) {
				t.Errorf("MSH-3,4,5,6,11,12 = %q, want %q", got, want)
			}
			if got, want := msh.Field(9).Raw(), "ACK^R01^ACK"; got != want {
				t.Errorf("MSH-9 = %q, want %q", got, want)
			}
			if id := ack.ControlID(); id == "" || id == orig.ControlID() || len(id) > 20 {
				t.Errorf("MSH-10 = %q, want a new control id of at most 20 characters", id)
			}
			if got := msh.Field(7).Value(); !regexp.MustCompile(`^\d{14}[+-]\d{4}$`).MatchString(got) {
				t.Errorf("MSH-7 = %q, want an HL7 timestamp with offset", got)
			}
			msa := ack.First("MSA")
			if got, want := fieldValues(msa, 1, 2, 3), []string{string(tt.code), "LAB20260312093015001", tt.text}; !slices.Equal(got, want) {
				t.Errorf("MSA = %q, want %q", got, want)
			}
			if tt.wantErr == nil {
				return
			}
			e := ack.First("ERR")
			got := []string{e.Field(3).Component(1).Value(), e.Field(3).Component(2).Value(), e.Field(3).Component(3).Value(), e.Field(4).Value(), e.Field(8).Value()}
			if !slices.Equal(got, tt.wantErr) {
				t.Errorf("ERR = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestAckDefaultsToApplicationError(t *testing.T) {
	ack := mustParse(t, string(Ack(mustParse(t, labORU()), AckError, "database locked")))
	if got, want := ack.First("ERR").Field(3).Raw(), "207^Application internal error^HL70357"; got != want {
		t.Errorf("ERR-3 = %q, want %q", got, want)
	}
}

func TestAckEscapesText(t *testing.T) {
	text := "campo OBX|5^2 non valido & ~ \\ \nseconda riga"
	raw := Ack(mustParse(t, labORU()), AckError, text)
	ack := mustParse(t, string(raw))
	if got, want := segmentNames(ack), []string{"MSH", "MSA", "ERR"}; !slices.Equal(got, want) {
		t.Fatalf("the text broke the segment structure: %v", got)
	}
	if got := ack.First("MSA").Field(3).Value(); got != text {
		t.Errorf("MSA-3 = %q, want %q", got, text)
	}
	if got := ack.First("ERR").Field(8).Value(); got != text {
		t.Errorf("ERR-8 = %q, want %q", got, text)
	}
	if got := ack.First("ERR").NumFields(); got != 8 {
		t.Errorf("ERR has %d fields, want 8", got)
	}
}

func TestAckLongAndNonASCIIText(t *testing.T) {
	long := strings.Repeat("è", 300)
	ack := mustParse(t, string(Ack(mustParse(t, labORU()), AckError, long)))
	if got := []rune(ack.First("MSA").Field(3).Value()); len(got) != 80 {
		t.Errorf("MSA-3 has %d characters, want 80", len(got))
	}
	if got := []rune(ack.First("ERR").Field(8).Value()); len(got) != 250 {
		t.Errorf("ERR-8 has %d characters, want 250", len(got))
	}
	if got, want := ack.First("MSH").Field(18).Value(), "UNICODE UTF-8"; got != want {
		t.Errorf("MSH-18 = %q, want %q", got, want)
	}
	plain := mustParse(t, string(Ack(mustParse(t, labORU()), AckAccept, "")))
	if got := plain.First("MSH").NumFields(); got != 12 {
		t.Errorf("ASCII ACK has %d MSH fields, want 12 (no MSH-18)", got)
	}
}

func TestAckCustomDelimitersAreReencoded(t *testing.T) {
	orig := mustParse(t, "MSH#$*!@#LIS$2.16.840.1$ISO#LAB!T!MN#FSE#POLIMN#20260312##ORU$R01#C^1|x#T#2.5\r")
	ack := mustParse(t, string(Ack(orig, AckAccept, "")))
	msh := ack.First("MSH")
	if got, want := msh.Field(5).Raw(), "LIS^2.16.840.1^ISO"; got != want {
		t.Errorf("MSH-5 = %q, want %q", got, want)
	}
	if got, want := msh.Field(6).Value(), "LAB@MN"; got != want {
		t.Errorf("MSH-6 = %q, want %q", got, want)
	}
	if got, want := ack.First("MSA").Field(2).Value(), "C^1|x"; got != want {
		t.Errorf("MSA-2 = %q, want %q", got, want)
	}
	if got, want := msh.Field(11).Value(), "T"; got != want {
		t.Errorf("MSH-11 = %q, want %q", got, want)
	}
}

func TestAckForUnparsable(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		wantMSA2   string
		wantApps   []string // MSH-3..6 of the ACK
		wantEvent  string
		wantHeader []string // MSH-11, MSH-12
	}{
		{"bad segment after a good MSH", labMSH + "\rpid|broken\r", "LAB20260312093015001", []string{"FSE", "POLIMN", "LIS", "LABMN"}, "ACK", []string{"P", "2.5"}},
		{"bad encoding characters", "MSH|^^\\&|LIS^1.2^ISO|LABMN|||2026||ORU^R01|CTRL-7|T|2.3.1\r", "CTRL-7", []string{"", "", "LIS", "LABMN"}, "ACK", []string{"T", "2.3.1"}},
		{"LF and framing byte", "\x0bMSH|^~\\&|LIS|LABMN|FSE||||ORU^R01|C8|P|2.4\nX", "C8", []string{"FSE", "", "LIS", "LABMN"}, "ACK", []string{"P", "2.4"}},
		{"no MSH", "GET / HTTP/1.1\r\n", "", []string{"", "", "", ""}, "ACK", []string{"P", "2.5"}},
		{"empty", "", "", []string{"", "", "", ""}, "ACK", []string{"P", "2.5"}},
		{"control id with delimiters", "MSH|^~\\&|LIS|||||||A\\B~C&D|P|2.5\rbad", `A\B~C&D`, []string{"", "", "LIS", ""}, "ACK", []string{"P", "2.5"}},
		{"huge control id", "MSH|^~\\&|LIS|||||||" + strings.Repeat("9", 500) + "|P|2.5\rbad", "", []string{"", "", "LIS", ""}, "ACK", []string{"P", "2.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := AckForUnparsable([]byte(tt.raw), "segment 2: malformed")
			ack := mustParse(t, string(raw))
			msh := ack.First("MSH")
			if got := fieldValues(msh, 3, 4, 5, 6); !slices.Equal(got, tt.wantApps) {
				t.Errorf("MSH-3..6 = %q, want %q", got, tt.wantApps)
			}
			if got := msh.Field(9).Raw(); got != tt.wantEvent {
				t.Errorf("MSH-9 = %q, want %q", got, tt.wantEvent)
			}
			if got := fieldValues(msh, 11, 12); !slices.Equal(got, tt.wantHeader) {
				t.Errorf("MSH-11,12 = %q, want %q", got, tt.wantHeader)
			}
			if got, want := fieldValues(ack.First("MSA"), 1, 2, 3), []string{"AR", tt.wantMSA2, "segment 2: malformed"}; !slices.Equal(got, want) {
				t.Errorf("MSA = %q, want %q", got, want)
			}
			if got, want := ack.First("ERR").Field(3).Raw(), "100^Segment sequence error^HL70357"; got != want {
				t.Errorf("ERR-3 = %q, want %q", got, want)
			}
		})
	}
}

func TestAckForUnparsableWithErrorCode(t *testing.T) {
	_, err := Parse([]byte("MSH|^^\\&|LIS|LABMN|||||ORU^R01|C9|P|2.5\r"))
	ack := mustParse(t, string(AckForUnparsableWithErrorCode([]byte("MSH|^^\\&|LIS|LABMN|||||ORU^R01|C9|P|2.5\r"), ErrorCodeOf(err), err.Error())))
	if got, want := ack.First("ERR").Field(3).Component(1).Value(), "102"; got != want {
		t.Errorf("ERR-3.1 = %q, want %q for bad delimiters", got, want)
	}
	if got, want := ack.First("MSA").Field(2).Value(), "C9"; got != want {
		t.Errorf("MSA-2 = %q, want %q", got, want)
	}
}

func TestAckNilMessage(t *testing.T) {
	ack := mustParse(t, string(Ack(nil, AckError, "no message")))
	if got, want := fieldValues(ack.First("MSA"), 1, 2), []string{"AE", ""}; !slices.Equal(got, want) {
		t.Errorf("MSA = %q, want %q", got, want)
	}
}

func TestBuildAckTimestamp(t *testing.T) {
	rome := time.FixedZone("CET", 3600)
	raw := buildAck(ackHeader{trigger: "R01"}, AckAccept, 0, "", time.Date(2026, 3, 12, 9, 30, 15, 0, rome))
	if got, want := mustParse(t, string(raw)).First("MSH").Field(7).Value(), "20260312093015+0100"; got != want {
		t.Errorf("MSH-7 = %q, want %q", got, want)
	}
}

func TestErrorCodeText(t *testing.T) {
	for code, want := range map[ErrorCode]string{
		CodeSegmentSequence:          "Segment sequence error",
		CodeRequiredFieldMissing:     "Required field missing",
		CodeDataTypeError:            "Data type error",
		CodeTableValueNotFound:       "Table value not found",
		CodeUnsupportedMessageType:   "Unsupported message type",
		CodeApplicationInternalError: "Application internal error",
		ErrorCode(999):               "Unknown error",
	} {
		if got := code.Text(); got != want {
			t.Errorf("ErrorCode(%d).Text() = %q, want %q", code, got, want)
		}
	}
}

func TestErrorCodeOfParseErrors(t *testing.T) {
	tests := []struct {
		raw  string
		want ErrorCode
	}{
		{"", CodeSegmentSequence},
		{"PID|1", CodeSegmentSequence},
		{"MSH|^^\\&", CodeDataTypeError},
		{labMSH + "\rpid|1", CodeSegmentSequence},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.raw))
		if got := ErrorCodeOf(err); got != tt.want {
			t.Errorf("ErrorCodeOf(%v) = %d, want %d", err, got, tt.want)
		}
	}
}
