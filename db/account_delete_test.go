package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

func TestDeleteAccountDeletesReportsNoOtherAccountSees(t *testing.T) {
	tests := []struct {
		name         string
		childAccount bool
		who          func(w family) int64
		want         db.AccountDeletion
		// gone and kept are the reports that must go and stay.
		gone, kept func(w family) []int64
	}{
		{"parent, the child has an account too", true, func(w family) int64 { return w.parent },
			db.AccountDeletion{OrphanedDossiers: 1, ReportsDeleted: 1},
			func(w family) []int64 { return []int64{w.ownDoc} }, func(w family) []int64 { return []int64{w.kidDoc, w.otherDoc} }},
		{"parent of a child without an account", false, func(w family) int64 { return w.parent },
			db.AccountDeletion{OrphanedDossiers: 2, ReportsDeleted: 2},
			func(w family) []int64 { return []int64{w.ownDoc, w.kidDoc} }, func(w family) []int64 { return []int64{w.otherDoc} }},
		{"child, the parent still sees the dossier", true, func(w family) int64 { return w.child },
			db.AccountDeletion{},
			func(w family) []int64 { return nil }, func(w family) []int64 { return []int64{w.ownDoc, w.kidDoc, w.otherDoc} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFamily(t, tt.childAccount)
			got, err := w.d.DeleteAccount(context.Background(), tt.who(w), db.Actor{Kind: db.ActorPatient, ID: tt.who(w), IP: "192.0.2.7"}, t0.Add(time.Hour))
			if err != nil {
				t.Fatalf("DeleteAccount: %v", err)
			}
			if got != tt.want {
				t.Errorf("DeleteAccount = %+v, want %+v", got, tt.want)
			}
			for _, id := range tt.gone(w) {
				if n := testkit.Count(t, w.d, `SELECT (SELECT count(*) FROM documents WHERE id = ?1)
					+ (SELECT count(*) FROM document_chunks WHERE document_id = ?1)`, id); n != 0 {
					t.Errorf("report %d: %d rows and chunks left, want none", id, n)
				}
			}
			for _, id := range tt.kept(w) {
				if n := testkit.Count(t, w.d, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, id); n == 0 {
					t.Errorf("report %d of a dossier another account sees was deleted", id)
				}
			}
			if n := len(w.audit(t, db.ActionReportDeleteByPatient)); n != tt.want.ReportsDeleted {
				t.Errorf("%d report deletions audited, want %d", n, tt.want.ReportsDeleted)
			}
		})
	}
}

func TestDeleteAccountRemovesCodesMessagesAndLinksButKeepsTheRegistry(t *testing.T) {
	w := newFamily(t, true)
	ctx := context.Background()
	const email = "anna.bianchi@example.it"
	if err := w.d.SetContact(ctx, w.parent, mobile(1), email, as(w.parent), t0); err != nil {
		t.Fatal(err)
	}
	otp := func(purpose string, account int64, m string) {
		t.Helper()
		if _, err := w.d.CreateOTP(ctx, db.OTP{Purpose: purpose, AccountID: account, Mobile: m, CreatedAt: t0,
			ExpiresAt: t0.Add(10 * time.Minute)}, []byte("mac "+purpose+m)); err != nil {
			t.Fatal(err)
		}
	}
	otp(db.OTPRegister, 0, mobile(1))       // sent before the account existed
	otp(db.OTPLogin, w.parent, mobile(1))   // the account's own
	otp(db.OTPContact, w.parent, mobile(7)) // to a number it was moving to
	otp(db.OTPLogin, w.stranger, mobile(3)) // someone else's
	for _, m := range []db.OutboxMessage{
		{Channel: db.ChannelSMS, Recipient: mobile(1), Body: "Codice", Kind: "security"},
		{Channel: db.ChannelEmail, Recipient: email, Subject: "Conferma", Body: "Conferma l'indirizzo", Kind: "security"},
	} {
		if err := w.d.Enqueue(ctx, m, t0); err != nil {
			t.Fatal(err)
		}
	}
	registry := []string{`SELECT count(*) FROM patients`, `SELECT count(*) FROM visits`}
	var registryBefore []int
	for _, q := range registry {
		registryBefore = append(registryBefore, testkit.Count(t, w.d, q))
	}

	if _, err := w.d.DeleteAccount(ctx, w.parent, db.Actor{Kind: db.ActorPatient, ID: w.parent, IP: "192.0.2.7"}, t0.Add(time.Hour)); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := w.d.Account(ctx, w.parent); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("Account after deletion: err = %v, want ErrNotFound", err)
	}
	if _, err := w.d.AccountByMobile(ctx, mobile(1)); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("AccountByMobile after deletion: err = %v, want ErrNotFound", err)
	}
	for what, q := range map[string]string{
		"dossier links": `SELECT count(*) FROM dossier_links WHERE account_id = ?1`,
		"relatives":     `SELECT count(*) FROM relatives WHERE account_id = ?1`,
		"sms codes":     `SELECT count(*) FROM otp_codes WHERE account_id = ?1 OR mobile = ?2`,
		"queued messages": `SELECT count(*) FROM outbox WHERE sent_at IS NULL
			AND (account_id = ?1 OR recipient IN (?2, ?3))`,
	} {
		if n := testkit.Count(t, w.d, q, w.parent, mobile(1), email); n != 0 {
			t.Errorf("%d %s of the deleted account left", n, what)
		}
	}
	if n := testkit.Count(t, w.d, `SELECT count(*) FROM otp_codes WHERE account_id = ?`, w.stranger); n != 1 {
		t.Errorf("%d sms codes of another account, want its 1", n)
	}
	if w.queued(t, w.child, w.kid) != 1 || w.queued(t, w.stranger, w.other) != 1 {
		t.Error("another account's queued notice was deleted")
	}
	for i, q := range registry {
		if got := testkit.Count(t, w.d, q); got != registryBefore[i] {
			t.Errorf("%s = %d after deletion, want the registry's %d kept", q, got, registryBefore[i])
		}
	}
	if _, err := w.d.Patient(ctx, w.own); err != nil {
		t.Errorf("the deleted account's patient left the desk's registry: %v", err)
	}

	ev := w.audit(t, db.ActionAccountDelete)
	if len(ev) != 1 {
		t.Fatalf("%d account deletion audit events, want 1", len(ev))
	}
	e := ev[0]
	if e.ObjectType != "account" || e.ObjectID != w.parent || e.Actor.ID != w.parent || e.Actor.IP != "192.0.2.7" || e.Actor.Name != "" {
		t.Errorf("deletion audit = %+v, want account %d, the address it was deleted from, no name", e, w.parent)
	}
	for _, personal := range []string{mobile(1), email, "Anna", "Bianchi", patient(0).FiscalCode, patient(1).FiscalCode} {
		if strings.Contains(e.Detail, personal) {
			t.Errorf("deletion audit detail %q holds personal data %q", e.Detail, personal)
		}
	}
}

func TestDeleteAccountOfAMissingAccountIsNotFound(t *testing.T) {
	f := newFixture(t)
	if _, err := f.d.DeleteAccount(context.Background(), 4242, db.Actor{Kind: db.ActorPatient, ID: 4242}, t0); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("DeleteAccount(missing) = %v, want ErrNotFound", err)
	}
	if n := len(f.audit(t, db.ActionAccountDelete)); n != 0 {
		t.Errorf("%d deletion audit events for a missing account, want 0", n)
	}
}
