package hl7

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParseORU(t testing.TB, raw string) *ORU {
	t.Helper()
	o, err := ParseORU(mustParse(t, raw))
	if err != nil {
		t.Fatalf("ParseORU: %v", err)
	}
	return o
}

func TestParseORULabReport(t *testing.T) {
	o := mustParseORU(t, labORU())
	if got, want := o.ControlID, "LAB20260312093015001"; got != want {
		t.Errorf("ControlID = %q, want %q", got, want)
	}
	header := []string{o.SendingApp, o.SendingFacility, o.ProcessingID, o.Version}
	if want := []string{"LIS", "LABMN", "P", "2.5"}; !reflect.DeepEqual(header, want) {
		t.Errorf("SendingApp, SendingFacility, ProcessingID, Version = %q, want %q", header, want)
	}
	wantIDs := []PatientID{
		{ID: "RSSMRA80A01E897X", AssigningAuthority: "MEF", TypeCode: "NNITA"},
		{ID: "123456", AssigningAuthority: "LABMN", TypeCode: "PI"},
	}
	if !reflect.DeepEqual(o.PatientIDs, wantIDs) {
		t.Errorf("PatientIDs = %+v, want %+v", o.PatientIDs, wantIDs)
	}
	if want := (PersonName{Family: "ROSSI", Given: "MARIO"}); o.PatientName != want {
		t.Errorf("PatientName = %+v, want %+v", o.PatientName, want)
	}
	if len(o.Orders) != 1 {
		t.Fatalf("got %d orders, want 1", len(o.Orders))
	}
	ord := o.Orders[0]
	if got, want := ord.PlacerOrder, "MN-2026-00042"; got != want {
		t.Errorf("PlacerOrder = %q, want %q", got, want)
	}
	if got, want := ord.FillerOrder, "LAB123"; got != want {
		t.Errorf("FillerOrder = %q, want %q", got, want)
	}
	if want := (CodedValue{Code: "24323-8", Text: "Pannello metabolico", System: "LN"}); ord.ServiceID != want {
		t.Errorf("ServiceID = %+v, want %+v", ord.ServiceID, want)
	}
	if got, want := ord.ObservationTime, "20260311080000+0100"; got != want {
		t.Errorf("ObservationTime = %q, want %q", got, want)
	}
	if got, want := ord.ResultStatus, "F"; got != want {
		t.Errorf("ResultStatus = %q, want %q", got, want)
	}
	// The NM result is not a document; only the ED OBX is.
	if len(ord.Documents) != 1 {
		t.Fatalf("got %d documents, want 1", len(ord.Documents))
	}
	doc := ord.Documents[0]
	if doc.Err != nil {
		t.Fatalf("document error: %v", doc.Err)
	}
	if !bytes.Equal(doc.Data, testPDF) {
		t.Errorf("document data differs from the PDF sent: got %d bytes, want %d", len(doc.Data), len(testPDF))
	}
	meta := []string{doc.SetID, doc.ObservationID.Code, doc.ObservationID.Text, doc.TypeOfData, doc.DataSubtype, doc.Encoding}
	if want := []string{"2", "PDF", "Referto di laboratorio", "AP", "PDF", "Base64"}; !reflect.DeepEqual(meta, want) {
		t.Errorf("document metadata = %q, want %q", meta, want)
	}
	if errs := o.DocumentErrors(); errs != nil {
		t.Errorf("DocumentErrors = %v, want none", errs)
	}
}

func TestParseORUTwoDocuments(t *testing.T) {
	o := mustParseORU(t, labORUTwoDocuments())
	docs := o.Orders[0].Documents
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2", len(docs))
	}
	for i, want := range [][]byte{testPDF, secondPDF} {
		if docs[i].Err != nil || !bytes.Equal(docs[i].Data, want) {
			t.Errorf("document %d: err %v, %d bytes; want %d bytes", i+1, docs[i].Err, len(docs[i].Data), len(want))
		}
	}
	if got, want := docs[1].TypeOfData+"/"+docs[1].DataSubtype, "application/pdf"; got != want {
		t.Errorf("second document type = %q, want %q", got, want)
	}
}

func TestParseORUTwoOrders(t *testing.T) {
	o := mustParseORU(t, labORUTwoOrders())
	if len(o.Orders) != 2 {
		t.Fatalf("got %d orders, want 2", len(o.Orders))
	}
	tests := []struct {
		placer, filler, service, status string
		pdf                             []byte
	}{
		{"MN-2026-00042", "LAB123", "Pannello metabolico", "F", testPDF},
		{"MN-2026-00043", "LAB124", "Emocromo & formula", "C", secondPDF},
	}
	for i, tt := range tests {
		ord := o.Orders[i]
		got := []string{ord.PlacerOrder, ord.FillerOrder, ord.ServiceID.Text, ord.ResultStatus}
		if want := []string{tt.placer, tt.filler, tt.service, tt.status}; !reflect.DeepEqual(got, want) {
			t.Errorf("order %d = %q, want %q", i+1, got, want)
		}
		if len(ord.Documents) != 1 || !bytes.Equal(ord.Documents[0].Data, tt.pdf) {
			t.Errorf("order %d: the document is missing or attached to the wrong order", i+1)
		}
	}
}

