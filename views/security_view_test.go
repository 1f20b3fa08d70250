package views

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/locale"
)

// TestFewRecoveryCodesAreSaidAfterTheCount: the count of codes left, then,
// as a sentence of its own, the advice to make new ones when few remain.
func TestFewRecoveryCodesAreSaidAfterTheCount(t *testing.T) {
	for _, tc := range []struct {
		left int
		want string
	}{
		{10, "Le restano 10 codici."},
		{2, "Le restano 2 codici. Sono pochi: crei nuovi codici."},
	} {
		p := SecurityPage{Security: Security{Factors: []db.Factor{{Kind: db.FactorTOTP, Name: "Telefono"}}, RecoveryLeft: tc.left}}
		var b bytes.Buffer
		if err := SecurityView(p).Render(locale.With(context.Background(), locale.Italian), &b); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?s)data-testid="recovery-left">(.*?)</p>`).FindStringSubmatch(b.String())
		if m == nil {
			t.Fatalf("%d codes left: no recovery-left paragraph", tc.left)
		}
		got := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")), " ")
		if got != tc.want {
			t.Errorf("%d codes left: %q, want %q", tc.left, got, tc.want)
		}
	}
}
