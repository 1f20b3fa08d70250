package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Session realms: staff and patient sessions share one table, and a store
// finds only the sessions of its own realm.
const (
	RealmStaff   = "staff"
	RealmPatient = "patient"
)

// SessionStore keeps scs sessions in SQLite. Tokens are stored as SHA-256
// hashes, so a copy of the database does not yield live session cookies.
// Each store is bound to a realm: a token of one realm is unknown to a
// store of another, so a patient's cookie never opens a staff session.
//
// scs commits a session on every request to push its idle deadline; the
// store writes an unchanged session only when its deadline moves by more
// than RefreshEvery, so reading a page does not take the only writer.
type SessionStore struct {
	DB *DB
	// Realm is the kind of sessions this store keeps (RealmStaff,
	// RealmPatient).
	Realm string
	// Now is the clock; sessions whose expiry has passed are not found.
	Now func() time.Time
	// RefreshEvery is how far an unchanged session's deadline may lag
	// before it is written again; 0 writes every commit.
	RefreshEvery time.Duration

	mu   sync.Mutex
	seen map[string]storedSession
}

// storedSession is what the store last read or wrote for a token.
type storedSession struct {
	sum    [32]byte
	expiry time.Time
}

// maxSeenSessions bounds the memory of what was stored; past it, entries
// of expired sessions are dropped.
const maxSeenSessions = 20000

func (s *SessionStore) remember(hash []byte, data []byte, expiry time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]storedSession{}
	}
	if len(s.seen) >= maxSeenSessions {
		now := s.Now()
		for k, v := range s.seen {
			if !v.expiry.After(now) {
				delete(s.seen, k)
			}
		}
		if len(s.seen) >= maxSeenSessions {
			clear(s.seen)
		}
	}
	s.seen[string(hash)] = storedSession{sum: sha256.Sum256(data), expiry: expiry}
}

func (s *SessionStore) forget(hash []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, string(hash))
}

// fresh reports whether the stored session already holds data and an
// expiry close enough to the new one.
func (s *SessionStore) fresh(hash []byte, data []byte, expiry time.Time) bool {
	if s.RefreshEvery <= 0 {
		return false
	}
	s.mu.Lock()
	prev, ok := s.seen[string(hash)]
	s.mu.Unlock()
	return ok && prev.sum == sha256.Sum256(data) && expiry.Sub(prev.expiry) < s.RefreshEvery && !expiry.Before(prev.expiry)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// FindCtx returns the session data for token, if it exists and has not expired.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var data []byte
	var expiry time.Time
	hash := tokenHash(token)
	err := s.DB.r.QueryRowContext(ctx, `SELECT data, `+asText("expiry")+` FROM sessions WHERE token_hash = ? AND realm = ? AND expiry > ?`,
		hash, s.Realm, s.Now().UTC()).Scan(&data, timeText{&expiry})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return data, false, fmt.Errorf("find session: %w", err)
	}
	s.remember(hash, data, expiry)
	return data, true, nil
}

// CommitCtx stores or replaces the session data for token.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	hash := tokenHash(token)
	if s.fresh(hash, b, expiry) {
		return nil
	}
	// A token of another realm is never overwritten (tokens are random, so
	// this would be a forged cookie, never a real collision).
	_, err := s.DB.w.ExecContext(ctx, `INSERT INTO sessions(token_hash, realm, data, expiry) VALUES (?, ?, ?, ?)
		ON CONFLICT(token_hash) DO UPDATE SET data = excluded.data, expiry = excluded.expiry WHERE realm = excluded.realm`,
		hash, s.Realm, b, expiry.UTC())
	if err != nil {
		s.forget(hash)
		return fmt.Errorf("commit session: %w", err)
	}
	s.remember(hash, b, expiry.UTC())
	return nil
}

// DeleteCtx removes the session for token.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	s.forget(tokenHash(token))
	if _, err := s.DB.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ? AND realm = ?`, tokenHash(token), s.Realm); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteExpiredSessions removes sessions past their expiry.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return n, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
