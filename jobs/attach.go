package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/notify"
	"fse/internal/pdfcrypt"
	"fse/internal/sealbox"
)

// Attacher builds the attachments of a queued message that carries a
// report (OutboxMessage.DocumentID).
type Attacher interface {
	Attach(ctx context.Context, m db.OutboxMessage) ([]notify.Attachment, error)
}

// errNoAttacher fails a message that carries a report when this process
// has no key to open it.
var errNoAttacher = errors.New("no key file loaded: the report cannot be encrypted")

// ReportAttacher encrypts, at sending time, the report a message carries
// under the password the patient chose for the dossier: the plaintext and
// the password exist only in memory, for that one message.
type ReportAttacher struct {
	DB   *db.DB
	Keys *sealbox.Keys
	Now  func() time.Time
}

// AttachmentName is the file name of every emailed report, in the
// account's language ("documento.pdf"): it says nothing of the exam or the
// patient.
func AttachmentName(l locale.Lang) string { return locale.For(l).T("notify.attachment_name") }

// Attach implements Attacher. A report no longer online, or a dossier
// whose delivery by email was turned off, is db.ErrNotFound: the message
// must not go.
func (r ReportAttacher) Attach(ctx context.Context, m db.OutboxMessage) ([]notify.Attachment, error) {
	sealed, lang, err := r.DB.EmailPassword(ctx, m, r.Now().UTC())
	if err != nil {
		return nil, err
	}
	pw, err := r.Keys.OpenValue(sealbox.ReportEmailPassword, db.EmailDeliveryOwner(m.AccountID, m.PatientID), sealed)
	if err != nil {
		return nil, fmt.Errorf("open the email password: %w", err)
	}
	plain, err := r.DB.OpenDocument(ctx, m.DocumentID)
	if err != nil {
		return nil, err
	}
	enc, err := pdfcrypt.Encrypt(plain, string(pw))
	if err != nil {
		return nil, err
	}
	l, _ := locale.Parse(lang)
	return []notify.Attachment{{Name: AttachmentName(l), ContentType: "application/pdf", Data: enc}}, nil
}