func TestParseORUEscapedText(t *testing.T) {
	o := mustParseORU(t, labORUEscapes())
	if got, want := o.PatientName.Family, "D^ANGELO"; got != want {
		t.Errorf("Family = %q, want %q", got, want)
	}
	if got, want := o.PatientName.Given, "ANNA MARIA"; got != want {
		t.Errorf("Given = %q, want %q", got, want)
	}
	if got, want := o.Orders[0].ServiceID.Text, "Esami & note | varie"; got != want {
		t.Errorf("ServiceID.Text = %q, want %q", got, want)
	}
	m := mustParse(t, labORUEscapes())
	if got, want := m.First("OBX").Field(5).Value(), `Prima riga`+"\n"+`seconda \ terza A \Zlocale\ \H\fine`; got != want {
		t.Errorf("OBX-5 TX = %q, want %q", got, want)
	}
}

func TestParseORUAcceptedTypes(t *testing.T) {
	for _, typ := range []string{"ORU^R01", "ORU^R01^ORU_R01", " ORU ^R01"} {
		raw := strings.Replace(labORU(), "ORU^R01^ORU_R01", typ, 1)
		if _, err := ParseORU(mustParse(t, raw)); err != nil {
			t.Errorf("MSH-9 %q: %v", typ, err)
		}
	}
}

func TestParseORUErrors(t *testing.T) {
	pdf := edOBX("1", "AP", "PDF", "Base64", b64(testPDF))
	withType := func(typ string) string { return strings.Replace(labORU(), "ORU^R01^ORU_R01", typ, 1) }
	tests := []struct {
		name string
		raw  string
		want error
		code ErrorCode
	}{
		{"ADT", withType("ADT^A01^ADT_A01"), ErrUnsupportedMessageType, CodeUnsupportedMessageType},
		{"ORU other event", withType("ORU^R30"), ErrUnsupportedMessageType, CodeUnsupportedMessageType},
		{"ORU other structure", withType("ORU^R01^ORU_R30"), ErrUnsupportedMessageType, CodeUnsupportedMessageType},
		{"MDM", withType("MDM^T02"), ErrUnsupportedMessageType, CodeUnsupportedMessageType},
		{"empty MSH-9", withType(""), ErrUnsupportedMessageType, CodeUnsupportedMessageType},
		{"no control id", strings.Replace(labORU(), "LAB20260312093015001", "", 1), ErrRequiredFieldMissing, CodeRequiredFieldMissing},
		{"no OBR", joinSegments(labMSH, labPID), ErrSegmentSequence, CodeSegmentSequence},
		{"OBX before OBR", joinSegments(labMSH, labPID, pdf, labOBR), ErrSegmentSequence, CodeSegmentSequence},
		{"OBX after ORC without OBR", joinSegments(labMSH, labPID, labOBR, labORC, pdf), ErrSegmentSequence, CodeSegmentSequence},
		{"PID after OBR", joinSegments(labMSH, labOBR, pdf, labPID), ErrSegmentSequence, CodeSegmentSequence},
		{"two patients", joinSegments(labMSH, labPID, labOBR, pdf, strings.Replace(labPID, "ROSSI", "BIANCHI", 1), labOBR, pdf), ErrMultiplePatients, CodeApplicationInternalError},
		{"batch", joinSegments(labMSH, labPID, labOBR, labMSH, labOBR), ErrSegmentSequence, CodeSegmentSequence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseORU(mustParse(t, tt.raw))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseORU error = %v, want %v", err, tt.want)
			}
			if o != nil {
				t.Errorf("ParseORU returned a result with error %v", err)
			}
			if got := ErrorCodeOf(err); got != tt.code {
				t.Errorf("ErrorCodeOf = %d, want %d", got, tt.code)
			}
		})
	}
	if _, err := ParseORU(nil); !errors.Is(err, ErrNoMSH) {
		t.Errorf("ParseORU(nil) error = %v, want ErrNoMSH", err)
	}
}

