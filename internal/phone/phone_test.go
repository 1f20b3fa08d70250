package phone

import (
	"errors"
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
