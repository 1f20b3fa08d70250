package main

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fse/db"
	"fse/internal/clocksync"
	"fse/internal/diskspace"
	"fse/internal/replica"
	"fse/internal/sealbox"
)

// doctor runs the checks of fse doctor on a configuration.
type doctor struct {
	c   *serverConfig
	r   *report
	now func() time.Time
}

func (d doctor) run(ctx context.Context) {
	info, opened := d.database(ctx)
	if opened != nil {
		defer opened.Close()
	}
	d.keyFile(info)
	d.files()
	d.disk()
	d.https()
	d.senders()
	d.retention()
	d.clock(ctx, opened)
	d.staff(ctx, opened)
	d.metrics()
	d.replication()
}

// database checks the file: a whole fse database (SQLite's integrity
// check), a schema this binary runs, the pragmas fse needs. It returns
// what the file holds and the database opened without migrating (nil
// when it cannot be).
func (d doctor) database(ctx context.Context) (*db.CopyInfo, *db.DB) {
	path := d.c.dbPath
	if _, err := os.Stat(path); err != nil {
		d.r.mustFix("database", fmt.Sprintf("%s: %v", path, err),
			"check --db (FSE_DB); fse serve creates a database only for a new, empty portal")
		return nil, nil
	}
	if os.Geteuid() == 0 {
		if uid, ok := fileOwner(path); ok && uid != 0 {
			d.r.mustFix("database", fmt.Sprintf("fse doctor runs as root, and %s belongs to user %d", path, uid),
				"run it as the service's user (sudo -u fse fse doctor ...): files SQLite creates as root are not writable by fse")
			return nil, nil
		}
	}
	info, err := db.CheckCopy(ctx, path)
	switch {
	case errors.Is(err, db.ErrSchemaNewer):
		d.r.mustFix("database", err.Error(), "run the fse that migrated it, or restore the backup taken before that upgrade")
		return nil, nil
	case err != nil:
		d.r.mustFix("database", err.Error(), "restore the latest backup (fse restore) after saving this file aside")
		return nil, nil
	}
	opened, err := db.Open(ctx, path, db.Options{NoMigrate: true, SynchronousFull: d.c.syncFull})
	if err != nil {
		d.r.mustFix("database", err.Error(), "the SQLite file or its directory refuses what fse needs (WAL, foreign keys, secure delete): check the filesystem")
		return &info, nil
	}
	latest := db.LatestSchemaVersion()
	d.r.ok("database", "%s: integrity ok, schema %d of %d, pragmas ok (WAL, foreign keys, secure delete, synchronous %s); %s",
		path, info.Version, latest, map[bool]string{true: "FULL", false: "NORMAL"}[d.c.syncFull], holds(info))
	if info.Version < latest {
		d.r.warn("database", fmt.Sprintf("%d migration(s) pending: fse serve applies them at its next start", latest-info.Version),
			"take a backup first (fse backup), as for every upgrade")
	}
	if !d.c.syncFull {
		d.r.warn("database", "--sync-full=false: a report acknowledged just before a power loss can be lost",
			"leave --sync-full at its default (true) unless uploads are too slow")
	}
	return &info, opened
}

// keyFile checks that the master key is there, private, and the one the
// database was written with.
func (d doctor) keyFile(info *db.CopyInfo) {
	keys, err := sealbox.LoadKeyFile(d.c.keyFile)
	missing := errors.Is(err, sealbox.ErrKeyFileMissing)
	switch {
	case missing && info != nil && len(info.KeyCheck) > 0:
		d.r.mustFix("key file", d.c.keyFile+" is missing, and the database was written with a key",
			"restore the key file from its own backup (without it no report can be read)")
	case missing:
		d.r.ok("key file", "%s does not exist yet: fse serve creates it at first start; then back it up apart from the database", d.c.keyFile)
	case err != nil:
		d.r.mustFix("key file", err.Error(), "fse serve refuses to start with it: fix as said")
	case info == nil:
		d.r.ok("key file", "%s loads (not compared: the database could not be read)", d.c.keyFile)
	case len(info.KeyCheck) == 0:
		d.r.ok("key file", "%s loads; the database records no key check yet (fse serve checks the key on a report at start)", d.c.keyFile)
	case subtle.ConstantTimeCompare(info.KeyCheck, keys.MAC(sealbox.KeyCheck, "")) != 1:
		d.r.mustFix("key file", d.c.keyFile+" is not the key this database was written with",
			"use --key-file with the right key: with this one no report can be read")
	default:
		d.r.ok("key file", "%s matches the database; keep its backup apart from the database's", d.c.keyFile)
	}
}

