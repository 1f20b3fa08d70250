package hl7

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func segmentNames(m *Message) []string {
	var names []string
	for _, s := range m.AllSegments() {
		names = append(names, s.Name())
	}
	return names
}

func TestParseLineEndings(t *testing.T) {
	want := []string{"MSH", "PID", "PV1", "ORC", "OBR", "OBX", "OBX"}
	cr := labORU()
	tests := []struct {
		name string
		raw  string
	}{
		{"CR", cr},
		{"LF", strings.ReplaceAll(cr, "\r", "\n")},
		{"CRLF", strings.ReplaceAll(cr, "\r", "\r\n")},
		{"no final terminator", strings.TrimSuffix(cr, "\r")},
		{"blank lines and surrounding space", "\r\n" + strings.ReplaceAll(cr, "\r", "\r\r\n") + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.raw)
			if got := segmentNames(m); !slices.Equal(got, want) {
				t.Fatalf("segments = %v, want %v", got, want)
			}
			if got, want := m.First("OBR").Field(25).Value(), "F"; got != want {
				t.Errorf("OBR-25 = %q, want %q", got, want)
			}
			if got, want := m.ControlID(), "LAB20260312093015001"; got != want {
				t.Errorf("ControlID = %q, want %q", got, want)
			}
		})
	}
}

func TestParseLoneLFIsDataWhenSegmentsEndWithCR(t *testing.T) {
	// A sender wrapped the base64 with bare LF while ending segments with CR:
	// the LF must stay inside OBX-5 rather than start bogus segments.
	wrapped := wrapBase64(b64(testPDF), 76, "\n")
	m := mustParse(t, joinSegments(labMSH, labOBR, edOBX("1", "AP", "PDF", "Base64", wrapped)))
	if got, want := segmentNames(m), []string{"MSH", "OBR", "OBX"}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	if got := m.First("OBX").Field(5).Component(5).Raw(); got != wrapped {
		t.Errorf("OBX-5.5 lost its line breaks: got %d bytes, want %d", len(got), len(wrapped))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"only line breaks", "\r\n\r\n", ErrEmpty},
		{"PID first", "PID|1||X\r" + labMSH + "\r", ErrNoMSH},
		{"binary", "\x00\x01\x02\x03", ErrNoMSH},
		{"MSH alone", "MSH", ErrBadDelimiters},
		{"no encoding characters", "MSH|", ErrBadDelimiters},
		{"three encoding characters", `MSH|^~\|LIS`, ErrBadDelimiters},
		{"six encoding characters", `MSH|^~\&#!|LIS`, ErrBadDelimiters},
		{"repeated delimiter", `MSH|^^\&|LIS`, ErrBadDelimiters},
		{"field separator reused", `MSH|^~\||LIS`, ErrBadDelimiters},
		{"letter as separator", `MSHA^~\&ALIS`, ErrBadDelimiters},
		{"space as separator", `MSH ^~\& LIS`, ErrBadDelimiters},
		{"control character", "MSH|^~\\\x01|LIS", ErrBadDelimiters},
		{"lower-case segment", labMSH + "\rpid|1\r", ErrBadSegment},
		{"long segment name", labMSH + "\rPIDX|1\r", ErrBadSegment},
		{"base64 line as segment", labMSH + "\nJVBERi0xLjQK\n", ErrBadSegment},
		{"second MSH with other encoding", labMSH + "\r" + `MSH|^~\#|X` + "\r", ErrBadDelimiters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse error = %v, want %v", err, tt.want)
			}
			if m != nil {
				t.Errorf("Parse returned a message with error %v", err)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	small := limits{size: 200, segments: 3, fields: 10}
	tests := []struct {
		name string
		raw  string
	}{
		{"too many bytes", labMSH + "\r" + strings.Repeat("X", 200)},
		{"too many segments", labMSH + "\rNTE|1\rNTE|2\rNTE|3\r"},
		{"too many fields", "MSH|^~\\&|LIS\rNTE" + strings.Repeat("|x", 11) + "\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse([]byte(tt.raw), small); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("parse error = %v, want ErrTooLarge", err)
			}
		})
	}
	if _, err := parse([]byte("MSH|^~\\&|LIS\rNTE|1\r"), small); err != nil {
		t.Fatalf("a message within the limits failed: %v", err)
	}
}

