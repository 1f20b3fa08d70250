package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/sealbox"
)

// TestKeyFileGuards: a database with activation codes refuses to start
// without its key file, and a different key file is refused too.
func TestKeyFileGuards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "fse.db")
	keyPath := filepath.Join(dir, "fse.key")
	var logs bytes.Buffer
	e := env{stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }, log: slog.New(slog.NewTextHandler(&logs, nil))}

	d, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := loadOrCreateKeys(ctx, keyPath, d, e); err != nil {
		t.Fatalf("first start: %v", err)
	}
	// An activation code is written with the key (its MAC), no report yet.
	cli := db.Actor{Kind: "cli"}
	fid, _ := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Sede"}, cli, time.Now())
	sid, _ := d.CreateStaff(ctx, db.Staff{Username: "sportello", Role: db.RoleReception, PasswordHash: "x"}, cli, time.Now())
	if _, err := d.Accept(ctx, db.Acceptance{Patient: db.Patient{FiscalCode: "RSSMRA85T10A562S", FirstName: "Mario", LastName: "Rossi",
		BirthDate: time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), BirthPlace: "Pisa", Sex: "M", Mobile: "+393331234567"},
		FacilityID: fid, Exams: []string{"Emocromo"}, CodeMAC: []byte("mac")}, db.Actor{Kind: "staff", ID: sid}, time.Now()); err != nil {
		t.Fatal(err)
	}

	if err := os.Rename(keyPath, keyPath+".moved"); err != nil {
		t.Fatal(err)
	}
	_, err = loadOrCreateKeys(ctx, keyPath, d, e)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("start without the key file and with codes: %v, want a refusal", err)
	}
	if _, statErr := os.Stat(keyPath); statErr == nil {
		t.Error("a new key file was created in place of the missing one")
	}

	if _, err := sealbox.CreateKeyFile(keyPath); err != nil {
		t.Fatal(err)
	}
	_, err = loadOrCreateKeys(ctx, keyPath, d, e)
	if err == nil || !strings.Contains(err.Error(), "not the one") {
		t.Errorf("start with another key file: %v, want a refusal", err)
	}

	os.Remove(keyPath)
	if err := os.Rename(keyPath+".moved", keyPath); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateKeys(ctx, keyPath, d, e); err != nil {
		t.Errorf("start with the right key file: %v", err)
	}
}
