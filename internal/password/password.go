// Package password hashes and verifies passwords with argon2id, limiting how
// many hashes run at once so a login flood cannot exhaust memory, and
// running them at a low CPU priority so a flood does not slow other pages.
package password

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/alexedwards/argon2id"

	"fse/internal/lowprio"
)

// Params are OWASP's recommended argon2id parameters: 19 MiB, 2 passes,
// 1 lane; stored in the PHC string so they can be raised later.
var Params = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher runs argon2id with a cap on concurrent hashes.
type Hasher struct {
	params *argon2id.Params
	sem    chan struct{}
	runs   atomic.Uint64
}

// NewHasher returns a Hasher allowing at most concurrent simultaneous hashes.
func NewHasher(params *argon2id.Params, concurrent int) (*Hasher, error) {
	if params == nil || params.Memory == 0 || params.Iterations == 0 || params.KeyLength == 0 {
		return nil, errors.New("password: argon2id parameters missing")
	}
	return &Hasher{params: params, sem: make(chan struct{}, max(concurrent, 1))}, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a password hash slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// run runs fn, a password hash, once a slot is free (waiting callers are
// served in arrival order), at the lowest CPU priority (package lowprio).
func (h *Hasher) run(ctx context.Context, fn func()) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	lowprio.Run(fn)
	h.runs.Add(1)
	return nil
}

// Runs is how many hashes and verifications have run, unknown users'
// included: for metrics, and for tests that a login did hash.
func (h *Hasher) Runs() uint64 { return h.runs.Load() }

// Hash returns the PHC string of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (hash string, err error) {
	if rerr := h.run(ctx, func() { hash, err = argon2id.CreateHash(pw, h.params) }); rerr != nil {
		return "", rerr
	}
	return hash, err
}

// Verify checks pw against hash. When it matches but hash was made with other
// parameters, rehash holds a new hash to store. An empty hash (unknown user)
// is checked against a dummy so the response time does not reveal it.
func (h *Hasher) Verify(ctx context.Context, pw, hash string) (ok bool, rehash string, err error) {
	if rerr := h.run(ctx, func() { ok, rehash, err = h.verify(pw, hash) }); rerr != nil {
		return false, "", rerr
	}
	return ok, rehash, err
}

func (h *Hasher) verify(pw, hash string) (ok bool, rehash string, err error) {
	if hash == "" {
		// As much work as checking a real hash, so the time does not tell;
		// made here rather than at start-up, which it would slow by a hash.
		_, _ = argon2id.CreateHash(pw, h.params)
		return false, "", nil
	}
	match, params, err := argon2id.CheckHash(pw, hash)
	if err != nil {
		if errors.Is(err, argon2id.ErrInvalidHash) || errors.Is(err, argon2id.ErrIncompatibleVersion) || errors.Is(err, argon2id.ErrIncompatibleVariant) {
			return false, "", fmt.Errorf("stored password hash unreadable: %w", err)
		}
		return false, "", err
	}
	if !match {
		return false, "", nil
	}
	if params.Memory != h.params.Memory || params.Iterations != h.params.Iterations ||
		params.Parallelism != h.params.Parallelism || params.KeyLength != h.params.KeyLength {
		if rehash, err = argon2id.CreateHash(pw, h.params); err != nil {
			return true, "", err
		}
	}
	return true, rehash, nil
}
