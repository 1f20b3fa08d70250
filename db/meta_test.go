package db_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"fse/db"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// TestCheckKeyWithoutACheckTriesTheKeyOnAReport: a database holding reports
// but no key check (from before the check, or with the row removed) learns
// the key's check only once the key opens a report; a wrong key is refused
// and leaves no check behind, so the right key is not locked out.
func TestCheckKeyWithoutACheckTriesTheKeyOnAReport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	right := testkit.Keys(t)
	f.d.SetSealer(right)
	v := f.accept(t, f.facilityID, patient(0), t0)
	if _, err := f.d.StoreDocument(ctx, v.ID, "Referto", bytes.NewReader([]byte("%PDF-1.4 referto")), f.desk, t0); err != nil {
		t.Fatal(err)
	}
	checks := func() int { return testkit.Count(t, f.d, `SELECT count(*) FROM meta WHERE key = 'key_check'`) }

	wrong := testkit.Keys(t)
	f.d.SetSealer(wrong)
	if err := f.d.CheckKey(ctx, wrong.MAC(sealbox.KeyCheck, "")); !errors.Is(err, db.ErrWrongKey) {
		t.Errorf("CheckKey with a key that does not open the report = %v, want ErrWrongKey", err)
	}
	if n := checks(); n != 0 {
		t.Fatalf("%d key checks stored for a wrong key", n)
	}
	f.d.SetSealer(right)
	if err := f.d.CheckKey(ctx, right.MAC(sealbox.KeyCheck, "")); err != nil {
		t.Fatalf("CheckKey with the right key: %v", err)
	}
	if n := checks(); n != 1 {
		t.Errorf("%d key checks stored for the right key, want 1", n)
	}
}
