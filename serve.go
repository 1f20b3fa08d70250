package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fse/db"
	"fse/handlers"
	"fse/internal/health"
	"fse/internal/intake"
	"fse/internal/locale"
	"fse/internal/lowprio"
	"fse/internal/notify"
	"fse/internal/password"
	"fse/internal/phone"
	"fse/internal/sealbox"
	"fse/internal/smscode"
	"fse/jobs"
	"fse/views"
)

// GarantePublicationDays is the Garante's maximum for reports online.
const GarantePublicationDays = 45

// byteSize is a flag holding a size such as "20MiB", "500KB" or "1048576".
type byteSize int64

func (b *byteSize) String() string { return views.Size(int64(*b)) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return errors.New("want a positive size such as 20MiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// cidrList is a flag holding comma-separated CIDRs.
type cidrList []*net.IPNet

func (c *cidrList) String() string {
	var s []string
	for _, n := range *c {
		s = append(s, n.String())
	}
	return strings.Join(s, ",")
}

func (c *cidrList) Set(v string) error {
	*c = nil
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR such as 10.0.0.1/32", part)
		}
		*c = append(*c, n)
	}
	return nil
}

// serverConfig is everything `fse serve` reads from flags and environment.
type serverConfig struct {
	addr, dbPath, keyFile, baseURL string
	retentionDays                  int
	uploadLimit                    byteSize
	minFreeSpace                   byteSize
	trustedProxies                 cidrList
	syncFull                       bool
	requireLoginOTP                bool
	staffMFA                       db.StaffMFAPolicy
	smsCountries                   []string
	smsDailyLimit                  int
	senders                        senderConfig
	intake                         intakeConfig
	tls                            tlsSettings
	observe                        observeConfig
	rights                         rightsConfig
	replicate                      replicateConfig
	// built is set by demo, which prints messages on the console instead.
	built *jobs.Senders
}

// senderConfig holds the notification channel settings.
type senderConfig struct {
	smsURL, smsAuthHeader, smtpURL, mailFrom string
}

func (s *senderConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.smsURL, "sms-url", "", "SMS gateway URL: receives POST {\"to\": \"+39...\", \"text\": \"...\"}")
	fs.StringVar(&s.smsAuthHeader, "sms-auth-header", "", "header sent to the SMS gateway, as \"Name: value\"")
	fs.StringVar(&s.smtpURL, "smtp-url", "", "mail server, smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465")
	fs.StringVar(&s.mailFrom, "mail-from", "", "From address of the emails")
}

// build makes the senders; an empty setting leaves that channel nil.
func (s senderConfig) build() (jobs.Senders, error) {
	var out jobs.Senders
	if s.smsURL != "" {
		u, err := url.Parse(s.smsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return out, usagef("--sms-url must be an http(s) URL")
		}
		g := &notify.SMSGateway{URL: s.smsURL}
		if s.smsAuthHeader != "" {
			if _, _, err := notify.ParseAuthHeader(s.smsAuthHeader); err != nil {
				return out, usagef("--sms-auth-header: %v", err)
			}
			g.AuthHeader = s.smsAuthHeader
		}
		out.SMS = g
	} else if s.smsAuthHeader != "" {
		return out, usagef("--sms-auth-header needs --sms-url")
	}
	if s.smtpURL != "" {
		if s.mailFrom == "" {
			return out, usagef("--smtp-url needs --mail-from")
		}
		m, err := notify.NewSMTP(s.smtpURL, s.mailFrom)
		if err != nil {
			return out, usagef("--smtp-url: %v", err)
		}
		out.Email = m
	}
	return out, nil
}

func (c serverConfig) validate() error {
	if c.retentionDays < 1 || c.retentionDays > 365 {
		return usagef("--retention-days must be between 1 and 365, got %d", c.retentionDays)
	}
	if c.uploadLimit > 1<<30 {
		return usagef("--upload-limit must be at most 1GiB")
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usagef("--base-url must be an absolute http(s) URL such as https://referti.example.it, got %q", c.baseURL)
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return usagef("--addr must be host:port or :port, got %q", c.addr)
	}
	return nil
}

