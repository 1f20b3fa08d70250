package db

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// ChunkSize is the size of the ciphertext rows a document is stored in. It
// keeps memory flat for any file size and each write transaction short.
const ChunkSize = 64 << 10

// MaxTitleLen is the longest report title, in characters.
const MaxTitleLen = 120

// Title errors; callers explain each in their own language.
var (
	ErrTitleMissing = errors.New("a report needs a title")
	ErrTitleTooLong = fmt.Errorf("a report title has at most %d characters", MaxTitleLen)
)

// ValidateTitle checks a report title as every way in (desk, intake) must.
func ValidateTitle(title string) error {
	switch {
	case title == "":
		return ErrTitleMissing
	case utf8.RuneCountInString(title) > MaxTitleLen:
		return ErrTitleTooLong
	}
	return nil
}

// Sealer encrypts a document's content for storage, with a key of its own
// bound to the document id, and decrypts it back. sealbox.Keys is the one
// the product uses; declaring it here keeps db free of our other packages.
type Sealer interface {
	Seal(dst io.Writer, documentID int64) (io.WriteCloser, error)
	Open(src io.Reader, documentID int64) (io.Reader, error)
}

var errNoSealer = errors.New("no sealer: call SetSealer before storing or opening documents")

// SetSealer sets how documents are encrypted. Call it once, after the key
// file is loaded and before the store is used for documents.
func (d *DB) SetSealer(s Sealer) { d.sealer = s }

// Draft is a document whose content is stored but not yet visible to staff.
type Draft struct {
	ID   int64
	Size int64
}

// StoreDocument is the one way a report enters the store: it writes a
// draft from r (see WriteDraft) and completes it. The desk upload (one call
// per file, so a refused file leaves the others of its submission stored),
// the demo seed and the integrations call it.
func (d *DB) StoreDocument(ctx context.Context, visitID int64, title string, r io.Reader, by Actor, now time.Time) (Draft, error) {
	draft, err := d.WriteDraft(ctx, visitID, title, r, by, now)
	if err != nil {
		return Draft{}, err
	}
	if err := d.CompleteDrafts(ctx, []Draft{draft}, by, now); err != nil {
		d.DiscardDrafts(context.WithoutCancel(ctx), []Draft{draft})
		return Draft{}, err
	}
	return draft, nil
}

// WriteDraft streams r, sealed with the document's own key, into chunk rows
// of a new draft of the visit, never holding the file whole and never
// writing plaintext. r decides what is acceptable: any error it returns
// instead of io.EOF (not a PDF, too large, truncated, a broken connection)
// discards the draft and is returned wrapped, so nothing half-written stays.
// A visit whose online delivery was declined at the desk takes no reports
// (ErrOnlineDeclined), nor does a protected visit while protected reports
// go on paper only (ErrProtectedPaper); a missing visit is ErrNotFound.
func (d *DB) WriteDraft(ctx context.Context, visitID int64, title string, r io.Reader, by Actor, now time.Time) (Draft, error) {
	if err := ValidateTitle(title); err != nil {
		return Draft{}, err
	}
	if d.sealer == nil {
		return Draft{}, errNoSealer
	}
	// The first bytes are drawn before any row is written: a reader that
	// refuses the stream at once (not a PDF) leaves nothing to clean up.
	br := bufio.NewReaderSize(r, ChunkSize)
	if _, err := br.Peek(1); err != nil && err != io.EOF {
		return Draft{}, fmt.Errorf("store report for visit %d: %w", visitID, err)
	}
	id, err := d.createDraft(ctx, visitID, title, by, now)
	if err != nil {
		return Draft{}, fmt.Errorf("store report for visit %d: %w", visitID, err)
	}
	n, err := d.writeSealed(ctx, id, br)
	if err != nil {
		d.DiscardDrafts(context.WithoutCancel(ctx), []Draft{{ID: id}})
		return Draft{}, fmt.Errorf("store report for visit %d: %w", visitID, err)
	}
	return Draft{ID: id, Size: n}, nil
}

func (d *DB) writeSealed(ctx context.Context, id int64, r io.Reader) (int64, error) {
	chunks := &chunkWriter{ctx: ctx, db: d, id: id}
	sealed, err := d.sealer.Seal(chunks, id)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(sealed, r)
	if err != nil {
		return n, err
	}
	if err := sealed.Close(); err != nil {
		return n, err
	}
	return n, chunks.flush()
}

