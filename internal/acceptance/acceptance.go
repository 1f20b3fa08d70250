// Package acceptance checks what a receptionist, a relative's holder or a
// clinic system typed about a patient and a visit, with one message per
// field in Italian (for staff and patients) and English (for API clients).
// The desk, the family page and the integration API all check through it,
// so the rules cannot drift apart.
package acceptance

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"fse/db"
	"fse/internal/codicefiscale"
	"fse/internal/phone"
)

// Limits on what a visit may carry.
const (
	MaxExams    = 30
	MaxExamLen  = 200
	MaxNameLen  = 100
	MaxEmailLen = 254
)

// Problem is what is wrong with one field.
type Problem struct {
	Field string
	IT    string
	EN    string
}

// Problems are the field problems of one submission, in field order.
type Problems []Problem

// For returns the problem of a field, if any.
func (ps Problems) For(field string) (Problem, bool) {
	for _, p := range ps {
		if p.Field == field {
			return p, true
		}
	}
	return Problem{}, false
}

func (ps *Problems) add(field, it, en string) {
	if _, ok := ps.For(field); !ok {
		*ps = append(*ps, Problem{Field: field, IT: it, EN: en})
	}
}

// Person is the registry part of an acceptance (also a relative's data).
type Person struct {
	FiscalCode, FirstName, LastName, BirthDate, BirthPlace, Sex string
}

// Visit is a whole acceptance: the person, contacts and exams.
type Visit struct {
	Person
	Mobile, Email string
	Exams         []string
}

// CheckPerson checks the registry fields: names, birth date and place, sex,
// and a codice fiscale that is valid and agrees with the birth date and sex.
// birth_date is YYYY-MM-DD.
func CheckPerson(in Person, now time.Time) (db.Patient, Problems) {
	var ps Problems
	p := db.Patient{
		FirstName:  strings.TrimSpace(in.FirstName),
		LastName:   strings.TrimSpace(in.LastName),
		BirthPlace: strings.TrimSpace(in.BirthPlace),
		Sex:        strings.ToUpper(strings.TrimSpace(in.Sex)),
	}
	for _, f := range []struct{ name, value, it, en string }{
		{"first_name", p.FirstName, "Manca il nome.", "First name is required."},
		{"last_name", p.LastName, "Manca il cognome.", "Last name is required."},
		{"birth_place", p.BirthPlace, "Manca il luogo di nascita.", "Birth place is required."},
	} {
		switch {
		case f.value == "":
			ps.add(f.name, f.it, f.en)
		case utf8.RuneCountInString(f.value) > MaxNameLen:
			ps.add(f.name, fmt.Sprintf("Al massimo %d caratteri.", MaxNameLen), fmt.Sprintf("At most %d characters.", MaxNameLen))
		}
	}
	if p.Sex != "M" && p.Sex != "F" {
		ps.add("sex", "Manca il sesso.", "Sex must be M or F.")
	}
	birthText := strings.TrimSpace(in.BirthDate)
	birth, berr := time.Parse(time.DateOnly, birthText)
	switch {
	case birthText == "":
		ps.add("birth_date", "Manca la data di nascita.", "Birth date is required.")
	case berr != nil:
		ps.add("birth_date", "Data di nascita non valida (gg/mm/aaaa).", "Birth date must be a date such as 1985-12-10.")
	case birth.After(now) || birth.Year() < now.Year()-130:
		ps.add("birth_date", "La data di nascita non è plausibile.", "Birth date is not plausible.")
	}
	p.BirthDate = birth
	cf, err := codicefiscale.Parse(in.FiscalCode)
	if err != nil {
		if strings.TrimSpace(in.FiscalCode) == "" {
			ps.add("fiscal_code", "Manca il codice fiscale.", "Codice fiscale is required.")
		} else {
			pr := FiscalCodeProblem(err)
			ps.add("fiscal_code", pr.IT, pr.EN)
		}
		return p, ps
	}
	p.FiscalCode = cf.String()
	// The codice fiscale encodes birth date and sex: a mismatch is a typing
	// error in one of the fields, and the person must be told which.
	if _, bad := ps.For("birth_date"); !bad {
		enc := cf.BirthDate(now)
		if enc.Day() != birth.Day() || enc.Month() != birth.Month() || enc.Year()%100 != birth.Year()%100 {
			ps.add("birth_date", fmt.Sprintf("La data di nascita non corrisponde al codice fiscale (che indica il %s/…%02d). "+
				"Verificare la data o il codice fiscale.", enc.Format("02/01"), enc.Year()%100),
				fmt.Sprintf("Birth date does not match the codice fiscale, which encodes %s/..%02d (day/month/year).",
					enc.Format("02/01"), enc.Year()%100))
		}
	}
	if _, bad := ps.For("sex"); !bad && cf.Sex() != p.Sex {
		ps.add("sex", "Il sesso non corrisponde al codice fiscale. Verificare il sesso o il codice fiscale.",
			"Sex does not match the codice fiscale.")
	}
	return p, ps
}

