package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fse/db"
	"fse/internal/demo"
	"fse/internal/intake"
	"fse/internal/notify"
	"fse/internal/sealbox"
	"fse/jobs"
)

// exampleDB is fse.db.example, embedded so `fse demo` works from any directory.
//
//go:embed fse.db.example
var exampleDB []byte

func dbFlag(fs interface {
	StringVar(*string, string, string, string)
}) *string {
	var p string
	fs.StringVar(&p, "db", "fse.db", "SQLite database file")
	return &p
}

func cmdDemo(ctx context.Context, args []string, e env) error {
	fs := newFlags("demo", "demo [flags]", e)
	var addr string
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fse-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "fse-demo.db")
	if err := os.WriteFile(path, exampleDB, 0o600); err != nil {
		return err
	}
	d, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.RebaseTimes(ctx, time.Now()); err != nil {
		return err
	}
	keys := demo.Keys()
	d.SetSealer(keys)
	if err := demo.CheckCodes(ctx, d, keys); err != nil {
		return err
	}
	// A token for trying the integration API, new on every run: only its
	// hash is ever stored.
	mn, err := d.FacilityByCode(ctx, demo.Facilities[0].Code)
	if err != nil {
		return err
	}
	token, err := intake.CreateIntegration(ctx, d, db.Integration{Name: "Laboratorio demo", FacilityID: mn.ID,
		Scopes: []string{db.ScopeVisits, db.ScopeReports}}, db.Actor{Kind: db.ActorCLI, Name: "fse demo"}, time.Now())
	if err != nil {
		return err
	}
	visits, err := d.RecentVisits(ctx, 100)
	if err != nil {
		return err
	}
	var demoAccession string
	for _, v := range visits {
		if v.FacilityID == mn.ID {
			demoAccession = v.AccessionNumber()
		}
	}
	_, port, _ := strings.Cut(addr, ":")
	// The demo prints SMS and emails on the console, so a person trying it
	// can read the registration code.
	console := jobs.Senders{SMS: notify.Console{W: e.stdout, Channel: "SMS"}, Email: notify.Console{W: e.stdout, Channel: "EMAIL"}}
	// Staff log in with the password alone, so the demo needs no
	// authenticator app; the banner says production asks for one.
	c := serverConfig{addr: addr, dbPath: path, keyFile: "(demo key, built in)", baseURL: "http://127.0.0.1:" + port,
		retentionDays: 60, uploadLimit: 20 << 20, built: &console, staffMFA: db.StaffMFAOff,
		rights: rightsConfig{protected: db.ProtectedPaper, expiryReminderDays: defaultExpiryReminderDays}}
	if err := c.validate(); err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "\nfse demo: fictional data in a temporary copy of fse.db.example (%s), deleted on exit.\n\n", dir)
	fmt.Fprintf(w, "  Front desk:   %s/desk/login\n", c.baseURL)
	fmt.Fprintf(w, "    admin        user %-10s password %s\n", demo.AdminUser, demo.AdminPassword)
	fmt.Fprintf(w, "    reception    user %-10s password %s\n", demo.ReceptionUser, demo.ReceptionPassword)
	fmt.Fprintf(w, "    (password only in the demo: fse serve asks staff for a second factor too, an app or a passkey, --staff-mfa required)\n\n")
	fmt.Fprintf(w, "  Patients:     %s/\n", c.baseURL)
	for _, p := range demo.Patients {
		if p.HasAccount {
			fmt.Fprintf(w, "    login        mobile %s  password %q  (%s %s, dossier active)\n", p.Mobile, demo.PatientPassword, p.Name, p.Surname)
		}
	}
	fmt.Fprintf(w, "\n  Demo patients (codice fiscale, mobile, activation code from their slip):\n")
	for _, p := range demo.Patients {
		note := ""
		if p.HasAccount {
			note = "  (used by the account above)"
		}
		fmt.Fprintf(w, "    %-17s %s  %s  %s%s\n", p.Name+" "+p.Surname, p.FiscalCode(), p.Mobile, p.Code, note)
	}
	fmt.Fprintf(w, "\n  Register a patient with a demo mobile above: SMS and emails are printed here.\n")
	fmt.Fprintf(w, "\n  Integration API (token of the demo's \"Laboratorio demo\", made for this run):\n")
	fmt.Fprintf(w, "    export FSE_TOKEN=%s\n", token)
	fmt.Fprintf(w, "    curl -H \"Authorization: Bearer $FSE_TOKEN\" %s/api/v1/visits/%s\n", c.baseURL, demoAccession)
	fmt.Fprintf(w, "\n  Press Ctrl+C to stop.\n\n")
	return serveUntilSignal(ctx, c, d, keys, e)
}

