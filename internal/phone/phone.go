// Package phone normalises Italian and international mobile numbers to E.164,
// refusing numbers that cannot receive an SMS.
package phone

import (
	"errors"
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
