// Package demo builds the fictional clinic group shipped as fse.db.example
// and prepares a copy of it for `fse demo`. Nothing here is used by `fse serve`.
package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
	"fse/internal/password"
	"fse/internal/pdfcheck"
	"fse/internal/sealbox"
)

// Demo logins, printed by `fse demo`. They only exist in the example database.
const (
	AdminUser         = "admin"
	AdminPassword     = "demo-admin-2026"
	ReceptionUser     = "sportello"
	ReceptionPassword = "demo-sportello-2026"
	// PatientPassword is the password of the demo patients who already have
	// an account (Patient.HasAccount).
	PatientPassword = "demo paziente referti"
)

// Keys returns the demo master key. It is derived from a public string on
// purpose: the example database holds only fictional reports, and `fse
// demo` must read them without a key file.
func Keys() *sealbox.Keys {
	k := sha256.Sum256([]byte("fse demo master key: fictional data only, never use in production"))
	keys, err := sealbox.NewKeys(k[:])
	if err != nil {
		panic(err)
	}
	return keys
}

// Patient is a fictional patient of the demo, with the activation code
// printed on their slip.
type Patient struct {
	Surname, Name string
	Birth         time.Time
	Sex           string
	Belfiore      string
	BirthPlace    string
	Mobile        string
	Email         string
	Exams         []string
	// Reports are titles of reports already published for the visit.
	Reports []string
	// Code is the activation code of the visit, printed by `fse demo`.
	Code string
	// HasAccount patients are registered and have activated their dossier
	// with Code, so the demo can show a dossier straight away.
	HasAccount bool
}

