package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
	"fse/internal/demo"
	"fse/internal/password"
	"fse/internal/phone"
	"fse/internal/sealbox"
	"fse/views"
)

// Known logins of the seeded databases.
const (
	adminUser       = "admin"
	adminPassword   = "bench-admin-2026"
	deskUser        = "sportello"
	deskPassword    = "bench-sportello-2026"
	patientPassword = "bench paziente referti"
	patientMobile   = "+393471234567"
	// Titles of the two large reports in the patient's dossier.
	title5MiB  = "Referto voluminoso 5 MiB"
	title20MiB = "Referto voluminoso 20 MiB"
	// dossierSize is how many published reports the patient sees.
	dossierSize = 20
	// retention of the live reports; the Garante's guideline is 45 days,
	// fse's default 60.
	retention = 60 * 24 * time.Hour
)

// seedParams are what a work directory was seeded with; a directory kept
// with -dir is reused only when they match the flags.
type seedParams struct {
	Logins  int       `json:"logins"`
	Schema  int       `json:"schema"`
	Created time.Time `json:"created"`
	// Purge and PurgeSize describe purge-seed.db; 0 when there is none.
	Purge     int `json:"purge"`
	PurgeSize int `json:"purge_size"`
}

// workDB names the files of a work directory.
type workDB struct {
	dir string
}

func (w workDB) key() string        { return filepath.Join(w.dir, "fse.key") }
func (w workDB) main() string       { return filepath.Join(w.dir, "main.db") }
func (w workDB) purgeSeed() string  { return filepath.Join(w.dir, "purge-seed.db") }
func (w workDB) empty() string      { return filepath.Join(w.dir, "empty.db") }
func (w workDB) paramsFile() string { return filepath.Join(w.dir, "seed.json") }
func (w workDB) pdf5() string       { return filepath.Join(w.dir, "files", "report5.pdf") }

// seeder builds the databases through the product's own store code.
type seeder struct {
	w       workDB
	keys    *sealbox.Keys
	hasher  *password.Hasher
	want    seedParams // from the flags
	have    seedParams // what the directory holds
	workers int
	log     func(format string, a ...any)
	// pdf5 is the plaintext of the 5 MiB report, to check downloads.
	pdf5 []byte
	// took is how long seeding took, by database.
	took map[string]time.Duration
}

// prepare makes sure the work directory holds the main and empty
// databases and, when purge is set, the purge database, seeding only what
// is missing or was seeded with other parameters.
func (s *seeder) prepare(ctx context.Context, purge bool) error {
	s.took = map[string]time.Duration{}
	if !s.reusable(ctx) {
		if err := s.seedMain(ctx); err != nil {
			return fmt.Errorf("seed main database: %w", err)
		}
	} else {
		s.log("reusing the seeded databases in %s", s.w.dir)
	}
	pdf5, err := os.ReadFile(s.w.pdf5())
	if err != nil {
		return err
	}
	s.pdf5 = pdf5
	if !purge || s.want.Purge == 0 {
		return nil
	}
	if _, err := os.Stat(s.w.purgeSeed()); err == nil && s.have.Purge == s.want.Purge && s.have.PurgeSize == s.want.PurgeSize {
		return nil
	}
	if err := s.seedPurge(ctx); err != nil {
		return fmt.Errorf("seed purge database: %w", err)
	}
	return nil
}

// reusable tells whether the directory already holds a main database
// seeded with the same parameters by a schema the product still has.
func (s *seeder) reusable(ctx context.Context) bool {
	b, err := os.ReadFile(s.w.paramsFile())
	if err != nil {
		return false
	}
	var got seedParams
	if json.Unmarshal(b, &got) != nil {
		return false
	}
	// Seeded reports expire after retention; reseed well before that.
	if got.Logins != s.want.Logins || time.Since(got.Created) > retention/2 {
		return false
	}
	for _, p := range []string{s.w.key(), s.w.main(), s.w.empty(), s.w.pdf5()} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	keys, err := sealbox.LoadKeyFile(s.w.key())
	if err != nil {
		return false
	}
	s.keys = keys
	// A new migration may change how reports are stored: seed again.
	latest, err := s.schema(ctx)
	if err != nil || latest != got.Schema {
		return false
	}
	s.have = got
	return true
}

