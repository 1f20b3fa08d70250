package demo_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/demo"
	"fse/internal/password"
	"fse/internal/pdfcheck"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// exampleDB is the shipped example database, relative to this package.
const exampleDB = "../../fse.db.example"

// openExample opens a fresh copy of fse.db.example; the original is never written.
func openExample(t *testing.T) *db.DB {
	t.Helper()
	src, err := os.ReadFile(exampleDB)
	if err != nil {
		t.Fatalf("read %s: %v", exampleDB, err)
	}
	path := filepath.Join(t.TempDir(), "example.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatalf("db.Open(copy of %s): %v", exampleDB, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

type docRow struct {
	id, size int64
	title    string
}

func completeDocuments(t *testing.T, d *db.DB) []docRow {
	t.Helper()
	rows, err := testkit.Raw(t, d).QueryContext(context.Background(), `SELECT id, size, title FROM documents WHERE complete ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []docRow
	for rows.Next() {
		var r docRow
		if err := rows.Scan(&r.id, &r.size, &r.title); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantReports() int {
	n := 0
	for _, p := range demo.Patients {
		n += len(p.Reports)
	}
	return n
}

// checkDemoContent asserts what `fse demo` relies on in a seeded database.
func checkDemoContent(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()

	applied, latest, err := d.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if applied != latest {
		t.Errorf("schema version applied = %d, want latest %d", applied, latest)
	}

	facilities, err := d.Facilities(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(facilities), len(demo.Facilities); got != want || got != 2 {
		t.Errorf("active facilities = %d, want %d (2)", got, want)
	}

	for _, s := range []struct{ user, pass, role string }{
		{demo.AdminUser, demo.AdminPassword, db.RoleAdmin},
		{demo.ReceptionUser, demo.ReceptionPassword, db.RoleReception},
	} {
		st, err := d.StaffByUsername(ctx, s.user)
		if err != nil {
			t.Errorf("staff %q: %v", s.user, err)
			continue
		}
		if st.Role != s.role || !st.Active {
			t.Errorf("staff %q: role %q active %v, want %q, active", s.user, st.Role, st.Active, s.role)
		}
		h, err := password.NewHasher(password.Params, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, s.pass, st.PasswordHash); err != nil || !ok {
			t.Errorf("staff %q: printed demo password does not verify (ok=%v, err=%v)", s.user, ok, err)
		}
	}

	keys := demo.Keys()
	d.SetSealer(keys)
	if err := demo.CheckCodes(ctx, d, keys); err != nil {
		t.Errorf("CheckCodes: %v", err)
	}

	docs := completeDocuments(t, d)
	if got, want := len(docs), wantReports(); got != want {
		t.Errorf("complete documents = %d, want %d", got, want)
	}
	for _, doc := range docs {
		r, err := d.OpenDocument(ctx, doc.id)
		if err != nil {
			t.Errorf("document %d (%s): open: %v", doc.id, doc.title, err)
			continue
		}
		plain, err := io.ReadAll(r)
		if err != nil {
			t.Errorf("document %d (%s): decrypt: %v", doc.id, doc.title, err)
			continue
		}
		if !bytes.HasPrefix(plain, []byte("%PDF-")) {
			t.Errorf("document %d (%s): plaintext starts %q, want %%PDF-", doc.id, doc.title, plain[:min(len(plain), 8)])
		}
		if int64(len(plain)) != doc.size {
			t.Errorf("document %d (%s): %d bytes decrypted, stored size %d", doc.id, doc.title, len(plain), doc.size)
		}
		var c pdfcheck.Checker
		c.Write(plain)
		if err := c.Verdict(); err != nil {
			t.Errorf("document %d (%s): pdfcheck: %v", doc.id, doc.title, err)
		}
	}
}

// TestExampleDatabase is THE example database test: the shipped
// fse.db.example must migrate and hold a demo that works with demo.Keys().
func TestExampleDatabase(t *testing.T) {
	d := openExample(t)
	checkDemoContent(t, d)
}

// TestSeedMatchesExample seeds a fresh database from code, as `fse
// example-db` does, and checks it holds the same demo.
func TestSeedMatchesExample(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "seed.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h, err := password.NewHasher(password.Params, 2)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, time.February, 1, 10, 0, 0, 0, time.UTC)
	if err := demo.Seed(ctx, d, demo.Keys(), h, now, 60*24*time.Hour); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	checkDemoContent(t, d)
	// Seeding twice is refused (unique facility codes), not duplicated.
	if err := demo.Seed(ctx, d, demo.Keys(), h, now, 60*24*time.Hour); err == nil {
		t.Error("second Seed succeeded, want a conflict")
	}
}

func TestRebase(t *testing.T) {
	ctx := context.Background()
	// Far from the seed date, as when the demo runs months after a release.
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"years later", time.Date(2031, time.July, 4, 15, 30, 0, 0, time.UTC)},
		{"now", time.Now()},
	} {
		now := tc.now
		t.Run(tc.name, func(t *testing.T) {
			d := openExample(t)
			birthBefore := birthDates(t, d)

			if err := d.RebaseTimes(ctx, now); err != nil {
				t.Fatalf("Rebase: %v", err)
			}

			visits, err := d.RecentVisits(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(visits) != len(demo.Patients) {
				t.Fatalf("visits = %d, want %d", len(visits), len(demo.Patients))
			}
			var newest time.Time
			for _, v := range visits {
				if v.AcceptedAt.After(newest) {
					newest = v.AcceptedAt
				}
				if v.AcceptedAt.After(now) {
					t.Errorf("visit %s accepted at %v, after now", v.AccessionNumber(), v.AcceptedAt)
				}
			}
			if want := now.Add(-24 * time.Hour); newest.Sub(want).Abs() > time.Millisecond {
				t.Errorf("newest acceptance = %v, want %v", newest, want)
			}

			if got := birthDates(t, d); len(got) != len(birthBefore) {
				t.Errorf("patients = %d after rebase, want %d", len(got), len(birthBefore))
			} else {
				for cf, b := range birthBefore {
					if !got[cf].Equal(b) {
						t.Errorf("birth date of %s moved from %v to %v", cf, b, got[cf])
					}
				}
			}
			for _, p := range demo.Patients {
				if got := birthBefore[p.FiscalCode()]; !got.Equal(p.Birth) {
					t.Errorf("birth date of %s %s = %v, want %v", p.Name, p.Surname, got, p.Birth)
				}
			}

			// Every published report is online at now, and every printed code works.
			published := 0
			for _, v := range visits {
				docs, err := d.VisitDocuments(ctx, v.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, doc := range docs {
					if !doc.Published() {
						continue
					}
					published++
					if !doc.ExpiresAt.After(now) {
						t.Errorf("document %d expires at %v, not after now %v", doc.ID, doc.ExpiresAt, now)
					}
					if doc.PublishedAt.After(now) {
						t.Errorf("document %d published at %v, after now", doc.ID, doc.PublishedAt)
					}
				}
			}
			if published != wantReports() {
				t.Errorf("published documents = %d, want %d", published, wantReports())
			}
			keys := demo.Keys()
			d.SetSealer(keys)
			for _, p := range demo.Patients {
				c, err := d.CodeByMAC(ctx, keys.MAC(sealbox.ActivationCode, actcode.Normalize(p.Code)))
				if err != nil {
					t.Errorf("code of %s: %v", p.Name, err)
					continue
				}
				// A patient with an account used their code to activate.
				if got, want := c.Usable(now), !p.HasAccount; got != want {
					t.Errorf("code of %s %s usable at now = %v, want %v (expires %v, used %v)", p.Name, p.Surname, got, want, c.ExpiresAt, c.UsedAt)
				}
			}
			// The expire job would find nothing to remove.
			expired, _, err := d.DeleteExpiredDocuments(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if expired != 0 {
				t.Errorf("DeleteExpiredDocuments(now) removed %d reports after Rebase, want 0", expired)
			}
			// Rebased documents still decrypt.
			for _, doc := range completeDocuments(t, d) {
				r, err := d.OpenDocument(ctx, doc.id)
				if err == nil {
					_, err = io.Copy(io.Discard, r)
				}
				if err != nil {
					t.Errorf("document %d after rebase: %v", doc.id, err)
				}
			}
		})
	}
}

func birthDates(t *testing.T, d *db.DB) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, p := range demo.Patients {
		got, err := d.PatientByFiscalCode(context.Background(), p.FiscalCode())
		if err != nil {
			t.Fatalf("patient %s: %v", p.FiscalCode(), err)
		}
		out[p.FiscalCode()] = got.BirthDate
	}
	return out
}

func TestReportPDF(t *testing.T) {
	pdf, err := demo.ReportPDF("Ecografia addome", "Bianchi Giuseppe", "BNCGPP49B21F205X", "MN-2026-00003",
		[]string{"Ecografia addome completo", "ECG àèìòù"})
	if err != nil {
		t.Fatal(err)
	}
	var c pdfcheck.Checker
	if _, err := c.Write(pdf); err != nil {
		t.Fatal(err)
	}
	if err := c.Verdict(); err != nil {
		t.Errorf("pdfcheck Verdict = %v, want nil", err)
	}
	if got, want := c.Size(), int64(len(pdf)); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
}

func TestKeysDeterministic(t *testing.T) {
	a, b := demo.Keys(), demo.Keys()
	if !bytes.Equal(a.MAC(sealbox.ActivationCode, "X"), b.MAC(sealbox.ActivationCode, "X")) {
		t.Error("demo.Keys() differs between calls; the example database could not be read")
	}
}

func TestFiscalCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range demo.Patients {
		cf := p.FiscalCode()
		if len(cf) != 16 {
			t.Errorf("%s %s: codice fiscale %q, want 16 characters", p.Name, p.Surname, cf)
		}
		if seen[cf] {
			t.Errorf("duplicate codice fiscale %s", cf)
		}
		seen[cf] = true
	}
}

// TestDemoPatientAccount: the demo's registered patient logs in with the
// printed password and sees reports, after a rebase to any date.
func TestDemoPatientAccount(t *testing.T) {
	d := openExample(t)
	ctx := context.Background()
	now := time.Now().AddDate(1, 0, 0)
	if err := d.RebaseTimes(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, p := range demo.Patients {
		if !p.HasAccount {
			continue
		}
		a, err := d.AccountByMobile(ctx, p.Mobile)
		if err != nil {
			t.Fatalf("account of %s: %v", p.Name, err)
		}
		h, err := password.NewHasher(password.Params, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, demo.PatientPassword, a.PasswordHash); err != nil || !ok {
			t.Errorf("printed password does not open %s's account (%v)", p.Name, err)
		}
		links, err := d.DossierLinks(ctx, a.ID)
		if err != nil || len(links) != 1 {
			t.Fatalf("links = %v, %v", links, err)
		}
		reports, err := d.DossierReports(ctx, a.ID, links[0].Patient.ID, now)
		if err != nil || len(reports) != len(p.Reports) {
			t.Errorf("%s sees %d reports (%v), want %d", p.Name, len(reports), err, len(p.Reports))
		}
	}
}
