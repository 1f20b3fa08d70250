package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Activation errors; the handler explains each one.
var (
	// ErrActivationInvalid covers an unknown, used, revoked or expired code
	// and a code of another codice fiscale: the patient gets one message.
	ErrActivationInvalid = errors.New("activation code not valid for this codice fiscale")
	// ErrMobileMismatch means code and codice fiscale match, but the desk
	// registered another mobile than the account's verified one.
	ErrMobileMismatch = errors.New("the desk registered another mobile number")
	// ErrAlreadyLinked means the account already has this dossier.
	ErrAlreadyLinked = errors.New("dossier already active on this account")
)

// Dossier relations.
const (
	RelationSelf   = "self"
	RelationFamily = "family"
)

// ErrSelfLinked means the account already has its own dossier: another
// person's dossier goes through the relatives.
var ErrSelfLinked = errors.New("the account already has its own dossier")

// ErrNotRelative means the typed codice fiscale is not the relative's.
var ErrNotRelative = errors.New("codice fiscale differs from the relative's")

// DossierLink is a dossier an account can see.
type DossierLink struct {
	AccountID      int64
	Patient        Patient
	Relation       string
	RelativeID     int64
	PrivacyVersion string
	ConsentedAt    time.Time
	ActivatedAt    time.Time
	// OtherAccounts is how many other accounts see this dossier.
	OtherAccounts int
	// OwnedByOther is set when the patient has their own account (not this
	// one); see MayManage.
	OwnedByOther bool
	// MinorUntil is when a relative's link made while the patient was a
	// minor ends (the 18th birthday); zero otherwise.
	MinorUntil time.Time
}

// Activation is a request to link a dossier to an account: the holder's
// own (RelativeID 0) or a registered relative's.
type Activation struct {
	AccountID      int64
	FiscalCode     string
	CodeMAC        []byte
	PrivacyVersion string
	RelativeID     int64
}

