package db

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the statement cache: queries built with a varying
// number of placeholders (IN lists) must not grow it without end.
const maxCachedStmts = 256

// stmtPool is a connection pool whose queries are prepared once and then
// reused: for the small queries of a page, SQLite otherwise spends a third
// of the time parsing SQL. database/sql prepares a statement again on each
// connection that runs it, and keeps it there.
type stmtPool struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtPool(db *sql.DB) *stmtPool { return &stmtPool{DB: db, stmts: map[string]*sql.Stmt{}} }

// stmt returns the prepared statement of query, preparing it on first use.
func (p *stmtPool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.RLock()
	s, ok := p.stmts[query]
	p.mu.RUnlock()
	if ok {
		return s, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stmts[query]; ok {
		return s, nil
	}
	if len(p.stmts) >= maxCachedStmts {
		return nil, errCacheFull
	}
	s, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = s
	return s, nil
}

var errCacheFull = errors.New("statement cache full")

// QueryContext runs a query through its prepared statement.
func (p *stmtPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return p.DB.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row query through its prepared statement.
func (p *stmtPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := p.stmt(ctx, query)
	if err != nil {
		// The error (a syntax error, say) reaches the caller through Scan.
		return p.DB.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// ExecContext runs a statement through its prepared statement.
func (p *stmtPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return p.DB.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

// Close closes the prepared statements, then the pool.
func (p *stmtPool) Close() error {
	p.mu.Lock()
	for q, s := range p.stmts {
		s.Close()
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return p.DB.Close()
}

// readTx runs fn in one read transaction: the queries of a page see one
// snapshot and take the WAL's read locks once. They still use the
// prepared statements.
func (p *stmtPool) readTx(ctx context.Context, fn func(q querier) error) error {
	tx, err := p.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(txStmts{p: p, tx: tx})
}

// txStmts runs queries inside a transaction through the pool's statements.
// A statement not yet cached is not prepared here: preparing takes another
// connection of the pool, and transactions holding every connection while
// each waited for one more would deadlock. It runs unprepared this time and
// is prepared in the background for the next.
type txStmts struct {
	p  *stmtPool
	tx *sql.Tx
}

func (t txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s, ok := t.p.cached(query); ok {
		return t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s, ok := t.p.cached(query); ok {
		return t.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// cached returns the statement of query if it is prepared; if not, it has
// it prepared in the background.
func (p *stmtPool) cached(query string) (*sql.Stmt, bool) {
	p.mu.RLock()
	s, ok := p.stmts[query]
	p.mu.RUnlock()
	if !ok {
		go p.stmt(context.Background(), query)
	}
	return s, ok
}
