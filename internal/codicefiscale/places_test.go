package codicefiscale

import (
	"strings"
	"testing"
	"time"
)

func TestLookupPlaceFindsMunicipalitiesStatesAndFormerOnes(t *testing.T) {
	tests := []struct {
		code, name, province string
		foreign              bool
		ceased               string
	}{
		{"F839", "Napoli", "NA", false, ""},
		{"H501", "Roma", "RM", false, ""},
		{"A562", "San Giuliano Terme", "PI", false, ""},
		{"M403", "Corigliano-Rossano", "CS", false, ""},
		// Merged into Corigliano-Rossano on 31 March 2018.
		{"D005", "Corigliano Calabro", "CS", false, "2018-03-31"},
		{"Z129", "Romania", "RO", true, ""},
		{"Z135", "Unione Sovietica", "SU", true, "1992-01-01"},
		{"z404", "Stati Uniti d'America", "US", true, ""},
	}
	for _, tt := range tests {
		p, ok := LookupPlace(tt.code)
		if !ok {
			t.Errorf("LookupPlace(%q): not found", tt.code)
			continue
		}
		if p.Name != tt.name || p.Province != tt.province || p.Foreign() != tt.foreign {
			t.Errorf("LookupPlace(%q) = %+v, want %s (%s), foreign %v", tt.code, p, tt.name, tt.province, tt.foreign)
		}
		ceased := ""
		if p.Former() {
			ceased = p.Ceased.Format(time.DateOnly)
		}
		if ceased != tt.ceased {
			t.Errorf("LookupPlace(%q) ceased %q, want %q", tt.code, ceased, tt.ceased)
		}
	}
	if p, ok := LookupPlace("A000"); ok {
		t.Errorf("LookupPlace(A000) = %+v, want not found", p)
	}
}

func TestTheTableCoversEveryCurrentMunicipalityAndItsSourceIsDated(t *testing.T) {
	current, former, foreign := 0, 0, 0
	for _, p := range places().byCode {
		switch {
		case p.Foreign():
			foreign++
		case p.Former():
			former++
		default:
			current++
		}
	}
	// Italy has had about 7,900 municipalities since 2024, and some 200
	// foreign states exist.
	if current < 7800 || current > 8000 || former < 1500 || foreign < 200 {
		t.Errorf("table has %d current municipalities, %d former ones, %d foreign states", current, former, foreign)
	}
	for _, want := range []string{"@marketto/belfiore-connector-embedded@1.2.1", "Agenzia delle Entrate", "Latest change recorded: 2024-"} {
		if !strings.Contains(placesTSV, want) {
			t.Errorf("places.tsv header lacks %q", want)
		}
	}
}

func TestCodeBirthPlace(t *testing.T) {
	c, err := Parse("RSSMRA85T10A562S")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.BirthPlace()
	if !ok || p.String() != "San Giuliano Terme (PI)" {
		t.Errorf("BirthPlace() = %v, %v, want San Giuliano Terme (PI)", p, ok)
	}
	// Omocodia letters in the place digits are undone first.
	o, err := Omocode("RSSMRA85T10A562S", 3)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := Parse(o)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := oc.BirthPlace(); !ok || p.Code != "A562" {
		t.Errorf("omocode %s: BirthPlace() = %v, %v, want A562", o, p, ok)
	}
}

func TestMatchesBirthPlace(t *testing.T) {
	place := func(code string) Place {
		t.Helper()
		p, ok := LookupPlace(code)
		if !ok {
			t.Fatalf("no place %s", code)
		}
		return p
	}
	tests := []struct {
		code, typed string
		want        bool
	}{
		{"F839", "Napoli", true},
		{"F839", "NAPOLI", true},
		{"F839", " napoli (NA) ", true},
		{"F839", "Napoli NA", true},
		{"F839", "Roma", false},
		{"F839", "Napoli RM", false},
		{"F839", "", false},
		{"H223", "Reggio Emilia", true}, // officially Reggio nell'Emilia
		{"H223", "Reggio Calabria", false},
		{"A562", "S. Giuliano Terme", true},
		{"A562", "San Giuliano", false},
		{"A562", "Pisa", false},
		{"D006", "Corigliano D'Otranto", true},
		{"C351", "Catanzaro", false},
		{"L424", "Trieste", true},
		// Foreign states: the state, possibly with the city.
		{"Z129", "Romania", true},
		{"Z129", "Bucarest (Romania)", true},
		{"Z129", "Bulgaria", false},
		{"Z404", "Stati Uniti", true},
		{"Z404", "Stati Uniti d'America", true},
		{"Z404", "Canada", false},
		// A former municipality: its own name, or any municipality of its
		// province, such as the one it merged into.
		{"D005", "Corigliano Calabro", true},
		{"D005", "Corigliano-Rossano", true},
		{"D005", "Cosenza (CS)", true},
		{"D005", "Napoli", false},
		{"A063", "Affori", true},
		{"A063", "Milano", true},
		{"A063", "Roma", false},
	}
	for _, tt := range tests {
		if got := MatchesBirthPlace(place(tt.code), tt.typed); got != tt.want {
			t.Errorf("MatchesBirthPlace(%s, %q) = %v, want %v", tt.code, tt.typed, got, tt.want)
		}
	}
}