// ActivateDossier links the patient of a valid activation code to the
// account, if the code belongs to a visit of that codice fiscale and the
// desk registered the account's verified mobile for that patient. The code
// is used up in the same transaction.
func (d *DB) ActivateDossier(ctx context.Context, a Activation, by Actor, now time.Time) (int64, error) {
	var patientID int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		// The relative's codice fiscale is checked before the code, so the
		// answer says nothing about whether a code exists.
		if a.RelativeID != 0 {
			var relativeCF string
			if err := tx.QueryRowContext(ctx, `SELECT fiscal_code FROM relatives WHERE id = ? AND account_id = ?`,
				a.RelativeID, a.AccountID).Scan(&relativeCF); err != nil {
				return mapErr(err)
			}
			if relativeCF != a.FiscalCode {
				return ErrNotRelative
			}
		}
		var codeID int64
		var cf, patientMobile string
		var expires, birth time.Time
		var revoked, used sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT c.id, c.expires_at, c.revoked_at, c.used_at, p.id, p.fiscal_code, p.mobile, p.birth_date
			FROM activation_codes c JOIN visits v ON v.id = c.visit_id JOIN patients p ON p.id = v.patient_id
			WHERE c.code_mac = ?`, a.CodeMAC).Scan(&codeID, &expires, &revoked, &used, &patientID, &cf, &patientMobile, &birth)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrActivationInvalid
		}
		if err != nil {
			return err
		}
		if revoked.Valid || used.Valid || !now.Before(expires) || cf != a.FiscalCode {
			return ErrActivationInvalid
		}
		var accountMobile string
		if err := tx.QueryRowContext(ctx, `SELECT mobile FROM accounts WHERE id = ?`, a.AccountID).Scan(&accountMobile); err != nil {
			return mapErr(err)
		}
		if accountMobile != patientMobile {
			return ErrMobileMismatch
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
			a.AccountID, patientID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadyLinked
		}
		relation, relative, minorUntil := RelationSelf, any(nil), any(nil)
		if a.RelativeID != 0 {
			relation, relative = RelationFamily, a.RelativeID
			// A minor's dossier is the parents' until the 18th birthday.
			if m := MajorityAt(birth); now.Before(m) {
				minorUntil = m.UTC()
			}
		} else {
			var selfLinks int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dossier_links WHERE account_id = ? AND relation = 'self'`,
				a.AccountID).Scan(&selfLinks); err != nil {
				return err
			}
			if selfLinks > 0 {
				return ErrSelfLinked
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_links(account_id, patient_id, relation, relative_id, privacy_version,
			consented_at, activated_at, minor_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.AccountID, patientID, relation, relative, a.PrivacyVersion, now.UTC(), now.UTC(), minorUntil); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE activation_codes SET used_at = ?, used_by_account = ? WHERE id = ?`,
			now.UTC(), a.AccountID, codeID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionDossierActivate, ObjectType: "patient", ObjectID: patientID,
			Detail: fmt.Sprintf("account %d, relation %s, code #%d, dossier notice %s", a.AccountID, relation, codeID, a.PrivacyVersion)})
	})
	if err != nil {
		// No codice fiscale and no code here: errors reach the server log.
		return 0, fmt.Errorf("activate dossier for account %d: %w", a.AccountID, err)
	}
	return patientID, nil
}

// MayManage tells whether the account may turn the dossier's service back
// on, reset its history or delete its reports: not when the patient has an
// account of their own and this is not it (consent is the patient's; at 18
// the young adult takes control from the parents). Every account may turn
// the service off or unlink the dossier.
func (l DossierLink) MayManage() bool { return !l.OwnedByOther }

// MayRevokeOthers tells whether the account may end every other account's
// access: only the patient's own account may.
func (l DossierLink) MayRevokeOthers() bool { return l.Relation == RelationSelf }

// OthersSeeOwnDossier tells whether this is the patient's own account and
// other accounts (a parent's) see the dossier too: the patient is offered
// to end their access, and warned before unlinking.
func (l DossierLink) OthersSeeOwnDossier() bool { return l.MayRevokeOthers() && l.OtherAccounts > 0 }

// linkCols reads a dossier link with its patient; OwnedByOther is set when
// another account holds the patient's own link and this link is not one
// (a patient with two accounts of their own decides from either).
var linkCols = `l.account_id, l.relation, coalesce(l.relative_id, 0), l.privacy_version, ` + asText("l.consented_at") + `,
		` + asText("l.activated_at") + `, p.id, p.fiscal_code, p.first_name, p.last_name, ` + asText("p.birth_date") + `, p.birth_place,
		p.sex, p.mobile, p.email, ` + asText("p.created_at") + `, ` + asText("p.updated_at") + `, ` + asText("p.online_disabled_at") + `,
		(SELECT count(*) FROM dossier_links o WHERE o.patient_id = l.patient_id AND o.account_id <> l.account_id),
		l.relation <> 'self' AND EXISTS (SELECT 1 FROM dossier_links o WHERE o.patient_id = l.patient_id
			AND o.account_id <> l.account_id AND o.relation = 'self'), CAST(l.minor_until AS TEXT)
		FROM dossier_links l JOIN patients p ON p.id = l.patient_id`

func scanLink(s interface{ Scan(...any) error }) (DossierLink, error) {
	var l DossierLink
	p := &l.Patient
	err := s.Scan(&l.AccountID, &l.Relation, &l.RelativeID, &l.PrivacyVersion, timeText{&l.ConsentedAt}, timeText{&l.ActivatedAt},
		&p.ID, &p.FiscalCode, &p.FirstName, &p.LastName, timeText{&p.BirthDate}, &p.BirthPlace, &p.Sex, &p.Mobile, &p.Email,
		timeText{&p.CreatedAt}, timeText{&p.UpdatedAt}, timeText{&p.OnlineDisabledAt}, &l.OtherAccounts, &l.OwnedByOther,
		timeText{&l.MinorUntil})
	return l, mapErr(err)
}

// loadLink reads inside tx the link of accountID to patientID's dossier;
// ErrNotFound when the account does not have it.
func loadLink(ctx context.Context, tx *sql.Tx, accountID, patientID int64) (DossierLink, error) {
	return scanLink(tx.QueryRowContext(ctx, `SELECT `+linkCols+` WHERE l.account_id = ? AND l.patient_id = ?`, accountID, patientID))
}

// DossierLinks lists the dossiers an account can see, its own first.
func (d *DB) DossierLinks(ctx context.Context, accountID int64) ([]DossierLink, error) {
	return dossierLinks(ctx, d.r, accountID)
}

func dossierLinks(ctx context.Context, q querier, accountID int64) ([]DossierLink, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+linkCols+` WHERE l.account_id = ?
		ORDER BY l.relation <> 'self', p.first_name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("dossier links of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []DossierLink
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("dossier links of account %d: %w", accountID, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dossier links of account %d: %w", accountID, err)
	}
	return out, nil
}

// visibleReports and visibleAt are the one definition of the reports an
// account sees: documents of the patients linked to it (l.account_id),
// complete, published, not yet expired at the one parameter of visibleAt,
// and only while the patient has not turned the service off. Protected
// reports and those the patient hid from others are for the patient's own
// account only; a link that ends at the patient's majority never shows a
// report published from then on.
const (
	visibleReports = `documents d JOIN visits v ON v.id = d.visit_id
		JOIN dossier_links l ON l.patient_id = v.patient_id JOIN patients p ON p.id = v.patient_id`
	visibleAt = `d.complete AND d.published_at IS NOT NULL AND d.expires_at > ? AND p.online_disabled_at IS NULL
		AND (l.relation = 'self' OR (NOT ` + protectedDoc + ` AND d.hidden_at IS NULL))
		AND (l.minor_until IS NULL OR d.published_at < l.minor_until)`
)

// DossierReport is a report as the patient sees it.
type DossierReport struct {
	Document
	FacilityName      string
	AcceptedAt        time.Time
	FirstDownloadedAt time.Time
}

// DossierReports lists the published, unexpired reports of patientID that
// accountID may see, newest first. Another account's patient gives none.
func (d *DB) DossierReports(ctx context.Context, accountID, patientID int64, now time.Time) ([]DossierReport, error) {
	return dossierReports(ctx, d.r, accountID, patientID, now)
}

func dossierReports(ctx context.Context, q querier, accountID, patientID int64, now time.Time) ([]DossierReport, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.visit_id, d.title, d.size, `+asText("d.uploaded_at")+`, coalesce(d.uploaded_by, 0),
		`+asText("d.published_at")+`, `+asText("d.expires_at")+`, f.name, `+asText("v.accepted_at")+`,
		`+asText("d.first_downloaded_at")+`, `+protectedDoc+`, `+asText("d.hidden_at")+`
		FROM `+visibleReports+` JOIN facilities f ON f.id = v.facility_id
		WHERE l.account_id = ? AND v.patient_id = ? AND `+visibleAt+`
		ORDER BY d.published_at DESC, d.id DESC`, accountID, patientID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("dossier reports of patient %d for account %d: %w", patientID, accountID, err)
	}
	defer rows.Close()
	// Scanned in place: a report is 300 bytes, and a local one escaped to
	// the heap (Scan takes its fields' addresses) and was then copied. An
	// empty dossier is an empty slice, not nil (no caller tells them apart).
	out := make([]DossierReport, 0, 16)
	for rows.Next() {
		out = append(out, DossierReport{})
		r := &out[len(out)-1]
		if err := rows.Scan(&r.ID, &r.VisitID, &r.Title, &r.Size, timeText{&r.UploadedAt}, &r.UploadedBy,
			timeText{&r.PublishedAt}, timeText{&r.ExpiresAt}, &r.FacilityName, timeText{&r.AcceptedAt},
			timeText{&r.FirstDownloadedAt}, &r.Protected, timeText{&r.HiddenAt}); err != nil {
			return nil, fmt.Errorf("dossier reports of patient %d for account %d: %w", patientID, accountID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dossier reports of patient %d for account %d: %w", patientID, accountID, err)
	}
	return out, nil
}

// PendingVisits lists visits of a linked patient accepted within the code
// lifetime, with online delivery, whose reports are not published yet. A
// protected visit is listed only to the patient's own account, and only
// when protected reports go online (ProtectedSelf); a link that ends at the
// patient's majority lists nothing accepted from then on.
func (d *DB) PendingVisits(ctx context.Context, accountID, patientID int64, now time.Time) ([]Visit, error) {
	return pendingVisits(ctx, d.r, d.ProtectedReports(), accountID, patientID, now)
}

func pendingVisits(ctx context.Context, q querier, policy ProtectedPolicy, accountID, patientID int64, now time.Time) ([]Visit, error) {
	visits, err := listVisits(ctx, q, `JOIN dossier_links l ON l.patient_id = v.patient_id
		WHERE l.account_id = ? AND v.patient_id = ? AND NOT v.online_declined AND v.first_published_at IS NULL
		AND v.accepted_at > ? AND NOT (v.protected AND (? OR l.relation <> 'self'))
		AND (l.minor_until IS NULL OR v.accepted_at < l.minor_until)
		ORDER BY v.accepted_at DESC`, accountID, patientID, now.Add(-ActivationCodeLifetime).UTC(), policy.PaperOnly())
	if err != nil {
		return nil, fmt.Errorf("pending visits of patient %d for account %d: %w", patientID, accountID, err)
	}
	return visits, nil
}

// DossierDocument returns a report only if accountID may see it now: the
// same ErrNotFound for another patient's report and for a made-up id.
func (d *DB) DossierDocument(ctx context.Context, accountID, docID int64, now time.Time) (Document, error) {
	doc, err := scanDocument(d.r.QueryRowContext(ctx, `SELECT `+documentCols+` FROM `+visibleReports+`
		WHERE d.id = ? AND l.account_id = ? AND `+visibleAt,
		docID, accountID, now.UTC()))
	if err != nil {
		return doc, fmt.Errorf("dossier document %d for account %d: %w", docID, accountID, err)
	}
	return doc, nil
}

// RecordDownload audits a patient's download or online view and stores the
// first download time and account: the clinic's pickup proof.
func (d *DB) RecordDownload(ctx context.Context, docID int64, by Actor, action string, now time.Time) error {
	var account any
	if by.Kind == ActorPatient && by.ID != 0 {
		account = by.ID
	}
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET first_downloaded_at = coalesce(first_downloaded_at, ?),
			first_downloaded_by = CASE WHEN first_downloaded_at IS NULL THEN ? ELSE first_downloaded_by END WHERE id = ?`,
			now.UTC(), account, docID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: action, ObjectType: "document", ObjectID: docID})
	})
	if err != nil {
		return fmt.Errorf("record download of document %d: %w", docID, err)
	}
	return nil
}