func cmdMigrate(ctx context.Context, args []string, e env) error {
	fs := newFlags("migrate", "migrate [--db FILE] [--status]", e)
	path := dbFlag(fs)
	var status bool
	fs.BoolVar(&status, "status", false, "print applied and pending migrations without applying any")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if status {
		return printMigrations(ctx, *path, e)
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	applied, latest, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: schema version %d (latest %d)\n", *path, applied, latest)
	return nil
}

// printMigrations lists every migration with when it was applied, without
// changing the database (a missing file is not created).
func printMigrations(ctx context.Context, path string, e env) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	d, err := db.Open(ctx, path, db.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer d.Close()
	list, unknown, err := d.Migrations(ctx)
	if err != nil {
		return err
	}
	pending := 0
	for _, m := range list {
		state := "pending"
		if m.Applied() {
			state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
		} else {
			pending++
		}
		fmt.Fprintf(e.stdout, "%-32s %s\n", m.Name, state)
	}
	for _, v := range unknown {
		fmt.Fprintf(e.stdout, "%-32s applied by a newer fse: this binary refuses to run on this database\n", fmt.Sprintf("%03d_(unknown)", v))
	}
	fmt.Fprintf(e.stdout, "%s: %d applied, %d pending\n", path, len(list)-pending+len(unknown), pending)
	return nil
}

func cmdJobs(ctx context.Context, args []string, e env) error {
	const usage = "jobs run NAME [--db FILE]  (jobs: expire, deliver, optimize, majority, remind)"
	if len(args) > 0 && isHelp(args[0]) || len(args) > 1 && isHelp(args[1]) {
		fmt.Fprintln(e.stderr, "Usage: fse "+usage)
		return flag.ErrHelp
	}
	if len(args) < 2 || args[0] != "run" {
		return usagef("want: fse %s", usage)
	}
	fs := newFlags("jobs run", "jobs run NAME [--db FILE] [sender flags for deliver]", e)
	path := dbFlag(fs)
	var sc senderConfig
	sc.addFlags(fs)
	var rc rightsConfig
	baseURL := rc.addJobFlags(fs)
	keyFile := fs.String("key-file", "", "master key file, for deliver to encrypt the reports sent by email (default: next to the db)")
	if err := parseFlags(fs, args[2:], e); err != nil {
		return err
	}
	if err := rc.validate(); err != nil {
		return err
	}
	senders, err := sc.build()
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	if *keyFile == "" {
		*keyFile = defaultKeyFile(*path)
	}
	// Without the key, a report by email cannot be encrypted: its attempt
	// fails and is retried with the usual backoff.
	if keys, err := sealbox.LoadKeyFile(*keyFile); err == nil {
		d.SetSealer(keys)
		senders.Reports = jobs.ReportAttacher{DB: d, Keys: keys, Now: time.Now}
	}
	job, err := jobs.Find(append(jobs.All(d, time.Now, e.log, senders), jobs.Rights(d, time.Now, e.log, rc.jobs(*baseURL))...), args[1])
	if err != nil {
		return usageError{err.Error()}
	}
	if err := jobs.Run(ctx, job); err != nil {
		return err
	}
	// No checkpointer runs in this process: erase deleted pages from the
	// WAL now if nothing reads an older snapshot, else the server's will.
	note := ""
	if err := d.Checkpoint(ctx); errors.Is(err, db.ErrCheckpointBusy) {
		note = " (the WAL is in use by another process; its checkpointer will truncate it)"
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "job %s done%s\n", args[1], note)
	return nil
}

func cmdExampleDB(ctx context.Context, args []string, e env) error {
	fs := newFlags("example-db", "example-db [--out FILE]", e)
	var out string
	fs.StringVar(&out, "out", "fse.db.example", "file to write")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fse-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := db.Open(ctx, filepath.Join(dir, "seed.db"), db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	hasher, err := newHasher()
	if err != nil {
		return err
	}
	if err := demo.Seed(ctx, d, demo.Keys(), hasher, time.Now(), 60*24*time.Hour); err != nil {
		return err
	}
	tmp := out + ".tmp"
	os.Remove(tmp)
	if _, err := d.Backup(ctx, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", out)
	return nil
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}
