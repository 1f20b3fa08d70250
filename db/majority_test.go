package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

func TestMajorityAtIsMidnightInRomeOfThe18thBirthday(t *testing.T) {
	tests := []struct {
		birth string
		want  time.Time
	}{
		{"2008-02-29", time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)}, // 1 March in a year without 29 February
		{"2010-02-28", time.Date(2028, 2, 27, 23, 0, 0, 0, time.UTC)},
		{"2012-02-29", time.Date(2030, 2, 28, 23, 0, 0, 0, time.UTC)},
		{"2008-07-01", time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)}, // summer time
	}
	for _, tt := range tests {
		birth, _ := time.Parse(time.DateOnly, tt.birth)
		if got := db.MajorityAt(birth); !got.Equal(tt.want) {
			t.Errorf("MajorityAt(%s) = %s, want %s", tt.birth, got.UTC(), tt.want)
		}
	}
}

// Migration 12 gives the links made before it the end that activation now
// computes in Go: midnight in Rome of the 18th birthday, across the
// changes of summer time and 29 February, and none for a relative who was
// already an adult.
func TestMajorityMigrationAgreesWithMajorityAt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fse.db")
	old, err := db.OpenAtVersion(ctx, path, 11)
	if err != nil {
		t.Fatal(err)
	}
	births := []string{
		"2008-02-29", // of age on 1 March 2026
		"2008-03-29", // the last Sunday of March 2026: midnight is still winter time
		"2008-03-30", // the day after: summer time
		"2008-10-25", // the last Sunday of October 2026: midnight is still summer time
		"2008-10-26", // the day after: winter time
		"2009-07-15",
		"1950-04-02", // an adult when linked
	}
	w := old.WriterForTest()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO accounts(id, first_name, last_name, mobile, password_hash, privacy_version, privacy_accepted_at,
		sessions_valid_after, created_at) VALUES (1, 'Mario', 'Rossi', '+393331234567', 'x', 'v', ?, ?, ?)`, testkit.T0, testkit.T0, testkit.T0)
	linkedAt := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	for i, b := range births {
		birth, _ := time.Parse(time.DateOnly, b)
		exec(`INSERT INTO patients(id, fiscal_code, first_name, last_name, birth_date, birth_place, sex, mobile, created_at, updated_at)
			VALUES (?, ?, 'Luca', 'Rossi', ?, 'Mantova', 'M', '+393331234567', ?, ?)`, i+1, fmt.Sprintf("CF%02d", i), birth, linkedAt, linkedAt)
		exec(`INSERT INTO dossier_links(account_id, patient_id, relation, privacy_version, consented_at, activated_at)
			VALUES (1, ?, 'family', 'v', ?, ?)`, i+1, linkedAt, linkedAt)
	}
	old.Close()

	d := testkit.OpenPath(t, path)
	links, err := d.DossierLinks(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != len(births) {
		t.Fatalf("%d links after the migration, want %d", len(links), len(births))
	}
	for _, l := range links {
		want := db.MajorityAt(l.Patient.BirthDate)
		if !want.After(linkedAt) {
			want = time.Time{}
		}
		if !l.MinorUntil.Equal(want) {
			t.Errorf("born %s: link ends at %s, want %s", l.Patient.BirthDate.Format(time.DateOnly), l.MinorUntil.UTC(), want.UTC())
		}
	}
}
