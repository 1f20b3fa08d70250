package smscode

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fse/internal/phone"
)

// DefaultCountry is where codes go when no countries are configured:
// the clinic's patients have Italian mobiles.
const DefaultCountry = "IT"

// CountryError means codes are not sent to the number's country. Anyone
// can type any number on the registration form, and an SMS to some
// countries costs the clinic many times one to Italy (SMS pumping), so
// codes go only to the configured countries; the desk may still record a
// foreign mobile, which then gets codes only if its country is listed.
type CountryError struct {
	// Prefix is the number's calling code (216 for Tunisia), 0 if none.
	Prefix int
	// Allowed are the calling codes of the countries codes go to.
	Allowed []int
}

func (e CountryError) Error() string {
	return fmt.Sprintf("sms codes: not sent to numbers with calling code +%d (allowed: %s)", e.Prefix, e.AllowedText())
}

// AllowedText lists the allowed calling codes for people: "+39, +378".
func (e CountryError) AllowedText() string {
	s := make([]string, len(e.Allowed))
	for i, p := range e.Allowed {
		s[i] = "+" + strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// countries are the configured countries, or the default.
func (s *Service) countries() []string {
	if len(s.Countries) == 0 {
		return []string{DefaultCountry}
	}
	return s.Countries
}

// checkCountry refuses a number outside the configured countries; what is
// not a phone number at all (the placeholder of an unknown login name) is
// outside every country.
func (s *Service) checkCountry(mobile string) error {
	countries := s.countries()
	if r := phone.Region(mobile); r != "" && slices.Contains(countries, r) {
		return nil
	}
	var allowed []int
	for _, c := range countries {
		if p := phone.RegionPrefix(c); p != 0 && !slices.Contains(allowed, p) {
			allowed = append(allowed, p)
		}
	}
	return CountryError{Prefix: phone.Prefix(mobile), Allowed: allowed}
}
