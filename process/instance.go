// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"maps"
	"math"
	"time"
	"unicode/utf8"
)

// Status is the state of an instance.
type Status string

// Instance states.
const (
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	// StatusFailed marks an incident (no outgoing flow matched, an
	// expression failed, …); Instance.Incident says why.
	StatusFailed Status = "failed"
)

// State is the state of a task, timer, message wait or action.
type State string

// States of waits.
const (
	StateOpen      State = "open"
	StateDone      State = "done"
	StateCancelled State = "cancelled"
)

// Instance is one run of a Definition. It is plain data (JSON-encodable) so
// that a store can persist it; the engine never mutates an instance passed
// in but returns a new one.
type Instance struct {
	Tenant            string         `json:"tenant"`
	ID                string         `json:"id"`
	DefinitionKey     string         `json:"definition_key"`
	DefinitionVersion int            `json:"definition_version"`
	Status            Status         `json:"status"`
	Incident          string         `json:"incident,omitempty"`
	Vars              map[string]any `json:"vars"`
	Tokens            []*Token       `json:"tokens"`
	Tasks             []*Task        `json:"tasks"`
	Timers            []*Timer       `json:"timers"`
	Waits             []*Wait        `json:"waits"`
	Actions           []*Action      `json:"actions"`
	History           []Step         `json:"history"`
	// Seq numbers everything the instance creates; ids derived from it
	// are stable, so a replayed step yields the same effect ids.
	Seq int `json:"seq"`
	// Rev counts committed steps; stores use it for optimistic locking.
	Rev       int       `json:"rev"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// Token marks a place of execution. Scope is the id of the token waiting
// at the enclosing sub-process, "" at the top level.
type Token struct {
	ID    string `json:"id"`
	Node  string `json:"node"`
	Scope string `json:"scope,omitempty"`
	// Joining is set while the token waits at a parallel join.
	Joining bool `json:"joining,omitempty"`
}

// Task is a user or manual task. Role is the lane of the node.
type Task struct {
	ID              string    `json:"id"`
	Node            string    `json:"node"`
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	Role            string    `json:"role,omitempty"`
	Assignee        string    `json:"assignee,omitempty"`
	CandidateGroups string    `json:"candidate_groups,omitempty"`
	FormKey         string    `json:"form_key,omitempty"`
	Token           string    `json:"token"`
	State           State     `json:"state"`
	Created         time.Time `json:"created"`
	Ended           time.Time `json:"ended,omitzero"`
}

// Timer is a scheduled timer of a catch event, boundary event or
// event-based gateway branch.
type Timer struct {
	ID    string    `json:"id"`
	Node  string    `json:"node"`
	Token string    `json:"token"`
	Due   time.Time `json:"due"`
	State State     `json:"state"`
	// Fired counts earlier firings of a cyclic timer.
	Fired int `json:"fired,omitempty"`
}

// Wait is a message subscription.
type Wait struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Node    string `json:"node"`
	Token   string `json:"token"`
	State   State  `json:"state"`
}

// Action is a built-in action the instance waits for.
type Action struct {
	ID     string         `json:"id"`
	Action string         `json:"action"`
	Node   string         `json:"node"`
	Token  string         `json:"token"`
	Params map[string]any `json:"params,omitempty"`
	State  State          `json:"state"`
}

// Step is one entry of the instance history.
type Step struct {
	At   time.Time `json:"at"`
	Node string    `json:"node,omitempty"`
	What string    `json:"what"`
}

// EffectKind says what a job runner has to do for an effect.
type EffectKind string

// Effect kinds.
const (
	EffectCreateTask    EffectKind = "create_task"
	EffectCancelTask    EffectKind = "cancel_task"
	EffectScheduleTimer EffectKind = "schedule_timer"
	EffectCancelTimer   EffectKind = "cancel_timer"
	EffectRunAction     EffectKind = "run_action"
	EffectCompleted     EffectKind = "instance_completed"
	EffectFailed        EffectKind = "instance_failed"
)

// Effect is a side effect of a step. ID is stable (instance id and
// sequence number) so that executing an effect twice can be detected.
type Effect struct {
	ID       string         `json:"id"`
	Tenant   string         `json:"tenant"`
	Instance string         `json:"instance"`
	Kind     EffectKind     `json:"kind"`
	Node     string         `json:"node,omitempty"`
	Ref      string         `json:"ref,omitempty"` // task, timer or action id
	Action   string         `json:"action,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	Role     string         `json:"role,omitempty"`
	Due      time.Time      `json:"due,omitzero"`
}

// Clone returns a deep copy of the instance structure (variable values
// are shared; treat them as immutable).
func (in *Instance) Clone() *Instance {
	c := *in
	c.Vars = maps.Clone(in.Vars)
	if c.Vars == nil {
		c.Vars = map[string]any{}
	}
	c.Tokens = cloneAll(in.Tokens)
	c.Tasks = cloneAll(in.Tasks)
	c.Timers = cloneAll(in.Timers)
	c.Waits = cloneAll(in.Waits)
	c.Actions = cloneAll(in.Actions)
	c.History = append([]Step(nil), in.History...)
	return &c
}

