package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

// as is the actor of a patient account's own action.
func as(accountID int64) db.Actor { return db.Actor{Kind: "patient", ID: accountID} }

func TestSetOnlineDeliveryOffHidesReportsAndStopsNotices(t *testing.T) {
	w := newFamily(t, true)
	ctx := context.Background()
	security := db.OutboxMessage{Channel: db.ChannelSMS, Recipient: mobile(1), Body: "Password cambiata", Kind: "security",
		AccountID: w.parent}
	if err := w.d.Enqueue(ctx, security, t0); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)

	if err := w.d.SetOnlineDelivery(ctx, w.child, w.kid, false, "", as(w.child), at); err != nil {
		t.Fatalf("SetOnlineDelivery(off): %v", err)
	}
	for _, acct := range []int64{w.child, w.parent} {
		if got := w.reportIDs(t, acct, w.kid, at); len(got) != 0 {
			t.Errorf("account %d sees reports %v of a dossier turned off, want none", acct, got)
		}
		if w.sees(t, acct, w.kidDoc, at) {
			t.Errorf("account %d opens a report of a dossier turned off", acct)
		}
		if n := w.queued(t, acct, w.kid); n != 0 {
			t.Errorf("%d notices still queued for account %d about the dossier turned off, want 0", n, acct)
		}
	}
	p, err := w.d.Patient(ctx, w.kid)
	if err != nil {
		t.Fatal(err)
	}
	if !p.OnlineDisabledAt.Equal(at) {
		t.Errorf("patient's online delivery off since %v, want %v", p.OnlineDisabledAt, at)
	}
	// Other dossiers and other messages are not touched.
	if got, want := w.reportIDs(t, w.parent, w.own, at), []int64{w.ownDoc}; !slices.Equal(got, want) {
		t.Errorf("parent's own reports = %v, want %v", got, want)
	}
	if n := w.queued(t, w.parent, w.own); n != 1 {
		t.Errorf("%d notices queued about the parent's own dossier, want 1", n)
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM outbox WHERE kind = 'security' AND sent_at IS NULL`); n != 1 {
		t.Errorf("%d security messages queued, want the 1 queued before", n)
	}

	// Nothing more is published online: the report stays on paper.
	doc := w.store(t, w.kidVisit, []byte("%PDF-1.7 nuovo"))
	if _, err := w.d.PublishVisit(ctx, w.kidVisit, retention, notice, w.desk, at); !errors.Is(err, db.ErrOnlineDisabled) {
		t.Errorf("PublishVisit of a dossier turned off = %v, want ErrOnlineDisabled", err)
	}
	if d, err := w.d.Document(ctx, doc); err != nil || d.Published() {
		t.Errorf("report after the refused publication: %+v (err %v), want unpublished", d, err)
	}
	if n := w.queued(t, w.child, w.kid) + w.queued(t, w.parent, w.kid); n != 0 {
		t.Errorf("%d notices queued by the refused publication, want 0", n)
	}
	if ev := w.audit(t, db.ActionDossierDisable); len(ev) != 1 || ev[0].ObjectID != w.kid {
		t.Errorf("disable audit = %+v, want one event on patient %d", ev, w.kid)
	}
}

func TestSetOnlineDeliveryAnyLinkedAccountMayTurnItOff(t *testing.T) {
	tests := []struct {
		name string
		who  func(w family) int64
		want error
	}{
		{"the patient's own account", func(w family) int64 { return w.child }, nil},
		{"a parent, though the patient has their own account", func(w family) int64 { return w.parent }, nil},
		{"an account without the dossier", func(w family) int64 { return w.stranger }, db.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFamily(t, true)
			who, at := tt.who(w), t0.Add(time.Hour)
			err := w.d.SetOnlineDelivery(context.Background(), who, w.kid, false, "", as(who), at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("SetOnlineDelivery(off) = %v, want %v", err, tt.want)
			}
			if got, want := w.sees(t, w.child, w.kidDoc, at), tt.want != nil; got != want {
				t.Errorf("the patient sees the report: %v, want %v", got, want)
			}
			wantQueued := 0
			if tt.want != nil {
				wantQueued = 1
			}
			if got := w.queued(t, w.child, w.kid); got != wantQueued {
				t.Errorf("%d notices queued for the patient, want %d", got, wantQueued)
			}
		})
	}
}

func TestSetOnlineDeliveryOnAgainNeedsThePatient(t *testing.T) {
	tests := []struct {
		name         string
		childAccount bool
		who          func(w family) int64
		want         error
	}{
		{"the patient's own account", true, func(w family) int64 { return w.child }, nil},
		{"a parent while the patient has their own account", true, func(w family) int64 { return w.parent }, db.ErrNotPatient},
		{"a parent of a child without an account", false, func(w family) int64 { return w.parent }, nil},
		{"an account without the dossier", true, func(w family) int64 { return w.stranger }, db.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFamily(t, tt.childAccount)
			ctx := context.Background()
			off, on := t0.Add(time.Hour), t0.Add(2*time.Hour)
			if err := w.d.SetOnlineDelivery(ctx, w.parent, w.kid, false, "", as(w.parent), off); err != nil {
				t.Fatal(err)
			}
			who := tt.who(w)
			err := w.d.SetOnlineDelivery(ctx, who, w.kid, true, "dossier-v3", as(who), on)
			if !errors.Is(err, tt.want) {
				t.Fatalf("SetOnlineDelivery(on) = %v, want %v", err, tt.want)
			}
			turnedOn := tt.want == nil
			p, err := w.d.Patient(ctx, w.kid)
			if err != nil {
				t.Fatal(err)
			}
			if got := !p.OnlineDisabled(); got != turnedOn {
				t.Errorf("online delivery on = %v, want %v", got, turnedOn)
			}
			if got := w.sees(t, w.parent, w.kidDoc, on); got != turnedOn {
				t.Errorf("report visible again = %v, want %v", got, turnedOn)
			}
			if !turnedOn {
				if n := len(w.audit(t, db.ActionDossierEnable)); n != 0 {
					t.Errorf("%d enable audit events after a refusal, want 0", n)
				}
				return
			}
			if ev := w.audit(t, db.ActionDossierEnable); len(ev) != 1 || ev[0].ObjectID != w.kid || ev[0].Actor.ID != who {
				t.Errorf("enable audit = %+v, want one event on patient %d by account %d", ev, w.kid, who)
			}
			links, err := w.d.DossierLinks(ctx, who)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(links, func(l db.DossierLink) bool { return l.Patient.ID == w.kid })
			if i < 0 || links[i].PrivacyVersion != "dossier-v3" || !links[i].ConsentedAt.Equal(on) {
				t.Errorf("links of account %d = %+v, want consent to dossier-v3 at %v on patient %d", who, links, on, w.kid)
			}
		})
	}
}

func TestResetDossierDeletesEveryPublishedReport(t *testing.T) {
	tests := []struct {
		name         string
		childAccount bool
		who          func(w family) int64
		want         error
	}{
		{"the patient's own account", true, func(w family) int64 { return w.child }, nil},
		{"a parent while the patient has their own account", true, func(w family) int64 { return w.parent }, db.ErrNotPatient},
		{"a parent of a child without an account", false, func(w family) int64 { return w.parent }, nil},
		{"an account without the dossier", true, func(w family) int64 { return w.stranger }, db.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFamily(t, tt.childAccount)
			ctx := context.Background()
			docs := []int64{w.kidDoc, w.publish(t, w.kidVisit, t0.Add(time.Minute))}
			who, at := tt.who(w), t0.Add(time.Hour)
			const chunks = `SELECT count(*) FROM document_chunks WHERE document_id IN (?, ?)`
			chunksBefore := testkit.Count(t, w.d, chunks, docs[0], docs[1])
			queuedBefore := w.queued(t, w.parent, w.kid)

			n, err := w.d.ResetDossier(ctx, who, w.kid, as(who), at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ResetDossier = %v, want %v", err, tt.want)
			}
			reset := tt.want == nil
			wantN, wantDocs, wantChunks, wantQueued, wantAudited, wantResets := 0, 2, chunksBefore, queuedBefore, []int64(nil), 0
			if reset {
				wantN, wantDocs, wantChunks, wantQueued, wantAudited, wantResets = 2, 0, 0, 0, docs, 1
			}
			if n != wantN {
				t.Errorf("ResetDossier deleted %d reports, want %d", n, wantN)
			}
			if got := testkit.Count(t, w.d, `SELECT count(*) FROM documents WHERE id IN (?, ?)`, docs[0], docs[1]); got != wantDocs {
				t.Errorf("%d of the dossier's reports left, want %d", got, wantDocs)
			}
			if got := testkit.Count(t, w.d, chunks, docs[0], docs[1]); got != wantChunks || chunksBefore == 0 {
				t.Errorf("%d ciphertext chunks left (of %d), want %d", got, chunksBefore, wantChunks)
			}
			if got := w.queued(t, w.parent, w.kid); got != wantQueued || queuedBefore == 0 {
				t.Errorf("%d notices about the dossier still queued (of %d), want %d", got, queuedBefore, wantQueued)
			}
			var audited []int64
			for _, e := range w.audit(t, db.ActionReportDeleteByPatient) {
				audited = append(audited, e.ObjectID)
			}
			slices.Sort(audited)
			if !slices.Equal(audited, wantAudited) {
				t.Errorf("reports audited as deleted = %v, want %v", audited, wantAudited)
			}
			if got := len(w.audit(t, db.ActionDossierReset)); got != wantResets {
				t.Errorf("%d reset audit events, want %d", got, wantResets)
			}
			// Other patients' reports are not touched.
			if !w.sees(t, w.parent, w.ownDoc, at) || !w.sees(t, w.stranger, w.otherDoc, at) {
				t.Error("another dossier's report is gone")
			}
		})
	}
}

func TestRevokeOtherAccountsOnlyByThePatientsOwnAccount(t *testing.T) {
	tests := []struct {
		name    string
		who     func(w family) int64
		patient func(w family) int64
		want    error
		wantN   int
	}{
		{"the patient ends the parent's access", func(w family) int64 { return w.child }, func(w family) int64 { return w.kid }, nil, 1},
		{"a patient no one else sees", func(w family) int64 { return w.stranger }, func(w family) int64 { return w.other }, nil, 0},
		{"the parent's family link", func(w family) int64 { return w.parent }, func(w family) int64 { return w.kid }, db.ErrNotPatient, 0},
		{"an account without the dossier", func(w family) int64 { return w.stranger }, func(w family) int64 { return w.kid }, db.ErrNotPatient, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFamily(t, true)
			ctx := context.Background()
			who, pid, at := tt.who(w), tt.patient(w), t0.Add(time.Hour)
			accounts := []int64{w.parent, w.child, w.stranger}
			linked, queued := map[int64]bool{}, map[int64]int{}
			for _, a := range accounts {
				linked[a], queued[a] = w.linked(t, a, pid), w.queued(t, a, pid)
			}

			n, err := w.d.RevokeOtherAccounts(ctx, who, pid, as(who), at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RevokeOtherAccounts = %v, want %v", err, tt.want)
			}
			if n != tt.wantN {
				t.Errorf("RevokeOtherAccounts = %d accounts, want %d", n, tt.wantN)
			}
			for _, a := range accounts {
				wantLinked, wantQueued := linked[a], queued[a]
				if tt.want == nil && a != who {
					wantLinked, wantQueued = false, 0
				}
				if got := w.linked(t, a, pid); got != wantLinked {
					t.Errorf("account %d has the dossier: %v, want %v", a, got, wantLinked)
				}
				if got := w.queued(t, a, pid); got != wantQueued {
					t.Errorf("account %d has %d notices queued about the dossier, want %d", a, got, wantQueued)
				}
			}
			// The parent keeps their own dossier whatever happens to the child's.
			if !w.linked(t, w.parent, w.own) || w.queued(t, w.parent, w.own) != 1 {
				t.Error("the parent's own dossier or its notice was touched")
			}
			ev := w.audit(t, db.ActionDossierRevokeOthers)
			if tt.want == nil && (len(ev) != 1 || ev[0].ObjectID != pid) || tt.want != nil && len(ev) != 0 {
				t.Errorf("revoke audit = %+v, want one event on patient %d only if allowed", ev, pid)
			}
		})
	}
}

// TestRevokedParentCannotOpenTheReport: access ends at once, not at the
// next login.
func TestRevokedParentCannotOpenTheReport(t *testing.T) {
	w := newFamily(t, true)
	at := t0.Add(time.Hour)
	if !w.sees(t, w.parent, w.kidDoc, at) {
		t.Fatal("parent cannot open the child's report before the revocation")
	}
	if _, err := w.d.RevokeOtherAccounts(context.Background(), w.child, w.kid, as(w.child), at); err != nil {
		t.Fatal(err)
	}
	if w.sees(t, w.parent, w.kidDoc, at) {
		t.Error("parent still opens the child's report after the revocation")
	}
	if got := w.reportIDs(t, w.parent, w.kid, at); len(got) != 0 {
		t.Errorf("parent still lists the child's reports %v", got)
	}
	if !w.sees(t, w.child, w.kidDoc, at) {
		t.Error("the patient lost their own report")
	}
	if ev := w.audit(t, db.ActionDossierRevokeOthers); len(ev) != 1 || !strings.Contains(ev[0].Detail, "1 accounts") {
		t.Errorf("revoke audit = %+v, want it to say 1 account lost access", ev)
	}
}

// TestTurnedOffDossierGetsNoNoticeFromARetry: once the patient withdraws
// consent, no "new report" message about the dossier may go out, not even
// one the gateway had failed and the administrator retries afterwards.
func TestTurnedOffDossierGetsNoNoticeFromARetry(t *testing.T) {
	w := newFamily(t, false)
	ctx := context.Background()
	for _, m := range due(t, w.d, t0, allChannels) {
		if err := w.d.MarkAttemptFailed(ctx, m.ID, "gateway down", time.Time{}, true, t0); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Hour)
	if err := w.d.SetOnlineDelivery(ctx, w.parent, w.kid, false, "", as(w.parent), at); err != nil {
		t.Fatal(err)
	}
	failed, err := w.d.RecentOutbox(ctx, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	admin := db.Actor{Kind: "staff", ID: w.staffID, Name: "admin"}
	for _, m := range failed {
		if err := w.d.RetryFailed(ctx, m.ID, admin, at); err != nil && !errors.Is(err, db.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM outbox WHERE kind = 'report_available' AND patient_id = ?
		AND sent_at IS NULL AND failed_at IS NULL`, w.kid); n != 0 {
		t.Errorf("%d notices about a dossier turned off are due again after a retry, want 0", n)
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM outbox WHERE kind = 'report_available' AND patient_id = ?
		AND sent_at IS NULL AND failed_at IS NULL`, w.own); n != 1 {
		t.Errorf("%d notices about the dossier still on are due again, want its 1", n)
	}
}