// handlerConfig turns the server configuration into what handlers show
// and use, with the warnings an admin must see.
func (c serverConfig) handlerConfig() handlers.Config {
	// The demo leaves them unset: the defaults.
	if len(c.smsCountries) == 0 {
		c.smsCountries = []string{smscode.DefaultCountry}
	}
	if c.smsDailyLimit == 0 {
		c.smsDailyLimit = smscode.DefaultDailyBudget
	}
	hc := handlers.Config{
		BaseURL: strings.TrimRight(c.baseURL, "/"), RetentionDays: c.retentionDays,
		UploadLimit: int64(c.uploadLimit), TrustedProxies: c.trustedProxies, RequireLoginOTP: c.requireLoginOTP,
		MinFreeSpace: int64(c.minFreeSpace), SMSCountries: c.smsCountries, SMSDailyLimit: c.smsDailyLimit,
		StaffMFA: c.staffMFA,
		Settings: []views.Setting{
			{Name: "Indirizzo del portale", Value: c.baseURL, Note: "stampato sui moduli e nelle notifiche (--base-url)"},
			{Name: "Permanenza online dei referti", Value: strconv.Itoa(c.retentionDays) + " giorni", Note: "--retention-days"},
			{Name: "Dimensione massima di un PDF", Value: c.uploadLimit.String(), Note: "--upload-limit"},
			{Name: "Proxy fidati", Value: orNone(c.trustedProxies.String()), Note: "--trusted-proxy"},
			{Name: "Codice SMS a ogni accesso", Value: yesNo(c.requireLoginOTP), Note: "--require-login-otp (altrimenti a scelta del paziente)"},
			{Name: "Secondo fattore per il personale", Value: staffMFAText(c.staffMFA), Note: "--staff-mfa required|admins|off"},
			{Name: "Gateway SMS", Value: configured(c.senders.smsURL != ""), Note: "--sms-url"},
			{Name: "Paesi a cui si inviano codici SMS", Value: strings.Join(c.smsCountries, ", "),
				Note: "--sms-countries: ai cellulari di altri paesi non va alcun codice"},
			{Name: "Codici SMS al giorno", Value: strconv.Itoa(c.smsDailyLimit),
				Note: "--sms-daily-limit: registrazioni, recuperi della password e nuovi cellulari, in 24 ore; oltre, i codici sono rifiutati"},
			{Name: "Server email", Value: configured(c.senders.smtpURL != ""), Note: "--smtp-url, --mail-from"},
			{Name: "HL7 v2 (MLLP)", Value: orOff(c.intake.mllpAddr), Note: "--mllp-addr; numero di accettazione in " + c.intake.mllpField},
			{Name: "Cartella condivisa dei referti", Value: orOff(c.intake.importDir), Note: "--import-dir, come integrazione «" + c.intake.importIntegration + "»"},
			{Name: "Richieste al secondo per integrazione", Value: strconv.FormatFloat(c.intake.apiRate, 'f', -1, 64), Note: "--api-rate"},
			{Name: "Database", Value: c.dbPath, Note: "--db"},
			{Name: "Spazio libero minimo sul disco del database", Value: c.minFreeSpace.String(),
				Note: "--min-free-space: sotto questa soglia /healthz risponde «degraded»; sotto il doppio qui compare un avviso"},
			{Name: "Scrittura sicura (synchronous=FULL)", Value: yesNo(c.syncFull), Note: "--sync-full: un referto confermato sopravvive a un'interruzione di corrente"},
			{Name: "File della chiave", Value: c.keyFile, Note: "--key-file: va salvato a parte, non nei backup del database"},
		},
	}
	if c.retentionDays > GarantePublicationDays {
		hc.Warnings = append(hc.Warnings, fmt.Sprintf("I referti restano online %d giorni: le linee guida del Garante indicano un massimo di %d giorni.",
			c.retentionDays, GarantePublicationDays))
	}
	switch {
	case !c.staffMFA.Requires(db.RoleAdmin):
		hc.Warnings = append(hc.Warnings, "Il personale accede con la sola password (--staff-mfa off): chi la scopre vede i dati di tutti i pazienti.")
	case !c.staffMFA.Requires(db.RoleReception):
		hc.Warnings = append(hc.Warnings, "Lo sportello accede con la sola password (--staff-mfa admins): chi la scopre vede i dati di tutti i pazienti.")
	}
	if !strings.HasPrefix(c.baseURL, "https://") {
		hc.Warnings = append(hc.Warnings, "Il portale non è pubblicato in HTTPS: i referti devono viaggiare solo su connessioni cifrate.")
	}
	return hc
}

