package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fse/db"
)

// view is one account looking, at one moment, at one report of a dossier.
type view struct {
	account, patient, doc int64
	at                    time.Time
}

// TestDossierReportVisibility: the list and the download agree on which
// reports an account sees: those of its dossiers, complete, published, not
// expired (expires_at > now), while the service is on.
func TestDossierReportVisibility(t *testing.T) {
	ctx := context.Background()
	expiry := t0.Add(retention) // the family's reports are published at t0
	later := t0.Add(time.Hour)
	tests := []struct {
		name  string
		setup func(t *testing.T, w family) view
		want  bool
	}{
		{"the holder's own report", func(t *testing.T, w family) view {
			return view{w.parent, w.own, w.ownDoc, later}
		}, true},
		{"a relative's report, to the holder", func(t *testing.T, w family) view {
			return view{w.parent, w.kid, w.kidDoc, later}
		}, true},
		{"a moment before it expires", func(t *testing.T, w family) view {
			return view{w.parent, w.own, w.ownDoc, expiry.Add(-time.Nanosecond)}
		}, true},
		{"at its expiry", func(t *testing.T, w family) view {
			return view{w.parent, w.own, w.ownDoc, expiry}
		}, false},
		{"uploaded, not yet published", func(t *testing.T, w family) view {
			return view{w.parent, w.own, w.store(t, w.ownVisit, []byte("%PDF-1.7 in attesa")), later}
		}, false},
		{"still being uploaded when its visit was published", func(t *testing.T, w family) view {
			dr, err := w.d.WriteDraft(ctx, w.ownVisit, "Referto", strings.NewReader("%PDF-1.7 a metà"), w.desk, t0)
			if err != nil {
				t.Fatal(err)
			}
			w.publish(t, w.ownVisit, t0.Add(time.Minute))
			return view{w.parent, w.own, dr.ID, later}
		}, false},
		{"the service turned off", func(t *testing.T, w family) view {
			if err := w.d.SetOnlineDelivery(ctx, w.parent, w.own, false, "", as(w.parent), t0); err != nil {
				t.Fatal(err)
			}
			return view{w.parent, w.own, w.ownDoc, later}
		}, false},
		{"the service turned on again", func(t *testing.T, w family) view {
			for _, on := range []bool{false, true} {
				if err := w.d.SetOnlineDelivery(ctx, w.parent, w.own, on, "dossier-v2", as(w.parent), t0); err != nil {
					t.Fatal(err)
				}
			}
			return view{w.parent, w.own, w.ownDoc, later}
		}, true},
		{"another account's report", func(t *testing.T, w family) view {
			return view{w.stranger, w.own, w.ownDoc, later}
		}, false},
		{"the dossier unlinked", func(t *testing.T, w family) view {
			if err := w.d.UnlinkDossier(ctx, w.parent, w.kid, as(w.parent), t0); err != nil {
				t.Fatal(err)
			}
			return view{w.parent, w.kid, w.kidDoc, later}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFamily(t, false)
			v := tt.setup(t, w)
			if got := w.sees(t, v.account, v.doc, v.at); got != tt.want {
				t.Errorf("DossierDocument: report visible = %v, want %v", got, tt.want)
			}
			if got := slices.Contains(w.reportIDs(t, v.account, v.patient, v.at), v.doc); got != tt.want {
				t.Errorf("DossierReports: report listed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDossierDocumentNotFoundIsTheSameForOthersAndMadeUpIDs: a curious
// account learns nothing by trying ids.
func TestDossierDocumentNotFoundIsTheSameForOthersAndMadeUpIDs(t *testing.T) {
	w := newFamily(t, false)
	ctx := context.Background()
	withdrawn := w.publish(t, w.otherVisit, t0)
	if err := w.d.WithdrawDocument(ctx, withdrawn, w.desk, t0); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	tests := []struct {
		name    string
		account int64
		doc     int64
	}{
		{"another account's report", w.stranger, w.ownDoc},
		{"a report of another patient", w.parent, w.otherDoc},
		{"a made-up id", w.parent, 987654},
		{"a withdrawn report", w.stranger, withdrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := w.d.DossierDocument(ctx, tt.account, tt.doc, at)
			if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("DossierDocument = %v, want ErrNotFound", err)
			}
			if doc.Title != "" || doc.Size != 0 {
				t.Errorf("DossierDocument returned %+v with the error, want nothing of the report", doc)
			}
		})
	}
	if got := w.reportIDs(t, w.stranger, w.own, at); len(got) != 0 {
		t.Errorf("a stranger lists %v in another patient's dossier, want nothing", got)
	}
}

func TestDossierReportsListsNewestFirst(t *testing.T) {
	w := newFamily(t, false)
	newer := w.publish(t, w.ownVisit, t0.Add(24*time.Hour))
	rs, err := w.d.DossierReports(context.Background(), w.parent, w.own, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range rs {
		got = append(got, r.ID)
		if r.FacilityName != "Sede MN" || !r.AcceptedAt.Equal(t0) {
			t.Errorf("report %d: facility %q accepted %v, want Sede MN at %v", r.ID, r.FacilityName, r.AcceptedAt, t0)
		}
	}
	if want := []int64{newer, w.ownDoc}; !slices.Equal(got, want) {
		t.Errorf("DossierReports = %v, want %v (newest first)", got, want)
	}
}
