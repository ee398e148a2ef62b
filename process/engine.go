// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/expr-lang/expr/vm"

	"rathaus"
)

// maxMoves bounds the token moves of one step, so that a loop without a
// wait state fails the instance instead of hanging.
const maxMoves = 10000

// Engine advances instances. It is a pure state machine apart from the
// clock and the id source, both replaceable for tests.
type Engine struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// NewID returns a new instance id; nil means a random (v4) UUID.
	NewID func() string
}

// EventKind names an input to Step.
type EventKind string

// Inputs to Step.
const (
	EventCompleteTask   EventKind = "complete_task"
	EventMessage        EventKind = "message"
	EventTimer          EventKind = "timer"
	EventActionComplete EventKind = "action_complete"
)

// Event is one input to an instance: Ref is the task, timer or action id,
// or the message name; Vars are merged into the instance variables.
type Event struct {
	Kind EventKind
	Ref  string
	Vars map[string]any
}

func (e *Engine) now() time.Time {
	if e != nil && e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Start creates an instance of def with the given variables and runs it
// to its first wait states.
func (e *Engine) Start(ctx context.Context, def *Definition, vars map[string]any) (*Instance, []Effect, error) {
	if def == nil || def.start == nil {
		return nil, nil, rathaus.Errorf(rathaus.EINVALID, "definition is not compiled")
	}
	id := ""
	if e != nil && e.NewID != nil {
		id = e.NewID()
	} else {
		id = newUUID()
	}
	now := e.now()
	inst := &Instance{
		Tenant: def.Tenant, ID: id, DefinitionKey: def.Key, DefinitionVersion: def.Version,
		Status: StatusRunning, Vars: maps.Clone(vars), StartedAt: now,
	}
	if inst.Vars == nil {
		inst.Vars = map[string]any{}
	}
	r := &run{def: def, inst: inst, now: now}
	r.history("", "started")
	tok := r.newToken(def.start.ID, "")
	r.enter(tok, def.start)
	r.drain()
	r.finish()
	return inst, r.effects, nil
}

// CompleteTask completes an open user or manual task with the given
// output variables. Completing a task twice is ECONFLICT.
func (e *Engine) CompleteTask(ctx context.Context, def *Definition, inst *Instance, taskID string, vars map[string]any) (*Instance, []Effect, error) {
	return e.Step(ctx, def, inst, Event{Kind: EventCompleteTask, Ref: taskID, Vars: vars})
}

// Message delivers the named message to the first open subscription of
// the instance (catch event, receive task, boundary or event-based
// gateway branch). Without a subscription it is ECONFLICT.
func (e *Engine) Message(ctx context.Context, def *Definition, inst *Instance, name string, vars map[string]any) (*Instance, []Effect, error) {
	return e.Step(ctx, def, inst, Event{Kind: EventMessage, Ref: name, Vars: vars})
}

// FireTimer fires a scheduled timer. A timer that was cancelled or has
// fired is ECONFLICT (the runner ignores that).
func (e *Engine) FireTimer(ctx context.Context, def *Definition, inst *Instance, timerID string) (*Instance, []Effect, error) {
	return e.Step(ctx, def, inst, Event{Kind: EventTimer, Ref: timerID})
}

// CompleteAction reports that a built-in action finished, with output
// variables, and moves on.
func (e *Engine) CompleteAction(ctx context.Context, def *Definition, inst *Instance, actionID string, vars map[string]any) (*Instance, []Effect, error) {
	return e.Step(ctx, def, inst, Event{Kind: EventActionComplete, Ref: actionID, Vars: vars})
}

// Step applies one event to a copy of inst and returns the new state and
// the effects to commit with it. inst itself is not changed. Errors
// (unknown or closed task, timer, action; no subscriber; instance not
// running; definition mismatch) leave nothing changed.
func (e *Engine) Step(ctx context.Context, def *Definition, inst *Instance, ev Event) (*Instance, []Effect, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if def == nil || inst == nil {
		return nil, nil, rathaus.Errorf(rathaus.EINVALID, "definition and instance are required")
	}
	if inst.DefinitionKey != def.Key || inst.DefinitionVersion != def.Version {
		return nil, nil, rathaus.Errorf(rathaus.EINVALID, "instance %s runs %s v%d, not %s v%d", inst.ID, inst.DefinitionKey, inst.DefinitionVersion, def.Key, def.Version)
	}
	if inst.Status != StatusRunning {
		return nil, nil, rathaus.Errorf(rathaus.ECONFLICT, "instance %s is %s", inst.ID, inst.Status)
	}
	r := &run{def: def, inst: inst.Clone(), now: e.now()}
	if err := r.apply(ev); err != nil {
		return nil, nil, err
	}
	r.drain()
	r.finish()
	return r.inst, r.effects, nil
}

// run is the state of one step.
type run struct {
	def     *Definition
	inst    *Instance
	now     time.Time
	effects []Effect
	queue   []move
	moves   int
}

type move struct {
	tok  *Token
	node *node
}

func (r *run) next(prefix string) string {
	r.inst.Seq++
	return prefix + strconv.Itoa(r.inst.Seq)
}

func (r *run) emit(ef Effect) {
	ef.ID = r.inst.ID + "/" + r.next("e")
	ef.Tenant, ef.Instance = r.inst.Tenant, r.inst.ID
	r.effects = append(r.effects, ef)
}

func (r *run) history(nodeID, what string) {
	r.inst.History = append(r.inst.History, Step{At: r.now, Node: nodeID, What: what})
}

func (r *run) fail(format string, args ...any) {
	if r.inst.Status != StatusRunning {
		return
	}
	msg := fmt.Sprintf(format, args...)
	r.inst.Status, r.inst.Incident, r.inst.EndedAt = StatusFailed, msg, r.now
	r.history("", "failed: "+msg)
	r.emit(Effect{Kind: EffectFailed, Params: map[string]any{"reason": msg}})
	r.queue = nil
}

func (r *run) newToken(nodeID, scope string) *Token {
	t := &Token{ID: r.next("k"), Node: nodeID, Scope: scope}
	r.inst.Tokens = append(r.inst.Tokens, t)
	return t
}

func (r *run) token(id string) *Token {
	for _, t := range r.inst.Tokens {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (r *run) removeToken(tok *Token) {
	r.inst.Tokens = slices.DeleteFunc(r.inst.Tokens, func(t *Token) bool { return t.ID == tok.ID })
}

func (r *run) merge(vars map[string]any) {
	maps.Copy(r.inst.Vars, vars)
}

// apply handles the external event.
func (r *run) apply(ev Event) error {
	switch ev.Kind {
	case EventCompleteTask:
		for _, t := range r.inst.Tasks {
			if t.ID != ev.Ref {
				continue
			}
			if t.State != StateOpen {
				return rathaus.Errorf(rathaus.ECONFLICT, "task %s is already %s", t.ID, t.State)
			}
			t.State, t.Ended = StateDone, r.now
			r.merge(ev.Vars)
			r.history(t.Node, "task completed")
			r.leave(r.token(t.Token), r.def.nodes[t.Node])
			return nil
		}
		return rathaus.Errorf(rathaus.ENOTFOUND, "no task %s in instance %s", ev.Ref, r.inst.ID)
	case EventActionComplete:
		for _, a := range r.inst.Actions {
			if a.ID != ev.Ref {
				continue
			}
			if a.State != StateOpen {
				return rathaus.Errorf(rathaus.ECONFLICT, "action %s is already %s", a.ID, a.State)
			}
			a.State = StateDone
			r.merge(ev.Vars)
			r.history(a.Node, "action "+a.Action+" done")
			r.leave(r.token(a.Token), r.def.nodes[a.Node])
			return nil
		}
		return rathaus.Errorf(rathaus.ECONFLICT, "no open action %s in instance %s", ev.Ref, r.inst.ID)
	case EventTimer:
		for _, t := range r.inst.Timers {
			if t.ID != ev.Ref {
				continue
			}
			if t.State != StateOpen {
				return rathaus.Errorf(rathaus.ECONFLICT, "timer %s is already %s", t.ID, t.State)
			}
			t.State = StateDone
			r.history(t.Node, "timer fired")
			n := r.def.nodes[t.Node]
			r.trigger(r.token(t.Token), n)
			// A cycle on a non-interrupting boundary fires again while the
			// activity runs.
			if n != nil && n.timer.cycle && r.token(t.Token) != nil && r.inst.Status == StatusRunning {
				r.reschedule(t, n)
			}
			return nil
		}
		return rathaus.Errorf(rathaus.ECONFLICT, "no open timer %s in instance %s", ev.Ref, r.inst.ID)
	case EventMessage:
		for _, w := range r.inst.Waits {
			if w.State != StateOpen || w.Message != ev.Ref {
				continue
			}
			w.State = StateDone
			r.merge(ev.Vars)
			r.history(w.Node, "message "+w.Message+" received")
			r.trigger(r.token(w.Token), r.def.nodes[w.Node])
			return nil
		}
		return rathaus.Errorf(rathaus.ECONFLICT, "instance %s waits for no message %q", r.inst.ID, ev.Ref)
	}
	return rathaus.Errorf(rathaus.EINVALID, "unknown event kind %q", ev.Kind)
}

// trigger handles a fired timer or received message at event node n for
// the token that armed it.
func (r *run) trigger(tok *Token, n *node) {
	if tok == nil || n == nil {
		r.fail("trigger at %v without a live token", n)
		return
	}
	switch n.kind {
	case kBoundaryTimer, kBoundaryMessage:
		if n.CancelActivity {
			r.interrupt(tok)
			tok.Node = n.ID
			r.leave(tok, n)
		} else {
			nt := r.newToken(n.ID, tok.Scope)
			r.leave(nt, n)
		}
	case kReceive:
		tok.Node = n.ID
		r.leave(tok, n)
	default: // intermediate catch, possibly after an event-based gateway
		r.disarm(tok)
		tok.Node = n.ID
		r.leave(tok, n)
	}
}

// enter queues the arrival of a token at a node.
func (r *run) enter(tok *Token, n *node) {
	tok.Node = n.ID
	r.queue = append(r.queue, move{tok, n})
}

func (r *run) drain() {
	for len(r.queue) > 0 && r.inst.Status == StatusRunning {
		m := r.queue[0]
		r.queue = r.queue[1:]
		r.moves++
		if r.moves > maxMoves {
			r.fail("more than %d moves in one step (a loop without a wait state?)", maxMoves)
			return
		}
		if r.token(m.tok.ID) == nil {
			continue // ended meanwhile (terminate)
		}
		r.arrive(m.tok, m.node)
	}
}

func (r *run) arrive(tok *Token, n *node) {
	switch n.kind {
	case kStart, kPass:
		r.leave(tok, n)
	case kEnd:
		r.history(n.ID, "end")
		r.removeToken(tok)
		r.scopeDone(tok.Scope)
	case kTerminate:
		r.history(n.ID, "terminate")
		r.terminate(tok.Scope)
	case kUserTask, kManualTask:
		t := &Task{ID: r.next("u"), Node: n.ID, Name: n.Name, Type: n.Type, Role: n.role, Token: tok.ID, State: StateOpen, Created: r.now,
			FormKey: firstAttr(n, "activiti:formKey", "camunda:formKey", "flowable:formKey", "rathaus:formKey")}
		t.Assignee = r.value(n.assignee, firstAttr(n, "activiti:assignee", "camunda:assignee", "flowable:assignee"))
		t.CandidateGroups = r.value(n.candidate, firstAttr(n, "activiti:candidateGroups", "camunda:candidateGroups", "flowable:candidateGroups"))
		r.inst.Tasks = append(r.inst.Tasks, t)
		r.history(n.ID, "task created")
		r.emit(Effect{Kind: EffectCreateTask, Node: n.ID, Ref: t.ID, Role: n.role})
		r.arm(tok, n)
	case kReceive:
		r.wait(tok, n, n.ID)
		r.arm(tok, n)
	case kAction:
		params, err := n.binding.eval(r.inst.Vars)
		if err != nil {
			r.fail("%s %s: %v", n.Type, n.ID, err)
			return
		}
		if n.binding.action == ActionSetVariable {
			r.merge(params)
			r.history(n.ID, "variables set")
			r.leave(tok, n)
			return
		}
		a := &Action{ID: r.next("a"), Action: n.binding.action, Node: n.ID, Token: tok.ID, Params: params, State: StateOpen}
		r.inst.Actions = append(r.inst.Actions, a)
		r.history(n.ID, "action "+a.Action+" started")
		r.emit(Effect{Kind: EffectRunAction, Node: n.ID, Ref: a.ID, Action: a.Action, Params: params, Role: n.role})
		r.arm(tok, n)
	case kExclusive:
		r.exclusive(tok, n)
	case kParallel:
		r.parallel(tok, n)
	case kEventGateway:
		for _, f := range n.out {
			switch f.target.kind {
			case kCatchTimer:
				r.schedule(tok, f.target)
			case kCatchMessage, kReceive:
				r.wait(tok, f.target, f.target.ID)
			}
		}
	case kCatchTimer:
		r.schedule(tok, n)
	case kCatchMessage:
		r.wait(tok, n, n.ID)
	case kBoundaryTimer, kBoundaryMessage:
		r.leave(tok, n) // reached by a flow (modelling error); pass through
	case kSub:
		r.history(n.ID, "sub-process entered")
		child := r.newToken(n.start.ID, tok.ID)
		r.arm(tok, n)
		r.enter(child, n.start)
	}
}

func firstAttr(n *node, keys ...string) string {
	for _, k := range keys {
		if v := n.Attr(k); v != "" {
			return v
		}
	}
	return ""
}

// value evaluates a compiled attribute expression (assignee, candidate
// groups); without one the raw text is the value.
func (r *run) value(p *vm.Program, raw string) string {
	if p == nil {
		return raw
	}
	v, err := runValue(p, raw, r.inst.Vars)
	if err != nil || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// schedule arms a timer for the token at catch or boundary event n.
func (r *run) schedule(tok *Token, n *node) {
	due, err := n.timer.due(r.now, r.inst.Vars)
	if err != nil {
		r.fail("%s %s: %v", n.Type, n.ID, err)
		return
	}
	t := &Timer{ID: r.next("t"), Node: n.ID, Token: tok.ID, Due: due, State: StateOpen}
	r.inst.Timers = append(r.inst.Timers, t)
	r.emit(Effect{Kind: EffectScheduleTimer, Node: n.ID, Ref: t.ID, Due: due})
}

// reschedule arms the next firing of cycle timer t at n, unless the
// cycle is done.
func (r *run) reschedule(t *Timer, n *node) {
	due, ok, err := n.timer.again(t.Due, r.now, t.Fired+1, r.inst.Vars)
	if err != nil {
		r.fail("%s %s: %v", n.Type, n.ID, err)
		return
	}
	if !ok {
		return
	}
	nt := &Timer{ID: r.next("t"), Node: n.ID, Token: t.Token, Due: due, State: StateOpen, Fired: t.Fired + 1}
	r.inst.Timers = append(r.inst.Timers, nt)
	r.emit(Effect{Kind: EffectScheduleTimer, Node: n.ID, Ref: nt.ID, Due: due})
}

func (r *run) wait(tok *Token, n *node, nodeID string) {
	w := &Wait{ID: r.next("w"), Message: n.message, Node: nodeID, Token: tok.ID, State: StateOpen}
	r.inst.Waits = append(r.inst.Waits, w)
}

// arm creates the boundary timers and subscriptions of activity n.
func (r *run) arm(tok *Token, n *node) {
	for _, b := range n.boundaries {
		switch b.kind {
		case kBoundaryTimer:
			r.schedule(tok, b)
		case kBoundaryMessage:
			r.wait(tok, b, b.ID)
		}
	}
}

// disarm cancels every open timer and subscription held by the token.
func (r *run) disarm(tok *Token) {
	for _, t := range r.inst.Timers {
		if t.Token == tok.ID && t.State == StateOpen {
			t.State = StateCancelled
			r.emit(Effect{Kind: EffectCancelTimer, Node: t.Node, Ref: t.ID})
		}
	}
	for _, w := range r.inst.Waits {
		if w.Token == tok.ID && w.State == StateOpen {
			w.State = StateCancelled
		}
	}
}

// interrupt cancels what the token is doing at its activity: its task or
// action, its timers and subscriptions, and a sub-process's inner tokens.
func (r *run) interrupt(tok *Token) {
	r.disarm(tok)
	for _, t := range r.inst.Tasks {
		if t.Token == tok.ID && t.State == StateOpen {
			t.State, t.Ended = StateCancelled, r.now
			r.history(t.Node, "task cancelled")
			r.emit(Effect{Kind: EffectCancelTask, Node: t.Node, Ref: t.ID})
		}
	}
	for _, a := range r.inst.Actions {
		if a.Token == tok.ID && a.State == StateOpen {
			a.State = StateCancelled
		}
	}
	for _, child := range slices.Clone(r.inst.Tokens) {
		if child.Scope == tok.ID {
			r.interrupt(child)
			r.removeToken(child)
		}
	}
}

// leave moves the token out of n along its outgoing flows: unconditional
// ones and those whose condition holds; the default flow if none does.
func (r *run) leave(tok *Token, n *node) {
	if tok == nil || n == nil {
		r.fail("internal: leave without token or node")
		return
	}
	r.disarm(tok)
	if len(n.out) == 0 {
		r.removeToken(tok)
		r.scopeDone(tok.Scope)
		return
	}
	var take []*flow
	for _, f := range n.out {
		if f == n.def {
			continue
		}
		if f.cond != nil {
			ok, err := evalBool(f.cond, r.inst.Vars)
			if err != nil {
				r.fail("condition of flow %s: %v", f.ID, err)
				return
			}
			if !ok {
				continue
			}
		}
		take = append(take, f)
	}
	if len(take) == 0 && n.def != nil {
		take = []*flow{n.def}
	}
	if len(take) == 0 {
		r.fail("no outgoing flow of %s %s matches", n.Type, n.ID)
		return
	}
	r.fork(tok, take)
}

func (r *run) fork(tok *Token, take []*flow) {
	tok.Joining = false
	r.enter(tok, take[0].target)
	for _, f := range take[1:] {
		r.enter(r.newToken(f.target.ID, tok.Scope), f.target)
	}
}

// exclusive takes the first outgoing flow (in file order) whose condition
// holds, else the default flow.
func (r *run) exclusive(tok *Token, n *node) {
	for _, f := range n.out {
		if f == n.def {
			continue
		}
		if f.cond != nil {
			ok, err := evalBool(f.cond, r.inst.Vars)
			if err != nil {
				r.fail("condition of flow %s: %v", f.ID, err)
				return
			}
			if !ok {
				continue
			}
		}
		r.history(n.ID, "took "+f.ID)
		r.enter(tok, f.target)
		return
	}
	if n.def != nil {
		r.history(n.ID, "took default "+n.def.ID)
		r.enter(tok, n.def.target)
		return
	}
	r.fail("no outgoing flow of exclusive gateway %s matches", n.ID)
}

// parallel joins all incoming tokens of the scope, then forks.
func (r *run) parallel(tok *Token, n *node) {
	if n.in > 1 {
		tok.Joining = true
		var here []*Token
		for _, t := range r.inst.Tokens {
			if t.Joining && t.Node == n.ID && t.Scope == tok.Scope {
				here = append(here, t)
			}
		}
		if len(here) < n.in {
			return
		}
		for _, t := range here[:n.in] {
			if t != tok {
				r.removeToken(t)
			}
		}
		r.history(n.ID, "joined")
	}
	if len(n.out) == 0 {
		r.removeToken(tok)
		r.scopeDone(tok.Scope)
		return
	}
	r.fork(tok, n.out)
}

// scopeDone is called after a token of scope ended: when none is left, the
// sub-process completes (or the instance, at the top level).
func (r *run) scopeDone(scope string) {
	for _, t := range r.inst.Tokens {
		if t.Scope == scope {
			return
		}
	}
	if scope == "" {
		r.complete()
		return
	}
	parent := r.token(scope)
	if parent == nil {
		r.fail("internal: sub-process token %s vanished", scope)
		return
	}
	r.history(parent.Node, "sub-process completed")
	r.leave(parent, r.def.nodes[parent.Node])
}

// terminate ends every token of scope (a terminate end event).
func (r *run) terminate(scope string) {
	for _, t := range slices.Clone(r.inst.Tokens) {
		if t.Scope == scope {
			r.interrupt(t)
			r.removeToken(t)
		}
	}
	r.queue = slices.DeleteFunc(r.queue, func(m move) bool { return r.token(m.tok.ID) == nil })
	r.scopeDone(scope)
}

func (r *run) complete() {
	if r.inst.Status != StatusRunning {
		return
	}
	// Nothing may stay open once no token is left.
	for _, t := range slices.Clone(r.inst.Tokens) {
		r.interrupt(t)
	}
	r.inst.Tokens = nil
	r.inst.Status, r.inst.EndedAt = StatusCompleted, r.now
	r.history("", "completed")
	r.emit(Effect{Kind: EffectCompleted})
	r.queue = nil
}

// finish drops closed timers, waits and actions (tasks stay as history).
func (r *run) finish() {
	r.inst.Rev++
	r.inst.Timers = slices.DeleteFunc(r.inst.Timers, func(t *Timer) bool { return t.State != StateOpen })
	r.inst.Waits = slices.DeleteFunc(r.inst.Waits, func(w *Wait) bool { return w.State != StateOpen })
	r.inst.Actions = slices.DeleteFunc(r.inst.Actions, func(a *Action) bool { return a.State != StateOpen })
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
