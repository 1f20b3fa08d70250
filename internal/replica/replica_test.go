package replica

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"/var/backups/fse", "file:///var/backups/fse", ""},
		{"file:///var/backups/fse", "file:///var/backups/fse", ""},
		{"s3://referti-backup/fse?endpoint=https://s3.example.it&region=eu-south-1", "s3://referti-backup/fse?endpoint=https://s3.example.it&region=eu-south-1", ""},
		{"sftp://backup@nas.clinica.local:22/srv/fse", "sftp://backup@nas.clinica.local:22/srv/fse", ""},
		{"file://relative/dir", "", "absolute directory"},
		{"s3:///fse", "", "names a bucket"},
		{"sftp://nas.clinica.local/srv/fse", "", "names a user"},
		{"gs://bucket/fse", "", `scheme "gs"`},
		{"", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseURL(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSettingsRefuseAnSFTPReplicaWithoutItsHostKey(t *testing.T) {
	s := Settings{URL: "sftp://backup@nas:22/srv/fse", Retention: DefaultRetention}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "host key") {
		t.Errorf("Check() = %v, want a refusal naming the host key", err)
	}
	s.SFTPHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"
	if err := s.Check(); err != nil {
		t.Errorf("with the host key: %v", err)
	}
	if err := (Settings{URL: "file:///srv/fse", Retention: DefaultRetention, SFTPKey: "/etc/fse/id"}).Check(); err == nil {
		t.Error("an sftp key with a file replica was accepted")
	}
}

func TestRedactedHidesThePassword(t *testing.T) {
	got := Redacted("sftp://backup:segreta@nas:22/srv/fse")
	if strings.Contains(got, "segreta") || !strings.Contains(got, "backup") {
		t.Errorf("Redacted = %q", got)
	}
}

func TestConfigCarriesTheScheduleAndTheSFTPKeys(t *testing.T) {
	s := Settings{URL: "sftp://backup@nas:22/srv/fse", Retention: DefaultRetention,
		SFTPKey: "/etc/fse/id_ed25519", SFTPHostKey: "ssh-ed25519 AAAA"}
	b, err := s.Config("/var/lib/fse/fse.db")
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.DBs) != 1 || c.DBs[0].Path != "/var/lib/fse/fse.db" || c.DBs[0].Replica.KeyPath != "/etc/fse/id_ed25519" ||
		c.DBs[0].Replica.HostKey != "ssh-ed25519 AAAA" || c.DBs[0].CheckpointInterval != "30s" {
		t.Errorf("dbs = %+v", c.DBs)
	}
	if c.Snapshot.Interval != "4h0m0s" || c.Snapshot.Retention != "15h0m0s" || !c.Retention.Enabled {
		t.Errorf("snapshot = %+v, retention %+v; want every 4h kept 15h, retention on", c.Snapshot, c.Retention)
	}
	if len(c.Levels) != 3 || c.Levels[0].Interval != "30s" || c.Levels[1].Interval != "5m0s" || c.Levels[2].Interval != "1h0m0s" {
		t.Errorf("levels = %+v, want Litestream's defaults", c.Levels)
	}
}

// TestScheduleKeepsDeletedDataWithinTheRetention plays Litestream's
// retention rules (v0.5: a snapshot every interval on the clock; at each,
// snapshots created before now-SnapshotRetention go, the newest stays, and
// change files go up to the newest snapshot that went) against deletions
// at every second of several intervals, and checks the promise: nothing
// deleted outlives Retention, and a restore reaches back as far as said.
func TestScheduleKeepsDeletedDataWithinTheRetention(t *testing.T) {
	const took = time.Second // a snapshot's CreatedAt is after its tick
	const lag = time.Second  // a deletion reaches the replica this late
	for _, retention := range []time.Duration{DefaultRetention, time.Hour, time.Minute, MinRetention} {
		s := NewSchedule(retention)
		i := s.SnapshotInterval
		step := i / 97
		for d := 3 * i; d < 6*i; d += step {
			// The first snapshot that holds the deletion.
			first := (d + lag + i - 1) / i * i
			// The enforcement that deletes it (and with it every file older).
			gone := first
			for gone-s.SnapshotRetention <= first+took {
				gone += i
			}
			if gone-d > retention {
				t.Errorf("retention %v: data deleted at %v survives until %v (%v > %v)", retention, d, gone, gone-d, retention)
				break
			}
		}
		least, most := s.RestoreWindow()
		if least < retention/2 || most > retention || least >= most {
			t.Errorf("retention %v: restore window %v-%v", retention, least, most)
		}
		for _, l := range s.Levels {
			if l <= 0 || l >= i {
				t.Errorf("retention %v: level interval %v not within the snapshot interval %v", retention, l, i)
			}
		}
	}
}
