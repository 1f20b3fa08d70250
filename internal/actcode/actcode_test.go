package actcode

import (
	"regexp"
	"testing"
)

func TestNewShapeAndUniqueness(t *testing.T) {
	shape := regexp.MustCompile(`^[` + Alphabet + `]{4}-[` + Alphabet + `]{4}-[` + Alphabet + `]{4}$`)
	seen := map[string]bool{}
	for range 2000 {
		c := New()
		if !shape.MatchString(c) {
			t.Fatalf("New() = %q, not three groups of 4 from the alphabet", c)
		}
		if seen[c] {
			t.Fatalf("New() repeated %q", c)
		}
		seen[c] = true
		if !Valid(Normalize(c)) {
			t.Fatalf("Normalize(%q) not valid", c)
		}
	}
}

func TestAlphabetHasNoAmbiguousSymbols(t *testing.T) {
	for _, bad := range "01OILU" {
		for _, r := range Alphabet {
			if r == bad {
				t.Errorf("alphabet contains ambiguous %q", bad)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ABCD-EFGH-JKMN", "ABCDEFGHJKMN"},
		{" abcd efgh jkmn ", "ABCDEFGHJKMN"},
		{"abcd.efgh.jkmn", "ABCDEFGHJKMN"},
		{"u", "V"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if Valid("ABCDEFGHJKM") || Valid("ABCDEFGHJK01") {
		t.Error("Valid accepted a short code or one with excluded symbols")
	}
}
