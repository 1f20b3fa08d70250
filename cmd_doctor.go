package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// severity says what a finding of fse doctor asks of the operator.
type severity int

const (
	// sevOK is a check that passed.
	sevOK severity = iota
	// sevWarn works, but is worth changing.
	sevWarn
	// sevFix must be fixed: the portal does not work, or is not safe or
	// lawful as it is.
	sevFix
)

func (s severity) String() string {
	return [...]string{"ok", "WARN", "FIX"}[s]
}

// finding is one line of fse doctor's report.
type finding struct {
	sev severity
	// area is what was checked: "database", "key file"...
	area string
	msg  string
	// fix says what to do; empty for sevOK.
	fix string
}

// report collects the findings of the checks.
type report struct{ findings []finding }

func (r *report) ok(area, format string, a ...any) {
	r.findings = append(r.findings, finding{sev: sevOK, area: area, msg: fmt.Sprintf(format, a...)})
}

func (r *report) warn(area, msg, fix string) {
	r.findings = append(r.findings, finding{sev: sevWarn, area: area, msg: msg, fix: fix})
}

func (r *report) mustFix(area, msg, fix string) {
	r.findings = append(r.findings, finding{sev: sevFix, area: area, msg: msg, fix: fix})
}

func (r *report) count(s severity) int {
	n := 0
	for _, f := range r.findings {
		if f.sev == s {
			n++
		}
	}
	return n
}

func (r *report) print(w io.Writer) {
	for _, f := range r.findings {
		fmt.Fprintf(w, "%-5s %-13s %s\n", f.sev, f.area, f.msg)
		if f.fix != "" {
			fmt.Fprintf(w, "%-19s -> %s\n", "", f.fix)
		}
	}
	fmt.Fprintf(w, "\n%d to fix, %d warnings, %d ok.\n", r.count(sevFix), r.count(sevWarn), r.count(sevOK))
}

// cmdDoctor checks a deployment with the flags and environment fse serve
// is given, and says what to fix. It changes nothing: the database is only
// read, the key file never created. It exits 1 when something must be
// fixed.
func cmdDoctor(ctx context.Context, args []string, e env) error {
	fs := newFlags("doctor", "doctor [the flags of fse serve]", e)
	c := serveFlags(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	var r report
	if err := c.settle(fs); err != nil {
		r.mustFix("configuration", "fse serve refuses these flags: "+strings.TrimSpace(err.Error()), "correct the flag or its FSE_* variable")
	}
	if c.keyFile == "" {
		c.keyFile = defaultKeyFile(c.dbPath)
	}
	d := doctor{c: c, r: &r, now: time.Now}
	d.run(ctx)
	r.print(e.stdout)
	if n := r.count(sevFix); n > 0 {
		return fmt.Errorf("%d problem(s) to fix", n)
	}
	return nil
}
