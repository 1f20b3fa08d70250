package codicefiscale

import (
	"errors"
	"testing"
	"time"
)

// now is fixed so century resolution in the tests does not drift over time.
var now = time.Date(2026, time.June, 1, 15, 0, 0, 0, time.UTC)

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// mustParse parses raw or fails the test, so table rows stay short.
func mustParse(t *testing.T, raw string) Code {
	t.Helper()
	c, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%q) error = %v, want nil", raw, err)
	}
	return c
}

// checkDecode asserts the decoded fields of c.
func checkDecode(t *testing.T, c Code, sex string, birth time.Time, place string) {
	t.Helper()
	if got := c.Sex(); got != sex {
		t.Errorf("%s: Sex() = %q, want %q", c, got, sex)
	}
	if got := c.BirthDate(now); !got.Equal(birth) {
		t.Errorf("%s: BirthDate() = %v, want %v", c, got, birth)
	}
	if got := c.BirthPlaceCode(); got != place {
		t.Errorf("%s: BirthPlaceCode() = %q, want %q", c, got, place)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"RSSMRA85T10A562S", "RSSMRA85T10A562S"},
		{"rssmra85t10a562s", "RSSMRA85T10A562S"},
		{" RSS MRA 85T10 A562S ", "RSSMRA85T10A562S"},
		{"RSS-MRA-85T10-A562S", "RSSMRA85T10A562S"},
		{"rss.mra.85t10.a562s", "RSSMRA85T10A562S"},
		{"rss\tmra", "RSSMRA"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		raw, want, sex, place string
		birth                 time.Time
		omocodia              bool
	}{
		{"RSSMRA85T10A562S", "RSSMRA85T10A562S", "M", "A562", date(1985, time.December, 10), false},
		{"rssmra85t10a562s", "RSSMRA85T10A562S", "M", "A562", date(1985, time.December, 10), false},
		{"RSS MRA 85T10 A562S", "RSSMRA85T10A562S", "M", "A562", date(1985, time.December, 10), false},
		{"rss-mra-85t10-a562s", "RSSMRA85T10A562S", "M", "A562", date(1985, time.December, 10), false},
		{"BNCNNA90C65F205P", "BNCNNA90C65F205P", "F", "F205", date(1990, time.March, 25), false},
		{"FOXDAA05A01H501F", "FOXDAA05A01H501F", "M", "H501", date(2005, time.January, 1), false},
		{"VRDGFR30L04L219Y", "VRDGFR30L04L219Y", "M", "L219", date(1930, time.July, 4), false},
		{"DMCNCL00B29Z404Q", "DMCNCL00B29Z404Q", "M", "Z404", date(2000, time.February, 29), false},
		{"RSSMRA85T10A56NH", "RSSMRA85T10A56NH", "M", "A562", date(1985, time.December, 10), true},
		{"RSSMRAURTMLARSNL", "RSSMRAURTMLARSNL", "M", "A562", date(1985, time.December, 10), true},
		{"bncnnavlcsrfnlrr", "BNCNNAVLCSRFNLRR", "F", "F205", date(1990, time.March, 25), true},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.raw)
		if got := c.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.raw, got, tt.want)
		}
		if got := c.Omocodia(); got != tt.omocodia {
			t.Errorf("Parse(%q).Omocodia() = %v, want %v", tt.raw, got, tt.omocodia)
		}
		checkDecode(t, c, tt.sex, tt.birth, tt.place)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, raw string
		want      error
	}{
		{"empty", "", ErrLength},
		{"too short", "RSSMRA85T10A562", ErrLength},
		{"too long", "RSSMRA85T10A562SX", ErrLength},
		{"digit in surname", "R5SMRA85T10A562S", ErrShape},
		{"letter in year", "RSSMRA8AT10A562S", ErrShape},
		{"non-omocodia letter in day", "RSSMRA85T1OA562S", ErrShape},
		{"digit as month", "RSSMRA85110A562S", ErrShape},
		{"digit as place letter", "RSSMRA85T101562S", ErrShape},
		{"digit as check", "RSSMRA85T10A5621", ErrShape},
		{"non-ASCII letter", "RSSMRA85T10A562È", ErrShape},
		{"wrong month letter", "RSSMRA85Z10A562S", ErrMonth},
		{"month F unused", "RSSMRA85F10A562S", ErrMonth},
		{"day 00", "RSSMRA85T00A562S", ErrDay},
		{"day 32", "RSSMRA85T32A562S", ErrDay},
		{"day 40", "RSSMRA85T40A562S", ErrDay},
		{"day 72", "RSSMRA85T72A562S", ErrDay},
		{"30 February", "RSSMRA85B30A562S", ErrDay},
		{"70 February (woman)", "RSSMRA85B70A562S", ErrDay},
		{"29 February non-leap", "RSSMRA85B29A562S", ErrDay},
		{"31 April", "RSSMRA85D31A562S", ErrDay},
		{"wrong check", "RSSMRA85T10A562T", ErrCheck},
		{"wrong check omocode", "RSSMRAURTMLARSNS", ErrCheck},
		{"typo in place", "RSSMRA85T10A563S", ErrCheck},
		{"month before check", "RSSMRA85Z10A562T", ErrMonth},
		{"shape before month", "RSSMRA8AZ10A562S", ErrShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) error = %v, want %v", tt.raw, err, tt.want)
			}
		})
	}
}

