package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/jobs"
)

// Tests of minors coming of age: the nightly majority job, with the test
// clock moved across the 18th birthday (29 February births included).

// setNow puts the app's clock at t.
func (a *app) setNow(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = t
}

// rome is a wall-clock moment in Rome.
func rome(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, db.Rome)
}

// mjChild is a parent (Mario) managing the dossier of a child born on
// birth, registered at the desk with his mobile.
type mjChild struct {
	a         *app
	desk      *client
	mario     *client
	marioID   int64
	cf        string
	birth     time.Time
	patientID int64
	visitID   int64
}

// mjSetup links the child's dossier to Mario's account at linkAt.
func mjSetup(t *testing.T, birth, linkAt time.Time) *mjChild {
	t.Helper()
	a := newRightsApp(t, db.ProtectedPaper, nil)
	a.setNow(linkAt)
	m := &mjChild{a: a, desk: a.deskClient(), birth: birth, cf: rfChildCF(t, "Luca", birth)}
	form := fcChildAcceptance(a, m.cf, "333 123 4567")
	form.Set("birth_date", birth.Format(time.DateOnly))
	var code string
	m.visitID, code = m.desk.accept(form)
	m.patientID = patientByCF(t, a, m.cf).ID
	m.mario = a.register("Mario", "Rossi", "333 123 4567", "")
	m.marioID = accountIDOf(t, a, rossiMobile)
	rel := fcRelativeForm(m.cf)
	rel.Set("birth_date", birth.Format(time.DateOnly))
	id := fcAddRelative(t, m.mario, rel)
	if rec := fcActivateRelative(m.mario, id, m.cf, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("Mario activates the child's dossier: %d\n%s", rec.Code, rec.Body.String())
	}
	return m
}

// runMajority runs the nightly job at the app's clock.
func (m *mjChild) runMajority(t *testing.T) {
	t.Helper()
	job := jobs.Majority{DB: m.a.db, Now: m.a.Now, Log: m.a.logs.Logger()}
	if err := job.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// linked tells whether Mario's account still has the child's dossier.
func (m *mjChild) linked(t *testing.T) bool {
	t.Helper()
	return authCount(t, m.a, `SELECT count(*) FROM dossier_links WHERE account_id = ? AND patient_id = ?`, m.marioID, m.patientID) == 1
}

func TestMinorsComeOfAge(t *testing.T) {
	tests := []struct {
		name          string
		birth, linkAt time.Time
		// at is when a report is published and the job runs.
		at        time.Time
		wantEnded bool
	}{
		{"born 29 Feb 2008: still a minor at 23:59 on 28 Feb 2026", date(2008, 2, 29), rome(2026, 1, 10, 9, 0),
			rome(2026, 2, 28, 23, 59), false},
		{"born 29 Feb 2008: of age at midnight on 1 March 2026", date(2008, 2, 29), rome(2026, 1, 10, 9, 0),
			rome(2026, 3, 1, 0, 0), true},
		{"born 1 Mar 2010: still a minor on 29 Feb 2028, a leap day", date(2010, 3, 1), rome(2027, 12, 1, 9, 0),
			rome(2028, 2, 29, 12, 0), false},
		{"born 29 Feb 2012: still a minor on 28 Feb 2030", date(2012, 2, 29), rome(2029, 6, 1, 9, 0),
			rome(2030, 2, 28, 23, 0), false},
		{"born 10 Mar 2008: of age at midnight in Rome, 23:00 UTC the day before", date(2008, 3, 10), rome(2026, 1, 10, 9, 0),
			time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC), true},
		{"born 1 Jul 2008: still a minor at 21:59 UTC, Rome being on summer time", date(2008, 7, 1), rome(2026, 5, 1, 9, 0),
			time.Date(2026, 6, 30, 21, 59, 0, 0, time.UTC), false},
		{"born 1 Jul 2008: of age at 22:00 UTC, midnight in Rome", date(2008, 7, 1), rome(2026, 5, 1, 9, 0),
			time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC), true},
		{"an adult relative (an elderly parent) is never ended", date(1950, 4, 2), rome(2026, 1, 10, 9, 0),
			rome(2026, 4, 2, 12, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mjSetup(t, tt.birth, tt.linkAt)
			m.a.setNow(tt.at.Add(-24 * time.Hour))
			before, _ := publishReport(t, m.desk, m.visitID, "Visita pediatrica")
			m.a.setNow(tt.at)
			after, _ := publishReport(t, m.desk, m.visitID, "Esami del sangue")
			sees := fcReportIDs(t, m.mario, fmt.Sprintf("/fascicolo?p=%d", m.patientID))

			// Even before the job runs, a report published from the
			// birthday on is never visible through the parent's link.
			if got, want := slices.Contains(sees, after), !tt.wantEnded; got != want {
				t.Errorf("before the job Mario sees the report published at %s: %t, want %t", tt.at, got, want)
			}
			if !slices.Contains(sees, before) {
				t.Errorf("before the job Mario does not see the report published while the patient was a minor")
			}
			if tt.wantEnded {
				wantSameAsMadeUp(t, m.mario, after)
			}

			m.runMajority(t)
			if got := m.linked(t); got == tt.wantEnded {
				t.Fatalf("after the job Mario's link exists: %t, want %t", got, !tt.wantEnded)
			}
			notices := rfQueued(t, m.a, "dossier_ended")
			audits := repAudit(m.a, db.ActionDossierMajority)
			deskPage := m.desk.get(fmt.Sprintf("/desk/patients/%d", m.patientID)).Body.String()
			if !tt.wantEnded {
				if len(notices) != 0 || len(audits) != 0 || strings.Contains(deskPage, "Maggiorenne dal") {
					t.Errorf("nothing ended, yet %d notices, %d audit events, desk says of age: %t",
						len(notices), len(audits), strings.Contains(deskPage, "Maggiorenne dal"))
				}
				return
			}
			if !slices.Equal(notices, []string{rossiMobile}) || len(audits) != 1 {
				t.Errorf("notices to %v, %d audit events; want one each, to Mario", notices, len(audits))
			}
			body := authBody(t, m.a, `SELECT body FROM outbox WHERE kind = 'dossier_ended'`)
			if body != "Referti online: un fascicolo che gestiva non è più accessibile dal suo account." {
				t.Errorf("notice = %q", body)
			}
			if rec := m.mario.get(fmt.Sprintf("/fascicolo?p=%d", m.patientID)); rec.Code == http.StatusOK {
				t.Errorf("Mario still opens the dossier after the job")
			}
			if strings.Contains(m.mario.get("/profilo/familiari").Body.String(), m.cf) {
				t.Errorf("the child is still in Mario's relatives")
			}
			if !strings.Contains(deskPage, "Maggiorenne dal "+tt.birth.AddDate(18, 0, 0).Format("02/01/2006")) {
				t.Errorf("the desk's patient page does not say since when the patient is of age")
			}
			// Idempotent: a second run ends nothing and tells no one again.
			m.runMajority(t)
			if n, a := len(rfQueued(t, m.a, "dossier_ended")), len(repAudit(m.a, db.ActionDossierMajority)); n != 1 || a != 1 {
				t.Errorf("after a second run: %d notices, %d audit events; want 1 and 1", n, a)
			}
		})
	}
}

