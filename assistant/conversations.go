// SPDX-License-Identifier: EUPL-1.2

package assistant

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// TTL is how long an idle conversation is kept in memory.
const TTL = 30 * time.Minute

// maxConversations bounds the memory held by Conversations (each keeps at
// most maxTranscript exchanges).
const maxConversations = 20000

// Conversations keeps conversation states in memory, keyed by a random id,
// for TTL after their last use. Nothing is written to disk: a conversation
// ends with its TTL or a restart. Safe for concurrent use.
type Conversations struct {
	mu  sync.Mutex
	m   map[string]*entry
	now func() time.Time
}

type entry struct {
	st   *State
	seen time.Time
	mu   sync.Mutex // serialises turns of one conversation
}

// NewConversations returns an empty store.
func NewConversations() *Conversations {
	return &Conversations{m: map[string]*entry{}, now: time.Now}
}

// NewID returns a fresh conversation id (128 bits from crypto/rand).
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validID reports whether id can be a conversation id from NewID.
func validID(id string) bool {
	if len(id) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// Get returns the state of conversation id, or a new conversation with a new
// id when id is unknown, expired or malformed. The returned unlock function
// must be called when the turn is done; turns of one conversation run one
// after another.
func (c *Conversations) Get(id string) (*State, func()) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[id]
	if ok && now.Sub(e.seen) > TTL {
		delete(c.m, id)
		ok = false
	}
	if !ok || !validID(id) {
		if len(c.m) >= maxConversations {
			c.sweepLocked(now)
			for k := range c.m { // still full: drop one (map order is random)
				if len(c.m) < maxConversations {
					break
				}
				delete(c.m, k)
			}
		}
		id = NewID()
		e = &entry{st: &State{ID: id}}
		c.m[id] = e
	}
	e.seen = now
	c.mu.Unlock()
	e.mu.Lock()
	return e.st, e.mu.Unlock
}

// Peek returns the state of a live conversation without creating one.
func (c *Conversations) Peek(id string) (*State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || c.now().Sub(e.seen) > TTL {
		return nil, false
	}
	return e.st, true
}

// Sweep drops expired conversations and returns how many remain.
func (c *Conversations) Sweep() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(c.now())
	return len(c.m)
}

func (c *Conversations) sweepLocked(now time.Time) {
	for id, e := range c.m {
		if now.Sub(e.seen) > TTL {
			delete(c.m, id)
		}
	}
}

// SetClock replaces the clock (for tests).
func (c *Conversations) SetClock(now func() time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}
