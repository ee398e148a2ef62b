// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"testing"
	"time"
)

// TestTTLCacheFull: a full cache starts over when a new key comes, but a
// stale entry reloaded in a full cache keeps the others.
func TestTTLCacheFull(t *testing.T) {
	now := time.Unix(0, 0)
	c := newTTLCache[int, int](time.Second, 3)
	c.now = func() time.Time { return now }
	loads := 0
	get := func(k int) {
		t.Helper()
		if v, err := c.get(k, func() (int, error) { loads++; return k * 10, nil }); err != nil || v != k*10 {
			t.Fatalf("get(%d) = %d, %v", k, v, err)
		}
	}
	for k := range 3 {
		get(k)
	}
	now = now.Add(2 * time.Second) // all stale
	get(0)                         // reloaded in a full cache
	if loads != 4 || len(c.m) != 3 {
		t.Fatalf("after refreshing a present key: %d loads, %d entries, want 4 and 3 (nothing dropped)", loads, len(c.m))
	}
	get(3) // a new key in a full cache: start over
	if len(c.m) != 1 {
		t.Fatalf("after a new key in a full cache: %d entries, want 1", len(c.m))
	}
}