func TestOmocode(t *testing.T) {
	tests := []struct {
		base string
		n    int
		want string
	}{
		{"RSSMRA85T10A562S", 1, "RSSMRA85T10A56NH"},
		{"RSSMRA85T10A562S", 7, "RSSMRAURTMLARSNL"},
		{"BNCNNA90C65F205P", 1, "BNCNNA90C65F20RK"},
		{"BNCNNA90C65F205P", 7, "BNCNNAVLCSRFNLRR"},
		{"RSSMRAURTMLARSNL", 1, "RSSMRA85T10A56NH"}, // existing substitutions are undone first
	}
	for _, tt := range tests {
		got, err := Omocode(tt.base, tt.n)
		if err != nil || got != tt.want {
			t.Errorf("Omocode(%q, %d) = %q, %v, want %q, nil", tt.base, tt.n, got, err, tt.want)
		}
	}
}

func TestOmocodeDecodesSame(t *testing.T) {
	bases := []string{"RSSMRA85T10A562S", "BNCNNA90C65F205P", "FOXDAA05A01H501F", "VRDGFR30L04L219Y", "DMCNCL00B29Z404Q"}
	for _, base := range bases {
		orig := mustParse(t, base)
		for n := 1; n <= 7; n++ {
			omo, err := Omocode(base, n)
			if err != nil {
				t.Fatalf("Omocode(%q, %d) error = %v", base, n, err)
			}
			c := mustParse(t, omo)
			if !c.Omocodia() {
				t.Errorf("%s: Omocodia() = false, want true", omo)
			}
			checkDecode(t, c, orig.Sex(), orig.BirthDate(now), orig.BirthPlaceCode())
		}
	}
}

