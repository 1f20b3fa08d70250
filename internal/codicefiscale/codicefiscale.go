// Package codicefiscale validates and decodes Italian tax codes (codice
// fiscale) so the front desk can catch typos before a patient record is
// created, and derives sex, birth date and birthplace to cross-check them
// against what the patient declares.
package codicefiscale

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The sentinel errors are in English and deliberately terse; callers map
// them to Italian messages for the front desk with errors.Is.
var (
	// ErrLength means the code is not 16 characters long after Normalize.
	ErrLength = errors.New("codicefiscale: length is not 16 characters")
	// ErrShape means a letter sits where a digit belongs or vice versa,
	// after allowing for omocodia letters in digit positions.
	ErrShape = errors.New("codicefiscale: letters and digits in the wrong positions")
	// ErrMonth means the ninth character is not a valid month letter.
	ErrMonth = errors.New("codicefiscale: invalid month letter")
	// ErrDay means the day is outside 1-31 (men) or 41-71 (women), or does
	// not exist in the encoded month, such as 30 February.
	ErrDay = errors.New("codicefiscale: invalid birth day")
	// ErrCheck means the 16th character does not match the check character
	// computed from the first 15, which usually signals a typo.
	ErrCheck = errors.New("codicefiscale: wrong check character")
)

const (
	// monthLetters maps index 0-11 to the official month letters.
	monthLetters = "ABCDEHLMPRST"
	// omocodiaLetters maps digits 0-9 to the letters used when the
	// Agenzia delle Entrate must disambiguate two otherwise identical codes.
	omocodiaLetters = "LMNPQRSTUV"
)

// digitPositions lists the 0-based indexes of the digit positions eligible
// for omocodia, rightmost first, because substitutions are applied in that
// order.
var digitPositions = [7]int{14, 13, 12, 10, 9, 7, 6}

// oddValues holds the check-table values for characters in odd (1-based)
// positions; digits share the values of the letters A-J.
var oddValues = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// Normalize uppercases raw and removes spaces, dashes and dots, because
// codes are often typed or copied in groups such as "RSS MRA 85T10 A562S".
func Normalize(raw string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToUpper(raw))
}

// Code is a validated, normalized codice fiscale. The zero value is not a
// valid code; obtain one through Parse.
type Code struct {
	s string
}

// Parse normalizes raw and validates it, returning the first error found in
// the order length, shape, month, day, check, so the caller can report the
// most fundamental problem first.
func Parse(raw string) (Code, error) {
	s := Normalize(raw)
	if utf8.RuneCountInString(s) != 16 {
		return Code{}, ErrLength
	}
	if !validShape(s) {
		return Code{}, ErrShape
	}
	month := strings.IndexByte(monthLetters, s[8]) + 1
	if month == 0 {
		return Code{}, ErrMonth
	}
	plain := undoOmocodia(s)
	day := atoi2(plain[9:11])
	if day > 40 {
		day -= 40
	}
	// Any two-digit year divisible by 4 is accepted as leap because the
	// century is unknown here; this only matters for 29 February "00".
	year := 2000 + atoi2(plain[6:8])
	if day < 1 || day > 31 || day > daysIn(year, month) {
		return Code{}, ErrDay
	}
	if checkChar(s[:15]) != s[15] {
		return Code{}, ErrCheck
	}
	return Code{s: s}, nil
}

