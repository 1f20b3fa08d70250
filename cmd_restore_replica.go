package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fse/db"
	"fse/internal/replica"
)

// replicaRestore holds the flags of fse restore --from.
type replicaRestore struct {
	from, timestamp string
	replica         replicateConfig
}

func (r *replicaRestore) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&r.from, "from", "", "restore from a Litestream replica (file:///DIR or a path, sftp://..., s3://...) instead of a backup file")
	fs.StringVar(&r.timestamp, "timestamp", "", "with --from: the database as it was at this time (RFC 3339, e.g. 2026-11-29T18:00:00+01:00); default: the latest")
	r.replica.addReplicaFlags(fs)
}

// restoreFromReplica has Litestream write the replica's database into a
// private directory beside the database, then checks and puts it in place
// as fse restore does with a backup file.
func restoreFromReplica(ctx context.Context, r replicaRestore, dbPath, keyFile string, e env) error {
	var at time.Time
	if r.timestamp != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, r.timestamp); err != nil {
			return usagef("--timestamp must be a time such as 2026-11-29T18:00:00+01:00, got %q", r.timestamp)
		}
	}
	r.replica.url, r.replica.retention = r.from, replica.DefaultRetention
	s, err := r.replica.settings()
	if err != nil {
		return usagef("--from: %v", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dbPath), ".fse-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, filepath.Base(dbPath))
	if err := replica.Restore(ctx, r.replica.litestream, s, dbPath, out, at); err != nil {
		return fmt.Errorf("%w (nothing was changed)", err)
	}
	info, err := db.CheckCopy(ctx, out)
	if err != nil {
		return fmt.Errorf("the replica's copy: %w (nothing was changed)", err)
	}
	keyNote, err := keyMatches(keyFile, info)
	if err != nil {
		return err
	}
	_, kept, err := db.Restore(ctx, out, dbPath, ".before-restore-"+time.Now().UTC().Format("20060102T150405Z"))
	if errors.Is(err, db.ErrInUse) {
		return fmt.Errorf("%w: stop fse serve (and any other fse command on it) first (nothing was changed)", err)
	}
	if err != nil {
		return err
	}
	if err := dropReplicaState(dbPath); err != nil {
		return err
	}
	when := "its latest state"
	if !at.IsZero() {
		when = "the state of " + at.Format(time.RFC3339)
	}
	fmt.Fprintf(e.stdout, "restored %s from the replica %s to %s (integrity ok, schema version %d; %s).\n",
		when, replica.Redacted(s.URL), dbPath, info.Version, holds(info))
	if kept != "" {
		fmt.Fprintf(e.stdout, "The database it replaced is kept as %s.\n", kept)
	}
	fmt.Fprintln(e.stdout, keyNote)
	return nil
}
