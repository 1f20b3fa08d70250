// Package replica runs Litestream beside fse: it turns fse's replication
// settings into Litestream's configuration, supervises `litestream
// replicate`, and restores a database from a replica with `litestream
// restore`. It speaks to Litestream only through its documented command line.
package replica

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Version is the Litestream release fse is written and tested against; its
// configuration format and retention rules are those of v0.5.
const Version = "v0.5.18"

// InstallHint tells an operator how to get the companion binary.
const InstallHint = "install it with `CGO_ENABLED=0 go install github.com/benbjohnson/litestream/cmd/litestream@" + Version +
	"` (or a release package of the same version) and put it in PATH or pass --litestream"

// MinRetention and MaxRetention bound --replica-retention: below a minute
// Litestream's own intervals no longer fit; above 30 days a patient's
// deletion would wait a month to reach the replica.
const (
	MinRetention = 30 * time.Second
	MaxRetention = 30 * 24 * time.Hour
)

// DefaultRetention is how long a deleted report may survive in a replica
// unless the operator says otherwise: one day.
const DefaultRetention = 24 * time.Hour

// Settings is what the operator chose for replication.
type Settings struct {
	// URL is where the replica lives: file:///dir, s3://bucket/path?endpoint=...,
	// or sftp://user@host:22/path (see ParseURL).
	URL string
	// Retention bounds how long anything deleted from the database survives
	// in the replica (Schedule derives Litestream's intervals from it).
	Retention time.Duration
	// SFTPKey is the private key file for an sftp:// replica; SFTPHostKey
	// the server's public host key, as in known_hosts ("ssh-ed25519 AAAA...").
	SFTPKey, SFTPHostKey string
}

// ParseURL checks a replica URL and returns it in the form Litestream
// reads. A plain path (absolute or relative) is a local directory.
func ParseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("empty replica URL")
	}
	if !strings.Contains(raw, "://") {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return "", err
		}
		return (&url.URL{Scheme: "file", Path: abs}).String(), nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("replica URL: %v", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || u.Path == "" || !filepath.IsAbs(u.Path) {
			return "", errors.New("a file replica URL names an absolute directory: file:///var/backups/fse")
		}
	case "s3":
		if u.Host == "" {
			return "", errors.New("an s3 replica URL names a bucket: s3://bucket/path (add ?endpoint=https://... for an S3-compatible store)")
		}
	case "sftp":
		if u.Host == "" || u.User == nil || u.User.Username() == "" {
			return "", errors.New("an sftp replica URL names a user and a host: sftp://user@host:22/path")
		}
	default:
		return "", fmt.Errorf("replica URL scheme %q: fse replicates to file://, sftp:// or s3:// (any S3-compatible store)", u.Scheme)
	}
	return u.String(), nil
}

// Redacted is the URL as it may appear in logs and on the admin's
// settings page: without a password.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// Check validates the settings as a whole.
func (s Settings) Check() error {
	if _, err := ParseURL(s.URL); err != nil {
		return err
	}
	if s.Retention < MinRetention || s.Retention > MaxRetention {
		return fmt.Errorf("replica retention must be between %v and %v, got %v", MinRetention, MaxRetention, s.Retention)
	}
	isSFTP := strings.HasPrefix(s.URL, "sftp://")
	if !isSFTP && (s.SFTPKey != "" || s.SFTPHostKey != "") {
		return errors.New("the sftp key and host key are for an sftp:// replica only")
	}
	if isSFTP && s.SFTPHostKey == "" {
		// Without it anyone in the middle could receive the clinic's data.
		return errors.New("an sftp:// replica needs the server's host key (as in known_hosts, e.g. \"ssh-ed25519 AAAA...\")")
	}
	return nil
}

// config is the part of Litestream's configuration file fse writes.
// Litestream reads YAML, of which JSON is a subset.
type config struct {
	DBs                      []dbConfig      `json:"dbs"`
	Snapshot                 snapshotConfig  `json:"snapshot"`
	Levels                   []levelConfig   `json:"levels"`
	L0Retention              string          `json:"l0-retention"`
	L0RetentionCheckInterval string          `json:"l0-retention-check-interval"`
	Logging                  loggingConfig   `json:"logging"`
	Retention                retentionConfig `json:"retention"`
}

type dbConfig struct {
	Path               string        `json:"path"`
	CheckpointInterval string        `json:"checkpoint-interval"`
	Replica            replicaConfig `json:"replica"`
}

type replicaConfig struct {
	URL          string `json:"url"`
	KeyPath      string `json:"key-path,omitempty"`
	HostKey      string `json:"host-key,omitempty"`
	SyncInterval string `json:"sync-interval"`
}

type snapshotConfig struct {
	Interval  string `json:"interval"`
	Retention string `json:"retention"`
}

type levelConfig struct {
	Interval string `json:"interval"`
}

type loggingConfig struct {
	Level string `json:"level"`
	Type  string `json:"type"`
}

type retentionConfig struct {
	Enabled bool `json:"enabled"`
}

// Config is Litestream's configuration file for replicating the database
// at dbPath with these settings.
func (s Settings) Config(dbPath string) ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	u, _ := ParseURL(s.URL)
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return nil, err
	}
	p := NewSchedule(s.Retention)
	c := config{
		DBs: []dbConfig{{Path: abs, CheckpointInterval: p.CheckpointInterval.String(),
			Replica: replicaConfig{URL: u, KeyPath: s.SFTPKey, HostKey: s.SFTPHostKey, SyncInterval: "1s"}}},
		Snapshot:                 snapshotConfig{Interval: p.SnapshotInterval.String(), Retention: p.SnapshotRetention.String()},
		L0Retention:              p.L0Retention.String(),
		L0RetentionCheckInterval: p.L0CheckInterval.String(),
		Logging:                  loggingConfig{Level: "info", Type: "json"},
		Retention:                retentionConfig{Enabled: true},
	}
	for _, l := range p.Levels {
		c.Levels = append(c.Levels, levelConfig{Interval: l.String()})
	}
	return json.MarshalIndent(c, "", "  ")
}
