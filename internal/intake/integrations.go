package intake

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"

	"fse/db"
	"fse/internal/acceptance"
)

// IntegrationInput is what an administrator typed to create an
// integration, on the command line or in the admin pages.
type IntegrationInput struct {
	Name string
	// Scopes and AllowCIDRs are comma-separated lists; no scopes means
	// both, no networks means any.
	Scopes, AllowCIDRs string
	AutoPublish        bool
	// MLLP lets the integration deliver HL7 over MLLP from its networks,
	// which must then be named (single hosts, preferably).
	MLLP bool
}

// CheckIntegration checks an integration's settings, with a message per
// field in Italian and English.
func CheckIntegration(in IntegrationInput) (db.Integration, acceptance.Problems) {
	var ps acceptance.Problems
	i := db.Integration{Name: strings.TrimSpace(in.Name), AutoPublish: in.AutoPublish, MLLP: in.MLLP}
	if n := len([]rune(i.Name)); n == 0 || n > 60 {
		ps = append(ps, acceptance.Problem{Field: "name", IT: "Indica un nome da 1 a 60 caratteri (es. «Laboratorio analisi»).",
			EN: "name must be 1-60 characters (such as \"Laboratorio analisi\")."})
	}
	for _, s := range splitComma(in.Scopes) {
		s = strings.ToLower(s)
		if s != db.ScopeVisits && s != db.ScopeReports {
			ps = append(ps, acceptance.Problem{Field: "scope", IT: "Ambiti ammessi: visits, reports.", EN: "scopes are visits and reports."})
			break
		}
		if !slices.Contains(i.Scopes, s) {
			i.Scopes = append(i.Scopes, s)
		}
	}
	if len(i.Scopes) == 0 {
		i.Scopes = []string{db.ScopeVisits, db.ScopeReports}
	}
	for _, c := range splitComma(in.AllowCIDRs) {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			ps = append(ps, acceptance.Problem{Field: "allow_cidr", IT: "«" + c + "» non è una rete come 10.0.0.0/24.",
				EN: "\"" + c + "\" is not a network such as 10.0.0.0/24."})
			break
		}
		i.AllowCIDRs = append(i.AllowCIDRs, n.String())
	}
	if i.MLLP && len(i.AllowCIDRs) == 0 && len(ps) == 0 {
		ps = append(ps, acceptance.Problem{Field: "allow_cidr",
			IT: "Per HL7 (MLLP) indica le reti da cui si collega: sono la sua unica credenziale (meglio il singolo indirizzo, es. 10.1.2.3/32).",
			EN: "an MLLP integration needs its networks, its only credential (a single host is best, such as 10.1.2.3/32)."})
	}
	if i.MLLP && !slices.Contains(i.Scopes, db.ScopeReports) {
		ps = append(ps, acceptance.Problem{Field: "scope", IT: "HL7 (MLLP) consegna referti: serve l'ambito reports.",
			EN: "MLLP delivers reports: the integration needs the reports scope."})
	}
	return i, ps
}

// CreateIntegration stores the integration and returns its bearer token,
// which exists only in this answer: only its hash is stored.
func CreateIntegration(ctx context.Context, d *db.DB, i db.Integration, by db.Actor, now time.Time) (string, error) {
	token, hash := db.NewIntegrationToken()
	if _, err := d.CreateIntegration(ctx, i, hash, by, now); err != nil {
		return "", err
	}
	return token, nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
