// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"rathaus"
	"rathaus/bpmn"
)

// ActionCall is what an action handler gets. EffectID is stable: a
// handler that may be called twice for the same effect (after a crash
// between its work and the commit) uses it as idempotency key.
type ActionCall struct {
	Tenant   string
	Instance string
	EffectID string
	ActionID string
	Action   string
	Node     string
	Params   map[string]any
	// Vars is a copy of the instance variables when the action started.
	Vars map[string]any
}

// ActionHandler performs a built-in action and returns variables to merge
// into the instance.
type ActionHandler func(ctx context.Context, call ActionCall) (map[string]any, error)

// Runner connects the engine, a Store and the action handlers: it deploys
// definitions, starts and steps instances (each step committing state and
// effects together) and works the outbox.
type Runner struct {
	Store  Store
	Engine *Engine
	// OnEffect, if set, sees every effect other than run_action (task
	// created, timer scheduled, instance completed, …), e.g. to notify a
	// caseworker. An error leaves the effect pending.
	OnEffect func(ctx context.Context, e Effect) error

	mu       sync.Mutex
	handlers map[string]ActionHandler
	cache    map[defKey]*Definition
}

// NewRunner returns a runner over store with a default engine.
func NewRunner(store Store, engine *Engine) *Runner {
	if engine == nil {
		engine = &Engine{}
	}
	return &Runner{Store: store, Engine: engine, handlers: map[string]ActionHandler{}, cache: map[defKey]*Definition{}}
}

// Handle registers the handler of a built-in action.
func (r *Runner) Handle(action string, h ActionHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[action] = h
}

// Deploy compiles the process processID of source and stores it as the
// next version of key for tenant. Problems make it EINVALID and nothing is
// stored.
func (r *Runner) Deploy(ctx context.Context, tenant, key string, source []byte, processID string, actions ActionMap) (DefinitionRecord, []Problem, error) {
	defs, err := bpmn.Parse(source, key)
	if err != nil {
		return DefinitionRecord{}, nil, err
	}
	def, problems, err := Compile(defs, processID, actions)
	if err != nil {
		return DefinitionRecord{}, problems, err
	}
	rec, err := r.Store.SaveDefinition(ctx, DefinitionRecord{Tenant: tenant, Key: key, ProcessID: processID, Name: def.Name, Source: source, Actions: actions})
	return rec, nil, err
}

// defKey names a compiled definition in the runner's cache.
type defKey struct {
	tenant, key string
	version     int
}

// definition returns the compiled definition, cached per version. Version
// 0 means the latest; a store that is a DefinitionVersioner answers which
// that is without reading the source again.
func (r *Runner) definition(ctx context.Context, tenant, key string, version int) (*Definition, error) {
	if version == 0 {
		if dv, ok := r.Store.(DefinitionVersioner); ok {
			v, err := dv.LatestDefinitionVersion(ctx, tenant, key)
			if err != nil {
				return nil, err
			}
			if v == 0 {
				return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no process definition %s version %d", key, version)
			}
			version = v
		}
	}
	if version != 0 {
		r.mu.Lock()
		def := r.cache[defKey{tenant, key, version}]
		r.mu.Unlock()
		if def != nil {
			return def, nil
		}
	}
	rec, err := r.Store.Definition(ctx, tenant, key, version)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		// The latest version may be compiled already.
		r.mu.Lock()
		def := r.cache[defKey{tenant, key, rec.Version}]
		r.mu.Unlock()
		if def != nil {
			return def, nil
		}
	}
	defs, err := bpmn.Parse(rec.Source, rec.Key)
	if err != nil {
		return nil, err
	}
	def, _, err := Compile(defs, rec.ProcessID, rec.Actions)
	if err != nil {
		return nil, err
	}
	def.Tenant, def.Key, def.Version = rec.Tenant, rec.Key, rec.Version
	r.mu.Lock()
	r.cache[defKey{tenant, key, rec.Version}] = def
	r.mu.Unlock()
	return def, nil
}

// Start starts the latest version of key for tenant.
func (r *Runner) Start(ctx context.Context, tenant, key string, vars map[string]any) (*Instance, error) {
	def, err := r.definition(ctx, tenant, key, 0)
	if err != nil {
		return nil, err
	}
	inst, effects, err := r.Engine.Start(ctx, def, vars)
	if err != nil {
		return nil, err
	}
	if err := r.Store.CreateInstance(ctx, inst, effects); err != nil {
		return nil, err
	}
	return inst, nil
}

