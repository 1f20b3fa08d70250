package intake_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/actcode"
	"fse/internal/demo"
	"fse/internal/hotfolder"
	"fse/internal/intake"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

type folderWorld struct {
	d         *db.DB
	dir       string
	accession string
	code      string
	watcher   *hotfolder.Watcher
}

func newFolderWorld(t *testing.T, autoPublish bool) folderWorld {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	keys := testkit.Keys(t)
	d.SetSealer(keys)
	fid, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, db.Actor{Kind: db.ActorCLI}, testkit.T0)
	if err != nil {
		t.Fatal(err)
	}
	_, hash := db.NewIntegrationToken()
	if _, err := d.CreateIntegration(ctx, db.Integration{Name: "Cartella RIS", FacilityID: fid, Scopes: []string{db.ScopeVisits, db.ScopeReports},
		AutoPublish: autoPublish}, hash, db.Actor{Kind: db.ActorCLI}, testkit.T0); err != nil {
		t.Fatal(err)
	}
	in, _ := d.IntegrationByName(ctx, "Cartella RIS")
	svc := &intake.Service{DB: d, Keys: keys, BaseURL: "https://referti.example.it", Retention: 60 * 24 * time.Hour, UploadLimit: 1 << 20,
		Now: time.Now}
	v, err := svc.CreateVisit(ctx, in, "", intake.VisitRequest{ExternalID: "CUP-1", Visit: acceptance.Visit{Person: acceptance.Person{
		FiscalCode: "RSSMRA85T10A562S", FirstName: "Mario", LastName: "Rossi", BirthDate: "1985-12-10", BirthPlace: "Pisa", Sex: "M"},
		Mobile: "3331234567", Exams: []string{"RX torace"}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &hotfolder.Watcher{Dir: dir, Importer: intake.FolderImporter{Service: svc, Integration: in}, Interval: 10 * time.Millisecond}
	return folderWorld{d: d, dir: dir, accession: v.Visit.AccessionNumber(), code: v.Code, watcher: w}
}

func (w folderWorld) drop(t *testing.T, name string, content []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), content, 0o640); err != nil {
		t.Fatal(err)
	}
}

func (w folderWorld) drain(t *testing.T) hotfolder.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum, err := w.watcher.Drain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func reportPDF(t *testing.T, title string) []byte {
	t.Helper()
	b, err := demo.ReportPDF(title, "Rossi Mario", "RSSMRA85T10A562S", "MN-2026-00001", []string{"RX torace"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHotFolderImportsByNameAndSidecar(t *testing.T) {
	w := newFolderWorld(t, true)
	w.drop(t, w.accession+"__RX torace.pdf", reportPDF(t, "RX torace"))
	w.drop(t, "scansione-0042.pdf", reportPDF(t, "Ecografia"))
	w.drop(t, "scansione-0042.json", []byte(`{"accession": "`+w.accession+`", "title": "Ecografia addome", "publish": false}`))
	if sum := w.drain(t); sum.Imported != 2 || sum.Refused != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM documents WHERE title = 'RX torace' AND published_at IS NOT NULL`); n != 1 {
		t.Error("the named file was not published as the integration says")
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM documents WHERE title = 'Ecografia addome' AND published_at IS NULL`); n != 1 {
		t.Error("the sidecar's title and publish flag were not followed")
	}
	for _, name := range []string{w.accession + "__RX torace.pdf", "scansione-0042.pdf", "scansione-0042.json"} {
		if _, err := os.Stat(filepath.Join(w.dir, "done", name)); err != nil {
			t.Errorf("%s not in done/: %v", name, err)
		}
	}
}

// A refused file goes to failed/ with the reason in plain words; nothing
// is stored.
func TestHotFolderRefusalsSayWhy(t *testing.T) {
	w := newFolderWorld(t, false)
	w.drop(t, "MN-2026-09999__Esami.pdf", reportPDF(t, "Esami"))
	w.drop(t, w.accession+"__Finto.pdf", []byte("<html>non un referto</html>"))
	if sum := w.drain(t); sum.Refused != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	for name, want := range map[string]string{"MN-2026-09999__Esami.txt": "Nessuna accettazione", w.accession + "__Finto.txt": "non è un PDF"} {
		b, err := os.ReadFile(filepath.Join(w.dir, "failed", name))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %q (%v), want it to say %q", name, b, err, want)
		}
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM documents`); n != 0 {
		t.Errorf("documents = %d, want 0", n)
	}
}

// After a crash between the import and the move, the file is imported
// again on restart: the same report, not a second one.
func TestHotFolderReimportAfterACrashIsNotADuplicate(t *testing.T) {
	w := newFolderWorld(t, true)
	// Mario reads his reports online, so a publication is announced to him.
	ctx := context.Background()
	acct, err := w.d.CreateAccount(ctx, db.Account{FirstName: "Mario", LastName: "Rossi", Mobile: "+393331234567", PasswordHash: "x",
		PrivacyVersion: "v", PrivacyAcceptedAt: testkit.T0}, "", testkit.T0)
	if err != nil {
		t.Fatal(err)
	}
	keys := w.watcher.Importer.(intake.FolderImporter).Service.Keys
	if _, err := w.d.ActivateDossier(ctx, db.Activation{AccountID: acct, FiscalCode: "RSSMRA85T10A562S",
		CodeMAC: keys.MAC(sealbox.ActivationCode, actcode.Normalize(w.code)), PrivacyVersion: "v"}, db.Actor{Kind: db.ActorPatient, ID: acct}, time.Now()); err != nil {
		t.Fatal(err)
	}
	content := reportPDF(t, "RX torace")
	name := w.accession + "__RX torace.pdf"
	w.drop(t, name, content)
	w.drain(t)
	// The crash: the file is back where it was, as if never moved.
	if err := os.Rename(filepath.Join(w.dir, "done", name), filepath.Join(w.dir, name)); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM documents`); n != 1 {
		t.Errorf("documents after a re-import = %d, want 1", n)
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM outbox WHERE kind = 'report_available'`); n != 1 {
		t.Errorf("notices = %d, want 1: the re-import is not announced again", n)
	}
}
