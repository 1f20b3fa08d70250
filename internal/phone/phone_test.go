package phone

import (
	"errors"
	"slices"
	"testing"
)

func TestNormalizeMobile(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"333 123 4567", "+393331234567", nil},
		{"3331234567", "+393331234567", nil},
		{"+39 333 1234567", "+393331234567", nil},
		{"0039 333-123-4567", "+393331234567", nil},
		{"(+39) 347.765.4321", "+393477654321", nil},
		{"+44 7911 123456", "+447911123456", nil},
		{"02 1234 5678", "", ErrNotMobile}, // Milan landline
		{"0376 123456", "", ErrNotMobile},  // Mantua landline
		{"800 123 456", "", ErrNotMobile},  // toll free
		{"12345", "", ErrInvalid},
		{"", "", ErrInvalid},
		{"chiamami", "", ErrInvalid},
	}
	for _, tt := range tests {
		got, err := NormalizeMobile(tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("NormalizeMobile(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("NormalizeMobile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	if got, want := Display("+393331234567"), "333 123 4567"; got != want {
		t.Errorf("Display = %q, want %q", got, want)
	}
}

func TestRegionAndPrefix(t *testing.T) {
	tests := []struct {
		e164   string
		region string
		prefix int
	}{
		{"+393331234567", "IT", 39},
		{"+447400123456", "GB", 44},
		{"+21620123456", "TN", 216},
		{"+12025550123", "US", 1},
		{"unknown:mario@example.it", "", 0},
	}
	for _, tt := range tests {
		if got := Region(tt.e164); got != tt.region {
			t.Errorf("Region(%q) = %q, want %q", tt.e164, got, tt.region)
		}
		if got := Prefix(tt.e164); got != tt.prefix {
			t.Errorf("Prefix(%q) = %d, want %d", tt.e164, got, tt.prefix)
		}
	}
	if got := RegionPrefix("SM"); got != 378 {
		t.Errorf("RegionPrefix(SM) = %d, want 378", got)
	}
}

func TestParseRegions(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"IT", []string{"IT"}, false},
		{" it, sm ,IT", []string{"IT", "SM"}, false},
		{"IT,XX", nil, true},
		{"ITA", nil, true},
		{" , ", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseRegions(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseRegions(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
