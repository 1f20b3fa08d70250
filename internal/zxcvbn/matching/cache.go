package matching

import (
	"sync"
	"time"

	"github.com/ccojocar/zxcvbn-go/match"
)

// dictionaries are the matchers built from zxcvbn's word lists: about 80 ms
// of CPU to build and 18 MB of heap to keep.
type dictionaries struct {
	dictionaryMatchers []match.Matcher
	matchers           []match.Matcher
}

// cache holds the dictionaries while they are in use: for ten minutes after
// the last check. Passwords are chosen rarely (a registration, a reset),
// often a few in a row; between those moments the portal should not carry
// 18 MB for them.
var cache = dictionaryCache{keep: 10 * time.Minute, now: time.Now}

type dictionaryCache struct {
	mu sync.Mutex
	// keep is how long the dictionaries stay after their last use.
	keep time.Duration
	// now is the clock lastUsed is read from (tests move it).
	now      func() time.Time
	d        *dictionaries
	lastUsed time.Time
	timer    *time.Timer
	// builds counts how many times the dictionaries were built.
	builds int
}

// get returns the dictionaries, building them if they were dropped. Checks
// arriving while they are built wait for them.
func (c *dictionaryCache) get() *dictionaries {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d == nil {
		c.d = loadFrequencyList()
		c.builds++
		c.timer = time.AfterFunc(c.keep, c.dropIfUnused)
	}
	c.lastUsed = c.now()
	return c.d
}

// dropIfUnused lets the dictionaries go once keep has passed since their
// last use, or waits again for the rest of keep; a check in progress keeps
// its own reference.
func (c *dictionaryCache) dropIfUnused() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d == nil || c.timer == nil {
		return // dropped already (a timer that fired late)
	}
	if idle := c.now().Sub(c.lastUsed); idle < c.keep {
		c.timer.Reset(c.keep - idle)
		return
	}
	c.timer.Stop()
	c.d, c.timer = nil, nil
}

// Loaded reports whether the dictionaries are in memory.
func Loaded() bool {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	return cache.d != nil
}