// date is a birth date as the registry stores it: UTC midnight.
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// authBody reads one text value.
func authBody(t testing.TB, a *app, query string, args ...any) string {
	t.Helper()
	var s string
	if err := a.raw.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

// TestTheYoungAdultTakesOver: once of age, the young adult activates an
// account of their own with a code the desk reprints, and sees every
// report, while the parent's account sees none.
func TestTheYoungAdultTakesOver(t *testing.T) {
	m := mjSetup(t, date(2008, 2, 29), rome(2026, 1, 10, 9, 0))
	early, _ := publishReport(t, m.desk, m.visitID, "Visita pediatrica")
	m.a.setNow(rome(2026, 3, 2, 9, 0))
	m.runMajority(t)
	late, _ := publishReport(t, m.desk, m.visitID, "Esami del sangue")

	// The desk registers Luca's own mobile and reprints the slip.
	form := fcChildAcceptance(m.a, m.cf, "347 000 1122")
	form.Set("birth_date", "2008-02-29")
	visit, code := m.desk.accept(form)
	if visit == 0 || code == "" {
		t.Fatal("no new slip for the young adult")
	}
	luca := m.a.register("Luca", "Rossi", "347 000 1122", "")
	if rec := luca.activate(m.cf, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("Luca activates his own dossier: %d\n%s", rec.Code, rec.Body.String())
	}
	if got := fcReportIDs(t, luca, "/fascicolo"); !fcSameIDs(got, fcIDs(early, late)) {
		t.Errorf("Luca sees %v, want both reports %v", got, fcIDs(early, late))
	}
	// Mario cannot take the dossier back with the old mobile: the desk now
	// has Luca's.
	rel := fcRelativeForm(m.cf)
	rel.Set("birth_date", "2008-02-29")
	id := fcAddRelative(t, m.mario, rel)
	rec := m.mario.post(fmt.Sprintf("/profilo/familiari/%d/attiva", id), url.Values{"consent": {"1"}, "fiscal_code": {m.cf}, "code": {code}})
	if rec.Code == http.StatusSeeOther {
		t.Errorf("Mario re-activated the young adult's dossier")
	}
}
