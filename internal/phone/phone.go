// Package phone normalises Italian and international mobile numbers to E.164,
// refusing numbers that cannot receive an SMS.
package phone

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

var (
	// ErrInvalid means the text is not a valid phone number.
	ErrInvalid = errors.New("not a valid phone number")
	// ErrNotMobile means the number is valid but not a mobile line.
	ErrNotMobile = errors.New("not a mobile number")
)

// NormalizeMobile parses raw (default region IT: "333 123 4567", "+39 333...",
// "0039 333...") and returns it in E.164 when it is a mobile number.
func NormalizeMobile(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "00") {
		raw = "+" + raw[2:]
	}
	num, err := phonenumbers.Parse(raw, "IT")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ErrInvalid
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", ErrNotMobile
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Display formats an E.164 number for people: national format for Italy,
// international otherwise.
func Display(e164 string) string {
	num, err := phonenumbers.Parse(e164, "IT")
	if err != nil {
		return e164
	}
	if num.GetCountryCode() == 39 {
		return phonenumbers.Format(num, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// Region returns the ISO 3166-1 code of the country an E.164 number
// belongs to ("IT" for +39 3…), or "" when it is not a valid number.
func Region(e164 string) string {
	num, err := phonenumbers.Parse(e164, "IT")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(num)
}

// Prefix returns the international calling code of an E.164 number (39),
// or 0 when it cannot be parsed.
func Prefix(e164 string) int {
	num, err := phonenumbers.Parse(e164, "IT")
	if err != nil {
		return 0
	}
	return int(num.GetCountryCode())
}

// RegionPrefix returns the calling code of an ISO 3166-1 region ("IT" is
// 39), 0 for a region phone numbers do not know.
func RegionPrefix(region string) int {
	return phonenumbers.GetCountryCodeForRegion(region)
}

// ParseRegions reads comma-separated ISO 3166-1 alpha-2 codes ("IT, sm")
// into upper case, refusing a code no phone number belongs to.
func ParseRegions(list string) ([]string, error) {
	supported := phonenumbers.GetSupportedRegions()
	var out []string
	for _, part := range strings.Split(list, ",") {
		code := strings.ToUpper(strings.TrimSpace(part))
		if code == "" {
			continue
		}
		if !supported[code] {
			return nil, fmt.Errorf("%q is not an ISO 3166-1 country code such as IT", part)
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("want at least one country code such as IT")
	}
	return out, nil
}
