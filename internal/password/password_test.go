package password

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
)

func newTestHasher(t *testing.T, n int) *Hasher {
	t.Helper()
	h, err := NewHasher(Params, n)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashAndVerify(t *testing.T) {
	h := newTestHasher(t, 2)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "corretto cavallo batteria graffetta")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(hash, want) {
		t.Errorf("hash = %q, want prefix %q", hash, want)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"corretto cavallo batteria graffetta", true},
		{"corretto cavallo batteria graffetta ", false},
		{"", false},
	}
	for _, tt := range tests {
		ok, rehash, err := h.Verify(ctx, tt.pw, hash)
		if err != nil || ok != tt.want || rehash != "" {
			t.Errorf("Verify(%q) = %v, %q, %v; want %v, no rehash", tt.pw, ok, rehash, err, tt.want)
		}
	}
}

func TestVerifyRehashesOldParameters(t *testing.T) {
	h := newTestHasher(t, 2)
	old, err := argon2id.CreateHash("vecchia password", &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := h.Verify(context.Background(), "vecchia password", old)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if !strings.Contains(rehash, "m=19456,t=2,p=1") {
		t.Errorf("rehash = %q, want current parameters", rehash)
	}
	if ok, _, _ := h.Verify(context.Background(), "password sbagliata", old); ok {
		t.Error("wrong password accepted")
	}
}

func TestVerifyUnknownUserTakesAHash(t *testing.T) {
	h := newTestHasher(t, 2)
	ctx := context.Background()
	hash, _ := h.Hash(ctx, "qualcosa di lungo")
	start := time.Now()
	h.Verify(ctx, "x", hash)
	real := time.Since(start)
	start = time.Now()
	ok, _, err := h.Verify(ctx, "x", "")
	dummy := time.Since(start)
	if ok || err != nil {
		t.Fatalf("Verify with empty hash = %v, %v; want false, nil", ok, err)
	}
	// The dummy comparison must cost a real argon2id run, not return at once.
	if dummy < real/4 {
		t.Errorf("unknown user answered in %v, a real check takes %v: timing reveals unknown users", dummy, real)
	}
}

func TestVerifyUnreadableHash(t *testing.T) {
	h := newTestHasher(t, 1)
	if _, _, err := h.Verify(context.Background(), "x", "$2a$10$notargon"); err == nil {
		t.Error("Verify of a non-argon2id hash returned no error")
	}
}

func TestConcurrencyCap(t *testing.T) {
	const limit = 2
	h := newTestHasher(t, limit)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			running.Add(-1)
			h.release()
		}()
	}
	wg.Wait()
	if got := peak.Load(); got > limit {
		t.Errorf("peak concurrent hashes = %d, want at most %d", got, limit)
	}
	// A caller that gives up while waiting gets an error, not a hash.
	for range limit {
		h.acquire(context.Background())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "attesa"); err == nil {
		t.Error("Hash with every slot taken and an expired context returned no error")
	}
}
