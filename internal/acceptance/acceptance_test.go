package acceptance

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

func valid() Visit {
	return Visit{Person: Person{FiscalCode: "rssmra85t10a562s", FirstName: " Mario ", LastName: "Rossi", BirthDate: "1985-12-10",
		BirthPlace: "San Giuliano Terme", Sex: "m"}, Mobile: "333 123 4567", Email: "Mario.Rossi@Example.it", Exams: []string{"Emocromo", " ", "Glicemia"}}
}

func TestCheckNormalisesAValidAcceptance(t *testing.T) {
	p, exams, ps := Check(valid(), now)
	if len(ps) != 0 {
		t.Fatalf("problems: %+v", ps)
	}
	if p.FiscalCode != "RSSMRA85T10A562S" || p.FirstName != "Mario" || p.Sex != "M" || p.Mobile != "+393331234567" ||
		p.Email != "mario.rossi@example.it" || p.BirthDate.Format(time.DateOnly) != "1985-12-10" {
		t.Errorf("patient = %+v", p)
	}
	if strings.Join(exams, "|") != "Emocromo|Glicemia" {
		t.Errorf("exams = %q", exams)
	}
}

// Every field problem is explained in Italian and in English, on its field.
func TestCheckExplainsEachFieldInBothLanguages(t *testing.T) {
	for _, tt := range []struct {
		field string
		edit  func(*Visit)
	}{
		{"fiscal_code", func(v *Visit) { v.FiscalCode = "" }},
		{"fiscal_code", func(v *Visit) { v.FiscalCode = "RSSMRA85T10A562X" }},
		{"first_name", func(v *Visit) { v.FirstName = "  " }},
		{"last_name", func(v *Visit) { v.LastName = strings.Repeat("x", MaxNameLen+1) }},
		{"birth_place", func(v *Visit) { v.BirthPlace = "" }},
		{"birth_date", func(v *Visit) { v.BirthDate = "10/12/1985" }},
		{"birth_date", func(v *Visit) { v.BirthDate = "1985-12-11" }},
		{"birth_date", func(v *Visit) { v.BirthDate = "2027-01-01" }},
		{"sex", func(v *Visit) { v.Sex = "X" }},
		{"sex", func(v *Visit) { v.Sex = "F" }},
		{"mobile", func(v *Visit) { v.Mobile = "" }},
		{"mobile", func(v *Visit) { v.Mobile = "0376 123456" }},
		{"mobile", func(v *Visit) { v.Mobile = "12" }},
		{"email", func(v *Visit) { v.Email = "Mario <mario@example.it>" }},
		{"exams", func(v *Visit) { v.Exams = nil }},
		{"exams", func(v *Visit) { v.Exams = strings.Split(strings.Repeat("x,", MaxExams)+"y", ",") }},
		{"exams", func(v *Visit) { v.Exams = []string{strings.Repeat("e", MaxExamLen+1)} }},
	} {
		v := valid()
		tt.edit(&v)
		_, _, ps := Check(v, now)
		if len(ps) != 1 {
			t.Errorf("%s: problems %+v, want exactly one", tt.field, ps)
			continue
		}
		if p := ps[0]; p.Field != tt.field || p.IT == "" || p.EN == "" || p.IT == p.EN {
			t.Errorf("%s: problem %+v, want the field with an Italian and an English message", tt.field, p)
		}
	}
}