func TestParseORUDocumentData(t *testing.T) {
	encoded := b64(testPDF)
	tests := []struct {
		name string
		obx  string
		want error // nil: the data must decode to testPDF
	}{
		{"padded", edOBX("1", "AP", "PDF", "Base64", encoded), nil},
		{"padding missing", edOBX("1", "AP", "PDF", "Base64", strings.TrimRight(encoded, "=")), nil},
		{"wrapped with escaped line breaks", edOBX("1", "AP", "PDF", "Base64", wrapBase64(encoded, 76, `\.br\`)), nil},
		{"wrapped with CRLF escapes", edOBX("1", "AP", "PDF", "Base64", wrapBase64(encoded, 64, `\X0D0A\`)), nil},
		{"spaces and tabs", edOBX("1", "AP", "PDF", "Base64", wrapBase64(encoded, 10, " \t ")), nil},
		{"lower-case encoding", edOBX("1", "application", "pdf", "BASE64", encoded), nil},
		{"encoding with spaces", edOBX("1", "AP", "PDF", " Base64 ", encoded), nil},
		{"value type in lower case", strings.Replace(edOBX("1", "AP", "PDF", "Base64", encoded), "|ED|", "|ed|", 1), nil},
		{"empty repetition after", strings.Replace(edOBX("1", "AP", "PDF", "Base64", encoded), "||||||F", "~||||||F", 1), nil},
		{"corrupt character", edOBX("1", "AP", "PDF", "Base64", encoded[:20]+"*"+encoded[21:]), ErrCorruptBase64},
		{"padding in the middle", edOBX("1", "AP", "PDF", "Base64", "QUJD=QUJD"), ErrCorruptBase64},
		{"truncated quartet", edOBX("1", "AP", "PDF", "Base64", "QUJDR"), ErrCorruptBase64},
		{"subcomponent separator in data", edOBX("1", "AP", "PDF", "Base64", encoded[:40]+"&"+encoded[40:]), ErrCorruptBase64},
		{"hex encoding", edOBX("1", "AP", "PDF", "Hex", "255044462D"), ErrUnsupportedEncoding},
		{"no encoding", edOBX("1", "AP", "PDF", "", encoded), ErrUnsupportedEncoding},
		{"empty data", edOBX("1", "AP", "PDF", "Base64", ""), ErrEmptyDocument},
		{"blank data", edOBX("1", "AP", "PDF", "Base64", `\.br\ `), ErrEmptyDocument},
		{"only padding", edOBX("1", "AP", "PDF", "Base64", "=="), ErrEmptyDocument},
		{"empty OBX-5", "OBX|1|ED|PDF^Referto^L||||||||F", ErrEmptyDocument},
		{"repeated OBX-5", strings.Replace(edOBX("1", "AP", "PDF", "Base64", encoded), "||||||F", "~^AP^PDF^Base64^QUJD||||||F", 1), ErrRepeatedDocument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustParseORU(t, joinSegments(labMSH, labPID, labOBR, labOBXNumeric, tt.obx))
			docs := o.Orders[0].Documents
			if len(docs) != 1 {
				t.Fatalf("got %d documents, want 1", len(docs))
			}
			doc := docs[0]
			if tt.want == nil {
				if doc.Err != nil || !bytes.Equal(doc.Data, testPDF) {
					t.Fatalf("err %v, %d bytes; want the %d bytes of the PDF", doc.Err, len(doc.Data), len(testPDF))
				}
				return
			}
			if !errors.Is(doc.Err, tt.want) {
				t.Fatalf("document error = %v, want %v", doc.Err, tt.want)
			}
			if doc.Data != nil {
				t.Errorf("a failed document has %d bytes of data", len(doc.Data))
			}
			var de *DocumentError
			if !errors.As(doc.Err, &de) || de.SetID != "1" || de.Segment != 5 {
				t.Fatalf("document error %#v does not name OBX set id 1, segment 5", doc.Err)
			}
			if errs := o.DocumentErrors(); len(errs) != 1 || errs[0] != de {
				t.Errorf("DocumentErrors = %v, want [%v]", errs, de)
			}
			if strings.Contains(de.Error(), encoded[:16]) {
				t.Errorf("error text quotes the document: %q", de.Error())
			}
		})
	}
}

func TestParseORUOneBadDocumentKeepsTheOthers(t *testing.T) {
	o := mustParseORU(t, joinSegments(labMSH, labPID, labOBR,
		edOBX("1", "AP", "PDF", "Base64", "not base64!"),
		edOBX("2", "AP", "PDF", "Base64", b64(secondPDF))))
	docs := o.Orders[0].Documents
	if len(docs) != 2 || !errors.Is(docs[0].Err, ErrCorruptBase64) || docs[1].Err != nil || !bytes.Equal(docs[1].Data, secondPDF) {
		t.Fatalf("want the first document failed and the second decoded, got %+v", docs)
	}
	if got, want := ErrorCodeOf(o.DocumentErrors()[0]), CodeDataTypeError; got != want {
		t.Errorf("ErrorCodeOf = %d, want %d", got, want)
	}
}

func TestParseORUIgnoresSpecimenObservations(t *testing.T) {
	// In v2.5 an SPM group carries its own OBX segments, which describe the
	// specimen and are not results of the order.
	o := mustParseORU(t, joinSegments(labMSH, labPID, labOBR,
		edOBX("1", "AP", "PDF", "Base64", b64(testPDF)),
		`SPM|1|||BLD^Sangue intero^HL70487`,
		edOBX("1", "AP", "PDF", "Base64", b64(secondPDF))))
	if docs := o.Orders[0].Documents; len(docs) != 1 || !bytes.Equal(docs[0].Data, testPDF) {
		t.Fatalf("want only the order's document, got %d documents", len(docs))
	}
}
