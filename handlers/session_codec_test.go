package handlers

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// The compact codec gives back every value fse keeps in a session, with
// its type, and the deadline.
func TestSessionCodecRoundTripsEveryValueKind(t *testing.T) {
	deadline := time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	values := map[string]any{"account": int64(42), "step": 2, "factor": true, "otp_sent": false,
		"flash": "Profilo aggiornato · «ok»", "state": []byte{0, 1, 2, 255}, "empty": "", "nil_bytes": []byte{}}
	b, err := sessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, sessionMagic) {
		t.Fatal("not written in the compact form")
	}
	gotDeadline, got, err := sessionCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !gotDeadline.Equal(deadline) || !reflect.DeepEqual(got, values) {
		t.Fatalf("decoded %v %#v, want %v %#v", gotDeadline, got, deadline, values)
	}
}

// An unchanged session encodes to the same bytes, whatever the map's
// order: the session store skips the write of a session that did not
// change by comparing them.
func TestSessionCodecIsDeterministic(t *testing.T) {
	values := map[string]any{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		values[k] = k
	}
	first, _ := sessionCodec{}.Encode(time.Unix(100, 0), values)
	for range 20 {
		again, _ := sessionCodec{}.Encode(time.Unix(100, 0), values)
		if !bytes.Equal(first, again) {
			t.Fatal("the same session encoded to different bytes")
		}
	}
}

// Sessions stored with gob before this codec still open; a session holding
// a value of another type is written with gob and reads back.
func TestSessionCodecReadsAndWritesGobWhenItMust(t *testing.T) {
	deadline := time.Unix(1_800_000_000, 0).UTC()
	old, err := scs.GobCodec{}.Encode(deadline, map[string]any{"account": int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	d, v, err := sessionCodec{}.Decode(old)
	if err != nil || !d.Equal(deadline) || v["account"] != int64(7) {
		t.Fatalf("gob session: %v %v %v", d, v, err)
	}
	other := map[string]any{"ratio": 2.5}
	b, err := sessionCodec{}.Encode(deadline, other)
	if err != nil || bytes.HasPrefix(b, sessionMagic) {
		t.Fatalf("a float64 value: err %v, compact %v", err, bytes.HasPrefix(b, sessionMagic))
	}
	if _, v, err := (sessionCodec{}).Decode(b); err != nil || v["ratio"] != 2.5 {
		t.Fatalf("gob fallback: %v %v", v, err)
	}
}

// Damaged data is an error, never a panic nor a half session.
func TestSessionCodecRefusesDamagedData(t *testing.T) {
	b, _ := sessionCodec{}.Encode(time.Unix(1, 0), map[string]any{"flash": "ciao", "id": int64(3)})
	for i := len(sessionMagic); i < len(b); i++ {
		if _, v, err := (sessionCodec{}).Decode(b[:i]); err == nil {
			t.Fatalf("a session cut at %d bytes decoded to %v", i, v)
		}
	}
	if _, _, err := (sessionCodec{}).Decode(append(bytes.Clone(b), 'x')); err == nil {
		t.Fatal("trailing bytes accepted")
	}
}