// fiscalCodeProblems explains each codice fiscale error.
var fiscalCodeProblems = []struct {
	err    error
	it, en string
}{
	{codicefiscale.ErrLength, "Il codice fiscale deve avere 16 caratteri.", "Codice fiscale must have 16 characters."},
	{codicefiscale.ErrShape, "Il codice fiscale non ha la forma corretta: lettere e cifre non sono al posto giusto.",
		"Codice fiscale is malformed: letters and digits are not in their places."},
	{codicefiscale.ErrMonth, "Il codice fiscale contiene una lettera del mese di nascita non valida.",
		"Codice fiscale has an invalid birth month letter."},
	{codicefiscale.ErrDay, "Il codice fiscale contiene un giorno di nascita non valido.", "Codice fiscale has an invalid birth day."},
	{codicefiscale.ErrCheck, "Il codice fiscale non è corretto: il carattere di controllo non corrisponde. Verificare la trascrizione.",
		"Codice fiscale check character does not match: check for a typing error."},
}

// FiscalCodeProblem explains a codice fiscale parse error.
func FiscalCodeProblem(err error) Problem {
	for _, f := range fiscalCodeProblems {
		if errors.Is(err, f.err) {
			return Problem{Field: "fiscal_code", IT: f.it, EN: f.en}
		}
	}
	return Problem{Field: "fiscal_code", IT: "Codice fiscale non valido.", EN: "Invalid codice fiscale."}
}

// Check checks a whole acceptance: the person, a mobile that is an Italian
// (or international) mobile number, an optional email, and 1 to 30 exams.
// It returns the patient (mobile in E.164, email in lower case) and exams.
func Check(in Visit, now time.Time) (db.Patient, []string, Problems) {
	p, ps := CheckPerson(in.Person, now)
	mobile, err := phone.NormalizeMobile(in.Mobile)
	switch {
	case strings.TrimSpace(in.Mobile) == "":
		ps.add("mobile", "Manca il numero di cellulare.", "Mobile number is required.")
	case errors.Is(err, phone.ErrNotMobile):
		ps.add("mobile", "Questo numero non è un cellulare: serve un cellulare per ricevere gli SMS del servizio.",
			"This number is not a mobile number: the service sends SMS.")
	case err != nil:
		ps.add("mobile", "Numero di cellulare non valido.", "Invalid mobile number.")
	}
	p.Mobile = mobile
	if email := strings.TrimSpace(in.Email); email != "" {
		if !ValidEmail(strings.ToLower(email)) {
			ps.add("email", "Indirizzo email non valido.", "Invalid email address.")
		}
		p.Email = strings.ToLower(email)
	}
	var exams []string
	for _, e := range in.Exams {
		if e = strings.TrimSpace(e); e != "" {
			exams = append(exams, e)
		}
	}
	switch {
	case len(exams) == 0:
		ps.add("exams", "Manca almeno un esame o una visita.", "At least one exam is required.")
	case len(exams) > MaxExams:
		ps.add("exams", fmt.Sprintf("Al massimo %d righe.", MaxExams), fmt.Sprintf("At most %d exams.", MaxExams))
	}
	for _, e := range exams {
		if utf8.RuneCountInString(e) > MaxExamLen {
			ps.add("exams", fmt.Sprintf("Ogni riga può avere al massimo %d caratteri.", MaxExamLen),
				fmt.Sprintf("Each exam has at most %d characters.", MaxExamLen))
		}
	}
	return p, exams, ps
}

// ValidEmail reports whether s is a plain address (no display name), at
// most 254 characters.
func ValidEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && len(s) <= MaxEmailLen
}

// Lines splits a textarea into its lines, as the desk types exams.
func Lines(s string) []string { return strings.Split(s, "\n") }
