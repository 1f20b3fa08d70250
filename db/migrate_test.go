package db_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/testkit"
)

// Migration 7 rebuilds visits, activation codes and documents: every row
// survives with its links, report ids keep growing past deleted ones, and
// foreign keys are on again afterwards.
func TestIntegrationsMigrationKeepsEveryRow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fse.db")
	old, err := db.OpenAtVersion(ctx, path, 6)
	if err != nil {
		t.Fatal(err)
	}
	w := old.WriterForTest()
	for _, q := range []string{
		`INSERT INTO facilities(id, code, name, created_at) VALUES (1, 'MN', 'Mantova', '2026-01-01 10:00:00')`,
		`INSERT INTO staff(id, username, role, password_hash, created_at) VALUES (1, 'sportello', 'reception', 'x', '2026-01-01 10:00:00')`,
		`INSERT INTO patients(id, fiscal_code, first_name, last_name, birth_date, birth_place, sex, mobile, created_at, updated_at)
			VALUES (1, 'RSSMRA85T10A562S', 'Mario', 'Rossi', '1985-12-10 00:00:00', 'Pisa', 'M', '+393331234567', '2026-01-01 10:00:00', '2026-01-01 10:00:00')`,
		`INSERT INTO visits(id, patient_id, facility_id, accession_year, accession_seq, exams, accepted_at, accepted_by)
			VALUES (1, 1, 1, 2026, 1, 'Emocromo', '2026-01-02 10:00:00', 1)`,
		`INSERT INTO activation_codes(id, visit_id, code_mac, issued_at, issued_by, expires_at) VALUES (1, 1, x'0102', '2026-01-02 10:00:00', 1, '2026-04-02 10:00:00')`,
		`INSERT INTO documents(id, visit_id, title, size, complete, uploaded_at, uploaded_by) VALUES (5, 1, 'Esami', 3, 1, '2026-01-03 10:00:00', 1)`,
		`INSERT INTO document_chunks(document_id, seq, data) VALUES (5, 0, x'aabbcc')`,
		`INSERT INTO documents(id, visit_id, title, uploaded_at, uploaded_by) VALUES (9, 1, 'Ritirato', '2026-01-03 10:00:00', 1)`,
		`DELETE FROM documents WHERE id = 9`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	d := testkit.OpenPath(t, path)
	for query, want := range map[string]int{
		`SELECT count(*) FROM visits WHERE id = 1 AND accepted_by = 1 AND patient_id = 1`:                          1,
		`SELECT count(*) FROM activation_codes WHERE visit_id = 1 AND issued_by = 1`:                               1,
		`SELECT count(*) FROM documents WHERE id = 5 AND title = 'Esami' AND complete`:                             1,
		`SELECT count(*) FROM document_chunks WHERE document_id = 5`:                                               1,
		`SELECT seq FROM sqlite_sequence WHERE name = 'documents'`:                                                 9,
		`SELECT count(*) FROM sqlite_master WHERE name IN ('visits_new', 'documents_new', 'activation_codes_new')`: 0,
	} {
		if got := testkit.Count(t, d, query); got != want {
			t.Errorf("%s = %d, want %d", query, got, want)
		}
	}
	if got := pragma(t, d.WriterForTest(), "foreign_keys"); got != "1" {
		t.Errorf("foreign_keys after the migration = %s, want 1", got)
	}
	d.SetSealer(testkit.Keys(t))
	dr, err := d.StoreDocument(ctx, 1, "Nuovo", strings.NewReader("x"), db.Actor{Kind: "staff", ID: 1}, testkit.T0)
	if err != nil {
		t.Fatal(err)
	}
	if dr.ID != 10 {
		t.Errorf("next report id = %d, want 10: ids of deleted reports are never reused", dr.ID)
	}
	// Deleting a document still takes its chunks with it.
	if _, err := d.WriterForTest().ExecContext(ctx, `DELETE FROM documents WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	if got := testkit.Count(t, d, `SELECT count(*) FROM document_chunks WHERE document_id = 5`); got != 0 {
		t.Errorf("chunks of a deleted document = %d, want 0 (ON DELETE CASCADE survives the rebuild)", got)
	}
}
