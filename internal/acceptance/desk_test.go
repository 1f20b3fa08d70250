package acceptance

import (
	"strings"
	"testing"
	"time"

	"fse/internal/codicefiscale"
)

func TestCheckAtDeskFillsWhatTheFiscalCodeSaysWhenLeftEmpty(t *testing.T) {
	in := valid()
	in.BirthDate, in.Sex, in.BirthPlace = "", " ", ""
	filled, p, _, ps := CheckAtDesk(in, now)
	if len(ps) != 0 {
		t.Fatalf("problems: %+v", ps)
	}
	if filled.BirthDate != "1985-12-10" || filled.Sex != "M" || filled.BirthPlace != "San Giuliano Terme" {
		t.Errorf("filled = %+v, want 1985-12-10, M, San Giuliano Terme", filled.Person)
	}
	if p.BirthDate.Format(time.DateOnly) != "1985-12-10" || p.Sex != "M" || p.BirthPlace != "San Giuliano Terme" {
		t.Errorf("patient = %+v", p)
	}
}

func TestCheckAtDeskKeepsWhatTheDeskTyped(t *testing.T) {
	in := valid()
	in.BirthDate = "1985-12-11"
	filled, _, _, ps := CheckAtDesk(in, now)
	if filled.BirthDate != "1985-12-11" {
		t.Errorf("birth date typed was replaced by %q", filled.BirthDate)
	}
	if _, ok := ps.For("birth_date"); !ok {
		t.Errorf("a birth date that differs from the code is not a problem: %+v", ps)
	}
}

func TestCheckAtDeskRefusesABirthPlaceTheFiscalCodeDoesNotEncode(t *testing.T) {
	// Mario Rossi's code says San Giuliano Terme (A562); a Naples code says Napoli.
	naples := valid()
	naples.FiscalCode, naples.BirthPlace = "RSSMRA85T10F839"+checkChar15("RSSMRA85T10F839"), "Roma"
	for _, tt := range []struct {
		name   string
		in     Visit
		wantIT string
	}{
		{"Roma for a Naples code", naples, "che indica Napoli (NA)"},
		{"a town nearby", func() Visit { v := valid(); v.BirthPlace = "Pisa"; return v }(), "che indica San Giuliano Terme (PI)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, ps := CheckAtDesk(tt.in, now)
			pr, ok := ps.For("birth_place")
			if !ok {
				t.Fatalf("no birth_place problem: %+v", ps)
			}
			if !strings.Contains(pr.IT, tt.wantIT) || pr.EN == "" {
				t.Errorf("problem = %+v, want Italian text containing %q and an English one", pr, tt.wantIT)
			}
			if len(ps) != 1 {
				t.Errorf("problems: %+v, want only the birth place", ps)
			}
		})
	}
}

func TestCheckAtDeskAcceptsFormerMunicipalitiesAndForeignStates(t *testing.T) {
	for _, tt := range []struct {
		name, cf, place string
		wantOK          bool
		wantIT          string
	}{
		// D005 is Corigliano Calabro, merged into Corigliano-Rossano in 2018.
		{"former municipality by its name", "RSSMRA50A01D005", "Corigliano Calabro", true, ""},
		{"former municipality by the one it merged into", "RSSMRA50A01D005", "Corigliano-Rossano", true, ""},
		{"former municipality and a far town", "RSSMRA50A01D005", "Torino", false, "comune soppresso il 31/03/2018"},
		{"foreign state", "RSSMRA50A01Z129", "Romania", true, ""},
		{"foreign state and city", "RSSMRA50A01Z129", "Bucarest, Romania", true, ""},
		{"another state", "RSSMRA50A01Z129", "Moldavia", false, "lo stato estero Romania"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			in.FiscalCode = tt.cf + checkChar15(tt.cf)
			in.BirthDate, in.BirthPlace = "1950-01-01", tt.place
			_, _, _, ps := CheckAtDesk(in, now)
			pr, bad := ps.For("birth_place")
			if bad == tt.wantOK {
				t.Fatalf("birth_place problem %+v (present %v), want present %v; all: %+v", pr, bad, !tt.wantOK, ps)
			}
			if bad && !strings.Contains(pr.IT, tt.wantIT) {
				t.Errorf("problem %q, want it to contain %q", pr.IT, tt.wantIT)
			}
		})
	}
}

// Clinic systems keep the birth place as their registry writes it.
func TestCheckLeavesTheBirthPlaceOfClinicSystemsAlone(t *testing.T) {
	in := valid()
	in.BirthPlace = "Pisa"
	if _, _, ps := Check(in, now); len(ps) != 0 {
		t.Errorf("problems: %+v", ps)
	}
}

// checkChar15 computes the check character of 15 characters, with the
// official tables, independently of the package under test.
func checkChar15(s string) string {
	odd := []int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	sum := 0
	for i := range 15 {
		v := int(s[i] - 'A')
		if s[i] >= '0' && s[i] <= '9' {
			v = int(s[i] - '0')
		}
		if i%2 == 0 {
			v = odd[v]
		}
		sum += v
	}
	return string(rune('A' + sum%26))
}

func TestDerivedSummaryTellsTheDeskWhatTheCodeSays(t *testing.T) {
	for _, tt := range []struct{ cf, want string }{
		{"RSSMRA85T10A562S", "Nato il 10/12/1985 a San Giuliano Terme (PI)."},
		{"RSSMRA85T50A562" + checkChar15("RSSMRA85T50A562"), "Nata il 10/12/1985 a San Giuliano Terme (PI)."},
		{"RSSMRA50A01D005" + checkChar15("RSSMRA50A01D005"), "Nato il 01/01/1950 a Corigliano Calabro (CS), comune soppresso nel 2018."},
		{"RSSMRA50A01Z129" + checkChar15("RSSMRA50A01Z129"), "Nato il 01/01/1950 in Romania (stato estero)."},
	} {
		cf, err := codicefiscale.Parse(tt.cf)
		if err != nil {
			t.Fatalf("%s: %v", tt.cf, err)
		}
		if got := Derive(cf, now).Summary(); got != tt.want {
			t.Errorf("Summary(%s) = %q, want %q", tt.cf, got, tt.want)
		}
	}
}
