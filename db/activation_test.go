package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

func TestActivateDossierLinksTheSlipsPatientAndUsesTheCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acct := f.account(t, mobile(1))
	v, mac := f.acceptCode(t, patientWith(0, mobile(1)), t0)
	at := t0.Add(time.Hour)
	by := db.Actor{Kind: "patient", ID: acct, IP: "192.0.2.1"}
	a := db.Activation{AccountID: acct, FiscalCode: patient(0).FiscalCode, CodeMAC: mac, PrivacyVersion: "dossier-v2"}

	got, err := f.d.ActivateDossier(ctx, a, by, at)
	if err != nil {
		t.Fatalf("ActivateDossier: %v", err)
	}
	if want := v.PatientID; got != want {
		t.Errorf("ActivateDossier linked patient %d, want the slip's %d", got, want)
	}
	links, err := f.d.DossierLinks(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 {
		t.Fatalf("account has %d dossiers, want 1", len(links))
	}
	l := links[0]
	if l.Patient.ID != v.PatientID || l.Relation != db.RelationSelf || l.RelativeID != 0 || l.PrivacyVersion != "dossier-v2" ||
		!l.ConsentedAt.Equal(at) || !l.ActivatedAt.Equal(at) {
		t.Errorf("link = %+v, want patient %d, relation self, consent to dossier-v2 at %v", l, v.PatientID, at)
	}
	st, err := f.d.CodeByMAC(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if !st.UsedAt.Equal(at) || st.Usable(at) {
		t.Errorf("code after activation: used at %v, usable %v; want used at %v", st.UsedAt, st.Usable(at), at)
	}
	ev := f.audit(t, db.ActionDossierActivate)
	if len(ev) != 1 || ev[0].ObjectType != "patient" || ev[0].ObjectID != v.PatientID || ev[0].Actor.ID != acct {
		t.Errorf("activation audit = %+v, want one event on patient %d by account %d", ev, v.PatientID, acct)
	}

	if _, err := f.d.ActivateDossier(ctx, a, by, at.Add(time.Minute)); !errors.Is(err, db.ErrActivationInvalid) {
		t.Errorf("second use of the code: err = %v, want ErrActivationInvalid", err)
	}
}

func TestActivateDossierForARelativeLinksAsFamily(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	parent := f.account(t, mobile(1))
	_, own := f.acceptCode(t, patientWith(0, mobile(1)), t0)
	f.activate(t, db.Activation{AccountID: parent, FiscalCode: patient(0).FiscalCode, CodeMAC: own})
	v, mac := f.acceptCode(t, patientWith(1, mobile(1)), t0)
	rel := f.relative(t, parent, patient(1))

	got := f.activate(t, db.Activation{AccountID: parent, FiscalCode: patient(1).FiscalCode, CodeMAC: mac, RelativeID: rel})
	if got != v.PatientID {
		t.Errorf("relative activation linked patient %d, want %d", got, v.PatientID)
	}
	links, err := f.d.DossierLinks(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[1].Patient.ID != v.PatientID || links[1].Relation != db.RelationFamily || links[1].RelativeID != rel {
		t.Fatalf("links = %+v, want the own dossier, then the relative's as family with relative %d", links, rel)
	}
	r, err := f.d.Relative(ctx, parent, rel)
	if err != nil {
		t.Fatal(err)
	}
	if r.PatientID != v.PatientID {
		t.Errorf("relative's dossier = %d, want %d", r.PatientID, v.PatientID)
	}
	if n := len(f.audit(t, db.ActionDossierActivate)); n != 2 {
		t.Errorf("%d activation audit events, want 2", n)
	}
}

// activationTry is a refused activation and, when retry.AccountID is set,
// the activation that must then succeed: the refusal left the code usable.
type activationTry struct {
	try, retry db.Activation
	// stillUsable is set when the refused code must stay usable.
	stillUsable bool
}

func TestActivateDossierRefusals(t *testing.T) {
	ctx := context.Background()
	cf := func(n int) string { return patient(n).FiscalCode }
	tests := []struct {
		name  string
		setup func(t *testing.T, f fixture) activationTry
		want  error
	}{
		{"unknown code", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			_, mac := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: randomMAC(t)},
				retry: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: mac}}
		}, db.ErrActivationInvalid},
		{"code replaced by a reprinted slip", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			v, old := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			reprint := randomMAC(t)
			if err := f.d.ReissueCode(ctx, v.ID, reprint, f.desk, t0); err != nil {
				t.Fatal(err)
			}
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: old},
				retry: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: reprint}}
		}, db.ErrActivationInvalid},
		{"code already used, dossier since removed", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			_, mac := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			a := db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: mac}
			pid := f.activate(t, a)
			if err := f.d.UnlinkDossier(ctx, acct, pid, db.Actor{Kind: "patient", ID: acct}, t0); err != nil {
				t.Fatal(err)
			}
			return activationTry{try: a}
		}, db.ErrActivationInvalid},
		{"another patient's codice fiscale", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			_, mac := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			f.acceptCode(t, patientWith(1, mobile(1)), t0)
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(1), CodeMAC: mac},
				retry: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: mac}}
		}, db.ErrActivationInvalid},
		{"desk registered another mobile", func(t *testing.T, f fixture) activationTry {
			wrong := f.account(t, mobile(9))
			right := f.account(t, mobile(1))
			_, mac := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			return activationTry{try: db.Activation{AccountID: wrong, FiscalCode: cf(0), CodeMAC: mac},
				retry: db.Activation{AccountID: right, FiscalCode: cf(0), CodeMAC: mac}}
		}, db.ErrMobileMismatch},
		{"relative registered at the desk with their own mobile", func(t *testing.T, f fixture) activationTry {
			parent := f.account(t, mobile(1))
			_, mac := f.acceptCode(t, patientWith(1, mobile(2)), t0)
			rel := f.relative(t, parent, patient(1))
			return activationTry{try: db.Activation{AccountID: parent, FiscalCode: cf(1), CodeMAC: mac, RelativeID: rel},
				stillUsable: true}
		}, db.ErrMobileMismatch},
		{"dossier already on the account", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			_, first := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			f.activate(t, db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: first})
			_, second := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: second}, stillUsable: true}
		}, db.ErrAlreadyLinked},
		{"child's slip typed as the holder's own", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			_, own := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			f.activate(t, db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: own})
			_, mac := f.acceptCode(t, patientWith(1, mobile(1)), t0)
			rel := f.relative(t, acct, patient(1))
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(1), CodeMAC: mac},
				retry: db.Activation{AccountID: acct, FiscalCode: cf(1), CodeMAC: mac, RelativeID: rel}}
		}, db.ErrSelfLinked},
		{"codice fiscale is not the relative's", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			_, mac := f.acceptCode(t, patientWith(1, mobile(1)), t0)
			rel := f.relative(t, acct, patient(1))
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(0), CodeMAC: mac, RelativeID: rel},
				retry: db.Activation{AccountID: acct, FiscalCode: cf(1), CodeMAC: mac, RelativeID: rel}}
		}, db.ErrNotRelative},
		{"another account's relative", func(t *testing.T, f fixture) activationTry {
			acct := f.account(t, mobile(1))
			other := f.account(t, mobile(2))
			_, mac := f.acceptCode(t, patientWith(1, mobile(1)), t0)
			rel := f.relative(t, other, patient(1))
			return activationTry{try: db.Activation{AccountID: acct, FiscalCode: cf(1), CodeMAC: mac, RelativeID: rel},
				stillUsable: true}
		}, db.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := tt.setup(t, f)
			at := t0.Add(time.Hour)
			const links = `SELECT count(*) FROM dossier_links`
			const used = `SELECT count(*) FROM activation_codes WHERE used_at IS NOT NULL`
			linksBefore, usedBefore := testkit.Count(t, f.d, links), testkit.Count(t, f.d, used)
			auditBefore := len(f.audit(t, db.ActionDossierActivate))

			_, err := f.d.ActivateDossier(ctx, s.try, db.Actor{Kind: "patient", ID: s.try.AccountID}, at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ActivateDossier = %v, want %v", err, tt.want)
			}
			if got := testkit.Count(t, f.d, links); got != linksBefore {
				t.Errorf("dossier links after the refusal = %d, want %d", got, linksBefore)
			}
			if got := testkit.Count(t, f.d, used); got != usedBefore {
				t.Errorf("used codes after the refusal = %d, want %d", got, usedBefore)
			}
			if got := len(f.audit(t, db.ActionDossierActivate)); got != auditBefore {
				t.Errorf("activation audit events after the refusal = %d, want %d", got, auditBefore)
			}
			if s.stillUsable {
				st, err := f.d.CodeByMAC(ctx, s.try.CodeMAC)
				if err != nil || !st.Usable(at) {
					t.Errorf("refused code: %+v (err %v), want still usable", st, err)
				}
			}
			if s.retry.AccountID != 0 {
				if _, err := f.d.ActivateDossier(ctx, s.retry, db.Actor{Kind: "patient", ID: s.retry.AccountID}, at); err != nil {
					t.Errorf("activation after the refusal: %v, want it to succeed", err)
				}
			}
		})
	}
}

func TestActivateDossierCodeWorksUntilItsExpiry(t *testing.T) {
	expiry := t0.Add(db.ActivationCodeLifetime) // nothing published: the slip's own lifetime
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"a second before it expires", expiry.Add(-time.Second), nil},
		{"at its expiry", expiry, db.ErrActivationInvalid},
		{"a day later", expiry.Add(24 * time.Hour), db.ErrActivationInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			acct := f.account(t, mobile(1))
			v, mac := f.acceptCode(t, patientWith(0, mobile(1)), t0)
			_, err := f.d.ActivateDossier(context.Background(), db.Activation{AccountID: acct, FiscalCode: patient(0).FiscalCode,
				CodeMAC: mac, PrivacyVersion: "v"}, db.Actor{Kind: "patient", ID: acct}, tt.at)
			if !errors.Is(err, tt.want) {
				t.Errorf("ActivateDossier = %v, want %v", err, tt.want)
			}
			if got, want := f.linked(t, acct, v.PatientID), tt.want == nil; got != want {
				t.Errorf("dossier linked = %v, want %v", got, want)
			}
		})
	}
}