// validShape reports whether s is ASCII with letters and digits where the
// format requires them; omocodia letters are accepted in digit positions.
func validShape(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < 16; i++ {
		c := s[i]
		if isDigitPos(i) {
			if !isDigit(c) && strings.IndexByte(omocodiaLetters, c) < 0 {
				return false
			}
		} else if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// String returns the 16 normalized characters, suitable for storage.
func (c Code) String() string { return c.s }

// Sex returns "M" or "F"; women are encoded by adding 40 to the birth day.
func (c Code) Sex() string {
	if atoi2(undoOmocodia(c.s)[9:11]) > 40 {
		return "F"
	}
	return "M"
}

// BirthDate returns the birth date at UTC midnight. The code only stores two
// year digits, so the century is chosen as the most recent one that does not
// put the birth after now's calendar date.
func (c Code) BirthDate(now time.Time) time.Time {
	plain := undoOmocodia(c.s)
	yy := atoi2(plain[6:8])
	month := strings.IndexByte(monthLetters, plain[8]) + 1
	day := atoi2(plain[9:11])
	if day > 40 {
		day -= 40
	}
	ny, nm, nd := now.Date()
	year := ny/100*100 + yy
	// Step back a century while the date is in the future, or while it does
	// not exist (29 February of a non-leap century year such as 1900).
	for year > ny || (year == ny && (month > int(nm) || (month == int(nm) && day > nd))) ||
		day > daysIn(year, month) {
		year -= 100
	}
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// BirthPlaceCode returns the 4-character Belfiore code of the birthplace
// (municipality or foreign country) with omocodia undone, e.g. "F205", so it
// can be looked up in the cadastral table.
func (c Code) BirthPlaceCode() string { return undoOmocodia(c.s)[11:15] }

// Omocodia reports whether any digit position holds a substitution letter,
// which front-desk staff should know because such codes look like typos.
func (c Code) Omocodia() bool { return undoOmocodia(c.s) != c.s }

// Generate builds a valid codice fiscale from personal data, for demo data
// and tests. Accents are stripped and non-letters (apostrophes, spaces) are
// dropped from the names; sex is "M" or "F"; belfiore is a letter followed
// by three digits. It is not authoritative: real codes can differ because of
// omocodia assigned by the Agenzia delle Entrate.
func Generate(surname, name string, birth time.Time, sex string, belfiore string) (string, error) {
	sur, nam := cleanName(surname), cleanName(name)
	if sur == "" || nam == "" {
		return "", fmt.Errorf("codicefiscale: surname and name must contain letters")
	}
	sex = strings.ToUpper(strings.TrimSpace(sex))
	if sex != "M" && sex != "F" {
		return "", fmt.Errorf("codicefiscale: sex must be M or F, got %q", sex)
	}
	belfiore = strings.ToUpper(strings.TrimSpace(belfiore))
	if len(belfiore) != 4 || belfiore[0] < 'A' || belfiore[0] > 'Z' ||
		!isDigit(belfiore[1]) || !isDigit(belfiore[2]) || !isDigit(belfiore[3]) {
		return "", fmt.Errorf("codicefiscale: belfiore code %q is not a letter and three digits", belfiore)
	}
	day := birth.Day()
	if sex == "F" {
		day += 40
	}
	var b strings.Builder
	b.WriteString(nameLetters(sur, false))
	b.WriteString(nameLetters(nam, true))
	fmt.Fprintf(&b, "%02d%c%02d%s", birth.Year()%100, monthLetters[birth.Month()-1], day, belfiore)
	b.WriteByte(checkChar(b.String()))
	return b.String(), nil
}

// Omocode applies the n rightmost omocodia substitutions (n in 1..7) to a
// valid code and recomputes the check character, for tests and demo data.
// Any substitutions already present are undone first, so the result is
// deterministic.
func Omocode(code string, n int) (string, error) {
	if n < 1 || n > len(digitPositions) {
		return "", fmt.Errorf("codicefiscale: omocodia count %d not in 1..7", n)
	}
	c, err := Parse(code)
	if err != nil {
		return "", err
	}
	b := []byte(undoOmocodia(c.s))
	for _, i := range digitPositions[:n] {
		b[i] = omocodiaLetters[b[i]-'0']
	}
	b[15] = checkChar(string(b[:15]))
	return string(b), nil
}

// nameLetters picks the three letters for a surname or name: consonants,
// then vowels, then X padding. For names (not surnames) with four or more
// consonants the 1st, 3rd and 4th are used, as the law prescribes.
func nameLetters(s string, isName bool) string {
	var cons, vows []byte
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("AEIOU", s[i]) >= 0 {
			vows = append(vows, s[i])
		} else {
			cons = append(cons, s[i])
		}
	}
	if isName && len(cons) >= 4 {
		return string([]byte{cons[0], cons[2], cons[3]})
	}
	return string(append(append(cons, vows...), 'X', 'X', 'X')[:3])
}

// accents maps accented letters found in Italian (and common foreign)
// names to their base letter, since the code only uses A-Z.
var accents = strings.NewReplacer(
	"À", "A", "Á", "A", "Â", "A", "Ä", "A", "Ã", "A", "Å", "A",
	"È", "E", "É", "E", "Ê", "E", "Ë", "E",
	"Ì", "I", "Í", "I", "Î", "I", "Ï", "I",
	"Ò", "O", "Ó", "O", "Ô", "O", "Ö", "O", "Õ", "O",
	"Ù", "U", "Ú", "U", "Û", "U", "Ü", "U",
	"Ç", "C", "Ñ", "N",
)

// cleanName uppercases s, strips accents and drops everything that is not
// A-Z, so "D'Amico" and "Nicolò" encode as "DAMICO" and "NICOLO".
func cleanName(s string) string {
	s = accents.Replace(strings.ToUpper(s))
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, s)
}

// checkChar computes the check character for the first 15 characters
// using the official odd/even tables; positions are 1-based, so index 0 is
// odd.
func checkChar(s string) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		v := int(s[i] - 'A')
		if isDigit(s[i]) {
			v = int(s[i] - '0')
		}
		if i%2 == 0 {
			v = oddValues[v]
		}
		sum += v
	}
	return byte('A' + sum%26)
}

// undoOmocodia turns substitution letters in digit positions back into
// digits; s must already have a valid shape.
func undoOmocodia(s string) string {
	b := []byte(s)
	for _, i := range digitPositions {
		if j := strings.IndexByte(omocodiaLetters, b[i]); j >= 0 {
			b[i] = byte('0' + j)
		}
	}
	return string(b)
}

// isDigitPos reports whether 0-based index i holds a digit in the plain
// (non-omocode) format.
func isDigitPos(i int) bool {
	for _, p := range digitPositions {
		if p == i {
			return true
		}
	}
	return false
}

// isDigit reports whether c is an ASCII digit; unicode.IsDigit would admit
// non-ASCII digits that the format forbids.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi2 converts a two-digit ASCII string; callers guarantee the digits.
func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// daysIn returns the number of days in month of year, using time.Date's
// normalization of day 0 of the following month.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