// files checks who may read the data: the registry is not encrypted.
func (d doctor) files() {
	before := len(d.r.findings)
	exposed, err := db.ExposedFiles(d.c.dbPath)
	if err != nil {
		d.r.warn("files", err.Error(), "check the database's directory")
	}
	for _, f := range exposed {
		d.r.mustFix("files", fmt.Sprintf("%s has mode %04o: its group or others may read it", f.Path, f.Mode), "chmod 600 "+f.Path)
	}
	dir := filepath.Dir(d.c.dbPath)
	if st, err := os.Stat(dir); err == nil {
		switch perm := st.Mode().Perm(); {
		case perm&0o002 != 0:
			d.r.mustFix("files", fmt.Sprintf("the directory %s has mode %04o: anyone may replace the database", dir, perm), "chmod 700 "+dir)
		case perm&0o077 != 0:
			d.r.warn("files", fmt.Sprintf("the directory %s has mode %04o: others may list it", dir, perm), "chmod 700 "+dir)
		}
	}
	owner, ok := fileOwner(d.c.dbPath)
	for _, p := range []string{d.c.dbPath + "-wal", d.c.dbPath + "-shm", d.c.keyFile, acmeCacheDir(d.c.dbPath)} {
		if uid, has := fileOwner(p); ok && has && uid != owner {
			d.r.mustFix("files", fmt.Sprintf("%s belongs to user %d, the database to user %d", p, uid, owner),
				"chown it to the service's user (a command once run as root leaves such files)")
		}
	}
	if st, err := os.Stat(acmeCacheDir(d.c.dbPath)); err == nil && st.Mode().Perm()&0o077 != 0 {
		d.r.mustFix("files", fmt.Sprintf("the ACME cache %s has mode %04o: it holds the certificates' private keys",
			acmeCacheDir(d.c.dbPath), st.Mode().Perm()), "chmod 700 "+acmeCacheDir(d.c.dbPath))
	}
	if len(d.r.findings) == before {
		d.r.ok("files", "the database, its key and their directory are private to their owner")
	}
}

// disk checks the room left, as /healthz does.
func (d doctor) disk() {
	free, err := diskspace.Free(filepath.Dir(d.c.dbPath))
	if err != nil {
		d.r.warn("disk", err.Error(), "check the free space by hand (df)")
		return
	}
	minFree := uint64(d.c.minFreeSpace)
	switch {
	case free < minFree:
		d.r.mustFix("disk", fmt.Sprintf("%s free on the database's disk, below --min-free-space %s: uploads and logins fail when it is full",
			sizeOf(free), d.c.minFreeSpace.String()), "free space or grow the disk")
	case free < 2*minFree:
		d.r.warn("disk", fmt.Sprintf("%s free on the database's disk, less than twice --min-free-space", sizeOf(free)),
			"free space or grow the disk soon")
	default:
		d.r.ok("disk", "%s free on the database's disk", sizeOf(free))
	}
}

