package views

import "testing"

// The slip and the SMS code page show the mobile with only its last four
// digits, whatever the country's grouping.
func TestMaskMobileShowsOnlyTheLastFourDigits(t *testing.T) {
	for _, tt := range []struct{ e164, want string }{
		{"+393331234567", "••• ••• 4567"},
		{"+40721234567", "••• ••• 4567"},
		{"+4915112345670", "••• ••• 5670"},
	} {
		if got := MaskMobile(tt.e164); got != tt.want {
			t.Errorf("MaskMobile(%q) = %q, want %q", tt.e164, got, tt.want)
		}
	}
}

func TestReportCountAgreesWithTheNumber(t *testing.T) {
	for n, want := range map[int]string{1: "1 referto", 2: "2 referti", 12: "12 referti"} {
		if got := ReportCount(n); got != want {
			t.Errorf("ReportCount(%d) = %q, want %q", n, got, want)
		}
	}
}
