// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"sync"
	"time"
)

// modelTTL bounds how long web caches what changes only with an import:
// stored form versions, service names, the header's municipality, the
// intake API's forms. A re-import shows within it.
const modelTTL = 30 * time.Second

// ttlCache is the one cache of those lookups: an entry is fresh for ttl;
// after that one caller reloads it while the others keep the stale value,
// errors are not cached, and past max entries the cache starts over. The
// zero value is not usable; see newTTLCache.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time
	mu  sync.Mutex
	m   map[K]*ttlEntry[V]
}

type ttlEntry[V any] struct {
	v         V
	at        time.Time
	reloading bool
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, now: time.Now, m: map[K]*ttlEntry[V]{}}
}

// get returns the value of k, calling load when it is missing or stale.
func (c *ttlCache[K, V]) get(k K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	e := c.m[k]
	if e != nil && (c.now().Sub(e.at) < c.ttl || e.reloading) {
		c.mu.Unlock()
		return e.v, nil
	}
	if e != nil {
		e.reloading = true // this caller reloads; the others keep e.v
	}
	c.mu.Unlock()
	v, err := load()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if e != nil {
			e.reloading = false
		}
		var zero V
		return zero, err
	}
	c.put(k, v, c.now())
	return v, nil
}

// put stores v for k as loaded at at (mu held, or in tests before use).
func (c *ttlCache[K, V]) put(k K, v V, at time.Time) {
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		clear(c.m) // full: start over (a refresh of a present key is not growth)
	}
	c.m[k] = &ttlEntry[V]{v: v, at: at}
}