// https checks that patients reach the portal over HTTPS only.
func (d doctor) https() {
	u, err := url.Parse(d.c.baseURL)
	if err != nil || u.Scheme != "https" {
		d.r.mustFix("https", fmt.Sprintf("--base-url is %q: slips and notices send patients to a plain-HTTP address", d.c.baseURL),
			"serve HTTPS (--tls-domain, --tls-cert, or a reverse proxy) and set --base-url https://...")
		return
	}
	t := d.c.tls
	switch {
	case t.certFile != "":
		d.certificate(u.Hostname())
	case len(t.domains) > 0:
		d.r.ok("https", "certificates for %s from %s, renewed by fse (cache %s)", strings.Join(t.domains, ", "),
			orDefault(t.acmeDirectory, "Let's Encrypt"), acmeCacheDir(d.c.dbPath))
	case len(d.c.trustedProxies) > 0:
		d.r.ok("https", "%s, behind a reverse proxy (--trusted-proxy %s) that must terminate TLS", d.c.baseURL, d.c.trustedProxies.String())
	default:
		d.r.warn("https", fmt.Sprintf("%s, but fse serves plain HTTP and trusts no proxy", d.c.baseURL),
			"with a TLS reverse proxy in front, set --trusted-proxy to its address; else use --tls-domain or --tls-cert")
	}
}

// certificate checks --tls-cert: it loads, covers the portal's host and
// is not about to expire.
func (d doctor) certificate(host string) {
	pair, err := tls.LoadX509KeyPair(d.c.tls.certFile, d.c.tls.keyFile)
	if err != nil {
		d.r.mustFix("https", err.Error(), "give --tls-cert and --tls-key a matching PEM pair")
		return
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		d.r.mustFix("https", err.Error(), "give --tls-cert a PEM certificate")
		return
	}
	left := leaf.NotAfter.Sub(d.now())
	switch {
	case leaf.VerifyHostname(host) != nil:
		d.r.mustFix("https", fmt.Sprintf("%s is for %s, not %s", d.c.tls.certFile, strings.Join(leaf.DNSNames, ", "), host),
			"use a certificate for the host of --base-url")
	case left <= 0:
		d.r.mustFix("https", fmt.Sprintf("%s expired on %s", d.c.tls.certFile, leaf.NotAfter.Format(time.DateOnly)),
			"renew it; fse takes the new files on SIGHUP (systemctl reload fse) or within a minute")
	case left < 14*24*time.Hour:
		d.r.warn("https", fmt.Sprintf("%s expires on %s", d.c.tls.certFile, leaf.NotAfter.Format(time.DateOnly)), "renew it now")
	default:
		d.r.ok("https", "%s for %s, valid until %s", d.c.tls.certFile, host, leaf.NotAfter.Format(time.DateOnly))
	}
}

// senders checks the SMS gateway and the mail server are set, and answer.
func (d doctor) senders() {
	s := d.c.built
	if d.c.senders.smsURL == "" {
		d.r.mustFix("sms", "no SMS gateway (--sms-url): patients cannot register, reset a password or get SMS notices",
			"set --sms-url (and --sms-auth-header) to the clinic's gateway")
	} else if u, err := url.Parse(d.c.senders.smsURL); err == nil {
		d.reachable("sms", "SMS gateway", hostPort(u))
	}
	if d.c.senders.smtpURL == "" {
		d.r.warn("email", "no mail server (--smtp-url): patients cannot use email for login or notices",
			"set --smtp-url and --mail-from if patients should get emails")
	} else if s != nil && s.Email != nil {
		if a, ok := s.Email.(interface{ Addr() string }); ok {
			d.reachable("email", "mail server", a.Addr())
		}
	}
}

// reachable says whether addr accepts a TCP connection; nothing is sent.
func (d doctor) reachable(area, what, addr string) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		d.r.warn(area, fmt.Sprintf("the %s %s does not answer: %v", what, addr, err),
			"check the address and the firewall: messages wait in the outbox meanwhile")
		return
	}
	conn.Close()
	d.r.ok(area, "the %s %s answers", what, addr)
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

