package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of the settings of the patient's further rights: the flags, and
// `fse jobs run majority|remind`.

func TestRightsFlagsRefuseBadValues(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"protected reports neither paper nor self", []string{"serve", "--protected-reports", "family"}, nil, "want paper or self"},
		{"FSE_PROTECTED_REPORTS=online", []string{"serve"}, map[string]string{"FSE_PROTECTED_REPORTS": "online"}, "FSE_PROTECTED_REPORTS"},
		{"reminder days negative", []string{"serve", "--expiry-reminder-days", "-1"}, nil, "--expiry-reminder-days must be between 0 and 365"},
		{"FSE_EXPIRY_REMINDER_DAYS=400", []string{"serve"}, map[string]string{"FSE_EXPIRY_REMINDER_DAYS": "400"}, "--expiry-reminder-days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := safeEnv(t)
			for k, v := range tt.env {
				vars[k] = v
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := runIn(ctx, t, invocation{args: tt.args, env: vars})
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.wantErr)
			}
		})
	}
}

func TestRightsSettingsShowThePolicy(t *testing.T) {
	tests := []struct {
		rights rightsConfig
		want   []string
	}{
		{rightsConfig{}, []string{"solo su carta", "disattivato"}},
		{rightsConfig{protected: "self", expiryReminderDays: 7}, []string{"solo nell'account del paziente", "7 giorni prima"}},
	}
	for _, tt := range tests {
		var text strings.Builder
		for _, s := range tt.rights.settings() {
			text.WriteString(s.Value + " " + s.Note + "\n")
		}
		for _, want := range tt.want {
			if !strings.Contains(text.String(), want) {
				t.Errorf("settings of %+v lack %q:\n%s", tt.rights, want, text.String())
			}
		}
	}
}

func TestRightsJobsRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	tests := []struct {
		args    []string
		wantOut string
	}{
		{[]string{"jobs", "run", "majority", "--db", path}, "job majority done"},
		{[]string{"jobs", "run", "remind", "--db", path, "--base-url", "https://referti.example.it"}, "job remind done"},
		{[]string{"jobs", "run", "remind", "--db", path, "--expiry-reminder-days", "0"}, "job remind done"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:3], " "), func(t *testing.T) {
			r := runCmd(t, invocation{args: tt.args, env: safeEnv(t)})
			if r.code != 0 || !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", r.code, r.stdout, r.stderr, tt.wantOut)
			}
		})
	}
}
