package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/demo"
	"fse/internal/hl7"
	"fse/internal/intake"
	"fse/internal/mllp"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// intakeDB makes a database with a key file, a facility, a lab integration
// for 127.0.0.0/8 and a visit; it returns the paths and the accession.
func intakeDB(t *testing.T) (dbPath, keyPath, accession string) {
	t.Helper()
	dir := t.TempDir()
	dbPath, keyPath = filepath.Join(dir, "fse.db"), filepath.Join(dir, "fse.key")
	keys, err := sealbox.CreateKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetSealer(keys)
	if err := d.CheckKey(ctx, keys.MAC(sealbox.KeyCheck, "")); err != nil {
		t.Fatal(err)
	}
	fid, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, db.Actor{Kind: db.ActorCLI}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, hash := db.NewIntegrationToken()
	if _, err := d.CreateIntegration(ctx, db.Integration{Name: "LIS", FacilityID: fid, Scopes: []string{db.ScopeVisits, db.ScopeReports},
		AllowCIDRs: []string{"127.0.0.0/8"}, AutoPublish: true, MLLP: true}, hash, db.Actor{Kind: db.ActorCLI}, time.Now()); err != nil {
		t.Fatal(err)
	}
	in, _ := d.IntegrationByName(ctx, "LIS")
	svc := &intake.Service{DB: d, Keys: keys, BaseURL: "http://localhost", Retention: time.Hour, UploadLimit: 1 << 20, Now: time.Now}
	v, err := svc.CreateVisit(ctx, in, "", intake.VisitRequest{ExternalID: "CUP-1", Visit: acceptance.Visit{Person: acceptance.Person{
		FiscalCode: "RSSMRA85T10A562S", FirstName: "Mario", LastName: "Rossi", BirthDate: "1985-12-10", BirthPlace: "Pisa", Sex: "M"},
		Mobile: "3331234567", Exams: []string{"Emocromo"}}})
	if err != nil {
		t.Fatal(err)
	}
	return dbPath, keyPath, v.Visit.AccessionNumber()
}

func reportPDF(t *testing.T, title string) []byte {
	t.Helper()
	b, err := demo.ReportPDF(title, "Rossi Mario", "RSSMRA85T10A562S", "MN-2026-00001", []string{"Emocromo"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fse serve takes reports over MLLP and from the hot folder.
func TestServeTakesReportsOverMLLPAndFromTheHotFolder(t *testing.T) {
	dbPath, keyPath, accession := intakeDB(t)
	folder := t.TempDir()
	s, code, ok := startCmd(t, []string{"serve", "--db", dbPath, "--key-file", keyPath, "--addr", "127.0.0.1:0",
		"--mllp-addr", "127.0.0.1:0", "--import-dir", folder, "--import-integration", "LIS"}, nil)
	if !ok {
		t.Fatalf("serve exited with %d: %s", code, s.stderr.String())
	}
	addr := regexp.MustCompile(`msg="mllp listening" addr=(\S+)`).FindStringSubmatch(s.stderr.String())
	if addr == nil {
		t.Fatalf("no mllp address in the log: %s", s.stderr.String())
	}
	c, err := net.DialTimeout("tcp", addr[1], time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := "MSH|^~\\&|LIS|LABMN|FSE|MN|20260312083000||ORU^R01|C1|P|2.5\rPID|1||RSSMRA85T10A562S\r" +
		"OBR|1|" + accession + "|LAB1|E^Esami del sangue\rOBX|1|ED|E^Esami||^AP^PDF^Base64^" +
		base64.StdEncoding.EncodeToString(reportPDF(t, "Esami")) + "||||||F"
	if err := mllp.WriteFrame(c, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, err := mllp.ReadFrame(bufio.NewReader(c), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := hl7.Parse(raw)
	if err != nil || ack.First("MSA").Field(1).Value() != "AA" {
		t.Errorf("ACK %q (%v)", raw, err)
	}

	name := accession + "__RX torace.pdf"
	if err := os.WriteFile(filepath.Join(folder, name), reportPDF(t, "RX"), 0o640); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(folder, "done", name)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hot folder did not import %s; log:\n%s", name, s.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	d := testkit.OpenPath(t, dbPath)
	if n := testkit.Count(t, d, `SELECT count(*) FROM documents WHERE complete AND published_at IS NOT NULL`); n != 2 {
		t.Errorf("published reports = %d, want 2", n)
	}
}

func TestImportCommand(t *testing.T) {
	dbPath, keyPath, accession := intakeDB(t)
	folder := t.TempDir()
	os.WriteFile(filepath.Join(folder, accession+"__Esami.pdf"), reportPDF(t, "Esami"), 0o640)
	os.WriteFile(filepath.Join(folder, "senza-numero.pdf"), reportPDF(t, "X"), 0o640)
	r := runCmd(t, invocation{args: []string{"import", folder, "--db", dbPath, "--key-file", keyPath, "--integration", "LIS"}})
	if r.code != 0 || !strings.Contains(r.stdout, "1 imported, 1 refused") {
		t.Errorf("import: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"import", folder, "--db", dbPath, "--key-file", keyPath},
		{"import", folder, "--db", dbPath, "--key-file", keyPath, "--integration", "nessuna"},
		{"serve", "--db", dbPath, "--import-dir", folder},
		{"serve", "--db", dbPath, "--mllp-accession-field", "obr-9"},
	} {
		if r := runCmd(t, invocation{args: args}); r.code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}
}
