package hl7

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Realistic messages shared by the tests and the fuzz seeds. They follow what
// an Italian LIS sends: HL7 v2.5, CR between segments, the codice fiscale as
// a PID-3 identifier, the report PDF base64-encoded in an OBX of type ED.

// testPDF is a small but structurally complete PDF: what matters to these
// tests is that it survives base64 and HL7 escaping byte for byte.
var testPDF = []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
	"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n" +
	"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n" +
	"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n109\n%%EOF\n")

// secondPDF differs from testPDF so a test can tell the two documents apart.
var secondPDF = []byte("%PDF-1.7\n% referto rettificato\n%%EOF\n")

const (
	labMSH = `MSH|^~\&|LIS|LABMN|FSE|POLIMN|20260312093015+0100||ORU^R01^ORU_R01|LAB20260312093015001|P|2.5|||AL|NE||8859/1`
	labPID = `PID|1||RSSMRA80A01E897X^^^MEF^NNITA~123456^^^LABMN^PI||ROSSI^MARIO^^^^^L||19800101|M|||VIA ROMA 1^^MANTOVA^MN^46100^ITA`
	labPV1 = `PV1|1|O|LAB^^^POLIMN||||||||||||||||MN-2026-00042`
	labORC = `ORC|RE|MN-2026-00042|LAB123||CM`
	// OBR-7 observation time, OBR-22 status change time, OBR-24 section, OBR-25 status.
	labOBR = `OBR|1|MN-2026-00042^POLIMN|LAB123^LABMN|24323-8^Pannello metabolico^LN|||20260311080000+0100` +
		`|||||||||||||||20260312090000+0100||CH|F`
	labOBXNumeric = `OBX|1|NM|2345-7^Glucosio^LN||92|mg/dL|70-110|N|||F|||20260311080000+0100`
)

// b64 encodes data as a sender would, with padding.
func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// edOBX returns an OBX of type ED carrying data (already encoded) with the
// given type of data, subtype and encoding.
func edOBX(setID, typ, subtype, encoding, data string) string {
	return "OBX|" + setID + "|ED|PDF^Referto di laboratorio^L||^" + typ + "^" + subtype + "^" + encoding + "^" + data + "||||||F"
}

// joinSegments ends every segment with CR, as the standard prescribes.
func joinSegments(segs ...string) string {
	return strings.Join(segs, "\r") + "\r"
}

// labORU is the reference message: one order with a numeric result and one
// PDF report.
func labORU() string {
	return joinSegments(labMSH, labPID, labPV1, labORC, labOBR, labOBXNumeric,
		edOBX("2", "AP", "PDF", "Base64", b64(testPDF)))
}

// labORUTwoDocuments carries two PDFs in one order, the second typed with a
// MIME type as some senders do.
func labORUTwoDocuments() string {
	return joinSegments(labMSH, labPID, labORC, labOBR, labOBXNumeric,
		edOBX("2", "AP", "PDF", "Base64", b64(testPDF)),
		edOBX("3", "application", "pdf", "base64", b64(secondPDF)))
}

// labORUTwoOrders carries two order groups, each with its own PDF.
func labORUTwoOrders() string {
	return joinSegments(labMSH, labPID, labPV1,
		labORC, labOBR, edOBX("1", "AP", "PDF", "Base64", b64(testPDF)),
		`ORC|RE|MN-2026-00043|LAB124||CM`,
		`OBR|1|MN-2026-00043|LAB124|57021-8^Emocromo \T\ formula^LN|||20260311081500+0100`+strings.Repeat("|", 18)+`C`,
		`NTE|1|L|Referto rettificato\.br\sostituisce il precedente`,
		edOBX("1", "AP", "PDF", "Base64", b64(secondPDF)))
}

// labORUEscapes exercises escape sequences in text fields.
func labORUEscapes() string {
	return joinSegments(labMSH,
		`PID|1||RSSMRA80A01E897X^^^MEF^NNITA||D\S\ANGELO^ANNA MARIA||19800101|F`,
		`OBR|1|MN-2026-00044|LAB125|11502-2^Esami \T\ note \F\ varie^LN|||20260311080000+0100`,
		`OBX|1|TX|NOTE^Nota^L||Prima riga\.br\seconda \E\ terza \X41\ \Zlocale\ \H\fine||||||F`,
		edOBX("2", "AP", "PDF", "Base64", b64(testPDF)))
}

// wrapBase64 splits s into lines of n characters joined by sep, as senders do
// with long base64 values.
func wrapBase64(s string, n int, sep string) string {
	var lines []string
	for len(s) > n {
		lines = append(lines, s[:n])
		s = s[n:]
	}
	return strings.Join(append(lines, s), sep)
}

// mustParse parses raw or fails the test.
func mustParse(t testing.TB, raw string) *Message {
	t.Helper()
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}