// DeepClone returns a copy of the instance that shares nothing mutable
// with it: Clone, and the variables and action parameters copied too
// (nested maps and slices of JSON values; other values are shared).
// Nil and empty stay apart, so the copy encodes like the original.
func (in *Instance) DeepClone() *Instance {
	c := *in
	if in.Vars != nil {
		c.Vars = cloneJSON(in.Vars).(map[string]any)
	}
	c.Tokens = cloneAll(in.Tokens)
	c.Tasks = cloneAll(in.Tasks)
	c.Timers = cloneAll(in.Timers)
	c.Waits = cloneAll(in.Waits)
	c.Actions = cloneAll(in.Actions)
	for _, a := range c.Actions {
		if a.Params != nil {
			a.Params = cloneJSON(a.Params).(map[string]any)
		}
	}
	if in.History != nil {
		c.History = append(make([]Step, 0, len(in.History)), in.History...)
	}
	return &c
}

// DecodesAsIs reports whether decoding the JSON encoding of the instance
// gives back an equal instance, so that a store may keep the instance it
// wrote instead of decoding what it wrote when it is read: every variable
// and parameter a JSON value as encoding/json decodes it (nil, bool,
// float64, string, map[string]any, []any, no typed nils), parameters nil or
// not empty, all strings valid UTF-8, all times UTC without a monotonic
// clock reading. It is conservative: false only costs a decode.
func (in *Instance) DecodesAsIs() bool {
	ok := true
	str := func(ss ...string) {
		for _, s := range ss {
			if !utf8.ValidString(s) {
				ok = false
			}
		}
	}
	tm := func(ts ...time.Time) {
		for _, t := range ts {
			if t != t.Round(0) || t.Location() != time.UTC {
				ok = false
			}
		}
	}
	str(in.Tenant, in.ID, in.DefinitionKey, string(in.Status), in.Incident)
	tm(in.StartedAt, in.EndedAt)
	if in.Vars != nil && !jsonNormal(in.Vars) {
		return false
	}
	for _, t := range in.Tokens {
		if t == nil {
			return false
		}
		str(t.ID, t.Node, t.Scope)
	}
	for _, t := range in.Tasks {
		if t == nil {
			return false
		}
		str(t.ID, t.Node, t.Name, t.Type, t.Role, t.Assignee, t.CandidateGroups, t.FormKey, t.Token, string(t.State))
		tm(t.Created, t.Ended)
	}
	for _, t := range in.Timers {
		if t == nil {
			return false
		}
		str(t.ID, t.Node, t.Token, string(t.State))
		tm(t.Due)
	}
	for _, w := range in.Waits {
		if w == nil {
			return false
		}
		str(w.ID, w.Message, w.Node, w.Token, string(w.State))
	}
	for _, a := range in.Actions {
		if a == nil || a.Params != nil && (len(a.Params) == 0 || !jsonNormal(a.Params)) {
			return false
		}
		str(a.ID, a.Action, a.Node, a.Token, string(a.State))
	}
	for _, h := range in.History {
		str(h.Node, h.What)
		tm(h.At)
	}
	return ok
}

// AsDecoded returns a deep copy of the instance equal to what decoding its
// JSON encoding gives (empty action parameters, which the encoding omits,
// become nil), or nil if it cannot tell without decoding (see
// DecodesAsIs).
func (in *Instance) AsDecoded() *Instance {
	c := in.DeepClone()
	for _, a := range c.Actions {
		if a != nil && a.Params != nil && len(a.Params) == 0 {
			a.Params = nil
		}
	}
	if !c.DecodesAsIs() {
		return nil
	}
	return c
}

// jsonNormal reports whether v is a JSON value as encoding/json decodes
// it into an any.
func jsonNormal(v any) bool {
	switch v := v.(type) {
	case nil, bool:
		return true
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case string:
		return utf8.ValidString(v)
	case map[string]any:
		if v == nil {
			return false
		}
		for k, x := range v {
			if !utf8.ValidString(k) || !jsonNormal(x) {
				return false
			}
		}
		return true
	case []any:
		if v == nil {
			return false
		}
		for _, x := range v {
			if !jsonNormal(x) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// cloneJSON copies the maps and slices of a decoded JSON value.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneJSON(x)
		}
		return m
	case []any:
		if v == nil {
			return v
		}
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = cloneJSON(x)
		}
		return s
	default:
		return v
	}
}

func cloneAll[T any](s []*T) []*T {
	if s == nil {
		return nil
	}
	out := make([]*T, len(s))
	for i, p := range s {
		if p != nil {
			v := *p
			out[i] = &v
		}
	}
	return out
}

// OpenTasks returns the open tasks.
func (in *Instance) OpenTasks() []*Task {
	var out []*Task
	for _, t := range in.Tasks {
		if t.State == StateOpen {
			out = append(out, t)
		}
	}
	return out
}

// OpenTimers returns the scheduled timers.
func (in *Instance) OpenTimers() []*Timer {
	var out []*Timer
	for _, t := range in.Timers {
		if t.State == StateOpen {
			out = append(out, t)
		}
	}
	return out
}

// OpenWaits returns the open message subscriptions.
func (in *Instance) OpenWaits() []*Wait {
	var out []*Wait
	for _, w := range in.Waits {
		if w.State == StateOpen {
			out = append(out, w)
		}
	}
	return out
}

// OpenActions returns the actions not yet completed.
func (in *Instance) OpenActions() []*Action {
	var out []*Action
	for _, a := range in.Actions {
		if a.State == StateOpen {
			out = append(out, a)
		}
	}
	return out
}

// TaskByNode returns the open task at the node, or nil.
func (in *Instance) TaskByNode(nodeID string) *Task {
	for _, t := range in.Tasks {
		if t.State == StateOpen && t.Node == nodeID {
			return t
		}
	}
	return nil
}