// createDraft inserts an incomplete document row, refusing a visit whose
// online delivery was declined, or a protected visit while protected
// reports go on paper only (ErrProtectedPaper). A crash before CompleteDrafts leaves an
// incomplete row that the expire job removes.
func (d *DB) createDraft(ctx context.Context, visitID int64, title string, by Actor, now time.Time) (int64, error) {
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var declined, protected bool
		if err := tx.QueryRowContext(ctx, `SELECT online_declined, protected FROM visits WHERE id = ?`, visitID).Scan(&declined, &protected); err != nil {
			return mapErr(err)
		}
		if declined {
			return ErrOnlineDeclined
		}
		if protected && d.ProtectedReports().PaperOnly() {
			return ErrProtectedPaper
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO documents(visit_id, title, uploaded_at, uploaded_by, uploaded_by_integration)
			VALUES (?, ?, ?, ?, ?)`, visitID, title, now.UTC(), by.staffID(), by.integrationID())
		if err != nil {
			return mapErr(err)
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// CompleteDrafts makes written drafts visible to staff in one transaction,
// auditing each upload: a submission is kept whole or not at all.
func (d *DB) CompleteDrafts(ctx context.Context, drafts []Draft, by Actor, now time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, dr := range drafts {
			res, err := tx.ExecContext(ctx, `UPDATE documents SET complete = 1, size = ? WHERE id = ? AND complete = 0`, dr.Size, dr.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("draft %d: %w", dr.ID, ErrNotFound)
			}
			if err := insertAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: ActionReportUpload, ObjectType: "document", ObjectID: dr.ID,
				Detail: fmt.Sprintf("%d bytes", dr.Size)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete %d drafts: %w", len(drafts), err)
	}
	return nil
}

// OpenDocument returns the plaintext of a stored document as a stream,
// decrypted chunk by chunk. The header is checked before it returns; a
// later Read error means tampered or missing data, and whatever was already
// produced must be discarded (for example by aborting the response).
func (d *DB) OpenDocument(ctx context.Context, docID int64) (io.Reader, error) {
	if d.sealer == nil {
		return nil, errNoSealer
	}
	// The first chunk is read before the header is parsed: a report deleted
	// since the caller looked it up is ErrNotFound (a 404), not a broken
	// ciphertext.
	cr := &chunkReader{ctx: ctx, db: d, id: docID}
	if err := cr.next(); err != nil {
		return nil, fmt.Errorf("open document %d: %w", docID, err)
	}
	if cr.eof {
		return nil, fmt.Errorf("open document %d: %w", docID, ErrNotFound)
	}
	r, err := d.sealer.Open(cr, docID)
	if err != nil {
		return nil, fmt.Errorf("open document %d: %w", docID, err)
	}
	return r, nil
}

// chunksPerTx is how many chunks one write transaction stores: the
// ciphertext is gathered in memory up to 1 MiB and written at once, so a
// 20 MiB report is 20 commits (each one fsync under synchronous=FULL), not
// 320; and the writer is held only while writing, never while a slow
// client's body is being read.
const chunksPerTx = 16

// chunkWriter stores what it receives as the document's ciphertext chunks.
type chunkWriter struct {
	ctx context.Context
	db  *DB
	id  int64
	seq int
	// buf holds up to chunksPerTx chunks not yet written.
	buf []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(chunksPerTx*ChunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == chunksPerTx*ChunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush writes the gathered chunks in one transaction.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	// Prepared before the transaction takes the only writer connection.
	stmt, err := w.db.w.stmt(w.ctx, `INSERT INTO document_chunks(document_id, seq, data) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	err = w.db.tx(w.ctx, func(tx *sql.Tx) error {
		ins := tx.StmtContext(w.ctx, stmt)
		for rest := w.buf; len(rest) > 0; {
			chunk := rest[:min(ChunkSize, len(rest))]
			if _, err := ins.ExecContext(w.ctx, w.id, w.seq, chunk); err != nil {
				return fmt.Errorf("store chunk %d of document %d: %w", w.seq, w.id, err)
			}
			w.seq++
			rest = rest[len(chunk):]
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// chunkReader reads the document's ciphertext one chunk per query, so a
// slow download never holds a read transaction open.
type chunkReader struct {
	ctx   context.Context
	db    *DB
	id    int64
	seq   int
	buf   []byte // unread part of store
	store []byte // reused for every chunk
	eof   bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			return 0, fmt.Errorf("read chunk %d of document %d: %w", r.seq, r.id, err)
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// ErrDeletedWhileRead means a report was deleted (expired, withdrawn, by
// the patient) while it was being read: the rest of its chunks are gone.
var ErrDeletedWhileRead = fmt.Errorf("report deleted while it was read: %w", ErrNotFound)

// stillThere tells the end of a report from its deletion mid-read: after
// the last chunk the document row must still exist.
func (r *chunkReader) stillThere() error {
	if r.seq == 0 {
		return nil // OpenDocument's check: nothing was read yet
	}
	var one int
	err := r.db.r.QueryRowContext(r.ctx, `SELECT 1 FROM documents WHERE id = ?`, r.id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrDeletedWhileRead
	}
	return err
}

// next loads the next chunk into the reused buffer. RawBytes avoids the
// copy database/sql would otherwise make of every 64 KiB row.
func (r *chunkReader) next() error {
	rows, err := r.db.docs.QueryContext(r.ctx, `SELECT data FROM document_chunks WHERE document_id = ? AND seq = ?`, r.id, r.seq)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		r.eof = true
		return r.stillThere()
	}
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return err
	}
	r.store = append(r.store[:0], raw...)
	r.buf = r.store
	r.seq++
	return rows.Close()
}