// CountDossierAccounts returns how many online accounts have the patient's dossier.
func (d *DB) CountDossierAccounts(ctx context.Context, patientID int64) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, patientID).Scan(&n); err != nil {
		return n, fmt.Errorf("count dossier accounts of patient %d: %w", patientID, err)
	}
	return n, nil
}

// DossierView is one of an account's dossiers as its page shows it, with
// the other dossiers to switch to.
type DossierView struct {
	Links   []DossierLink
	Current DossierLink
	Reports []DossierReport
	Pending []Visit
}

// DossierView reads the account's dossier of patientID (0: the first, its
// own when it has one) in one read transaction, so the page sees one state
// of the store. A patient the account does not have is ErrNotFound; an
// account without dossiers gives an empty view.
func (d *DB) DossierView(ctx context.Context, accountID, patientID int64, now time.Time) (DossierView, error) {
	var v DossierView
	err := d.r.readTx(ctx, func(q querier) error {
		var err error
		if v.Links, err = dossierLinks(ctx, q, accountID); err != nil || len(v.Links) == 0 {
			return err
		}
		v.Current = v.Links[0]
		if patientID != 0 {
			i := slices.IndexFunc(v.Links, func(l DossierLink) bool { return l.Patient.ID == patientID })
			if i < 0 {
				return ErrNotFound
			}
			v.Current = v.Links[i]
		}
		if v.Reports, err = dossierReports(ctx, q, accountID, v.Current.Patient.ID, now); err != nil {
			return err
		}
		v.Pending, err = pendingVisits(ctx, q, d.ProtectedReports(), accountID, v.Current.Patient.ID, now)
		return err
	})
	if err != nil {
		return DossierView{}, fmt.Errorf("dossier view of account %d: %w", accountID, err)
	}
	return v, nil
}
