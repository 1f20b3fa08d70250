package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Integration scopes: what a token may do.
const (
	// ScopeVisits lets an integration create acceptances (a HIS/CUP).
	ScopeVisits = "visits"
	// ScopeReports lets an integration deliver and withdraw reports (a LIS/RIS).
	ScopeReports = "reports"
)

// tokenPrefix marks fse's bearer tokens, so a leaked one is recognisable
// (secret scanners) and a token of another system is refused at a glance.
const tokenPrefix = "fse_"

// Integration is one of the clinic's systems allowed to deliver to fse,
// limited to one facility, its scopes and its source networks.
type Integration struct {
	ID           int64
	Name         string
	FacilityID   int64
	FacilityCode string
	Scopes       []string
	// AllowCIDRs are the networks it may connect from; empty means any.
	AllowCIDRs []string
	// AutoPublish publishes what the hot folder delivers at once.
	AutoPublish bool
	// MLLP lets the integration deliver HL7 over MLLP from its networks:
	// there, the network is the only credential.
	MLLP       bool
	CreatedAt  time.Time
	RevokedAt  time.Time
	LastUsedAt time.Time
}

// Has reports whether the integration holds scope.
func (i Integration) Has(scope string) bool { return slices.Contains(i.Scopes, scope) }

// Revoked reports whether the integration's token was revoked.
func (i Integration) Revoked() bool { return !i.RevokedAt.IsZero() }

// AllowsAddress reports whether the integration's token may be used from
// ip: any address when it names no networks.
func (i Integration) AllowsAddress(ip string) bool {
	return len(i.AllowCIDRs) == 0 || i.namesAddress(ip)
}

// AcceptsMLLPFrom reports whether an MLLP connection from ip acts as this
// integration: only a live one that chose MLLP and names the address.
func (i Integration) AcceptsMLLPFrom(ip string) bool {
	return i.MLLP && !i.Revoked() && i.Has(ScopeReports) && i.namesAddress(ip)
}

func (i Integration) namesAddress(ip string) bool {
	addr := net.ParseIP(ip)
	if addr == nil {
		return false
	}
	for _, c := range i.AllowCIDRs {
		if _, n, err := net.ParseCIDR(c); err == nil && n.Contains(addr) {
			return true
		}
	}
	return false
}

// Actor is the integration as the audit log names it.
func (i Integration) Actor(ip string) Actor {
	return Actor{Kind: ActorIntegration, ID: i.ID, Name: i.Name, IP: ip}
}

// NewIntegrationToken returns a new bearer token (256 random bits) and the
// hash that is all the store keeps of it.
func NewIntegrationToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashIntegrationToken(token)
}

// HashIntegrationToken is what a token is stored and looked up as. A token
// has 256 random bits, so a fast hash cannot be reversed by guessing.
func HashIntegrationToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Refusals of CreateIntegration.
var (
	// ErrIntegrationName means the name is empty, too long or not printable.
	ErrIntegrationName = errors.New("integration name must be 1-60 printable characters")
	// ErrMLLPNetworks means an MLLP integration names no network, or one
	// that overlaps another live MLLP integration's: a connection must map
	// to exactly one integration.
	ErrMLLPNetworks = errors.New("an MLLP integration needs its own networks, overlapping no other MLLP integration's")
)

const integrationCols = `i.id, i.name, i.facility_id, f.code, i.scopes, i.allow_cidrs, i.auto_publish, i.mllp, i.created_at, i.revoked_at,
	i.last_used_at FROM integrations i JOIN facilities f ON f.id = i.facility_id`

func scanIntegration(s interface{ Scan(...any) error }) (Integration, error) {
	var i Integration
	var scopes, cidrs string
	var revoked, used sql.NullTime
	err := s.Scan(&i.ID, &i.Name, &i.FacilityID, &i.FacilityCode, &scopes, &cidrs, &i.AutoPublish, &i.MLLP, &i.CreatedAt, &revoked, &used)
	i.Scopes, i.AllowCIDRs = splitList(scopes), splitList(cidrs)
	i.RevokedAt, i.LastUsedAt = revoked.Time, used.Time
	return i, mapErr(err)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CreateIntegration stores an integration with the hash of its token.
// A name already used is ErrConflict; an inactive or unknown facility is
// ErrNotFound.
func (d *DB) CreateIntegration(ctx context.Context, i Integration, tokenHash []byte, by Actor, now time.Time) (int64, error) {
	if n := len([]rune(i.Name)); n == 0 || n > 60 || strings.TrimSpace(i.Name) != i.Name {
		return 0, ErrIntegrationName
	}
	if i.MLLP && len(i.AllowCIDRs) == 0 {
		return 0, ErrMLLPNetworks
	}
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if i.MLLP {
			if err := mllpNetworksFree(ctx, tx, i.AllowCIDRs); err != nil {
				return err
			}
		}
		var active bool
		if err := tx.QueryRowContext(ctx, `SELECT active FROM facilities WHERE id = ?`, i.FacilityID).Scan(&active); err != nil || !active {
			return fmt.Errorf("facility %d: %w", i.FacilityID, ErrNotFound)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO integrations(name, facility_id, scopes, allow_cidrs, auto_publish, mllp, token_hash,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, i.Name, i.FacilityID, strings.Join(i.Scopes, ","), strings.Join(i.AllowCIDRs, ","),
			i.AutoPublish, i.MLLP, tokenHash, now.UTC())
		if err != nil {
			return mapErr(err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionIntegrationCreate, ObjectType: "integration", ObjectID: id,
			Detail: fmt.Sprintf("%s: facility %d, scopes %s, networks %s, mllp %v", i.Name, i.FacilityID, strings.Join(i.Scopes, ","),
				orAny(strings.Join(i.AllowCIDRs, ",")), i.MLLP)})
	})
	if err != nil {
		return 0, fmt.Errorf("create integration: %w", err)
	}
	return id, nil
}

