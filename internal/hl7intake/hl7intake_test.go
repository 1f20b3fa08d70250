package hl7intake_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/demo"
	"fse/internal/hl7"
	"fse/internal/hl7intake"
	"fse/internal/intake"
	"fse/internal/mllp"
	"fse/internal/testkit"
)

// world is fse with one lab integration on 127.0.0.0/8 and a visit of
// Mario Rossi, an MLLP server on a free port, and a log.
type world struct {
	d         *db.DB
	addr      string
	accession string
	logs      *testkit.LogBuffer
	lab       db.Integration
}

func newWorld(t testing.TB, network string) world {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	keys := testkit.Keys(t)
	d.SetSealer(keys)
	clock := testkit.NewClock(testkit.T0)
	fid, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, db.Actor{Kind: db.ActorCLI}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, hash := db.NewIntegrationToken()
	if _, err := d.CreateIntegration(ctx, db.Integration{Name: "LIS", FacilityID: fid, Scopes: []string{db.ScopeVisits, db.ScopeReports},
		AllowCIDRs: []string{network}, MLLP: true}, hash, db.Actor{Kind: db.ActorCLI}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	lab, err := d.IntegrationByName(ctx, "LIS")
	if err != nil {
		t.Fatal(err)
	}
	svc := &intake.Service{DB: d, Keys: keys, BaseURL: "https://referti.example.it", Retention: 60 * 24 * time.Hour, UploadLimit: 1 << 20,
		Now: clock.Now}
	v, err := svc.CreateVisit(ctx, lab, "", intake.VisitRequest{ExternalID: "CUP-1", Visit: acceptance.Visit{Person: acceptance.Person{
		FiscalCode: "RSSMRA85T10A562S", FirstName: "Mario", LastName: "Rossi", BirthDate: "1985-12-10", BirthPlace: "Pisa", Sex: "M"},
		Mobile: "3331234567", Exams: []string{"Emocromo"}}})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	recv := &hl7intake.Receiver{DB: d, Intake: svc, Log: logs.Logger()}
	srv := &mllp.Server{Handler: recv.Handle, Allow: recv.Allow, Reject: recv.Reject, Log: logs.Logger()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return world{d: d, addr: ln.Addr().String(), accession: v.Visit.AccessionNumber(), logs: logs, lab: lab}
}

func pdf(t testing.TB, title string) []byte {
	t.Helper()
	b, err := demo.ReportPDF(title, "Rossi Mario", "RSSMRA85T10A562S", "MN-2026-00001", []string{"Emocromo"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oru is an Italian lab's ORU^R01 v2.5 with one ED document per PDF.
func oru(control, accession, status string, pdfs ...[]byte) string {
	segs := []string{
		"MSH|^~\\&|LIS|LABMN|FSE|MN|20260312083000+0100||ORU^R01^ORU_R01|" + control + "|P|2.5",
		"PID|1||RSSMRA85T10A562S^^^MEF^NNITA||Rossi^Mario||19851210|M",
		"OBR|1|" + accession + "|LAB123|24323-8^Pannello metabolico \\T\\ emocromo^LN|||20260312080000||||||||||||||||||" + status,
		"OBX|1|NM|718-7^Emoglobina^LN||13.5|g/dL|13-17|N|||F",
	}
	for i, p := range pdfs {
		segs = append(segs, fmt.Sprintf("OBX|%d|ED|11502-2^Referto di laboratorio^LN||^AP^PDF^Base64^%s||||||F", i+2,
			base64.StdEncoding.EncodeToString(p)))
	}
	return strings.Join(segs, "\r")
}

// conn is an MLLP client.
type conn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

// send sends one message and returns its ACK's MSA-1, MSA-2 and MSA-3.
func (c *conn) send(msg string) (code, control, text string) {
	c.t.Helper()
	if err := mllp.WriteFrame(c.c, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
	return c.ack()
}

func (c *conn) ack() (code, control, text string) {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, err := mllp.ReadFrame(c.r, 1<<20)
	if err != nil {
		c.t.Fatalf("no ACK: %v", err)
	}
	m, err := hl7.Parse(raw)
	if err != nil {
		c.t.Fatalf("ACK does not parse: %v\n%q", err, raw)
	}
	msa := m.First("MSA")
	return msa.Field(1).Value(), msa.Field(2).Value(), msa.Field(3).Value()
}

func (w world) documents(t *testing.T, where string) int {
	return testkit.Count(t, w.d, `SELECT count(*) FROM documents WHERE complete AND `+where)
}

func TestValidResultIsStoredPublishedAndAcknowledged(t *testing.T) {
	w := newWorld(t, "127.0.0.0/8")
	c := dial(t, w.addr)
	first := pdf(t, "Esami")
	code, control, text := c.send(oru("MSG0001", w.accession, "F", first))
	if code != "AA" || control != "MSG0001" {
		t.Fatalf("ACK %s for %s: %s", code, control, text)
	}
	if n := w.documents(t, `published_at IS NOT NULL AND title = 'Pannello metabolico & emocromo'`); n != 1 {
		t.Errorf("published documents titled from OBR-4 = %d, want 1", n)
	}
	ev, _ := w.d.ListAudit(context.Background(), db.AuditFilter{Action: db.ActionReportUpload})
	if len(ev) != 1 || ev[0].Actor.Name != "LIS" || ev[0].Actor.Kind != db.ActorIntegration {
		t.Errorf("upload audit = %+v", ev)
	}
	// The same message again (no ACK reached the LIS): nothing new.
	if code, _, _ := c.send(oru("MSG0001", w.accession, "F", first)); code != "AA" {
		t.Errorf("resend: %s", code)
	}
	if n := w.documents(t, "1"); n != 1 {
		t.Errorf("documents after a resend = %d, want 1", n)
	}
	// A corrected result (OBR-25 C) with a new PDF replaces it.
	if code, _, _ := c.send(oru("MSG0002", w.accession, "C", pdf(t, "Esami rettificati"))); code != "AA" {
		t.Errorf("correction: %s", code)
	}
	if ev, _ := w.d.ListAudit(context.Background(), db.AuditFilter{Action: db.ActionReportCorrect}); len(ev) != 1 {
		t.Errorf("corrections audited = %d, want 1", len(ev))
	}
	if strings.Contains(w.logs.String(), "RSSMRA85T10A562S") || strings.Contains(w.logs.String(), "JVBER") {
		t.Error("patient data or document content reached the log")
	}
}

func TestTwoMessagesOnOneConnectionAndSeveralDocuments(t *testing.T) {
	w := newWorld(t, "127.0.0.1/32")
	c := dial(t, w.addr)
	if code, control, _ := c.send(oru("A1", w.accession, "P", pdf(t, "Uno"))); code != "AA" || control != "A1" {
		t.Fatalf("first: %s %s", code, control)
	}
	if n := w.documents(t, "published_at IS NULL"); n != 1 {
		t.Errorf("preliminary (P) results kept as drafts = %d, want 1", n)
	}
	// The final results of the same order: the first replaces the
	// preliminary draft, the second is a new report; both are published.
	if code, control, _ := c.send(oru("A2", w.accession, "F", pdf(t, "Due"), pdf(t, "Tre"))); code != "AA" || control != "A2" {
		t.Fatalf("second: %s %s", code, control)
	}
	if n := w.documents(t, "published_at IS NULL"); n != 0 {
		t.Errorf("drafts left = %d, want 0", n)
	}
	if n := w.documents(t, "published_at IS NOT NULL"); n != 2 {
		t.Errorf("final results published = %d, want 2 (two OBX of type ED)", n)
	}
}

func TestRefusedMessagesGetTheirReason(t *testing.T) {
	w := newWorld(t, "127.0.0.0/8")
	good := pdf(t, "Esami")
	corrupt := strings.Replace(oru("B3", w.accession, "F", good), "^Base64^JVBER", "^Base64^!!!!JVBER", 1)
	for _, tt := range []struct {
		name, msg, code, reason string
	}{
		{"wrong accession", oru("B1", "MN-2026-09999", "F", good), "AE", "no such visit"},
		{"no accession", oru("B2", "", "F", good), "AE", "accession"},
		{"corrupt base64", corrupt, "AE", "base64"},
		{"not a PDF", oru("B4", w.accession, "F", []byte("<html>not a report</html>")), "AE", "complete PDF"},
		{"no document", oru("B5", w.accession, "F"), "AE", "no OBX of type ED"},
		{"another message type", strings.Replace(oru("B6", w.accession, "F", good), "ORU^R01^ORU_R01", "ADT^A01", 1), "AR", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, text := dial(t, w.addr).send(tt.msg)
			if code != tt.code || !strings.Contains(strings.ToLower(text), strings.ToLower(tt.reason)) {
				t.Errorf("ACK %s %q, want %s with %q", code, text, tt.code, tt.reason)
			}
		})
	}
	if n := w.documents(t, "1"); n != 0 {
		t.Errorf("documents after refusals = %d, want 0", n)
	}
	// Garbage that is not HL7 at all still gets an answer.
	if code, _, _ := dial(t, w.addr).send("this is not hl7"); code != "AR" {
		t.Errorf("garbage: %s, want AR", code)
	}
}

// A sender trickling its message does not hold up another one.
func TestSlowSenderDoesNotBlockOthers(t *testing.T) {
	w := newWorld(t, "127.0.0.0/8")
	slow := dial(t, w.addr)
	msg := []byte{0x0B}
	msg = append(msg, oru("S1", w.accession, "F", pdf(t, "Lento"))...)
	go func() {
		for i, b := range msg {
			slow.c.Write([]byte{b})
			if i < 40 {
				time.Sleep(25 * time.Millisecond)
			}
		}
		slow.c.Write([]byte{0x1C, 0x0D})
	}()
	start := time.Now()
	if code, _, _ := dial(t, w.addr).send(oru("F1", w.accession, "F", pdf(t, "Veloce"))); code != "AA" {
		t.Errorf("fast sender: %s", code)
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Errorf("the fast sender waited %v behind the slow one", time.Since(start))
	}
	if code, control, _ := slow.ack(); code != "AA" || control != "S1" {
		t.Errorf("slow sender: %s %s", code, control)
	}
}

func TestConnectionFromAnUnknownNetworkIsRefused(t *testing.T) {
	w := newWorld(t, "10.9.0.0/16")
	c := dial(t, w.addr)
	mllp.WriteFrame(c.c, []byte(oru("X1", w.accession, "F", pdf(t, "Esami"))))
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := mllp.ReadFrame(c.r, 1<<20); err == nil {
		t.Error("a connection from an unknown network got an answer")
	}
	if n := w.documents(t, "1"); n != 0 {
		t.Errorf("documents = %d, want 0", n)
	}
}

func TestPIDOfAnotherPatientIsRefused(t *testing.T) {
	w := newWorld(t, "127.0.0.0/8")
	msg := strings.Replace(oru("P1", w.accession, "F", pdf(t, "Esami")), "RSSMRA85T10A562S^^^MEF", "VRDGLI78E54E897T^^^MEF", 1)
	if code, _, text := dial(t, w.addr).send(msg); code != "AE" || !strings.Contains(text, "another patient") {
		t.Errorf("ACK %s %q, want AE naming the patient mismatch", code, text)
	}
	if n := w.documents(t, "1"); n != 0 {
		t.Errorf("documents = %d, want 0", n)
	}
}

// An integration whose networks only limit its API token is not an MLLP
// sender: MLLP is chosen explicitly.
func TestMLLPNeedsAnIntegrationThatChoseIt(t *testing.T) {
	w := newWorld(t, "10.9.0.0/16")
	ctx := context.Background()
	_, hash := db.NewIntegrationToken()
	if _, err := w.d.CreateIntegration(ctx, db.Integration{Name: "API only", FacilityID: w.lab.FacilityID,
		Scopes: []string{db.ScopeReports}, AllowCIDRs: []string{"127.0.0.0/8"}}, hash, db.Actor{Kind: db.ActorCLI}, testkit.T0); err != nil {
		t.Fatal(err)
	}
	c := dial(t, w.addr)
	mllp.WriteFrame(c.c, []byte(oru("X1", w.accession, "F", pdf(t, "Esami"))))
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := mllp.ReadFrame(c.r, 1<<20); err == nil {
		t.Error("an API-only integration's network could send MLLP")
	}
	// And MLLP integrations may not share networks.
	_, hash = db.NewIntegrationToken()
	if _, err := w.d.CreateIntegration(ctx, db.Integration{Name: "LIS bis", FacilityID: w.lab.FacilityID, Scopes: []string{db.ScopeReports},
		AllowCIDRs: []string{"10.9.1.0/24"}, MLLP: true}, hash, db.Actor{Kind: db.ActorCLI}, testkit.T0); !errors.Is(err, db.ErrMLLPNetworks) {
		t.Errorf("overlapping MLLP networks: %v, want ErrMLLPNetworks", err)
	}
}

// A message is stored all or none: a second order for a visit whose
// online delivery was declined refuses the whole message.
func TestMessageIsAllOrNothing(t *testing.T) {
	w := newWorld(t, "127.0.0.0/8")
	ctx := context.Background()
	declined, err := w.d.Accept(ctx, db.Acceptance{Patient: db.Patient{FiscalCode: "RSSMRA85T10A562S", FirstName: "Mario",
		LastName: "Rossi", BirthDate: time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), BirthPlace: "Pisa", Sex: "M", Mobile: "+393331234567"},
		FacilityID: w.lab.FacilityID, Exams: []string{"ECG"}, OnlineDeclined: true}, w.lab.Actor(""), testkit.T0)
	if err != nil {
		t.Fatal(err)
	}
	msg := oru("Z1", w.accession, "F", pdf(t, "Esami")) + "\r" +
		strings.Join(strings.Split(oru("Z1", declined.AccessionNumber(), "F", pdf(t, "ECG")), "\r")[2:], "\r")
	msg = strings.Replace(msg, "OBR|1|"+declined.AccessionNumber()+"|LAB123", "OBR|2|"+declined.AccessionNumber()+"|LAB124", 1)
	if code, _, text := dial(t, w.addr).send(msg); code != "AE" || !strings.Contains(text, "declined") {
		t.Errorf("ACK %s %q, want AE (declined)", code, text)
	}
	if n := w.documents(t, "1"); n != 0 {
		t.Errorf("documents = %d, want 0: nothing of a refused message is kept", n)
	}
}

// Without a filler order number the report id is the accession and the
// service: a corrected result replaces its report instead of adding one.
func TestCorrectionWithoutFillerOrderReplaces(t *testing.T) {
	w := newWorld(t, "127.0.0.0/8")
	c := dial(t, w.addr)
	noFiller := func(control, status string, p []byte) string {
		return strings.Replace(oru(control, w.accession, status, p), "|LAB123|", "||", 1)
	}
	if code, _, text := c.send(noFiller("K1", "F", pdf(t, "Esami"))); code != "AA" {
		t.Fatalf("first: %s %s", code, text)
	}
	if code, _, text := c.send(noFiller("K2", "C", pdf(t, "Esami corretti"))); code != "AA" {
		t.Fatalf("correction: %s %s", code, text)
	}
	if n := w.documents(t, "1"); n != 1 {
		t.Errorf("documents = %d, want 1", n)
	}
}
