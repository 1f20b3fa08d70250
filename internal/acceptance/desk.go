package acceptance

import (
	"strings"
	"time"

	"fse/db"
	"fse/internal/codicefiscale"
)

// CheckAtDesk is Check for what a receptionist types: the birth date, sex
// and birth place left empty are taken from a valid codice fiscale, and a
// birth place typed must be the one the codice fiscale encodes. It returns
// the visit as filled in, for the form to show again.
//
// Clinic systems (Check) send what their registry holds, and the portal
// takes their birth place as they write it: refusing a laboratory's message
// over how a town is spelled would lose a report.
func CheckAtDesk(in Visit, now time.Time) (Visit, db.Patient, []string, Problems) {
	in.Person = FillFromFiscalCode(in.Person, now)
	p, exams, ps := Check(in, now)
	if pr, ok := BirthPlaceProblem(in.Person); ok {
		ps.add(pr.Field, pr.IT, pr.EN)
	}
	return in, p, exams, ps
}

// FillFromFiscalCode fills the birth date, sex and birth place that in
// leaves empty from its codice fiscale, when the code is valid. The code
// only holds two digits of the year: the century is the latest that does
// not put the birth in the future (codicefiscale.Code.BirthDate).
func FillFromFiscalCode(in Person, now time.Time) Person {
	cf, err := codicefiscale.Parse(in.FiscalCode)
	if err != nil {
		return in
	}
	d := Derive(cf, now)
	if blank(in.BirthDate) {
		in.BirthDate = d.BirthDate
	}
	if blank(in.Sex) {
		in.Sex = d.Sex
	}
	if blank(in.BirthPlace) && d.Place != nil {
		in.BirthPlace = d.Place.Name
	}
	return in
}

// Derived is what a codice fiscale says about its holder.
type Derived struct {
	// BirthDate is YYYY-MM-DD, as the form's date field takes it.
	BirthDate string
	Sex       string
	// Place is the birthplace; nil when the table has no such code.
	Place *codicefiscale.Place
}

// Derive reads birth date, sex and birthplace from a valid code.
func Derive(cf codicefiscale.Code, now time.Time) Derived {
	d := Derived{BirthDate: cf.BirthDate(now).Format(time.DateOnly), Sex: cf.Sex()}
	if place, ok := cf.BirthPlace(); ok {
		d.Place = &place
	}
	return d
}

// Summary says in Italian what the code says, for the desk to check at a
// glance: "Nato il 10/12/1985 a San Giuliano Terme (PI)."
func (d Derived) Summary() string {
	s := "Nato il "
	if d.Sex == "F" {
		s = "Nata il "
	}
	if birth, err := time.Parse(time.DateOnly, d.BirthDate); err == nil {
		s += birth.Format("02/01/2006")
	}
	switch p := d.Place; {
	case p == nil:
	case p.Foreign():
		s += " in " + p.Name + " (stato estero)"
	case p.Former():
		s += " a " + p.String() + ", comune soppresso nel " + p.Ceased.Format("2006")
	default:
		s += " a " + p.String()
	}
	return s + "."
}

// BirthPlaceProblem compares the birth place typed with the place the
// codice fiscale encodes (see codicefiscale.MatchesBirthPlace). There is
// none when the code is invalid (its own problem says so), when no place
// was typed, or when the code's place is not in the table, which cannot
// then tell.
func BirthPlaceProblem(in Person) (Problem, bool) {
	cf, err := codicefiscale.Parse(in.FiscalCode)
	if err != nil || blank(in.BirthPlace) {
		return Problem{}, false
	}
	place, ok := cf.BirthPlace()
	if !ok || codicefiscale.MatchesBirthPlace(place, in.BirthPlace) {
		return Problem{}, false
	}
	it := "Il luogo di nascita non corrisponde al codice fiscale, che indica " + placeIT(place) +
		". Controlla il luogo di nascita o il codice fiscale."
	en := "Birth place does not match the codice fiscale, which encodes " + placeEN(place) + "."
	return Problem{Field: "birth_place", IT: it, EN: en}, true
}

// placeIT names a place in the desk's message: a former municipality with
// the day it ceased, so the receptionist understands why an old name
// turns up.
func placeIT(p codicefiscale.Place) string {
	switch {
	case p.Foreign() && p.Former():
		return "lo stato estero " + p.Name + " (non più esistente dal " + p.Ceased.Format("02/01/2006") + ")"
	case p.Foreign():
		return "lo stato estero " + p.Name
	case p.Former():
		return p.String() + ", comune soppresso il " + p.Ceased.Format("02/01/2006") +
			": scrivi questo nome o il comune della stessa provincia in cui è confluito"
	}
	return p.String()
}

func placeEN(p codicefiscale.Place) string {
	switch {
	case p.Foreign():
		return "the foreign state " + p.Name
	case p.Former():
		return p.String() + ", a former municipality (ceased " + p.Ceased.Format(time.DateOnly) + ")"
	}
	return p.String()
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
