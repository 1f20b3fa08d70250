// Package password hashes and verifies passwords with argon2id, limiting how
// many hashes run at once so a login flood cannot exhaust memory, and
// running them at a low CPU priority so a flood does not slow other pages.
package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/alexedwards/argon2id"
)

// Params are OWASP's recommended argon2id parameters: 19 MiB, 2 passes,
// 1 lane; stored in the PHC string so they can be raised later.
var Params = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher runs argon2id with a cap on concurrent hashes.
type Hasher struct {
	params *argon2id.Params
	sem    chan struct{}
	// SpareProcs gives each running hash a P (GOMAXPROCS) of its own for
	// as long as it runs, so it never holds the P a page request waits
	// for. Servers set it; a command-line tool does not need it.
	SpareProcs bool
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

// run runs fn, a password hash, once a slot is free: waiting callers are
// served in arrival order. fn runs on an operating-system thread of its own
// at the lowest priority, which ends with it: a hash takes tens of
// milliseconds of CPU that the Go scheduler can only cut into 10 ms
// slices, while the kernel gives a waiting page request the core at once.
// For that the process needs a spare P per hash slot (see Slots).
func (h *Hasher) run(ctx context.Context, fn func()) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	if h.SpareProcs {
		spare.add(1)
		defer spare.add(-1)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread, now of low priority, exits with this
		// goroutine instead of going back to serve other goroutines.
		runtime.LockOSThread()
		lowerThreadPriority()
		fn()
	}()
	<-done
	return nil
}

// spareProcs counts the hashes running with a P of their own.
type spareProcs struct {
	mu         sync.Mutex
	base, used int
}

var spare spareProcs

// add changes the number of extra Ps by n. Changing GOMAXPROCS stops the
// world for some microseconds, twice per hash of tens of milliseconds. Ps
// are added only while hashes run: a P more than there are cores all the
// time made every page slower, its goroutines' threads taking turns on a
// core.
func (s *spareProcs) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == 0 {
		s.base = runtime.GOMAXPROCS(0)
	}
	s.used += n
	runtime.GOMAXPROCS(s.base + s.used)
}

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