// step loads an instance, applies ev and commits, retrying on a
// concurrent update. loaded, if not nil, is the instance as just read from
// the store; the first attempt uses it instead of reading it again (if it
// is stale, the store's version check fails and the retry reads afresh).
func (r *Runner) step(ctx context.Context, tenant, id string, ev Event, done string, loaded *Instance) (*Instance, error) {
	for attempt := 0; ; attempt++ {
		inst := loaded
		loaded = nil
		if inst == nil {
			var err error
			if inst, err = r.Store.Instance(ctx, tenant, id); err != nil {
				return nil, err
			}
		}
		def, err := r.definition(ctx, tenant, inst.DefinitionKey, inst.DefinitionVersion)
		if err != nil {
			return nil, err
		}
		next, effects, err := r.Engine.Step(ctx, def, inst, ev)
		if err != nil {
			return nil, err
		}
		if sw, ok := r.Store.(StepWriter); ok {
			err = sw.UpdateInstanceFrom(ctx, inst, next, effects, done)
		} else {
			err = r.Store.UpdateInstance(ctx, next, effects, done)
		}
		if rathaus.ErrorCode(err) == rathaus.ECONFLICT && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return next, nil
	}
}

// CompleteTask completes a user task of an instance.
func (r *Runner) CompleteTask(ctx context.Context, tenant, instanceID, taskID string, vars map[string]any) (*Instance, error) {
	return r.step(ctx, tenant, instanceID, Event{Kind: EventCompleteTask, Ref: taskID, Vars: vars}, "", nil)
}

// Message delivers a message to an instance.
func (r *Runner) Message(ctx context.Context, tenant, instanceID, name string, vars map[string]any) (*Instance, error) {
	return r.step(ctx, tenant, instanceID, Event{Kind: EventMessage, Ref: name, Vars: vars}, "", nil)
}

// FireDueTimers fires every timer due at now; it returns how many fired.
func (r *Runner) FireDueTimers(ctx context.Context, now time.Time) (int, error) {
	refs, err := r.Store.DueTimers(ctx, now, 1000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ref := range refs {
		_, err := r.step(ctx, ref.Tenant, ref.Instance, Event{Kind: EventTimer, Ref: ref.Timer}, "", nil)
		switch {
		case err == nil:
			n++
		case rathaus.ErrorCode(err) == rathaus.ECONFLICT:
			// Cancelled or fired meanwhile.
		default:
			return n, err
		}
	}
	return n, nil
}

// RunPending works through the outbox once: run_action effects go to
// their handler and the result is committed together with marking the
// effect done; other effects go to OnEffect. It returns the number of
// effects finished.
func (r *Runner) RunPending(ctx context.Context) (int, error) {
	pending, err := r.Store.PendingEffects(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, pe := range pending {
		if err := r.runEffect(ctx, pe.Effect); err != nil {
			_ = r.Store.RecordEffectError(ctx, pe.Tenant, pe.ID, err.Error())
			errs = append(errs, fmt.Errorf("effect %s: %w", pe.ID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Drain runs RunPending until the outbox is empty or no effect finishes.
func (r *Runner) Drain(ctx context.Context) error {
	for {
		n, err := r.RunPending(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

func (r *Runner) runEffect(ctx context.Context, e Effect) error {
	if e.Kind != EffectRunAction {
		if r.OnEffect != nil {
			if err := r.OnEffect(ctx, e); err != nil {
				return err
			}
		}
		return r.Store.MarkEffectDone(ctx, e.Tenant, e.ID)
	}
	inst, err := r.Store.Instance(ctx, e.Tenant, e.Instance)
	if err != nil {
		return err
	}
	var open *Action
	for _, a := range inst.OpenActions() {
		if a.ID == e.Ref {
			open = a
		}
	}
	if open == nil || inst.Status != StatusRunning {
		// Already completed (replay after a crash) or cancelled.
		return r.Store.MarkEffectDone(ctx, e.Tenant, e.ID)
	}
	r.mu.Lock()
	h := r.handlers[e.Action]
	r.mu.Unlock()
	if h == nil {
		return rathaus.Errorf(rathaus.EUNAVAILABLE, "no handler for action %s", e.Action)
	}
	out, err := h(ctx, ActionCall{Tenant: e.Tenant, Instance: e.Instance, EffectID: e.ID, ActionID: e.Ref, Action: e.Action, Node: e.Node, Params: e.Params, Vars: maps.Clone(inst.Vars)})
	if err != nil {
		return err
	}
	_, err = r.step(ctx, e.Tenant, e.Instance, Event{Kind: EventActionComplete, Ref: e.Ref, Vars: out}, e.ID, inst)
	if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
		return r.Store.MarkEffectDone(ctx, e.Tenant, e.ID)
	}
	return err
}