func (s *seeder) saveParams() error {
	b, err := json.MarshalIndent(s.have, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(s.w.paramsFile(), b, 0o600)
}

// schema opens (creating or migrating) the empty database and returns the
// latest migration the product has.
func (s *seeder) schema(ctx context.Context) (int, error) {
	d, err := s.open(ctx, s.w.empty())
	if err != nil {
		return 0, err
	}
	defer d.Close()
	_, latest, err := d.SchemaVersion(ctx)
	return latest, err
}

// open opens (creating and migrating) a database and makes it pass the
// server's key check.
func (s *seeder) open(ctx context.Context, path string) (*db.DB, error) {
	d, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		return nil, err
	}
	d.SetSealer(s.keys)
	if err := d.CheckKey(ctx, s.keys.MAC(sealbox.KeyCheck, "")); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// person is a fictional patient of the bench.
type person struct {
	surname, name string
	birth         time.Time
	sex           string
	mobile        string
}

func (p person) patient() (db.Patient, error) {
	cf, err := codicefiscale.Generate(p.surname, p.name, p.birth, p.sex, "E897")
	if err != nil {
		return db.Patient{}, err
	}
	return db.Patient{FiscalCode: cf, FirstName: p.name, LastName: p.surname, BirthDate: p.birth, BirthPlace: "Mantova",
		Sex: p.sex, Mobile: p.mobile}, nil
}

// mainPatient owns the measured dossier.
var mainPatient = person{surname: "Rossi", name: "Mario", birth: time.Date(1958, time.March, 15, 0, 0, 0, 0, time.UTC),
	sex: "M", mobile: patientMobile}

// loginMobile is the mobile of the i-th login-burst account.
func loginMobile(i int) string { return fmt.Sprintf("+39347100%04d", i) }

// seedMain makes a new key file, the database most sections use and an
// empty one, removing whatever the directory held.
func (s *seeder) seedMain(ctx context.Context) error {
	for _, p := range []string{s.w.key(), s.w.main(), s.w.purgeSeed(), s.w.empty(), s.w.paramsFile()} {
		removeDB(p)
	}
	keys, err := sealbox.CreateKeyFile(s.w.key())
	if err != nil {
		return err
	}
	s.keys = keys
	t := time.Now()
	if err := s.fillMain(ctx); err != nil {
		return err
	}
	latest, err := s.schema(ctx)
	if err != nil {
		return err
	}
	s.have = seedParams{Logins: s.want.Logins, Schema: latest, Created: time.Now()}
	s.took["main"] = time.Since(t)
	s.log("seeded main.db (facility, 2 staff, a patient with %d reports, %d login accounts) and empty.db in %s",
		dossierSize, s.want.Logins, s.took["main"].Round(time.Millisecond))
	return s.saveParams()
}

// fillMain seeds main.db.
func (s *seeder) fillMain(ctx context.Context) error {
	d, err := s.open(ctx, s.w.main())
	if err != nil {
		return err
	}
	defer d.Close()
	now := time.Now()
	cli := db.Actor{Kind: db.ActorCLI, Name: "bench seed"}
	facility, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Poliambulatorio Bench Mantova",
		Address: "Via dell'Esempio 1, 46100 Mantova (MN)", Phone: "0376 000000"}, cli, now)
	if err != nil {
		return err
	}
	var deskID int64
	for _, st := range []db.Staff{
		{Username: adminUser, DisplayName: "Amministratore bench", Role: db.RoleAdmin, PasswordHash: adminPassword},
		{Username: deskUser, DisplayName: "Sportello bench", Role: db.RoleReception, PasswordHash: deskPassword},
	} {
		if st.PasswordHash, err = s.hasher.Hash(ctx, st.PasswordHash); err != nil {
			return err
		}
		if deskID, err = d.CreateStaff(ctx, st, cli, now); err != nil {
			return err
		}
	}
	desk := db.Actor{Kind: db.ActorStaff, ID: deskID, Name: deskUser}
	patientHash, err := s.hasher.Hash(ctx, patientPassword)
	if err != nil {
		return err
	}

	// The measured dossier: 20 reports over five visits, the last two large.
	var titles []string
	for i := range dossierSize - 2 {
		titles = append(titles, fmt.Sprintf("Esame %02d", i+1))
	}
	titles = append(titles, title5MiB, title20MiB)
	var reports []report
	for _, t := range titles {
		r := report{title: t}
		switch t {
		case title5MiB:
			if s.pdf5, err = benchPDF(t, 5<<20); err != nil {
				return err
			}
			r.pdf = s.pdf5
		case title20MiB:
			if r.pdf, err = benchPDF(t, 20<<20); err != nil {
				return err
			}
		}
		reports = append(reports, r)
	}
	if err := os.MkdirAll(filepath.Dir(s.w.pdf5()), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(s.w.pdf5(), s.pdf5, 0o600); err != nil {
		return err
	}
	if err := s.seedDossier(ctx, d, facility, desk, mainPatient, patientHash, reports, 4, now); err != nil {
		return err
	}

	// The login burst: each account its own patient, mobile and one report.
	for i := range s.want.Logins {
		p := person{surname: "Bianchi", name: "Laura", birth: time.Date(1950, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*3),
			sex: "F", mobile: loginMobile(i)}
		if err := s.seedDossier(ctx, d, facility, desk, p, patientHash, []report{{title: "Esami del sangue"}}, 1, now); err != nil {
			return fmt.Errorf("login account %d: %w", i, err)
		}
	}
	return nil
}