// retention checks the retention against the Garante's guideline.
func (d doctor) retention() {
	if d.c.retentionDays > GarantePublicationDays {
		d.r.warn("retention", fmt.Sprintf("reports stay online %d days, above the %d of the Garante's guideline", d.c.retentionDays, GarantePublicationDays),
			fmt.Sprintf("--retention-days %d, unless the clinic has decided otherwise in writing", GarantePublicationDays))
		return
	}
	d.r.ok("retention", "reports stay online %d days", d.c.retentionDays)
}

// clock checks the clock codes, sessions and expiries run by: kept in
// step by NTP, and not behind what the database already recorded.
func (d doctor) clock(ctx context.Context, opened *db.DB) {
	now := d.now()
	if opened != nil {
		latest, err := opened.LatestAuditTime(ctx)
		if err == nil && latest.Sub(now) > 5*time.Minute {
			d.r.mustFix("clock", fmt.Sprintf("the clock says %s, but the audit log already has an event at %s",
				now.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339)),
				"set the clock right (NTP) before starting fse: codes, sessions and expiries depend on it")
			return
		}
	}
	if built, err := time.Parse(time.RFC3339, currentBuild().Date); err == nil && now.Before(built.Add(-24*time.Hour)) {
		d.r.mustFix("clock", fmt.Sprintf("the clock says %s, before this fse was built (%s)", now.UTC().Format(time.RFC3339), currentBuild().Date),
			"set the clock right (NTP)")
		return
	}
	synced, maxErr, err := clocksync.Synchronized()
	switch {
	case err != nil:
		d.r.ok("clock", "%s (whether NTP keeps it in step is not known here)", now.UTC().Format(time.RFC3339))
	case !synced:
		d.r.warn("clock", "the kernel says the clock is not synchronised",
			"enable NTP (systemd-timesyncd or chrony; timedatectl set-ntp true)")
	default:
		d.r.ok("clock", "synchronised (estimated error %s)", time.Duration(maxErr)*time.Microsecond)
	}
}

// staff checks that someone can run the portal, with a second factor.
func (d doctor) staff(ctx context.Context, opened *db.DB) {
	if opened != nil {
		n, err := opened.CountAdmins(ctx)
		switch {
		case err != nil:
			d.r.warn("staff", err.Error(), "")
		case n == 0:
			d.r.mustFix("staff", "no active admin: nobody can manage staff, facilities or integrations",
				"fse staff add --username NAME --role admin --password-stdin --db "+d.c.dbPath)
		default:
			d.r.ok("staff", "%d active admin(s)", n)
		}
	}
	if !d.c.staffMFA.Requires(db.RoleAdmin) {
		d.r.warn("staff", "--staff-mfa off: staff log in with a password alone", "--staff-mfa required (the default)")
	}
}

// metrics checks the metrics stay off the network.
func (d doctor) metrics() {
	if addr := d.c.observe.metricsAddr; addr != "" && metricsExposed(addr) {
		d.r.warn("metrics", fmt.Sprintf("--metrics-addr %s listens on every interface", addr),
			"use 127.0.0.1:PORT, or firewall the port to the Prometheus server")
	}
}

// replication checks the replica's companion binary is there when
// --replicate asks for one, and says when there is no replica at all.
func (d doctor) replication() {
	r := d.c.replicate
	if !r.enabled() {
		d.r.warn("replication", "no continuous replica: reports that arrive after the last backup are lost with the disk",
			"--replicate file:///mnt/other-disk/fse (or sftp://, s3://), see the README's Replication section")
		return
	}
	if err := r.checkReplicator(); err != nil {
		d.r.mustFix("replication", err.Error(), "install Litestream "+replica.Version+" (README, Replication) or point --litestream at it")
		return
	}
	d.r.ok("replication", "replicating to %s with Litestream %s", replica.Redacted(r.url), replica.Version)
}

// sizeOf prints a number of bytes as the size flags do.
func sizeOf(n uint64) string {
	b := byteSize(min(n, math.MaxInt64))
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fileOwner is the user id owning path; false when it has no such file.
func fileOwner(path string) (uint32, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	return ownerOf(st)
}
