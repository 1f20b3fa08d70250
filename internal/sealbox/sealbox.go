package sealbox

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// stanzaType identifies the recipient stanza written by this package in the
// age header. Its args are [document id in decimal, base64-raw nonce] and its
// body is the age file key sealed with XChaCha20-Poly1305 under the KEK.
const stanzaType = "fse-doc"

// ageFileKeySize is the size of the file key age asks recipients to wrap.
const ageFileKeySize = 16

// Seal returns a writer that encrypts everything written to it for the
// document documentID and writes the ciphertext to dst as it goes, so large
// reports are never held in memory whole. Close must be called to encrypt
// and write the final chunk; without it the ciphertext is truncated and
// Open will refuse it. Close does not close dst.
func (k *Keys) Seal(dst io.Writer, documentID int64) (io.WriteCloser, error) {
	if !k.ready {
		return nil, errZeroKeys
	}
	w, err := age.Encrypt(dst, &docRecipient{kek: &k.kek, documentID: documentID})
	if err != nil {
		return nil, fmt.Errorf("sealbox: seal document %d: %w", documentID, err)
	}
	return w, nil
}

// Open returns a reader of the plaintext of a stream sealed for document
// documentID. The header is checked before Open returns: it fails if the
// ciphertext was sealed for another document (for example after being moved
// to another row) or under another master key. The payload is authenticated
// chunk by chunk while reading, so Read returns an error at the first
// tampered or missing chunk; callers must treat any read error as fatal and
// discard what they already produced (for example abort the HTTP response).
func (k *Keys) Open(src io.Reader, documentID int64) (io.Reader, error) {
	if !k.ready {
		return nil, errZeroKeys
	}
	r, err := age.Decrypt(src, &docIdentity{kek: &k.kek, documentID: documentID})
	if err != nil {
		return nil, fmt.Errorf("sealbox: open document %d: %w", documentID, err)
	}
	return r, nil
}

// additionalData binds a wrapped file key to its document id, so that
// editing the id argument of a stanza makes unwrapping fail.
func additionalData(documentID int64) []byte {
	return []byte("fse-doc:" + strconv.FormatInt(documentID, 10))
}

// docRecipient is an age.Recipient that wraps the file key for one document
// under the key-encryption key.
type docRecipient struct {
	kek        *[32]byte
	documentID int64
}

// Wrap implements age.Recipient. A random 24-byte nonce is safe with
// XChaCha20-Poly1305 for any realistic number of documents under one KEK.
func (r *docRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	aead, err := chacha20poly1305.NewX(r.kek[:])
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealbox: generating nonce: %w", err)
	}
	return []*age.Stanza{{
		Type: stanzaType,
		Args: []string{
			strconv.FormatInt(r.documentID, 10),
			base64.RawStdEncoding.EncodeToString(nonce),
		},
		Body: aead.Seal(nil, nonce, fileKey, additionalData(r.documentID)),
	}}, nil
}

// docIdentity is an age.Identity that unwraps file keys of one document.
type docIdentity struct {
	kek        *[32]byte
	documentID int64
}

// errMalformed reports a structurally invalid fse-doc stanza. It does not
// wrap age.ErrIncorrectIdentity: a corrupted header is fatal, not a "try
// another identity" condition.
var errMalformed = errors.New("sealbox: malformed " + stanzaType + " stanza")

// Unwrap implements age.Identity. Files written by Seal carry exactly one
// fse-doc stanza; anything else is refused. A stanza for another document,
// or one that does not authenticate under this KEK (another master key),
// yields an error wrapping age.ErrIncorrectIdentity.
func (i *docIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) != 1 || stanzas[0].Type != stanzaType {
		return nil, fmt.Errorf("%w: not a sealbox document (want exactly one %s stanza)", age.ErrIncorrectIdentity, stanzaType)
	}
	s := stanzas[0]
	if len(s.Args) != 2 {
		return nil, fmt.Errorf("%w: %d args, want 2", errMalformed, len(s.Args))
	}
	sealedFor, err := strconv.ParseInt(s.Args[0], 10, 64)
	if err != nil || s.Args[0] != strconv.FormatInt(sealedFor, 10) {
		return nil, fmt.Errorf("%w: bad document id", errMalformed)
	}
	if sealedFor != i.documentID {
		return nil, fmt.Errorf("%w: ciphertext was sealed for document %d, not document %d",
			age.ErrIncorrectIdentity, sealedFor, i.documentID)
	}
	nonce, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[1])
	if err != nil || len(nonce) != chacha20poly1305.NonceSizeX {
		return nil, fmt.Errorf("%w: bad nonce", errMalformed)
	}
	if len(s.Body) != ageFileKeySize+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: body is %d bytes", errMalformed, len(s.Body))
	}
	aead, err := chacha20poly1305.NewX(i.kek[:])
	if err != nil {
		return nil, err
	}
	fileKey, err := aead.Open(nil, nonce, s.Body, additionalData(i.documentID))
	if err != nil {
		return nil, fmt.Errorf("%w: document key does not authenticate under this master key", age.ErrIncorrectIdentity)
	}
	return fileKey, nil
}
