package hl7intake_test

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkMLLPIntake300KB measures ORU^R01 messages carrying one 300 KB
// PDF each over a real MLLP connection: parse, base64, PDF check, storage,
// publication and the ACK.
func BenchmarkMLLPIntake300KB(b *testing.B) {
	w := newWorld(b, "127.0.0.0/8")
	base := pdf(b, "Esami")
	i := bytes.IndexByte(base, '\n') + 1
	big := append(append(append([]byte{}, base[:i]...), bytes.Repeat([]byte("% padding line of the benchmark ........................\n"), 300<<10/57)...), base[i:]...)
	c := dial(b, w.addr)
	b.SetBytes(int64(len(big)))
	b.ResetTimer()
	for n := range b.N {
		filler := fmt.Sprintf("LAB%d", n)
		msg := bytes.Replace([]byte(oru(fmt.Sprintf("M%d", n), w.accession, "F", big)), []byte("|LAB123|"), []byte("|"+filler+"|"), 1)
		if code, _, text := c.send(string(msg)); code != "AA" {
			b.Fatalf("ACK %s: %s", code, text)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
