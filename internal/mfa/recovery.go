package mfa

import (
	"context"
	"crypto/rand"
	"math/big"
	"strings"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/sealbox"
)

// Recovery codes: RecoveryCodeCount single-use codes of recoveryLength
// symbols from the slip codes' alphabet (no 0/O, 1/I/L, U), ~49 bits each,
// printed in two groups of five. Only a keyed MAC of each is stored, bound
// to its owner.
const (
	RecoveryCodeCount = 10
	recoveryLength    = 10
)

// RegenerateRecoveryCodes replaces the owner's recovery codes with fresh
// ones, audits event and queues notices; it returns the new codes, shown
// once. An owner without a factor has none: db.ErrNotFound.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, owner db.Owner, event db.AuditEvent, notices ...db.OutboxMessage) ([]string, error) {
	codes, macs := s.newRecoveryCodes(owner)
	if err := s.DB.ReplaceRecoveryCodes(ctx, owner, macs, event, s.Now().UTC(), notices...); err != nil {
		return nil, err
	}
	return codes, nil
}

// newRecoveryCodes makes a set of codes and their MACs.
func (s *Service) newRecoveryCodes(owner db.Owner) (codes []string, macs [][]byte) {
	for range RecoveryCodeCount {
		c := newRecoveryCode()
		codes = append(codes, c)
		macs = append(macs, s.recoveryMAC(owner, NormalizeRecoveryCode(c)))
	}
	return codes, macs
}

// recoveryMAC binds a normalised code to its owner, so a code is worth
// nothing on another account.
func (s *Service) recoveryMAC(owner db.Owner, normalized string) []byte {
	return s.Keys.MAC(sealbox.RecoveryCode, owner.String()+":"+normalized)
}

func newRecoveryCode() string {
	var b strings.Builder
	n := big.NewInt(int64(len(actcode.Alphabet)))
	for i := range recoveryLength {
		if i == recoveryLength/2 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b.WriteByte(actcode.Alphabet[k.Int64()])
	}
	return b.String()
}

// NormalizeRecoveryCode reads a typed recovery code as the slip codes are
// read: any case, spaces and dashes ignored, U as V.
func NormalizeRecoveryCode(typed string) string { return actcode.Normalize(typed) }

func validRecoveryCode(normalized string) bool {
	if len(normalized) != recoveryLength {
		return false
	}
	for _, r := range normalized {
		if !strings.ContainsRune(actcode.Alphabet, r) {
			return false
		}
	}
	return true
}
