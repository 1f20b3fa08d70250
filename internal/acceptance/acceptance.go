// Package acceptance checks what a receptionist, a relative's holder or a
// clinic system typed about a patient and a visit, with one message per
// field in Italian (for staff and patients) and English (for API clients
// and English-speaking patients); the person's checks take their words
// from the message catalogue (person.*).
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
	"fse/internal/locale"
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

// message is a problem whose words are in the catalogue (internal/locale),
// in both languages; args fill its placeholders.
func message(field, id string, args ...any) Problem {
	return Problem{Field: field, IT: locale.For(locale.Italian).T(id, args...), EN: locale.For(locale.English).T(id, args...)}
}

func (ps *Problems) addMsg(field, id string, args ...any) {
	if _, ok := ps.For(field); !ok {
		*ps = append(*ps, message(field, id, args...))
	}
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
	for _, f := range []struct{ name, value, missing string }{
		{"first_name", p.FirstName, "person.first_name_missing"},
		{"last_name", p.LastName, "person.last_name_missing"},
		{"birth_place", p.BirthPlace, "person.birth_place_missing"},
	} {
		switch {
		case f.value == "":
			ps.addMsg(f.name, f.missing)
		case utf8.RuneCountInString(f.value) > MaxNameLen:
			ps.addMsg(f.name, "person.too_long", "Max", MaxNameLen)
		}
	}
	if p.Sex != "M" && p.Sex != "F" {
		ps.addMsg("sex", "person.sex_missing")
	}
	birthText := strings.TrimSpace(in.BirthDate)
	birth, berr := time.Parse(time.DateOnly, birthText)
	switch {
	case birthText == "":
		ps.addMsg("birth_date", "person.birth_date_missing")
	case berr != nil:
		ps.addMsg("birth_date", "person.birth_date_invalid")
	case birth.After(now) || birth.Year() < now.Year()-130:
		ps.addMsg("birth_date", "person.birth_date_implausible")
	}
	p.BirthDate = birth
	cf, err := codicefiscale.Parse(in.FiscalCode)
	if err != nil {
		if strings.TrimSpace(in.FiscalCode) == "" {
			ps.addMsg("fiscal_code", "person.fiscal_code_missing")
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
			ps.addMsg("birth_date", "person.birth_date_mismatch", "Day", enc.Format("02/01"), "Year", fmt.Sprintf("%02d", enc.Year()%100))
		}
	}
	if _, bad := ps.For("sex"); !bad && cf.Sex() != p.Sex {
		ps.addMsg("sex", "person.sex_mismatch")
	}
	return p, ps
}

// fiscalCodeProblems explains each codice fiscale error.
var fiscalCodeProblems = []struct {
	err error
	id  string
}{
	{codicefiscale.ErrLength, "person.fiscal_code_length"},
	{codicefiscale.ErrShape, "person.fiscal_code_shape"},
	{codicefiscale.ErrMonth, "person.fiscal_code_month"},
	{codicefiscale.ErrDay, "person.fiscal_code_day"},
	{codicefiscale.ErrCheck, "person.fiscal_code_check"},
}

// FiscalCodeProblem explains a codice fiscale parse error.
func FiscalCodeProblem(err error) Problem {
	for _, f := range fiscalCodeProblems {
		if errors.Is(err, f.err) {
			return message("fiscal_code", f.id)
		}
	}
	return message("fiscal_code", "person.fiscal_code_invalid")
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
