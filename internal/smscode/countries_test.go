package smscode_test

import (
	"context"
	"errors"
	"testing"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/smscode"
)

// The registration form takes any number: a code goes only to the
// configured countries (Italy by default), for every purpose and mode.
func TestCodesGoOnlyToTheConfiguredCountries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		countries []string
		mobile    string
		want      bool
	}{
		{"Italy by default", nil, "+393331234567", true},
		{"Tunisia by default", nil, "+21620123456", false},
		{"United Kingdom by default", nil, "+447400123456", false},
		{"United States by default", nil, "+12025550123", false},
		{"not a number (an unknown login name)", nil, "unknown:mario@example.it", false},
		{"San Marino when listed", []string{"IT", "SM"}, "+37866661212", true},
		{"Italy when only San Marino is listed", []string{"SM"}, "+393331234567", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, purpose := range []string{db.OTPRegister, db.OTPLogin, db.OTPReset, db.OTPContact} {
				for _, mode := range []smscode.Mode{smscode.SendNow, smscode.SendNothing} {
					w := newWorld(t)
					w.svc.Countries = tt.countries
					_, err := w.svc.Issue(ctx, purpose, tt.mobile, 0, mode, locale.Italian)
					var ce smscode.CountryError
					if got := err == nil; got != tt.want {
						t.Fatalf("%s, mode %d: Issue = %v, want sent %v", purpose, mode, err, tt.want)
					}
					if !tt.want && !errors.As(err, &ce) {
						t.Fatalf("%s: Issue = %v, want a CountryError", purpose, err)
					}
					if !tt.want && len(w.gw.messages()) != 0 {
						t.Errorf("%s: an SMS went to a refused country", purpose)
					}
				}
			}
		})
	}
	w := newWorld(t)
	_, err := w.svc.Issue(ctx, db.OTPRegister, "+21620123456", 0, smscode.SendNow, locale.Italian)
	var ce smscode.CountryError
	if !errors.As(err, &ce) || ce.Prefix != 216 || ce.AllowedText() != "+39" {
		t.Errorf("refusal = %#v, want prefix 216 and +39 allowed", err)
	}
}