func TestOmocodeErrors(t *testing.T) {
	tests := []struct {
		code string
		n    int
		want error
	}{
		{"RSSMRA85T10A562S", 0, nil},
		{"RSSMRA85T10A562S", 8, nil},
		{"RSSMRA85T10A562T", 1, ErrCheck},
		{"RSSMRA", 1, ErrLength},
	}
	for _, tt := range tests {
		_, err := Omocode(tt.code, tt.n)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("Omocode(%q, %d) error = %v, want %v", tt.code, tt.n, err, tt.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		surname, name string
		birth         time.Time
		sex, place    string
		want          string
	}{
		{"Rossi", "Mario", date(1985, time.December, 10), "M", "A562", "RSSMRA85T10A562S"},
		{"Bianchi", "Anna", date(1990, time.March, 25), "F", "F205", "BNCNNA90C65F205P"},
		{"Fo", "Ada", date(2005, time.January, 1), "M", "H501", "FOXDAA05A01H501F"},
		{"Verdi", "Gianfranco", date(1930, time.July, 4), "m", "l219", "VRDGFR30L04L219Y"},
		{"D'Amico", "Nicolò", date(2000, time.February, 29), "M", "Z404", "DMCNCL00B29Z404Q"},
	}
	for _, tt := range tests {
		got, err := Generate(tt.surname, tt.name, tt.birth, tt.sex, tt.place)
		if err != nil || got != tt.want {
			t.Errorf("Generate(%q, %q, %s, %q, %q) = %q, %v, want %q, nil",
				tt.surname, tt.name, tt.birth.Format(time.DateOnly), tt.sex, tt.place, got, err, tt.want)
			continue
		}
		mustParse(t, got)
	}
}

func TestGenerateLetters(t *testing.T) {
	tests := []struct {
		in     string
		isName bool
		want   string
	}{
		{"Fo", false, "FOX"},
		{"Ada", true, "DAA"},
		{"Io", true, "IOX"},
		{"O", false, "OXX"},
		{"Gianfranco", true, "GFR"},
		{"Gianfranco", false, "GNF"}, // the 4+ consonant rule is for names only
		{"Nicolò", true, "NCL"},
		{"D'Amico", false, "DMC"},
		{"De Rossi", false, "DRS"},
		{"Àèéìòù", false, "AEE"},
	}
	for _, tt := range tests {
		if got := nameLetters(cleanName(tt.in), tt.isName); got != tt.want {
			t.Errorf("nameLetters(%q, %v) = %q, want %q", tt.in, tt.isName, got, tt.want)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	birth := date(1985, time.December, 10)
	tests := []struct{ surname, name, sex, place string }{
		{"", "Mario", "M", "A562"},
		{"Rossi", "'", "M", "A562"},
		{"Rossi", "Mario", "X", "A562"},
		{"Rossi", "Mario", "M", "A56"},
		{"Rossi", "Mario", "M", "1562"},
		{"Rossi", "Mario", "M", "A5B2"},
	}
	for _, tt := range tests {
		if got, err := Generate(tt.surname, tt.name, birth, tt.sex, tt.place); err == nil {
			t.Errorf("Generate(%q, %q, _, %q, %q) = %q, nil, want error", tt.surname, tt.name, tt.sex, tt.place, got)
		}
	}
}

func TestBirthDateCentury(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		rome = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		name      string
		birth     time.Time
		now, want time.Time
	}{
		{"05 is recent", date(2005, time.May, 5), now, date(2005, time.May, 5)},
		{"30 is last century", date(1930, time.May, 5), now, date(1930, time.May, 5)},
		{"26 earlier this year", date(2026, time.January, 15), now, date(2026, time.January, 15)},
		{"26 today", date(2026, time.June, 1), now, date(2026, time.June, 1)},
		{"26 later this year", date(2026, time.June, 2), now, date(1926, time.June, 2)},
		{"27 is last century", date(2027, time.January, 1), now, date(1927, time.January, 1)},
		{"00 seen from 1999", date(2000, time.March, 1), date(1999, time.December, 31), date(1900, time.March, 1)},
		{"leap 00 seen from 2000", date(2000, time.February, 29), date(2000, time.March, 1), date(2000, time.February, 29)},
		{"now in Rome", date(2026, time.June, 1), time.Date(2026, time.June, 1, 0, 30, 0, 0, rome), date(2026, time.June, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := Generate("Rossi", "Maria", tt.birth, "F", "H501")
			if err != nil {
				t.Fatalf("Generate error = %v", err)
			}
			got := mustParse(t, code).BirthDate(tt.now)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("%s BirthDate(%v) = %v, want %v", code, tt.now, got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"RSSMRA85T10A562S", "rss mra 85t10 a562s", "RSSMRAURTMLARSNL", "RSSMRA85B30A562S", "", "ÈÈÈÈÈÈÈÈÈÈÈÈÈÈÈÈ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := Parse(raw)
		if err != nil {
			return
		}
		again, err := Parse(c.String())
		if err != nil || again != c || again.String() != c.String() {
			t.Fatalf("round trip of %q: Parse(%q) = %v, %v", raw, c.String(), again, err)
		}
		_ = c.Sex()
		_ = c.BirthDate(now)
		_ = c.BirthPlaceCode()
		_ = c.Omocodia()
	})
}
