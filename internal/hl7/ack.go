package hl7

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AckCode is the acknowledgment code of MSA-1 (HL7 table 0008, original
// acknowledgment mode).
type AckCode string

// The acknowledgment codes of original mode.
const (
	// AckAccept (AA) tells the sender the message was processed.
	AckAccept AckCode = "AA"
	// AckError (AE) tells the sender processing failed; resending the same
	// message may succeed once the problem is fixed.
	AckError AckCode = "AE"
	// AckReject (AR) tells the sender the message was refused for its type,
	// version, processing id or structure; resending it unchanged will fail.
	AckReject AckCode = "AR"
)

// Length limits of the text fields, from HL7 v2.5: receivers with strict
// length checks would reject an ACK that exceeds them.
const (
	maxMSAText  = 80  // MSA-3, ST
	maxUserText = 250 // ERR-8, TX
	maxSalvaged = 199 // a header value salvaged from an unparsable message
	// salvageWindow bounds how much of an unparsable message is searched
	// for its MSH line.
	salvageWindow = 64 << 10
)

// ackHeader holds the values an ACK copies from the message it answers,
// already encoded with the standard delimiters.
type ackHeader struct {
	sendingApp, sendingFacility     string // the original's receiving ones
	receivingApp, receivingFacility string // the original's sending ones
	trigger                         string // MSH-9.2 of the original
	controlID                       string // MSH-10 of the original, for MSA-2
	processingID, version           string
}

// Ack builds the ACK that answers orig in original acknowledgment mode: an
// MSH addressed back to the sender (sending and receiving application and
// facility swapped, a new control id, the original's version and processing
// id), an MSA with code, the original's control id and errText, and, unless
// code is AckAccept, an ERR segment with HL7 error code 207 (application
// internal error) and errText as the user message. Use AckWithErrorCode when
// a more precise error code is known. orig may be nil.
//
// errText is sent to another system and usually logged there: it must not
// contain patient data.
func Ack(orig *Message, code AckCode, errText string) []byte {
	return AckWithErrorCode(orig, code, CodeApplicationInternalError, errText)
}

// AckWithErrorCode is Ack with the HL7 error code to write into ERR-3, such
// as ErrorCodeOf(err) for an error from ParseORU. The error code is ignored
// when code is AckAccept.
func AckWithErrorCode(orig *Message, code AckCode, ec ErrorCode, errText string) []byte {
	msh := orig.First("MSH")
	d := StandardDelimiters()
	h := ackHeader{
		sendingApp:        reencode(msh.Field(5), d),
		sendingFacility:   reencode(msh.Field(6), d),
		receivingApp:      reencode(msh.Field(3), d),
		receivingFacility: reencode(msh.Field(4), d),
		trigger:           triggerEvent(msh.Field(9)),
		controlID:         reencode(msh.Field(10), d),
		processingID:      reencode(msh.Field(11), d),
		version:           reencode(msh.Field(12), d),
	}
	return buildAck(h, code, ec, errText, time.Now())
}

// AckForUnparsable builds a reject (AR) for a message that Parse refused,
// with HL7 error code 100 (segment sequence error) and reason as the text.
// It answers whatever it can salvage from the first line, if that looks like
// an MSH: the control id for MSA-2 and the applications to swap; anything it
// cannot read safely is left empty.
func AckForUnparsable(raw []byte, reason string) []byte {
	return AckForUnparsableWithErrorCode(raw, CodeSegmentSequence, reason)
}

// AckForUnparsableWithErrorCode is AckForUnparsable with the HL7 error code
// to write into ERR-3, such as ErrorCodeOf of the error Parse returned.
func AckForUnparsableWithErrorCode(raw []byte, ec ErrorCode, reason string) []byte {
	return buildAck(salvageHeader(raw), AckReject, ec, reason, time.Now())
}

// buildAck writes the ACK message with the standard delimiters.
func buildAck(h ackHeader, code AckCode, ec ErrorCode, text string, now time.Time) []byte {
	d := StandardDelimiters()
	text = strings.ToValidUTF8(text, "?")
	msgType := "ACK"
	if h.trigger != "" {
		msgType = "ACK^" + h.trigger + "^ACK"
	}
	if h.processingID == "" {
		h.processingID = "P"
	}
	if h.version == "" {
		h.version = "2.5"
	}
	msh := []string{
		"MSH", d.encodingChars(), // MSH-1 is the separator written by Join
		h.sendingApp, h.sendingFacility, h.receivingApp, h.receivingFacility,
		now.Format("20060102150405-0700"), "", msgType, newControlID(),
		h.processingID, h.version,
	}
	if !isASCII(text) {
		// MSH-13..17 empty, MSH-18: without it the receiver would read our
		// UTF-8 as its default character set, usually ASCII or Latin-1.
		msh = append(msh, "", "", "", "", "", "UNICODE UTF-8")
	}
	var b bytes.Buffer
	b.WriteString(strings.Join(msh, "|"))
	b.WriteByte('\r')
	b.WriteString(strings.Join([]string{"MSA", d.EscapeText(string(code)), h.controlID, d.EscapeText(truncateRunes(text, maxMSAText))}, "|"))
	b.WriteByte('\r')
	if code != AckAccept {
		hl7Code := strings.Join([]string{strconv.Itoa(int(ec)), ec.Text(), "HL70357"}, "^")
		b.WriteString(strings.Join([]string{"ERR", "", "", hl7Code, "E", "", "", "", d.EscapeText(truncateRunes(text, maxUserText))}, "|"))
		b.WriteByte('\r')
	}
	return b.Bytes()
}

// triggerEvent returns MSH-9.2 of the original when it is a well-formed
// trigger event code (three letters or digits, such as R01), for the ACK's
// own MSH-9; anything else is dropped rather than echoed.
func triggerEvent(f Field) string {
	ev := f.Component(2).Value()
	if len(ev) != 3 {
		return ""
	}
	for i := 0; i < len(ev); i++ {
		if c := ev[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return ev
}

// reencode rewrites a field of a parsed message with the delimiters to,
// decoding and re-escaping every subcomponent. Copying the raw text would be
// wrong when the original declared other delimiters, and would carry control
// characters that break MLLP framing.
func reencode(f Field, to Delimiters) string {
	reps := f.Repetitions()
	out := make([]string, len(reps))
	for i, r := range reps {
		comps := r.Components()
		cs := make([]string, len(comps))
		for j, c := range comps {
			subs := c.Subcomponents()
			for k, s := range subs {
				subs[k] = to.EscapeText(s)
			}
			cs[j] = strings.Join(subs, string(to.Subcomponent))
		}
		out[i] = strings.Join(cs, string(to.Component))
	}
	return strings.Join(out, string(to.Repetition))
}

// salvageHeader reads what it can from the first line of a message that did
// not parse. It trusts only MSH-1 (if it is a plausible separator) and the
// first character of MSH-2 (the component separator), takes the first
// component of each value it needs, and escapes it.
func salvageHeader(raw []byte) ackHeader {
	if len(raw) > salvageWindow {
		raw = raw[:salvageWindow]
	}
	s := strings.TrimLeft(string(raw), "\r\n\t \x0b")
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) < 4 || !strings.HasPrefix(s, "MSH") || !isDelimiterChar(s[3]) {
		return ackHeader{}
	}
	parts := strings.Split(s, string(s[3]))
	var comp byte
	if enc := parts[1]; enc != "" && isDelimiterChar(enc[0]) {
		comp = enc[0]
	}
	d := StandardDelimiters()
	field := func(n int) string { // MSH-n is parts[n-1]: MSH-1 is not split out
		if n-1 >= len(parts) {
			return ""
		}
		v := parts[n-1]
		if comp != 0 {
			if i := strings.IndexByte(v, comp); i >= 0 {
				v = v[:i]
			}
		}
		if len(v) > maxSalvaged || !utf8.ValidString(v) {
			return ""
		}
		return d.EscapeText(v)
	}
	return ackHeader{
		sendingApp:        field(5),
		sendingFacility:   field(6),
		receivingApp:      field(3),
		receivingFacility: field(4),
		controlID:         field(10),
		processingID:      field(11),
		version:           field(12),
	}
}

// newControlID returns a fresh MSH-10 for an ACK: 20 random hexadecimal
// characters, the longest control id HL7 v2.5 allows, so that no two ACKs
// share one.
func newControlID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// truncateRunes shortens s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// isASCII reports whether s holds only 7-bit characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
