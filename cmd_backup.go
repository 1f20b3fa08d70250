package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"fse/db"
	"fse/internal/lowprio"
	"fse/internal/sealbox"
)

// cmdBackup writes a checked copy of the live database (db.Backup).
func cmdBackup(ctx context.Context, args []string, e env) error {
	fs := newFlags("backup", "backup [--db FILE] DEST", e)
	path := dbFlag(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one destination file")
	}
	dest := fs.Arg(0)
	if _, err := os.Stat(dest); err == nil {
		return usagef("%s already exists; choose a new file name", dest)
	}
	if _, err := os.Stat(*path); err != nil {
		return fmt.Errorf("database %s: %w", *path, err)
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	// Bulk work beside a running server: the copy reads the whole file.
	var info db.CopyInfo
	lowprio.Run(func() { info, err = d.Backup(ctx, dest) })
	if err != nil {
		return err
	}
	st, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s (%d bytes, integrity ok, schema version %d; %s). The key file is not in it: back it up separately.\n",
		dest, st.Size(), info.Version, holds(info))
	return nil
}

// cmdRestore puts a checked backup in place of the database, keeping the
// one it replaces.
func cmdRestore(ctx context.Context, args []string, e env) error {
	fs := newFlags("restore", "restore [--db FILE] [--key-file FILE] BACKUP\n       fse restore --from REPLICA_URL [--timestamp T] [--db FILE] [--key-file FILE]", e)
	path := dbFlag(fs)
	var keyFile string
	fs.StringVar(&keyFile, "key-file", "", "master key file the backup must match (default: next to the db, NAME.key)")
	var fromReplica replicaRestore
	fromReplica.addFlags(fs)
	var backup string
	if len(args) > 0 && !isHelp(args[0]) && args[0] != "" && args[0][0] != '-' {
		backup, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if keyFile == "" {
		keyFile = defaultKeyFile(*path)
	}
	if fromReplica.from != "" {
		if backup != "" || fs.NArg() != 0 {
			return usagef("restore either a backup file or --from a replica, not both")
		}
		return restoreFromReplica(ctx, fromReplica, *path, keyFile, e)
	}
	if fromReplica.timestamp != "" {
		return usagef("--timestamp needs --from")
	}
	if backup == "" && fs.NArg() == 1 {
		backup = fs.Arg(0)
	} else if backup == "" || fs.NArg() != 0 {
		return usagef("want exactly one backup file")
	}
	info, err := db.CheckCopy(ctx, backup)
	if err != nil {
		return fmt.Errorf("%w (nothing was changed)", err)
	}
	keyNote, err := keyMatches(keyFile, info)
	if err != nil {
		return err
	}
	_, kept, err := db.Restore(ctx, backup, *path, ".before-restore-"+time.Now().UTC().Format("20060102T150405Z"))
	if errors.Is(err, db.ErrInUse) {
		return fmt.Errorf("%w: stop fse serve (and any other fse command on it) first (nothing was changed)", err)
	}
	if err != nil {
		return err
	}
	if err := dropReplicaState(*path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s to %s (integrity ok, schema version %d; %s).\n", backup, *path, info.Version, holds(info))
	if kept != "" {
		fmt.Fprintf(e.stdout, "The database it replaced is kept as %s.\n", kept)
	}
	fmt.Fprintln(e.stdout, keyNote)
	return nil
}

// keyMatches checks the key file against the key the backup was written
// with: restoring reports that the key in place cannot open would make
// them unreadable.
func keyMatches(keyFile string, info db.CopyInfo) (string, error) {
	keys, err := sealbox.LoadKeyFile(keyFile)
	switch {
	case errors.Is(err, sealbox.ErrKeyFileMissing) || errors.Is(err, fs.ErrNotExist):
		if len(info.KeyCheck) > 0 {
			return "", fmt.Errorf("the backup was written with a master key, and the key file %s is missing: "+
				"restore the key file from its own backup first (nothing was changed)", keyFile)
		}
		return "The backup holds nothing encrypted; fse serve will create a key file.", nil
	case err != nil:
		return "", err
	}
	if len(info.KeyCheck) == 0 {
		return "The backup records no key check: fse serve will check the key file " + keyFile + " against its reports.", nil
	}
	if subtle.ConstantTimeCompare(info.KeyCheck, keys.MAC(sealbox.KeyCheck, "")) != 1 {
		return "", fmt.Errorf("the key file %s is not the one the backup was written with: "+
			"use --key-file with the right one (nothing was changed)", keyFile)
	}
	return "The key file " + keyFile + " matches the backup. Start fse serve.", nil
}

func holds(info db.CopyInfo) string {
	return fmt.Sprintf("%d patients, %d visits, %d published reports, %d accounts", info.Patients, info.Visits, info.Reports, info.Accounts)
}
