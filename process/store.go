// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"time"

	"rathaus"
)

// DefinitionRecord is a deployed, versioned process definition: the BPMN
// source and the action map it was compiled with. Instances keep the
// version they started with.
type DefinitionRecord struct {
	Tenant    string    `json:"tenant"`
	Key       string    `json:"key"`
	Version   int       `json:"version"`
	ProcessID string    `json:"process_id"`
	Name      string    `json:"name"`
	Source    []byte    `json:"source"`
	Actions   ActionMap `json:"actions,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// PendingEffect is an effect in the outbox.
type PendingEffect struct {
	Effect
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
}

// TimerRef names a due timer.
type TimerRef struct {
	Tenant   string
	Instance string
	Timer    string
	Due      time.Time
}

// TaskRef is an open task with its instance, for inboxes.
type TaskRef struct {
	Tenant   string
	Instance string
	Task
}

// Store persists definitions, instances (with their tokens, tasks, timers
// and subscriptions) and the outbox of effects. Every method is
// tenant-scoped. A SQL implementation commits each write method in one
// transaction.
type Store interface {
	// SaveDefinition stores a new version of rec.Key for rec.Tenant
	// (1 for the first) and returns the record with Version set.
	SaveDefinition(ctx context.Context, rec DefinitionRecord) (DefinitionRecord, error)
	// Definition returns the given version of a definition, the latest
	// for version 0; ENOTFOUND if there is none.
	Definition(ctx context.Context, tenant, key string, version int) (DefinitionRecord, error)
	// CreateInstance stores a new instance and its first effects.
	CreateInstance(ctx context.Context, inst *Instance, effects []Effect) error
	// Instance returns a copy of the instance; ENOTFOUND if unknown.
	Instance(ctx context.Context, tenant, id string) (*Instance, error)
	// UpdateInstance replaces the stored instance, whose Rev must be
	// inst.Rev-1 (else ECONFLICT: someone else stepped it), appends
	// effects to the outbox and marks the effect done (if not "") — all
	// or nothing.
	UpdateInstance(ctx context.Context, inst *Instance, effects []Effect, done string) error
	// PendingEffects returns up to limit effects not yet done, oldest
	// first, across tenants (for the job runner).
	PendingEffects(ctx context.Context, limit int) ([]PendingEffect, error)
	// MarkEffectDone marks an effect done; done effects are never
	// returned again. Marking twice is fine.
	MarkEffectDone(ctx context.Context, tenant, id string) error
	// RecordEffectError counts a failed attempt.
	RecordEffectError(ctx context.Context, tenant, id, msg string) error
	// DueTimers returns up to limit open timers of running instances due
	// at or before now.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]TimerRef, error)
	// OpenTasks returns the open tasks of a tenant; role "" means any.
	OpenTasks(ctx context.Context, tenant, role string) ([]TaskRef, error)
}

// DefinitionVersioner is implemented by stores that tell the latest
// version of a definition more cheaply than Definition; Runner.Start uses
// it to find the compiled definition in its cache without reading the
// source.
type DefinitionVersioner interface {
	// LatestDefinitionVersion returns the latest version of key for
	// tenant, 0 if there is none.
	LatestDefinitionVersion(ctx context.Context, tenant, key string) (int, error)
}

// StepWriter is implemented by stores that write only what a step
// changed. UpdateInstanceFrom is UpdateInstance given prev, the instance
// as read from the store (revision inst.Rev-1) that the step started from.
type StepWriter interface {
	UpdateInstanceFrom(ctx context.Context, prev, inst *Instance, effects []Effect, done string) error
}

// MemStore is an in-memory Store for tests and the embedded demo. It keeps
// instances JSON-encoded, like a SQL store would, so nothing is shared
// with callers.
type MemStore struct {
	mu        sync.Mutex
	defs      map[[2]string][]DefinitionRecord // tenant, key → versions
	instances map[[2]string][]byte             // tenant, id → JSON
	outbox    []*PendingEffect
	done      map[[2]string]bool
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{defs: map[[2]string][]DefinitionRecord{}, instances: map[[2]string][]byte{}, done: map[[2]string]bool{}}
}

var _ Store = (*MemStore)(nil)

// SaveDefinition implements Store.
func (s *MemStore) SaveDefinition(ctx context.Context, rec DefinitionRecord) (DefinitionRecord, error) {
	if rec.Tenant == "" || rec.Key == "" {
		return rec, rathaus.Errorf(rathaus.EINVALID, "definition needs tenant and key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{rec.Tenant, rec.Key}
	rec.Version = len(s.defs[k]) + 1
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = time.Now().UTC()
	}
	rec.Source = slices.Clone(rec.Source)
	s.defs[k] = append(s.defs[k], rec)
	return rec, nil
}

// Definition implements Store.
func (s *MemStore) Definition(ctx context.Context, tenant, key string, version int) (DefinitionRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.defs[[2]string{tenant, key}]
	if len(vs) == 0 || version < 0 || version > len(vs) {
		return DefinitionRecord{}, rathaus.Errorf(rathaus.ENOTFOUND, "no process definition %s version %d", key, version)
	}
	if version == 0 {
		version = len(vs)
	}
	return vs[version-1], nil
}

// CreateInstance implements Store.
func (s *MemStore) CreateInstance(ctx context.Context, inst *Instance, effects []Effect) error {
	data, err := json.Marshal(inst)
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "instance variables must be JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{inst.Tenant, inst.ID}
	if _, dup := s.instances[k]; dup {
		return rathaus.Errorf(rathaus.ECONFLICT, "instance %s exists", inst.ID)
	}
	s.instances[k] = data
	s.appendEffects(effects)
	return nil
}

func (s *MemStore) appendEffects(effects []Effect) {
	for _, e := range effects {
		s.outbox = append(s.outbox, &PendingEffect{Effect: e})
	}
}

// LatestDefinitionVersion implements DefinitionVersioner.
func (s *MemStore) LatestDefinitionVersion(ctx context.Context, tenant, key string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.defs[[2]string{tenant, key}]), nil
}

// Instance implements Store.
func (s *MemStore) Instance(ctx context.Context, tenant, id string) (*Instance, error) {
	s.mu.Lock()
	data, ok := s.instances[[2]string{tenant, id}]
	s.mu.Unlock()
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no process instance %s", id)
	}
	var inst Instance
	if err := json.Unmarshal(data, &inst); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "instance %s unreadable", id)
	}
	return &inst, nil
}

// UpdateInstance implements Store.
func (s *MemStore) UpdateInstance(ctx context.Context, inst *Instance, effects []Effect, done string) error {
	data, err := json.Marshal(inst)
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "instance variables must be JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{inst.Tenant, inst.ID}
	old, ok := s.instances[k]
	if !ok {
		return rathaus.Errorf(rathaus.ENOTFOUND, "no process instance %s", inst.ID)
	}
	var prev struct{ Rev int }
	_ = json.Unmarshal(old, &prev)
	if prev.Rev != inst.Rev-1 {
		return rathaus.Errorf(rathaus.ECONFLICT, "instance %s was changed concurrently (rev %d, update from %d)", inst.ID, prev.Rev, inst.Rev-1)
	}
	s.instances[k] = data
	s.appendEffects(effects)
	if done != "" {
		s.done[[2]string{inst.Tenant, done}] = true
	}
	return nil
}

// PendingEffects implements Store.
func (s *MemStore) PendingEffects(ctx context.Context, limit int) ([]PendingEffect, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PendingEffect
	kept := s.outbox[:0]
	for _, e := range s.outbox {
		if s.done[[2]string{e.Tenant, e.ID}] {
			continue // compact
		}
		kept = append(kept, e)
		if len(out) < limit {
			out = append(out, *e)
		}
	}
	s.outbox = kept
	return out, nil
}

// MarkEffectDone implements Store.
func (s *MemStore) MarkEffectDone(ctx context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[[2]string{tenant, id}] = true
	return nil
}

// RecordEffectError implements Store.
func (s *MemStore) RecordEffectError(ctx context.Context, tenant, id, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.outbox {
		if e.Tenant == tenant && e.ID == id {
			e.Attempts++
			e.LastError = msg
		}
	}
	return nil
}

// DueTimers implements Store.
func (s *MemStore) DueTimers(ctx context.Context, now time.Time, limit int) ([]TimerRef, error) {
	var out []TimerRef
	err := s.each(func(inst *Instance) {
		if inst.Status != StatusRunning {
			return
		}
		for _, t := range inst.OpenTimers() {
			if !t.Due.After(now) {
				out = append(out, TimerRef{Tenant: inst.Tenant, Instance: inst.ID, Timer: t.ID, Due: t.Due})
			}
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// OpenTasks implements Store.
func (s *MemStore) OpenTasks(ctx context.Context, tenant, role string) ([]TaskRef, error) {
	var out []TaskRef
	err := s.each(func(inst *Instance) {
		if inst.Tenant != tenant || inst.Status != StatusRunning {
			return
		}
		for _, t := range inst.OpenTasks() {
			if role == "" || t.Role == role {
				out = append(out, TaskRef{Tenant: tenant, Instance: inst.ID, Task: *t})
			}
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

func (s *MemStore) each(fn func(*Instance)) error {
	s.mu.Lock()
	all := make([][]byte, 0, len(s.instances))
	for _, d := range s.instances {
		all = append(all, d)
	}
	s.mu.Unlock()
	for _, d := range all {
		var inst Instance
		if err := json.Unmarshal(d, &inst); err != nil {
			return err
		}
		fn(&inst)
	}
	return nil
}