// mllpNetworksFree refuses networks overlapping a live MLLP integration's.
func mllpNetworksFree(ctx context.Context, tx *sql.Tx, cidrs []string) error {
	rows, err := tx.QueryContext(ctx, `SELECT allow_cidrs FROM integrations WHERE mllp AND revoked_at IS NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var other string
		if err := rows.Scan(&other); err != nil {
			return err
		}
		for _, a := range cidrs {
			for _, b := range splitList(other) {
				if overlap(a, b) {
					return ErrMLLPNetworks
				}
			}
		}
	}
	return rows.Err()
}

func overlap(a, b string) bool {
	_, na, errA := net.ParseCIDR(a)
	_, nb, errB := net.ParseCIDR(b)
	return errA == nil && errB == nil && (na.Contains(nb.IP) || nb.Contains(na.IP))
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

// IntegrationByToken returns the live integration holding the token hash;
// an unknown or revoked token is ErrNotFound.
func (d *DB) IntegrationByToken(ctx context.Context, tokenHash []byte) (Integration, error) {
	i, err := scanIntegration(d.r.QueryRowContext(ctx, `SELECT `+integrationCols+` WHERE i.token_hash = ? AND i.revoked_at IS NULL`, tokenHash))
	if err != nil {
		return i, fmt.Errorf("integration by token: %w", err)
	}
	return i, nil
}

// IntegrationByName returns one integration, revoked or not.
func (d *DB) IntegrationByName(ctx context.Context, name string) (Integration, error) {
	i, err := scanIntegration(d.r.QueryRowContext(ctx, `SELECT `+integrationCols+` WHERE i.name = ?`, name))
	if err != nil {
		return i, fmt.Errorf("integration by name: %w", err)
	}
	return i, nil
}

// Integrations lists every integration, live ones first.
func (d *DB) Integrations(ctx context.Context) ([]Integration, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+integrationCols+` ORDER BY i.revoked_at IS NOT NULL, i.name`)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rows.Close()
	var out []Integration
	for rows.Next() {
		i, err := scanIntegration(rows)
		if err != nil {
			return nil, fmt.Errorf("list integrations: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return out, nil
}

// RevokeIntegration ends an integration's token at once. Revoking twice is
// ErrNotFound the second time.
func (d *DB) RevokeIntegration(ctx context.Context, id int64, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now.UTC(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionIntegrationRevoke, ObjectType: "integration", ObjectID: id})
	})
	if err != nil {
		return fmt.Errorf("revoke integration %d: %w", id, err)
	}
	return nil
}

// TouchIntegration records that the integration was used, at most once a
// minute, so busy integrations do not write on every request.
func (d *DB) TouchIntegration(ctx context.Context, id int64, now time.Time) error {
	_, err := d.w.ExecContext(ctx, `UPDATE integrations SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		now.UTC(), id, now.Add(-time.Minute).UTC())
	if err != nil {
		return fmt.Errorf("touch integration %d: %w", id, err)
	}
	return nil
}

// AuthFailures counts refused integration requests per source address.
type AuthFailures struct {
	IP    string
	Count int
	Last  time.Time
}

// IntegrationAuthFailures lists, busiest first, the addresses whose
// integration requests were refused since since (a wrong, revoked or
// misused token).
func (d *DB) IntegrationAuthFailures(ctx context.Context, since time.Time) ([]AuthFailures, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT ip, count(*), max(at) FROM audit_events WHERE action = ? AND at > ?
		GROUP BY ip ORDER BY count(*) DESC, ip LIMIT 50`, ActionIntegrationAuthFailed, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("integration auth failures: %w", err)
	}
	defer rows.Close()
	var out []AuthFailures
	for rows.Next() {
		var f AuthFailures
		var last string
		if err := rows.Scan(&f.IP, &f.Count, &last); err != nil {
			return nil, fmt.Errorf("integration auth failures: %w", err)
		}
		if f.Last, err = parseTime(last); err != nil {
			return nil, fmt.Errorf("integration auth failures: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integration auth failures: %w", err)
	}
	return out, nil
}
