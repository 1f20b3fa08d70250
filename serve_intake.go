package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"fse/db"
	"fse/internal/hl7intake"
	"fse/internal/hotfolder"
	"fse/internal/intake"
	"fse/internal/mllp"
)

// intakeConfig is how the clinic's systems reach fse besides the HTTP
// API: HL7 v2 over MLLP and a hot folder.
type intakeConfig struct {
	mllpAddr, mllpField          string
	importDir, importIntegration string
	apiRate                      float64
}

func (c *intakeConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.mllpAddr, "mllp-addr", "", "listen for HL7 v2 ORU^R01 over MLLP on this address, e.g. 127.0.0.1:2575 (off when empty)")
	fs.StringVar(&c.mllpField, "mllp-accession-field", hl7intake.PlacerOrder, "where ORU messages carry the accession number: obr-2 (placer) or obr-3 (filler)")
	fs.StringVar(&c.importDir, "import-dir", "", "hot folder: import PDFs named ACCESSION__Title.pdf (or with a JSON sidecar) dropped here")
	fs.StringVar(&c.importIntegration, "import-integration", "", "the integration the hot folder delivers as (required with --import-dir)")
	fs.Float64Var(&c.apiRate, "api-rate", 20, "requests per second each integration token may make (burst twice that)")
}

func (c intakeConfig) validate() error {
	if c.mllpField != hl7intake.PlacerOrder && c.mllpField != hl7intake.FillerOrder {
		return usagef("--mllp-accession-field must be obr-2 or obr-3, got %q", c.mllpField)
	}
	if c.mllpAddr != "" {
		if _, _, err := net.SplitHostPort(c.mllpAddr); err != nil {
			return usagef("--mllp-addr must be host:port, got %q", c.mllpAddr)
		}
	}
	if (c.importDir == "") != (c.importIntegration == "") {
		return usagef("--import-dir and --import-integration go together")
	}
	if c.apiRate <= 0 {
		return usagef("--api-rate must be positive")
	}
	return nil
}

// folderIntegration finds the live integration a hot folder delivers as.
func folderIntegration(ctx context.Context, d *db.DB, name string) (db.Integration, error) {
	in, err := d.IntegrationByName(ctx, name)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return in, fmt.Errorf("no integration called %q: create it with fse integration add", name)
	case err != nil:
		return in, err
	case in.Revoked():
		return in, fmt.Errorf("integration %q is revoked", name)
	case !in.Has(db.ScopeReports):
		return in, fmt.Errorf("integration %q has no reports scope", name)
	}
	return in, nil
}

// startIntake starts the MLLP listener and the hot folder, if configured;
// stop ends them and waits (an MLLP message being stored is finished).
func startIntake(ctx context.Context, c intakeConfig, d *db.DB, svc *intake.Service, log *slog.Logger) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	if c.importDir != "" {
		in, err := folderIntegration(ctx, d, c.importIntegration)
		if err != nil {
			cancel()
			return nil, err
		}
		w := &hotfolder.Watcher{Dir: c.importDir, Importer: intake.FolderImporter{Service: svc, Integration: in}, Log: log,
			MaxSize: svc.UploadLimit}
		if err := w.CheckDir(); err != nil {
			cancel()
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(ctx); err != nil {
				log.Error("hot folder stopped", "dir", c.importDir, "err", err)
			}
		}()
		log.Info("hot folder watched", "dir", c.importDir, "integration", in.Name)
	}
	if c.mllpAddr != "" {
		recv := &hl7intake.Receiver{DB: d, Intake: svc, AccessionField: c.mllpField, Log: log}
		// A message carries a few PDFs in base64; a handful of connections
		// is what a lab's sender uses. Together they bound the memory a
		// sender can make the server hold.
		srv := &mllp.Server{Addr: c.mllpAddr, Handler: recv.Handle, Allow: recv.Allow, Reject: recv.Reject, Log: log,
			MaxMessage: int(svc.UploadLimit*8/3) + 1<<20, MaxConns: 8}
		ln, err := net.Listen("tcp", c.mllpAddr)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("mllp: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, mllp.ErrServerClosed) {
				log.Error("mllp stopped", "err", err)
			}
		}()
		log.Info("mllp listening", "addr", ln.Addr().String(), "accession_field", c.mllpField)
	}
	return stop, nil
}

// cmdImport imports a hot folder once and exits when nothing is left.
func cmdImport(ctx context.Context, args []string, e env) error {
	fs := newFlags("import", "import DIR --integration NAME [flags]", e)
	path := dbFlag(fs)
	var keyFile, baseURL, integration string
	var retentionDays int
	var timeout time.Duration
	limit := byteSize(20 << 20)
	fs.StringVar(&keyFile, "key-file", "", "master key file (default: next to the db, NAME.key)")
	fs.StringVar(&integration, "integration", "", "the integration the folder's files come from (required)")
	fs.StringVar(&baseURL, "base-url", "http://localhost:8080", "public address of the portal, for the notices")
	fs.IntVar(&retentionDays, "retention-days", 60, "days a published report stays online")
	fs.Var(&limit, "upload-limit", "largest accepted report PDF")
	fs.DurationVar(&timeout, "timeout", 10*time.Minute, "give up on files still being written after this long")
	var dir string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dir, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	switch {
	case dir == "":
		return usagef("want the folder to import: fse import DIR --integration NAME")
	case integration == "":
		return usagef("--integration is required")
	case retentionDays < 1 || retentionDays > 365:
		return usagef("--retention-days must be between 1 and 365")
	}
	if keyFile == "" {
		keyFile = defaultKeyFile(*path)
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	keys, err := loadOrCreateKeys(ctx, keyFile, d, e)
	if err != nil {
		return err
	}
	d.SetSealer(keys)
	in, err := folderIntegration(ctx, d, integration)
	if err != nil {
		return err
	}
	svc := &intake.Service{DB: d, Keys: keys, BaseURL: strings.TrimRight(baseURL, "/"), Retention: time.Duration(retentionDays) * 24 * time.Hour,
		UploadLimit: int64(limit), Now: time.Now}
	w := &hotfolder.Watcher{Dir: dir, Importer: intake.FolderImporter{Service: svc, Integration: in}, Log: e.log, MaxSize: int64(limit)}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sum, err := w.Drain(ctx)
	fmt.Fprintf(e.stdout, "%d imported, %d refused (see %s/failed), %d still pending\n", sum.Imported, sum.Refused, dir, sum.Pending)
	return err
}
