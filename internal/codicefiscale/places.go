package codicefiscale

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"
)

// placesTSV is the official table of cadastral ("Belfiore") codes: every
// Italian municipality since 1861, including those that have since merged
// or been absorbed, and every foreign state, current and ceased.
//
// Source: the npm package @marketto/belfiore-connector-embedded 1.2.1 (MIT,
// © 2019-2024 Marco Ricupero, published 2026-03-23), which packs the ANPR
// archive of municipalities (Ministero dell'Interno, CC BY 4.0), the
// Agenzia delle Entrate's cadastral codes (CC BY 4.0) and ISTAT's lists of
// foreign states (March 2024) and of ceased ones (CC BY 3.0). The latest
// change it records is of 22 January 2024. Converted once by
// internal/codicefiscale/gen; places.tsv's header names the tarball's
// integrity and the original sources.
//
//go:embed places.tsv
var placesTSV string

// Place is a municipality or foreign state as the table of cadastral codes
// holds it.
type Place struct {
	// Code is the cadastral code, e.g. "F839"; foreign states' start with Z.
	Code string
	// Name is the official Italian name, e.g. "Napoli", "Romania".
	Name string
	// Province is the municipality's province abbreviation ("NA"), as it
	// was when the municipality ceased for a former one; for a foreign
	// state, its ISO 3166 code where the table has one.
	Province string
	// Ceased is the day the municipality merged into or was absorbed by
	// another one, or the state ceased; zero while it exists.
	Ceased time.Time
}

// Foreign reports whether the place is a foreign state.
func (p Place) Foreign() bool { return strings.HasPrefix(p.Code, "Z") }

// Former reports whether the place no longer exists under this code.
func (p Place) Former() bool { return !p.Ceased.IsZero() }

// String names the place as the desk writes it: "Napoli (NA)", or
// "Romania" for a foreign state.
func (p Place) String() string {
	if p.Foreign() || p.Province == "" {
		return p.Name
	}
	return p.Name + " (" + p.Province + ")"
}

// placeTable is the parsed table: by code, and each province's names.
type placeTable struct {
	byCode     map[string]Place
	byProvince map[string]map[string]bool
}

// places parses the embedded table once, on first use; it never changes
// afterwards.
var places = sync.OnceValue(func() placeTable {
	t := placeTable{byCode: make(map[string]Place, 10100), byProvince: map[string]map[string]bool{}}
	for line := range strings.Lines(placesTSV) {
		line = strings.TrimRight(line, "\n")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			panic(fmt.Sprintf("codicefiscale: places.tsv line %q has %d columns, want 4", line, len(f)))
		}
		p := Place{Code: f[0], Name: f[1], Province: f[2]}
		if f[3] != "" {
			d, err := time.Parse("20060102", f[3])
			if err != nil {
				panic(fmt.Sprintf("codicefiscale: places.tsv line %q: %v", line, err))
			}
			p.Ceased = d
		}
		t.byCode[p.Code] = p
		if !p.Foreign() && p.Province != "" {
			if t.byProvince[p.Province] == nil {
				t.byProvince[p.Province] = map[string]bool{}
			}
			t.byProvince[p.Province][placeKey(p.Name)] = true
		}
	}
	return t
})

// LookupPlace returns the place a cadastral code stands for.
func LookupPlace(code string) (Place, bool) {
	p, ok := places().byCode[strings.ToUpper(strings.TrimSpace(code))]
	return p, ok
}

// BirthPlace returns the place the code's birthplace characters stand for;
// false when the table has no such code.
func (c Code) BirthPlace() (Place, bool) { return LookupPlace(c.BirthPlaceCode()) }

// MatchesBirthPlace reports whether typed names the place p, as a person
// at a desk would write it: case, accents, apostrophes, hyphens, dots and
// the prepositions that official names carry ("Reggio nell'Emilia",
// "Reggio Emilia") do not matter, nor does a province written after the
// name ("Napoli (NA)", "Napoli NA"); "S." stands for San, Santo, Santa.
//
// A foreign state also matches a text that names it among other words
// ("Bucarest, Romania") or starts its name ("Stati Uniti").
//
// A former municipality (merged or absorbed; older people were born in
// many) also matches any municipality, current or former, of the province
// it belonged to when it ceased: the desk may write the municipality that
// absorbed it, whose code the table cannot tell.
func MatchesBirthPlace(p Place, typed string) bool {
	want := placeKey(p.Name)
	got := placeKey(typed)
	if got == "" {
		return false
	}
	if sameKey(got, want) {
		return true
	}
	// "Napoli NA", "Napoli (NA)": the province after the name.
	if prov := strings.ToLower(p.Province); !p.Foreign() && prov != "" && strings.HasSuffix(got, " "+prov) {
		if sameKey(strings.TrimSuffix(got, " "+prov), want) {
			return true
		}
	}
	if p.Foreign() {
		return strings.Contains(" "+got+" ", " "+want+" ") || strings.HasPrefix(want+" ", got+" ")
	}
	if p.Former() {
		t := places()
		names := t.byProvince[p.Province]
		if names[got] {
			return true
		}
		if prov := strings.ToLower(p.Province); strings.HasSuffix(got, " "+prov) && names[strings.TrimSuffix(got, " "+prov)] {
			return true
		}
	}
	return false
}

// sameKey compares two place keys, letting a lone "s" (from "S.") stand
// for san, santo, santa, sant or santi.
func sameKey(got, want string) bool {
	if got == want {
		return true
	}
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if g[i] == w[i] {
			continue
		}
		if g[i] == "s" && (w[i] == "san" || w[i] == "santo" || w[i] == "santa" || w[i] == "sant" || w[i] == "santi") {
			continue
		}
		return false
	}
	return true
}

// placeStopWords are the prepositions and articles official names carry
// and people leave out, or the other way round.
var placeStopWords = map[string]bool{
	"di": true, "de": true, "del": true, "dei": true, "degli": true, "della": true, "delle": true, "dello": true, "d": true,
	"nel": true, "nell": true, "nella": true, "nei": true, "negli": true, "nelle": true, "nello": true,
	"in": true, "sul": true, "sull": true, "sulla": true, "al": true, "all": true, "alla": true, "e": true,
	"il": true, "la": true, "lo": true, "le": true, "l": true, "i": true, "gli": true,
}

// placeKey reduces a place name to lower-case ASCII words without
// accents, punctuation, parentheses or stop words.
func placeKey(s string) string {
	s = accents.Replace(strings.ToUpper(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	var words []string
	for _, w := range strings.Fields(b.String()) {
		if !placeStopWords[w] {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}
