package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// results are the measurements of one run; nil when a section did not run
// or failed.
type results struct {
	dossier, echo   *pageResult
	download, files *downloadResult
	memory          *memoryResult
	purge           *purgeResult
	backup          *backupResult
	login           *loginResult
	startup         *startupResult
	upload          *uploadResult
	took            map[string]time.Duration
	// noise is the largest share of the server's core that other
	// processes used during a measurement, and which one.
	noise      float64
	noiseWhere string
}

const notRun = "not run"

func verdict(ok bool, detail string) string {
	if detail != "" {
		detail = " (" + detail + ")"
	}
	if ok {
		return "met" + detail
	}
	return "**not met**" + detail
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// thousands formats n with a comma every three digits, as the issue does.
func thousands(n float64) string {
	s := strconv.FormatFloat(n, 'f', 0, 64)
	if n < 10 {
		s = strconv.FormatFloat(n, 'f', 1, 64)
	}
	head, tail, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range head {
		if i > 0 && (len(head)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if tail != "" {
		b.WriteString("." + tail)
	}
	return b.String()
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// print writes the table in Markdown, then how the run was made.
func (r results) print(w io.Writer, b *bench) {
	rows := [][4]string{{"measure", "fse", "reference in the same run", "target (issue 14)"}, {"---", "---", "---", "---"}}

	row := [4]string{fmt.Sprintf("patient dossier page, %d reports, %d connections, %s", dossierSize, b.cfg.conns, b.cfg.dossierTime),
		notRun, notRun, "≤ 0.25 ms CPU per request"}
	if d := r.dossier; d != nil {
		row[1] = fmt.Sprintf("%s req/s, p50 %s, p99 %s, %s server CPU per request", thousands(d.stats.rate()), ms(d.stats.pct(0.5)),
			ms(d.stats.pct(0.99)), ms(d.cpuPerRequest()))
		row[3] = verdict(d.cpuPerRequest() <= 250*time.Microsecond, "≤ 0.25 ms CPU per request")
	}
	if e := r.echo; e != nil {
		row[2] = fmt.Sprintf("bare Echo \"hello\": %s req/s, %s CPU per request", thousands(e.stats.rate()), ms(e.cpuPerRequest()))
		if e.stats.genBusy() > 0.9 {
			row[2] += " (the load generator was saturated: a lower bound)"
		}
	}
	rows = append(rows, row)

	row = [4]string{fmt.Sprintf("5 MiB report download (decrypting), %s each", b.cfg.downloadTime), notRun, notRun, "≥ 0.6× the file server"}
	if d := r.download; d != nil {
		row[1] = fmt.Sprintf("%s MB/s on 1 connection, %s MB/s on %d; %s server CPU per download", thousands(d.seq.mbps()),
			thousands(d.par.mbps()), b.cfg.downloadConns, ms(perItem(d.seqCPU, d.seq.n)))
	}
	if f := r.files; f != nil {
		row[2] = fmt.Sprintf("http.FileServer (sendfile) of the plaintext: %s MB/s on 1 connection, %s MB/s on %d; %s CPU per download",
			thousands(f.seq.mbps()), thousands(f.par.mbps()), b.cfg.downloadConns, ms(perItem(f.seqCPU, f.seq.n)))
	}
	if d, f := r.download, r.files; d != nil && f != nil && f.seq.mbps() > 0 {
		x := d.seq.mbps() / f.seq.mbps()
		row[3] = verdict(x >= 0.6, fmt.Sprintf("%.2f× the file server on 1 connection", x))
	}
	rows = append(rows, row)

	row = [4]string{fmt.Sprintf("peak memory, %d concurrent 20 MiB downloads", b.cfg.memDownloads), notRun, notRun, "≤ 80 MB"}
	if m := r.memory; m != nil {
		row[1] = fmt.Sprintf("%s peak VmRSS (at the peak: %s anonymous, %s file-backed); largest RssAnon %s, largest PSS %s; "+
			"%s MB/s in %s", mb(m.peakRSS()), mb(m.peak.anon), mb(m.peak.file), mb(m.anon.anon), mb(m.anon.pss),
			thousands(m.stats.mbps()), m.stats.elapsed.Round(100*time.Millisecond))
		if m.stats.errs > 0 {
			row[1] += fmt.Sprintf("; %d downloads failed", m.stats.errs)
		}
		row[2] = fmt.Sprintf("idle %s at start, %s after a login and a page (PSS %s, %s)", mb(m.started.rss), mb(m.idle.rss),
			mb(m.started.pss), mb(m.idle.pss))
		row[3] = verdict(m.peakRSS() <= 80e6, fmt.Sprintf("VmRSS ≤ 80 MB; on PSS it would be %s", metOrNot(m.anon.pss <= 80e6)))
	}
	rows = append(rows, row)

	row = [4]string{fmt.Sprintf("dossier p99 while the expiry job purges %s reports of %s", thousands(float64(b.cfg.purge)),
		sizeString(int64(b.cfg.purgeSize))), notRun, notRun, "≤ 3× idle"}
	if p := r.purge; p != nil {
		row[0] += fmt.Sprintf(" (%s db)", sizeString(p.dbSize))
		row[1] = fmt.Sprintf("p99 %s, max %s (%.0f req/s probe); the purge took %s, WAL peak %s", ms(p.during.pct(0.99)),
			ms(p.during.pct(1)), b.cfg.probeRate, p.duration.Round(100*time.Millisecond), sizeString(p.walPeak))
		if p.during.errs > 0 {
			row[1] += fmt.Sprintf("; %d probe requests failed", p.during.errs)
		}
		row[2] = "idle p99 " + ms(p.idle.pct(0.99))
		x := ratio(p.during.pct(0.99), p.idle.pct(0.99))
		row[3] = verdict(x <= 3, fmt.Sprintf("%.1f× idle", x))
	}
	rows = append(rows, row)

	row = [4]string{fmt.Sprintf("a burst of %d patient logins at once", b.cfg.logins), notRun, notRun,
		"≥ 12 logins/s, other pages' p99 ≤ 2× idle"}
	if l := r.login; l != nil {
		x := ratio(l.meantime.pct(0.99), l.idle.pct(0.99))
		row[1] = fmt.Sprintf("%.1f logins/s, login p50 %s, p99 %s, %s server CPU per login; dossier p99 meanwhile %s (%.1f× idle)",
			l.logins.rate(), ms(l.logins.pct(0.5)), ms(l.logins.pct(0.99)), ms(perItem(l.cpu, l.logins.n)), ms(l.meantime.pct(0.99)), x)
		if l.logins.errs > 0 {
			row[1] += fmt.Sprintf("; %d logins failed", l.logins.errs)
		}
		row[2] = "dossier idle p99 " + ms(l.idle.pct(0.99))
		row[3] = verdict(l.logins.rate() >= 12 && x <= 2, fmt.Sprintf("%.1f logins/s, %.1f× idle", l.logins.rate(), x))
	}
	rows = append(rows, row)

	row = [4]string{fmt.Sprintf("process start to `/healthz` 200, median of %d", b.cfg.starts), notRun, notRun, "≤ 50 ms"}
	if s := r.startup; s != nil {
		row[1] = ms(median(s.seeded)) + " on the seeded db"
		row[2] = "same binary on an empty db: " + ms(median(s.empty))
		row[3] = verdict(median(s.seeded) <= 50*time.Millisecond, "")
	}
	rows = append(rows, row)

	row = [4]string{fmt.Sprintf("20 MiB desk upload, %d one after another", b.cfg.uploads), notRun, "", "≥ 150 MB/s"}
	if u := r.upload; u != nil {
		row[1] = fmt.Sprintf("%s MB/s, %s server CPU per upload", thousands(u.stats.mbps()), ms(perItem(u.cpu, u.stats.n)))
		row[3] = verdict(u.stats.mbps() >= 150, "")
	}
	rows = append(rows, row)

	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r[:], " | "))
	}
	fmt.Fprintln(w)
	if r.backup != nil {
		r.backup.print(w)
		fmt.Fprintln(w)
	}
	pin := "server and load generator NOT pinned"
	if b.pin.on {
		pin = fmt.Sprintf("server (and the expire job, and the references) on CPU %s, load generator on CPU %s (taskset)",
			b.pin.serverCPU, b.pin.loadCPU)
	}
	fmt.Fprintf(w, "Machine: %d cores, %s; %s, %s. MB = 10^6 bytes; server CPU is utime+stime of the process; "+
		"p99 under pressure from an open-loop probe of the dossier page at %.0f req/s.\n", runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH,
		runtime.Version(), pin, b.cfg.probeRate)
	if r.noise > 0.05 {
		fmt.Fprintf(w, "WARNING: other processes used up to %.0f%% of the server's core during a measurement (%s): "+
			"numbers are pessimistic; rerun on a quiet machine.\n", 100*r.noise, r.noiseWhere)
	} else if b.pin.on {
		fmt.Fprintf(w, "Other processes used at most %.0f%% of the server's core during the measurements.\n", 100*r.noise)
	}
	var took []string
	for _, name := range append([]string{"seeding"}, append(sectionNames, "total")...) {
		if d, ok := r.took[name]; ok {
			took = append(took, fmt.Sprintf("%s %s", name, d.Round(100*time.Millisecond)))
		}
	}
	fmt.Fprintf(w, "Time taken: %s.\n", strings.Join(took, ", "))
}
