package main

import (
	"context"
	"strings"
	"testing"

	"fse/db"
)

// Tests of `fse serve --staff-mfa`: the values it takes, and what the
// admins' pages say about each.

func TestStaffMFAFlagRefusesAnUnknownPolicy(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"flag", []string{"serve", "--staff-mfa", "sometimes"}, nil, `want required, admins or off, got "sometimes"`},
		{"environment", []string{"serve"}, map[string]string{"FSE_STAFF_MFA": "no"}, "FSE_STAFF_MFA"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars := safeEnv(t)
			for k, v := range tt.env {
				vars[k] = v
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // should validation let it through, the server stops at once
			r := runIn(ctx, t, invocation{args: tt.args, env: vars})
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}

func TestStaffMFAPolicyIsShownAndWarnedAbout(t *testing.T) {
	for _, tt := range []struct {
		policy  db.StaffMFAPolicy
		setting string
		warning string // "" for none
	}{
		{db.StaffMFARequired, "obbligatoria per tutti", ""},
		{db.StaffMFAAdmins, "obbligatoria per gli amministratori", "--staff-mfa admins"},
		{db.StaffMFAOff, "non obbligatoria", "--staff-mfa off"},
	} {
		t.Run(string(tt.policy), func(t *testing.T) {
			hc := serverConfig{baseURL: "https://referti.example.it", retentionDays: 30, staffMFA: tt.policy}.handlerConfig()
			if hc.StaffMFA != tt.policy {
				t.Errorf("handlers get policy %q, want %q", hc.StaffMFA, tt.policy)
			}
			var shown string
			for _, s := range hc.Settings {
				if strings.Contains(s.Note, "--staff-mfa") {
					shown = s.Value
				}
			}
			if shown != tt.setting {
				t.Errorf("settings page shows %q, want %q", shown, tt.setting)
			}
			warnings := strings.Join(hc.Warnings, "\n")
			if tt.warning == "" && len(hc.Warnings) != 0 || tt.warning != "" && !strings.Contains(warnings, tt.warning) {
				t.Errorf("warnings %q, want %q", warnings, tt.warning)
			}
		})
	}
}
