package hl7

import (
	"bytes"
	"strings"
	"testing"
)

// fuzzSeeds are the realistic messages plus a few shapes that exercise the
// edges of the parser: bare headers, odd delimiters, broken escapes.
func fuzzSeeds() []string {
	return []string{
		labORU(),
		strings.ReplaceAll(labORU(), "\r", "\n"),
		strings.ReplaceAll(labORUTwoDocuments(), "\r", "\r\n"),
		labORUTwoOrders(),
		labORUEscapes(),
		joinSegments(labMSH, labPID, labOBR, edOBX("1", "AP", "PDF", "Base64", wrapBase64(b64(testPDF), 60, `\.br\`))),
		joinSegments(labMSH, labPID, labOBR, edOBX("1", "AP", "PDF", "Hex", "255044462D"), edOBX("2", "AP", "PDF", "Base64", "QUJD=")),
		"MSH#$*!@#LIS$2.16.840.1$ISO#LAB!T!MN#FSE#POLIMN#20260312##ORU$R01#C^1|x#T#2.5\rOBR#1\rOBX#1#ED#X##$$$Base64$QUJD\r",
		"MSH|^~\\&#|LIS|||||||ORU^R01|C|P|2.7\rOBR|1\rOBX|1|ED|||^AP^PDF^Base64^\\P\\QUJD\r",
		`MSH|^~\&`,
		"MSH|^~\\&|||||||ORU^R01|1\rOBX|1|ED\rOBR\r",
		"MSH|^~\\&\rNTE|1|L|\\X\\\\X4\\\\E\\\\\\unterminated\\",
		"",
		"MSH",
	}
}

// walk calls every accessor on every part of m, which must never panic.
func walk(m *Message) {
	_ = m.Delimiters()
	_ = m.ControlID()
	for _, s := range m.AllSegments() {
		_, _ = m.Segments(s.Name()), m.First(s.Name())
		for n := -1; n <= s.NumFields()+1; n++ {
			f := s.Field(n)
			_, _ = f.Raw(), f.Value()
			_ = f.Component(0).Value() + f.Component(2).Subcomponent(2) + f.Repetition(0).Raw() + f.Repetition(3).Value()
			for _, r := range f.Repetitions() {
				_, _ = r.Raw(), r.Value()
				for _, c := range r.Components() {
					_, _, _ = c.Raw(), c.Value(), c.Subcomponent(-1)
					_ = c.Subcomponents()
				}
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned a message and error %v", err)
			}
			// A message we cannot parse must still get a well-formed reject.
			ack, err := Parse(AckForUnparsable(raw, err.Error()))
			if err != nil {
				t.Fatalf("AckForUnparsable built an unparsable ACK: %v", err)
			}
			if got := ack.First("MSA").Field(1).Value(); got != "AR" {
				t.Fatalf("MSA-1 = %q, want AR", got)
			}
			return
		}
		walk(m)
		// Serialising and parsing again must give the same message.
		out := m.Bytes()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of Bytes() failed: %v\n%q", err, out)
		}
		if !bytes.Equal(again.Bytes(), out) || len(again.AllSegments()) != len(m.AllSegments()) {
			t.Fatalf("re-parse differs:\n%q\n%q", again.Bytes(), out)
		}
		if again.Delimiters() != m.Delimiters() {
			t.Fatalf("delimiters changed: %+v, %+v", again.Delimiters(), m.Delimiters())
		}
	})
}

func FuzzParseORU(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		o, err := ParseORU(m)
		code, text := AckAccept, ""
		if err != nil {
			if o != nil {
				t.Fatalf("ParseORU returned a result and error %v", err)
			}
			code, text = AckReject, err.Error()
		} else {
			if o.ControlID == "" || len(o.Orders) == 0 {
				t.Fatalf("accepted ORU without control id or orders: %+v", o)
			}
			for _, ord := range o.Orders {
				for _, d := range ord.Documents {
					if (d.Err == nil) == (len(d.Data) == 0) {
						t.Fatalf("document %q: err %v with %d bytes: want exactly one of error and data", d.SetID, d.Err, len(d.Data))
					}
				}
			}
			for _, de := range o.DocumentErrors() {
				code, text = AckError, de.Error()
			}
		}
		ackRaw := AckWithErrorCode(m, code, ErrorCodeOf(err), text)
		if bytes.ContainsAny(ackRaw, "\x0b\x1c") {
			t.Fatalf("ACK contains MLLP framing bytes: %q", ackRaw)
		}
		ack, err := Parse(ackRaw)
		if err != nil {
			t.Fatalf("ACK does not parse: %v\n%q", err, ackRaw)
		}
		msa := ack.First("MSA")
		if got := msa.Field(1).Value(); got != string(code) {
			t.Fatalf("MSA-1 = %q, want %q", got, code)
		}
		if got, want := msa.Field(2).Value(), strings.ReplaceAll(m.ControlID(), "\r\n", "\n"); got != want {
			t.Fatalf("MSA-2 = %q, want the original control id %q", got, want)
		}
	})
}

func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"", "plain", `a|b^c&d~e\f`, "riga\r\nriga\rriga\n", "\x00\x0b\x1c\x7f", "è\\.br\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := StandardDelimiters()
		esc := d.EscapeText(s)
		if strings.ContainsAny(esc, "|^&~\r\n\x0b\x1c") {
			t.Fatalf("EscapeText(%q) = %q still holds a delimiter or control character", s, esc)
		}
		if got, want := d.UnescapeText(esc), strings.ReplaceAll(s, "\r\n", "\n"); got != want {
			t.Fatalf("UnescapeText(EscapeText(%q)) = %q, want %q", s, got, want)
		}
	})
}
