// SPDX-License-Identifier: EUPL-1.2

package memstore

import (
	"context"
	"sync"
	"time"

	"rathaus/audit"
)

// Audit is an in-memory audit.Log.
type Audit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

// Append implements audit.Log.
func (a *Audit) Append(_ context.Context, e audit.Entry) (*audit.Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.Seq = int64(len(a.entries) + 1)
	e.Time = time.Now().UTC().Truncate(time.Microsecond)
	if len(a.entries) > 0 {
		e.Prev = a.entries[len(a.entries)-1].Hash
	}
	e.Hash = audit.ComputeHash(e)
	a.entries = append(a.entries, e)
	return &e, nil
}

// Walk implements audit.Log.
func (a *Audit) Walk(_ context.Context, fn func(audit.Entry) error) error {
	a.mu.Lock()
	es := append([]audit.Entry(nil), a.entries...)
	a.mu.Unlock()
	for _, e := range es {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Entries returns a copy of all entries.
func (a *Audit) Entries() []audit.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Entry(nil), a.entries...)
}