func TestFieldAccess(t *testing.T) {
	m := mustParse(t, labORU())
	msh, pid, obr := m.First("MSH"), m.First("PID"), m.First("OBR")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"MSH-0 is the name", msh.Field(0).Value(), "MSH"},
		{"MSH-1 is the separator", msh.Field(1).Value(), "|"},
		{"MSH-2 is not split", msh.Field(2).Value(), `^~\&`},
		{"MSH-2 component 1", msh.Field(2).Component(1).Value(), `^~\&`},
		{"MSH-2 component 2", msh.Field(2).Component(2).Value(), ""},
		{"MSH-3", msh.Field(3).Value(), "LIS"},
		{"MSH-9 first component", msh.Field(9).Value(), "ORU"},
		{"MSH-9.2", msh.Field(9).Component(2).Value(), "R01"},
		{"MSH-9 raw", msh.Field(9).Raw(), "ORU^R01^ORU_R01"},
		{"MSH-18", msh.Field(18).Value(), "8859/1"},
		{"PID-3 first repetition", pid.Field(3).Value(), "RSSMRA80A01E897X"},
		{"PID-3 second repetition id", pid.Field(3).Repetition(2).Component(1).Value(), "123456"},
		{"PID-3 second repetition type", pid.Field(3).Repetition(2).Component(5).Value(), "PI"},
		{"PID-3 third repetition", pid.Field(3).Repetition(3).Raw(), ""},
		{"PID-5 given name", pid.Field(5).Component(2).Value(), "MARIO"},
		{"PID-11 city", pid.Field(11).Component(3).Value(), "MANTOVA"},
		{"OBR-2 subcomponent-free", obr.Field(2).Component(2).Value(), "POLIMN"},
		{"OBR-7", obr.Field(7).Value(), "20260311080000+0100"},
		{"OBR-22", obr.Field(22).Value(), "20260312090000+0100"},
		{"OBR-24", obr.Field(24).Value(), "CH"},
		{"field past the end", obr.Field(99).Value(), ""},
		{"negative field", obr.Field(-1).Value(), ""},
		{"component zero", obr.Field(4).Component(0).Value(), ""},
		{"missing segment", m.First("ZZZ").Field(3).Value(), ""},
		{"nil message", (*Message)(nil).ControlID(), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if got, want := len(pid.Field(3).Repetitions()), 2; got != want {
		t.Errorf("PID-3 has %d repetitions, want %d", got, want)
	}
	if got := pid.Field(4).Repetitions(); got != nil {
		t.Errorf("empty PID-4 has repetitions %v, want none", got)
	}
	if got, want := len(obr.Field(4).Repetition(1).Components()), 3; got != want {
		t.Errorf("OBR-4 has %d components, want %d", got, want)
	}
	if got, want := msh.NumFields(), 18; got != want {
		t.Errorf("MSH NumFields = %d, want %d", got, want)
	}
	if got, want := len(m.Segments("OBX")), 2; got != want {
		t.Errorf("Segments(OBX) = %d, want %d", got, want)
	}
}

func TestSubcomponents(t *testing.T) {
	m := mustParse(t, labMSH+"\rPID|1||X^^^MEF&2.16.840.1.113883.2.9&ISO^NNITA||DE\\T\\LUCA&DE&LUCA^GIO\r")
	pid := m.First("PID")
	if got, want := pid.Field(3).Component(4).Subcomponents(), []string{"MEF", "2.16.840.1.113883.2.9", "ISO"}; !slices.Equal(got, want) {
		t.Errorf("PID-3.4 subcomponents = %q, want %q", got, want)
	}
	if got, want := pid.Field(3).Component(4).Value(), "MEF"; got != want {
		t.Errorf("PID-3.4 value = %q, want %q", got, want)
	}
	if got, want := pid.Field(5).Component(1).Subcomponent(1), "DE&LUCA"; got != want {
		t.Errorf("PID-5.1.1 = %q, want the escaped & decoded: %q", got, want)
	}
	if got, want := pid.Field(5).Component(1).Subcomponent(3), "LUCA"; got != want {
		t.Errorf("PID-5.1.3 = %q, want %q", got, want)
	}
	if got := pid.Field(5).Component(1).Subcomponent(4); got != "" {
		t.Errorf("PID-5.1.4 = %q, want empty", got)
	}
}

func TestCustomDelimiters(t *testing.T) {
	// Same structure as the standard, with every delimiter changed: values
	// must split on the declared characters and "^" must become plain data.
	raw := "MSH#$*!@#LIS$1.2.3#LABMN#FSE#POLIMN#20260312093015##ORU$R01#C1#P#2.5\r" +
		"PID#1##RSSMRA80A01E897X$$$MEF*999$$$X#\r" +
		"NTE#1#L#caret ^ pipe | hash !F! dollar !S! star !R! at !T! bang !E!\r"
	m := mustParse(t, raw)
	d := m.Delimiters()
	if want := (Delimiters{Field: '#', Component: '$', Repetition: '*', Escape: '!', Subcomponent: '@'}); d != want {
		t.Fatalf("Delimiters = %+v, want %+v", d, want)
	}
	pid := m.First("PID")
	if got, want := pid.Field(3).Repetition(2).Value(), "999"; got != want {
		t.Errorf("PID-3 second repetition = %q, want %q", got, want)
	}
	if got, want := m.First("MSH").Field(9).Component(2).Value(), "R01"; got != want {
		t.Errorf("MSH-9.2 = %q, want %q", got, want)
	}
	if got, want := m.First("NTE").Field(3).Value(), "caret ^ pipe | hash # dollar $ star * at @ bang !"; got != want {
		t.Errorf("NTE-3 = %q, want %q", got, want)
	}
	// Serialising and parsing again must give the same message.
	if again := mustParse(t, string(m.Bytes())); string(again.Bytes()) != string(m.Bytes()) {
		t.Errorf("re-parsed message differs:\n%q\n%q", again.Bytes(), m.Bytes())
	}
}

func TestTruncationCharacter(t *testing.T) {
	m := mustParse(t, "MSH|^~\\&#|LIS\rNTE|1|L|50\\P\\ troncato#\r")
	if got, want := m.Delimiters().Truncation, byte('#'); got != want {
		t.Fatalf("Truncation = %q, want %q", got, want)
	}
	if got, want := m.First("NTE").Field(3).Value(), "50# troncato#"; got != want {
		t.Errorf("NTE-3 = %q, want %q", got, want)
	}
}

func TestBytesRoundTrip(t *testing.T) {
	for name, raw := range map[string]string{
		"lab ORU":  labORU(),
		"LF":       strings.ReplaceAll(labORUTwoOrders(), "\r", "\n"),
		"escapes":  labORUEscapes(),
		"MSH only": `MSH|^~\&`,
	} {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, raw)
			want := strings.ReplaceAll(strings.TrimRight(raw, "\r\n")+"\r", "\n", "\r")
			if got := string(m.Bytes()); got != want {
				t.Fatalf("Bytes() =\n%q\nwant\n%q", got, want)
			}
		})
	}
}
