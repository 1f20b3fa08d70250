package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"fse/db"
	"fse/internal/replica"
	"fse/views"
)

// replicateConfig holds the continuous replication settings of fse serve
// (and of fse restore --from, which reads the same replica).
type replicateConfig struct {
	url, sftpKey, sftpHostKey string
	retention                 time.Duration
	litestream                string
}

// addReplicaFlags defines the flags that say where a replica is and how
// to reach it; serve adds the retention.
func (r *replicateConfig) addReplicaFlags(fs *flag.FlagSet) {
	fs.StringVar(&r.sftpKey, "replica-sftp-key", "", "private key file for an sftp:// replica")
	fs.StringVar(&r.sftpHostKey, "replica-sftp-host-key", "", "the sftp server's public host key, as in known_hosts (\"ssh-ed25519 AAAA...\"); required for sftp://")
	fs.StringVar(&r.litestream, "litestream", "litestream", "the Litestream "+replica.Version+" executable (a name looked up in PATH, or a path)")
}

func (r *replicateConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&r.url, "replicate", "", "replicate the database continuously with Litestream to file:///DIR (or a path), sftp://user@host/path or s3://bucket/path (off by default)")
	r.retention = replica.DefaultRetention
	fs.DurationVar(&r.retention, "replica-retention", replica.DefaultRetention,
		"how long deleted data may survive in the replica (point-in-time restores reach back half to two thirds of it)")
	r.addReplicaFlags(fs)
}

func (r replicateConfig) enabled() bool { return r.url != "" }

func (r replicateConfig) settings() (replica.Settings, error) {
	u, err := replica.ParseURL(r.url)
	if err != nil {
		return replica.Settings{}, err
	}
	s := replica.Settings{URL: u, Retention: r.retention, SFTPKey: r.sftpKey, SFTPHostKey: r.sftpHostKey}
	return s, s.Check()
}

// validate checks the flags of fse serve.
func (r replicateConfig) validate() error {
	if !r.enabled() {
		if r.sftpKey != "" || r.sftpHostKey != "" {
			return usagef("--replica-sftp-key and --replica-sftp-host-key need --replicate")
		}
		return nil
	}
	if _, err := r.settings(); err != nil {
		return usagef("--replicate: %v", err)
	}
	return nil
}

// checkReplicator refuses to start without a usable Litestream, before
// the database is touched.
func (r replicateConfig) checkReplicator() error {
	if !r.enabled() {
		return nil
	}
	return replica.CheckBinary(r.litestream)
}

// adminSettings are the lines of the admin's settings page about the replica.
func (r replicateConfig) adminSettings() []views.Setting {
	if !r.enabled() {
		return []views.Setting{{Name: "Replica continua del database", Value: "non attiva",
			Note: "--replicate: senza, si perdono i referti arrivati dopo l'ultimo backup"}}
	}
	least, most := replica.NewSchedule(r.retention).RestoreWindow()
	return []views.Setting{{Name: "Replica continua del database", Value: replica.Redacted(r.url),
		Note: fmt.Sprintf("--replicate; i dati cancellati spariscono dalla replica entro %s (--replica-retention); un ripristino può tornare indietro di %s (a volte di %s)",
			italianDuration(r.retention), italianDuration(least), italianDuration(most))}}
}

// italianDuration writes a duration as the settings page shows it.
func italianDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d ore", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minuti", d/time.Minute)
	}
	return fmt.Sprintf("%d secondi", d/time.Second)
}

// startReplication starts Litestream beside fse serve when --replicate is
// set; the returned stop is for after the database was closed, so that
// Litestream, closing last, leaves the WAL as it knows it. Should data
// deleted just before the stop still be in the WAL, stop erases it then.
func startReplication(r replicateConfig, d *db.DB, log *slog.Logger) (stop func(), err error) {
	if !r.enabled() {
		return func() {}, nil
	}
	s, err := r.settings()
	if err != nil {
		return nil, err
	}
	sup := &replica.Supervisor{Bin: r.litestream, DBPath: d.Path, Settings: s, Log: log,
		Heartbeat: func(ctx context.Context) error { return d.ProbeWrite(ctx, time.Now()) }}
	if err := sup.Start(); err != nil {
		return nil, fmt.Errorf("replication: %w", err)
	}
	if r.retention > replica.DefaultRetention {
		log.Warn("replica retention above one day: a patient's deletion reaches the replica only after it", "replica_retention", r.retention.String())
	}
	pending := d.DeletionPending
	return func() {
		sup.Stop()
		if pending() {
			if err := db.EraseWAL(context.Background(), d.Path); err != nil {
				log.Error("deleted data may still be in the WAL after the replicator stopped", "err", err)
				return
			}
			log.Info("deleted data erased from the WAL", "by", "truncation after the replicator stopped")
		}
	}, nil
}

// replicaStateOf is the directory where Litestream keeps its own state of
// the database at dbPath (recent changes, with their data): it belongs to
// that database only, and goes when the database is replaced.
func replicaStateOf(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), "."+filepath.Base(dbPath)+"-litestream")
}

// dropReplicaState removes Litestream's state of a database that a restore
// replaced; Litestream starts afresh from the restored file.
func dropReplicaState(dbPath string) error {
	err := os.RemoveAll(replicaStateOf(dbPath))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the replicator's state of the replaced database: %w", err)
	}
	return nil
}