// staffMFAText says in Italian which staff need an authenticator app.
func staffMFAText(p db.StaffMFAPolicy) string {
	switch {
	case !p.Requires(db.RoleAdmin):
		return "non obbligatoria"
	case !p.Requires(db.RoleReception):
		return "obbligatoria per gli amministratori"
	}
	return "obbligatoria per tutti"
}

func yesNo(b bool) string {
	if b {
		return "sì"
	}
	return "no"
}

func configured(b bool) string {
	if b {
		return "configurato"
	}
	return "non configurato: i messaggi restano in coda"
}

func orOff(s string) string {
	if s == "" {
		return "non attivo"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "nessuno (l'IP del client è quello della connessione)"
	}
	return s
}

func defaultKeyFile(dbPath string) string {
	return strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + ".key"
}

// serveFlags defines the flags of fse serve on fs, and returns the
// configuration they fill; fse doctor reads the same flags.
func serveFlags(fs *flag.FlagSet) *serverConfig {
	var c serverConfig
	c.uploadLimit = 20 << 20
	c.minFreeSpace = 1 << 30
	c.smsCountries = []string{smscode.DefaultCountry}
	fs.StringVar(&c.addr, "addr", "", "listen address (default :8080, or :443 with --tls-domain or --tls-cert)")
	fs.StringVar(&c.dbPath, "db", "fse.db", "SQLite database file (created and migrated if missing)")
	fs.StringVar(&c.keyFile, "key-file", "", "master key file for report encryption (default: next to the db, NAME.key)")
	fs.StringVar(&c.baseURL, "base-url", "http://localhost:8080", "public address of the portal, printed on slips and notifications")
	fs.IntVar(&c.retentionDays, "retention-days", 60, "days a published report stays online (the Garante's guideline is at most 45)")
	fs.Var(&c.uploadLimit, "upload-limit", "largest accepted report PDF (e.g. 20MiB)")
	fs.Var(&c.minFreeSpace, "min-free-space", "free space on the database's disk below which /healthz reports degraded (admins are warned below twice it)")
	fs.Var(&c.trustedProxies, "trusted-proxy", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted")
	fs.BoolVar(&c.syncFull, "sync-full", true, "use synchronous=FULL: an acknowledged upload survives a power loss (false trades that for write speed)")
	fs.BoolVar(&c.requireLoginOTP, "require-login-otp", false, "require an SMS code at every patient login, for every account")
	c.staffMFA = db.StaffMFARequired
	fs.Func("staff-mfa", "which staff must log in with a second factor (an authenticator app or a passkey): required (everyone, the default), admins or off",
		func(v string) (err error) {
			c.staffMFA, err = db.ParseStaffMFAPolicy(v)
			return err
		})
	fs.Func("sms-countries", "comma-separated ISO country codes of the mobiles SMS codes are sent to (default IT)", func(v string) (err error) {
		c.smsCountries, err = phone.ParseRegions(v)
		return err
	})
	fs.IntVar(&c.smsDailyLimit, "sms-daily-limit", smscode.DefaultDailyBudget,
		"SMS codes for registrations, password resets and new mobiles sent in 24 hours, all numbers together; past it codes are refused")
	c.senders.addFlags(fs)
	c.intake.addFlags(fs)
	c.rights.addFlags(fs)
	c.tls.addFlags(fs)
	c.observe.addFlags(fs)
	c.replicate.addFlags(fs)
	return &c
}

// settle checks the parsed flags of fse serve and fills what derives
// from them (defaults, the senders).
func (c *serverConfig) settle(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if c.smsDailyLimit < 1 {
		return usagef("--sms-daily-limit must be at least 1, got %d", c.smsDailyLimit)
	}
	if err := c.intake.validate(); err != nil {
		return err
	}
	if err := c.rights.validate(); err != nil {
		return err
	}
	if err := c.tls.settle(c); err != nil {
		return err
	}
	if err := c.observe.validate(c.addr); err != nil {
		return err
	}
	if err := c.replicate.validate(); err != nil {
		return err
	}
	if c.keyFile == "" {
		c.keyFile = defaultKeyFile(c.dbPath)
	}
	if err := c.validate(); err != nil {
		return err
	}
	senders, err := c.senders.build()
	if err != nil {
		return err
	}
	c.built = &senders
	return nil
}

func cmdServe(ctx context.Context, args []string, e env) error {
	fs := newFlags("serve", "serve [flags]", e)
	c := serveFlags(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if err := c.settle(fs); err != nil {
		return err
	}
	e.log = c.observe.logger(e.stderr)
	if c.retentionDays > GarantePublicationDays {
		e.log.Warn("retention above the Garante's guideline", "retention_days", c.retentionDays, "guideline_days", GarantePublicationDays)
	}
	if err := refuseEmptyWithKey(ctx, c.dbPath, c.keyFile); err != nil {
		return err
	}
	if err := c.replicate.checkReplicator(); err != nil {
		return err
	}
	d, err := db.Open(ctx, c.dbPath, db.Options{SynchronousFull: c.syncFull})
	if err != nil {
		return err
	}
	// The replicator stops after the database is closed (see startReplication).
	stopReplication := func() {}
	defer func() { d.Close(); stopReplication() }()
	warnExposedFiles(d.Path, e)
	keys, err := loadOrCreateKeys(ctx, c.keyFile, d, e)
	if err != nil {
		return err
	}
	stop, err := startReplication(c.replicate, d, e.log)
	if err != nil {
		return err
	}
	stopReplication = stop
	return serveUntilSignal(ctx, *c, d, keys, e)
}

// refuseEmptyWithKey stops the server when the key file exists but the
// database has no schema (or no file): an interrupted copy restored by
// hand, or a wrong --db. Starting would migrate it into an empty portal
// without a word, and the next key check would tie the key to it.
func refuseEmptyWithKey(ctx context.Context, dbPath, keyFile string) error {
	if _, err := os.Stat(keyFile); err != nil {
		return nil
	}
	ok, err := db.HasSchema(ctx, dbPath)
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("the key file %s exists but the database %s is empty or missing: "+
		"if you restored a backup, it is incomplete or not this file (use fse restore, which checks it); "+
		"to start a new, empty portal, move the key file away first (refusing to start)", keyFile, dbPath)
}

// loadOrCreateKeys reads the key file, or creates it for a database that
// holds nothing written with a key yet. A missing key with reports or codes
// in the database, or a key that is not the database's, stops the server:
// going on would make every report and printed slip unusable.
func loadOrCreateKeys(ctx context.Context, path string, d *db.DB, e env) (*sealbox.Keys, error) {
	keys, err := sealbox.LoadKeyFile(path)
	switch {
	case errors.Is(err, sealbox.ErrKeyFileMissing):
		needs, nerr := d.NeedsKey(ctx)
		if nerr != nil {
			return nil, nerr
		}
		if needs {
			return nil, fmt.Errorf("the database holds encrypted reports or activation codes but the key file %s is missing: "+
				"restore it from your key backup (refusing to start)", path)
		}
		if keys, err = sealbox.CreateKeyFile(path); err != nil {
			return nil, err
		}
		e.log.Warn("created a new master key file: back it up separately from the database", "key_file", path)
	case err != nil:
		return nil, err
	}
	d.SetSealer(keys)
	if err := d.CheckKey(ctx, keys.MAC(sealbox.KeyCheck, "")); err != nil {
		if errors.Is(err, db.ErrWrongKey) {
			return nil, fmt.Errorf("the key file %s is not the one this database was written with: use the right key file (refusing to start)", path)
		}
		return nil, err
	}
	return keys, nil
}

func newHasher() (*password.Hasher, error) {
	// A hash takes a core for 35-80 ms and 19 MiB: one per core at most,
	// the rest waiting their turn in arrival order, each at the lowest CPU
	// priority so pages stay fast during a burst of logins.
	return password.NewHasher(password.Params, runtime.NumCPU())
}

// serveUntilSignal runs the HTTP server and the cron jobs until SIGINT or
// SIGTERM, then stops accepting, finishes requests and waits for jobs.
func serveUntilSignal(ctx context.Context, c serverConfig, d *db.DB, keys *sealbox.Keys, e env) error {
	hasher, err := newHasher()
	if err != nil {
		return err
	}
	now := time.Now
	senders := jobs.Senders{}
	if c.built != nil {
		senders = *c.built
	}
	if senders.SMS == nil {
		e.log.Warn("no SMS gateway configured (--sms-url): registration and login codes cannot be sent, SMS notifications stay queued")
	}
	if senders.Email == nil {
		e.log.Warn("no mail server configured (--smtp-url): email notifications stay queued")
	}
	m, stopMetrics, err := startMetrics(ctx, c.observe, d, now, e.log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	codeSenders, noticeSenders := observedSenders(m, senders)
	d.SetProtectedReports(c.rights.policy())
	hc := c.handlerConfig()
	hc.Settings = append(hc.Settings, c.rights.settings()...)
	hc.Settings = append(hc.Settings, c.replicate.adminSettings()...)
	hc.ExpiryReminderDays = c.rights.expiryReminderDays
	hc.SMSConfigured, hc.EmailConfigured = senders.SMS != nil, senders.Email != nil
	hc.APIRatePerSecond = c.intake.apiRate
	hc.Version = currentBuild().Version
	// One intake for the four doors: the API, FHIR, MLLP and the hot folder.
	svc := &intake.Service{DB: d, Keys: keys, BaseURL: hc.BaseURL, Retention: hc.Retention(), UploadLimit: hc.UploadLimit, Now: now}
	// One watch on the database's disk and writes: /healthz, the admins'
	// banner and the log (at start-up, then hourly while it runs low).
	mon := &health.Monitor{Path: d.Path, MinFree: uint64(hc.MinFreeSpace), ProbeWrite: d.ProbeWrite, Now: now, Log: e.log}
	// The first write probe runs while the rest starts, so the first
	// /healthz (a supervisor waiting for the start) finds it done; the
	// database is not closed under it.
	probed := make(chan struct{})
	go func() { mon.Check(ctx); close(probed) }()
	defer func() { <-probed }()
	h := &handlers.Handler{DB: d, Keys: keys, Hasher: hasher, Log: e.log, Now: now, Config: hc, SMS: codeSenders.SMS, Email: codeSenders.Email,
		Intake: svc, Health: mon}
	if m != nil {
		h.Requests = m
	}
	srv := &http.Server{
		Addr:              c.addr,
		Handler:           handlers.New(h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,  // a 20 MiB upload on a slow desk line
		WriteTimeout:      10 * time.Minute, // a report download on a poor mobile link
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	// Checkpoints run beside the request path: uploads no longer copy the
	// WAL back inside their commits, and deletions never wait on readers.
	ckCtx, stopCheckpointer := context.WithCancel(context.Background())
	ckDone := make(chan struct{})
	go func() {
		if c.replicate.enabled() {
			// Litestream owns checkpoints; deleted data still leaves the WAL.
			d.RunBesideReplicator(ckCtx, time.Second, lowprio.Run, e.log)
		} else {
			d.RunCheckpointer(ckCtx, time.Second, lowprio.Run, e.log)
		}
		close(ckDone)
	}()
	defer func() { stopCheckpointer(); <-ckDone }()
	diskCtx, stopDiskWatch := context.WithCancel(context.Background())
	diskDone := make(chan struct{})
	go func() { mon.Watch(diskCtx, time.Minute); close(diskDone) }()
	defer func() { stopDiskWatch(); <-diskDone }()
	noticeSenders.Reports = jobs.ReportAttacher{DB: d, Keys: keys, Now: now}
	all := append(jobs.All(d, now, e.log, noticeSenders), jobs.Rights(d, now, e.log, c.rights.jobs(hc.BaseURL))...)
	sched, err := jobs.Start(context.Background(), observedJobs(m, all), e.log)
	if err != nil {
		return err
	}
	defer sched.Stop()

	stopIntake, err := startIntake(ctx, c.intake, d, svc, e.log)
	if err != nil {
		return err
	}
	defer stopIntake()
	// HTTPS (with its redirect listener) or plain HTTP; SIGHUP reloads
	// the clinic's own certificate.
	door, err := openFrontDoor(c, e.log)
	if err != nil {
		return err
	}
	defer door.close(context.Background())
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- door.serve(srv, ln) }()
	e.log.Info("listening", "addr", ln.Addr().String(), "base_url", c.baseURL, "https", door.tlsConf != nil)
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}
	// The patient pages' words are read once listening (about 20 ms of
	// CPU, at the lowest priority so that the first requests come first),
	// so neither the start-up nor the first patient waits for them.
	go lowprio.Run(func() {
		if err := locale.Err(); err != nil {
			e.log.Error("message catalogue", "err", err)
		}
	})
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopIntake()
	h.Wait()
	return nil
}