// FiscalCode returns the patient's codice fiscale.
func (p Patient) FiscalCode() string {
	cf, err := codicefiscale.Generate(p.Surname, p.Name, p.Birth, p.Sex, p.Belfiore)
	if err != nil {
		panic(err)
	}
	return cf
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Patients are the demo's fictional patients. Giulia Verdi's son Luca was
// registered with his mother's mobile, as the family-dossier rule expects.
var Patients = []Patient{
	{Surname: "Verdi", Name: "Giulia", Birth: date(1978, time.May, 14), Sex: "F", Belfiore: "E897", BirthPlace: "Mantova",
		Mobile: "+393331112233", Email: "giulia.verdi@example.it", Exams: []string{"Emocromo completo", "Glicemia"},
		Reports: []string{"Esami del sangue"}, Code: "K7PM-3QXR-9HVE"},
	{Surname: "Verdi", Name: "Luca", Birth: date(2014, time.September, 2), Sex: "M", Belfiore: "E897", BirthPlace: "Mantova",
		Mobile: "+393331112233", Exams: []string{"Visita pediatrica"},
		Reports: []string{"Referto visita pediatrica"}, Code: "B4NW-6TJD-8FZS"},
	{Surname: "Bianchi", Name: "Giuseppe", Birth: date(1949, time.February, 21), Sex: "M", Belfiore: "F205", BirthPlace: "Milano",
		Mobile: "+393479876543", Exams: []string{"Ecografia addome completo", "ECG"},
		Reports: []string{"Ecografia addome", "Elettrocardiogramma"}, Code: "C9HX-2MKP-5RAW", HasAccount: true},
	{Surname: "Esposito", Name: "Anna", Birth: date(1990, time.March, 25), Sex: "F", Belfiore: "F839", BirthPlace: "Napoli",
		Mobile: "+393405556677", Email: "anna.esposito@example.it", Exams: []string{"Radiografia torace"},
		Code: "F3VT-7YGN-4EQD"},
}

// Facilities are the demo clinic group's sites.
var Facilities = []db.Facility{
	{Code: "MN", Name: "Poliambulatorio Demo Mantova", Address: "Via dell'Esempio 1, 46100 Mantova (MN)", Phone: "0376 000000"},
	{Code: "CR", Name: "Centro Diagnostico Demo Cremona", Address: "Piazza Fittizia 5, 26100 Cremona (CR)", Phone: "0372 000000"},
}

// Seed fills an empty, migrated database with the demo clinic. Reports are
// sealed with keys, which Seed makes d's sealer.
func Seed(ctx context.Context, d *db.DB, keys *sealbox.Keys, hasher *password.Hasher, now time.Time, retention time.Duration) error {
	d.SetSealer(keys)
	cli := db.Actor{Kind: "cli", Name: "demo seed"}
	var facilityIDs []int64
	for _, f := range Facilities {
		id, err := d.CreateFacility(ctx, f, cli, now)
		if err != nil {
			return err
		}
		facilityIDs = append(facilityIDs, id)
	}
	var receptionID int64
	for _, s := range []db.Staff{
		{Username: AdminUser, DisplayName: "Amministratore demo", Role: db.RoleAdmin, PasswordHash: AdminPassword},
		{Username: ReceptionUser, DisplayName: "Sportello demo", Role: db.RoleReception, PasswordHash: ReceptionPassword},
	} {
		hash, err := hasher.Hash(ctx, s.PasswordHash)
		if err != nil {
			return err
		}
		s.PasswordHash = hash
		id, err := d.CreateStaff(ctx, s, cli, now)
		if err != nil {
			return err
		}
		receptionID = id
	}
	desk := db.Actor{Kind: "staff", ID: receptionID, Name: ReceptionUser}
	for i, p := range Patients {
		accepted := now.Add(-time.Duration(len(Patients)-i) * 26 * time.Hour)
		visit, err := d.Accept(ctx, db.Acceptance{
			Patient: db.Patient{FiscalCode: p.FiscalCode(), FirstName: p.Name, LastName: p.Surname, BirthDate: p.Birth,
				BirthPlace: p.BirthPlace, Sex: p.Sex, Mobile: p.Mobile, Email: p.Email},
			FacilityID: facilityIDs[i%len(facilityIDs)],
			Exams:      p.Exams,
			CodeMAC:    keys.MAC(sealbox.ActivationCode, actcode.Normalize(p.Code)),
		}, desk, accepted)
		if err != nil {
			return err
		}
		for _, title := range p.Reports {
			pdf, err := ReportPDF(title, p.Surname+" "+p.Name, p.FiscalCode(), visit.AccessionNumber(), p.Exams)
			if err != nil {
				return err
			}
			r := pdfcheck.NewReader(bytes.NewReader(pdf), int64(len(pdf)))
			if _, err := d.StoreDocument(ctx, visit.ID, title, r, desk, accepted.Add(20*time.Hour)); err != nil {
				return err
			}
		}
		if len(p.Reports) > 0 {
			if _, err := d.PublishVisit(ctx, visit.ID, retention, db.Notice{}, desk, accepted.Add(21*time.Hour)); err != nil {
				return err
			}
		}
		if p.HasAccount {
			if err := seedAccount(ctx, d, keys, hasher, p, accepted.Add(22*time.Hour)); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedAccount registers p online and activates their dossier with their code.
func seedAccount(ctx context.Context, d *db.DB, keys *sealbox.Keys, hasher *password.Hasher, p Patient, now time.Time) error {
	hash, err := hasher.Hash(ctx, PatientPassword)
	if err != nil {
		return err
	}
	id, err := d.CreateAccount(ctx, db.Account{FirstName: p.Name, LastName: p.Surname, Mobile: p.Mobile, Email: p.Email,
		PasswordHash: hash, PrivacyVersion: "servizio-2026-11", PrivacyAcceptedAt: now}, "", now)
	if err != nil {
		return err
	}
	_, err = d.ActivateDossier(ctx, db.Activation{AccountID: id, FiscalCode: p.FiscalCode(),
		CodeMAC: keys.MAC(sealbox.ActivationCode, actcode.Normalize(p.Code)), PrivacyVersion: "fascicolo-2026-11"}, db.Actor{Kind: "patient", ID: id}, now)
	return err
}

// CheckCodes verifies that every demo code matches a stored MAC, so the
// codes `fse demo` prints are known to work.
func CheckCodes(ctx context.Context, d *db.DB, keys *sealbox.Keys) error {
	for _, p := range Patients {
		if _, err := d.CodeByMAC(ctx, keys.MAC(sealbox.ActivationCode, actcode.Normalize(p.Code))); err != nil {
			return fmt.Errorf("demo code of %s %s: %w", p.Name, p.Surname, err)
		}
	}
	return nil
}