// report is a report to store; a nil pdf is a small rendered report.
type report struct {
	title string
	pdf   []byte
}

// seedDossier accepts p for visits of perVisit reports each, stores and
// publishes them, registers p's account and activates the dossier.
func (s *seeder) seedDossier(ctx context.Context, d *db.DB, facility int64, desk db.Actor, p person, hash string,
	reports []report, perVisit int, now time.Time) error {
	if _, err := phone.NormalizeMobile(p.mobile); err != nil {
		return fmt.Errorf("mobile %s: %w", p.mobile, err)
	}
	pat, err := p.patient()
	if err != nil {
		return err
	}
	var activation []byte
	for v := 0; v*perVisit < len(reports); v++ {
		at := now.Add(-time.Duration(len(reports)/perVisit-v+1) * 48 * time.Hour)
		code := actcode.New()
		mac := s.keys.MAC(sealbox.ActivationCode, actcode.Normalize(code))
		exams := []string{"Visita specialistica", "Esami del sangue"}
		visit, err := d.Accept(ctx, db.Acceptance{Patient: pat, FacilityID: facility, Exams: exams, CodeMAC: mac}, desk, at)
		if err != nil {
			return err
		}
		if activation == nil {
			activation = mac
		}
		for _, r := range reports[v*perVisit : min(len(reports), (v+1)*perVisit)] {
			pdf := r.pdf
			if pdf == nil {
				if pdf, err = demo.ReportPDF(r.title, p.surname+" "+p.name, pat.FiscalCode, visit.AccessionNumber(), exams); err != nil {
					return err
				}
			}
			if _, err := d.StoreDocument(ctx, visit.ID, r.title, bytes.NewReader(pdf), desk, at.Add(20*time.Hour)); err != nil {
				return err
			}
		}
		if _, err := d.PublishVisit(ctx, visit.ID, retention, db.Notice{}, desk, at.Add(21*time.Hour)); err != nil {
			return err
		}
	}
	at := now.Add(-time.Hour)
	id, err := d.CreateAccount(ctx, db.Account{FirstName: p.name, LastName: p.surname, Mobile: p.mobile, PasswordHash: hash,
		PrivacyVersion: views.ServicePrivacyVersion, PrivacyAcceptedAt: at}, "127.0.0.1", at)
	if err != nil {
		return err
	}
	_, err = d.ActivateDossier(ctx, db.Activation{AccountID: id, FiscalCode: pat.FiscalCode, CodeMAC: activation,
		PrivacyVersion: views.DossierPrivacyVersion}, db.Actor{Kind: db.ActorPatient, ID: id}, at)
	return err
}
