// SPDX-License-Identifier: EUPL-1.2

// Package process is the token engine of rathaus. It executes a documented
// subset of BPMN 2.0 (see bpmn.CheckExecutable and Compile) as a pure state
// machine: every call takes an instance and returns the next instance state
// plus the side effects to perform (create a user task, schedule a timer,
// run a built-in action, instance completed). A durable Store commits state
// and effects in one transaction (outbox); the Runner executes effects
// idempotently, each effect having a stable id.
//
// Service, send, script and business-rule tasks never run code from the
// model: they are bound to built-in actions by name (see Actions). A script
// task's script is kept for display only.
package process

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/vm"

	"rathaus"
	"rathaus/bpmn"
)

// Built-in actions a task may be bound to.
const (
	ActionRequestInformation = "request_information"
	ActionGenerateNotice     = "generate_notice"
	ActionSendToMailbox      = "send_to_mailbox"
	ActionDeliver            = "deliver"
	ActionCallRegister       = "call_register"
	// ActionSetVariable is executed by the engine itself: each parameter
	// sets the variable of its name (values "${…}" are expressions).
	ActionSetVariable = "set_variable"
)

// Actions lists the built-in action names.
var Actions = []string{ActionRequestInformation, ActionGenerateNotice, ActionSendToMailbox, ActionDeliver, ActionCallRegister, ActionSetVariable}

// Binding binds a task to a built-in action. Params are merged over the
// task's own fields (activiti:field, camunda:field, rathaus:field); a value
// written "${…}" is an expression over the instance variables, anything
// else a literal string.
type Binding struct {
	Action string            `json:"action"`
	Params map[string]string `json:"params,omitempty"`
}

// ActionMap is the per-definition mapping table supplied at import. Keys
// are looked up in this order: the task id, the implementation reference
// (activiti:class, camunda:class, activiti:delegateExpression,
// camunda:delegateExpression, activiti:expression, camunda:expression,
// camunda:topic), the task name. A rathaus:action attribute on the task
// itself binds it when the map has no entry for its id.
type ActionMap map[string]Binding

// Problem is a reason a process cannot be executed.
type Problem struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Name   string `json:"name,omitempty"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

// String formats the problem as "line N: type "id": reason".
func (p Problem) String() string {
	return fmt.Sprintf("line %d: %s %q: %s", p.Line, p.Type, p.ID, p.Reason)
}

// Definition is a compiled, executable process. It is immutable and safe
// for concurrent use.
type Definition struct {
	// Tenant, Key and Version identify the deployed definition; Compile
	// sets Key to the process id and leaves Version 0 until the store
	// assigns one (see Runner.Deploy).
	Tenant    string
	Key       string
	Version   int
	ProcessID string
	Name      string
	nodes     map[string]*node
	start     *node
}

// Node returns the BPMN node with the given id, or nil.
func (d *Definition) Node(id string) *bpmn.Node {
	if n := d.nodes[id]; n != nil {
		return n.Node
	}
	return nil
}

// NodeIDs returns the ids of all nodes.
func (d *Definition) NodeIDs() []string {
	ids := make([]string, 0, len(d.nodes))
	for id := range d.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

type kind int

const (
	kStart kind = iota
	kEnd
	kTerminate
	kPass // intermediate throw without definition
	kUserTask
	kManualTask
	kReceive
	kAction
	kExclusive
	kParallel
	kEventGateway
	kCatchTimer
	kCatchMessage
	kBoundaryTimer
	kBoundaryMessage
	kSub
)

type node struct {
	*bpmn.Node
	kind       kind
	out        []*flow
	in         int
	def        *flow
	boundaries []*node
	attached   *node // for boundary events
	start      *node // for sub-processes: the start event
	role       string
	binding    *compiledBinding
	timer      timerSpec
	message    string // message name a catch waits for
	assignee   *vm.Program
	candidate  *vm.Program
}

type flow struct {
	*bpmn.SequenceFlow
	cond   *vm.Program
	target *node
}

type compiledBinding struct {
	action string
	keys   []string
	params map[string]string
	progs  map[string]*vm.Program
}

// eval evaluates the binding's parameters against vars.
func (b *compiledBinding) eval(vars map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(b.keys))
	for _, k := range b.keys {
		v, err := runValue(b.progs[k], b.params[k], vars)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %v", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// Compile checks the process processID of def against the executable
// subset and compiles conditions, timers and action bindings once. It
// returns every problem found; if there is any, the Definition is nil and
// err is EINVALID: elements outside the subset are refused at import, never
// skipped at run time.
func Compile(def *bpmn.Definitions, processID string, actions ActionMap) (*Definition, []Problem, error) {
	pr := def.Process(processID)
	if pr == nil {
		return nil, nil, rathaus.Errorf(rathaus.ENOTFOUND, "%s: no process %q", def.File, processID)
	}
	c := &compiler{defs: def, actions: actions, out: &Definition{Key: pr.ID, ProcessID: pr.ID, Name: pr.Name, nodes: map[string]*node{}}}
	for _, u := range bpmn.CheckExecutable(pr) {
		line := 0
		if n := pr.Node(u.ID); n != nil {
			line = n.Line
		}
		c.problems = append(c.problems, Problem{ID: u.ID, Type: u.Type, Name: u.Name, Line: line, Reason: u.Reason})
	}
	c.pool = pr.Participant
	c.out.start = c.container(&pr.Container, pr.ID, nil)
	if len(c.problems) > 0 {
		first := c.problems[0]
		return nil, c.problems, rathaus.Errorf(rathaus.EINVALID, "%s: process %q is not executable: %d problem(s), first: %s",
			def.File, pr.ID, len(c.problems), first)
	}
	return c.out, nil, nil
}

type compiler struct {
	pool     string // participant (pool) name: the role of nodes outside lanes
	defs     *bpmn.Definitions
	actions  ActionMap
	out      *Definition
	problems []Problem
}

func (c *compiler) problem(n *bpmn.Node, format string, args ...any) {
	c.problems = append(c.problems, Problem{ID: n.ID, Type: n.Type, Name: n.Name, Line: n.Line, Reason: fmt.Sprintf(format, args...)})
}

// container compiles the nodes and flows of one scope and returns its
// start event.
func (c *compiler) container(ct *bpmn.Container, where string, parent *node) *node {
	local := map[string]*node{}
	var starts []*node
	for _, bn := range ct.Nodes {
		n := &node{Node: bn, role: bn.Lane}
		if parent != nil && n.role == "" {
			n.role = parent.role
		}
		if n.role == "" {
			n.role = c.pool
		}
		local[bn.ID] = n
		if _, dup := c.out.nodes[bn.ID]; dup {
			c.problem(bn, "duplicate id")
		}
		c.out.nodes[bn.ID] = n
		c.classify(n)
		if n.kind == kStart && bn.Type == "startEvent" {
			starts = append(starts, n)
		}
	}
	for _, f := range ct.Flows {
		src, dst := local[f.SourceRef], local[f.TargetRef]
		if src == nil || dst == nil {
			c.problems = append(c.problems, Problem{ID: f.ID, Type: "sequenceFlow", Name: f.Name, Line: f.Line,
				Reason: fmt.Sprintf("connects unknown nodes %q → %q in %q", f.SourceRef, f.TargetRef, where)})
			continue
		}
		cf := &flow{SequenceFlow: f, target: dst}
		if lang := strings.ToLower(f.Language); strings.TrimSpace(f.Condition) != "" && lang != "" && !strings.Contains(lang, "juel") && !strings.Contains(lang, "expr") {
			c.problems = append(c.problems, Problem{ID: f.ID, Type: "sequenceFlow", Name: f.Name, Line: f.Line,
				Reason: fmt.Sprintf("condition in language %q: only ${…} expressions are evaluated, scripts never run", f.Language)})
		}
		if strings.TrimSpace(f.Condition) != "" {
			p, err := compileCondition(f.Condition)
			if err != nil {
				c.problems = append(c.problems, Problem{ID: f.ID, Type: "sequenceFlow", Name: f.Name, Line: f.Line,
					Reason: fmt.Sprintf("condition %s: %v", f.Condition, err)})
			}
			cf.cond = p
		}
		src.out = append(src.out, cf)
		dst.in++
		if src.Default == f.ID {
			src.def = cf
		}
	}
	for _, n := range local {
		if n.Default != "" && n.def == nil {
			c.problem(n.Node, "default flow %q is not an outgoing flow", n.Default)
		}
		switch n.kind {
		case kBoundaryTimer, kBoundaryMessage:
			a := local[n.AttachedTo]
			if a == nil || !isActivity(a.kind) {
				c.problem(n.Node, "boundary event must be attached to a task or sub-process of the same scope (got %q)", n.AttachedTo)
				continue
			}
			n.attached = a
			a.boundaries = append(a.boundaries, n)
		case kEventGateway:
			if len(n.out) < 2 {
				c.problem(n.Node, "event-based gateway needs at least two outgoing flows")
			}
			for _, f := range n.out {
				if k := f.target.kind; k != kCatchTimer && k != kCatchMessage && k != kReceive {
					c.problem(n.Node, "event-based gateway must lead to timer or message catch events (flow %q leads to %s)", f.ID, f.target.Type)
				}
			}
		case kStart:
			if n.in > 0 {
				c.problem(n.Node, "start event has incoming flows")
			}
		}
	}
	// Keep the order of the file for boundaries (maps are unordered).
	for _, n := range local {
		slices.SortFunc(n.boundaries, func(a, b *node) int { return a.Line - b.Line })
	}
	for _, bn := range ct.Nodes {
		if n := local[bn.ID]; n.kind == kSub && bn.Sub != nil {
			n.start = c.container(bn.Sub, bn.ID, n)
		}
	}
	switch len(starts) {
	case 1:
		return starts[0]
	case 0:
		c.problems = append(c.problems, Problem{ID: where, Type: "process", Reason: "no plain start event"})
	default:
		c.problems = append(c.problems, Problem{ID: where, Type: "process", Reason: fmt.Sprintf("%d plain start events, want exactly one", len(starts))})
	}
	return nil
}

func isActivity(k kind) bool {
	switch k {
	case kUserTask, kManualTask, kReceive, kAction, kSub:
		return true
	}
	return false
}

// classify sets the kind of n and compiles what it needs. Nodes outside
// the subset are already reported by bpmn.CheckExecutable.
func (c *compiler) classify(n *node) {
	evKind := ""
	if len(n.Events) > 0 {
		evKind = n.Events[0].Kind
	}
	switch n.Type {
	case "startEvent":
		n.kind = kStart
	case "endEvent":
		n.kind = kEnd
		if evKind == "terminate" {
			n.kind = kTerminate
		}
	case "intermediateThrowEvent":
		n.kind = kPass
	case "intermediateCatchEvent", "boundaryEvent":
		boundary := n.Type == "boundaryEvent"
		switch evKind {
		case "timer":
			n.kind = kCatchTimer
			if boundary {
				n.kind = kBoundaryTimer
			}
			var ts timerSpec
			var err error
			if cyc := n.Events[0].TimeCycle; cyc != "" {
				ts, err = parseTimerCycle(cyc)
			} else {
				ts, err = parseTimer(n.Events[0].TimeDuration, n.Events[0].TimeDate)
			}
			if err != nil {
				c.problem(n.Node, "%v", err)
			}
			n.timer = ts
		case "message":
			n.kind = kCatchMessage
			if boundary {
				n.kind = kBoundaryMessage
			}
			n.message = c.messageName(n.Node, n.Events[0].Ref)
		}
	case "receiveTask":
		n.kind = kReceive
		n.message = c.messageName(n.Node, n.Attr("messageRef"))
	case "userTask", "manualTask":
		n.kind = kUserTask
		if n.Type == "manualTask" {
			n.kind = kManualTask
		}
		for _, v := range []struct {
			dst  **vm.Program
			keys []string
		}{
			{&n.assignee, []string{"activiti:assignee", "camunda:assignee", "flowable:assignee"}},
			{&n.candidate, []string{"activiti:candidateGroups", "camunda:candidateGroups", "flowable:candidateGroups"}},
		} {
			for _, k := range v.keys {
				if s := n.Attr(k); s != "" && IsExpression(s) {
					p, err := compileValue(s)
					if err != nil {
						c.problem(n.Node, "%s %s: %v", k, s, err)
					}
					*v.dst = p
				}
			}
		}
	case "serviceTask", "sendTask", "scriptTask", "businessRuleTask":
		n.kind = kAction
		n.binding = c.bind(n.Node)
	case "exclusiveGateway":
		n.kind = kExclusive
	case "parallelGateway":
		n.kind = kParallel
	case "eventBasedGateway":
		n.kind = kEventGateway
	case "subProcess":
		n.kind = kSub
	default:
		n.kind = kPass // reported as unsupported already
	}
}

// messageName resolves a messageRef to the message's name; without a ref
// the node's name or id is the message name.
func (c *compiler) messageName(n *bpmn.Node, ref string) string {
	if ref != "" {
		if name := c.defs.Messages[ref]; name != "" {
			return name
		}
		return ref
	}
	if n.Name != "" {
		return n.Name
	}
	return n.ID
}

// implementationKeys are the attributes naming a task's implementation.
var implementationKeys = []string{
	"activiti:class", "camunda:class", "flowable:class",
	"activiti:delegateExpression", "camunda:delegateExpression", "flowable:delegateExpression",
	"activiti:expression", "camunda:expression", "flowable:expression", "camunda:topic",
}

func (c *compiler) bind(n *bpmn.Node) *compiledBinding {
	b, ok := c.actions[n.ID]
	if !ok {
		if a := n.Attr("rathaus:action"); a != "" {
			b, ok = Binding{Action: a}, true
		}
	}
	if !ok {
		for _, k := range implementationKeys {
			if v := n.Attr(k); v != "" {
				if b, ok = c.actions[v]; ok {
					break
				}
			}
		}
	}
	if !ok && n.Name != "" {
		b, ok = c.actions[n.Name]
	}
	if !ok {
		impl := ""
		for _, k := range implementationKeys {
			if v := n.Attr(k); v != "" {
				impl = " (" + k + "=" + v + ")"
				break
			}
		}
		c.problem(n, "not bound to a built-in action%s: add rathaus:action or an entry in the action map", impl)
		return nil
	}
	if !slices.Contains(Actions, b.Action) {
		c.problem(n, "unknown action %q (built-in: %s)", b.Action, strings.Join(Actions, ", "))
		return nil
	}
	cb := &compiledBinding{action: b.Action, params: map[string]string{}, progs: map[string]*vm.Program{}}
	for k, v := range n.Fields {
		cb.params[k] = v
	}
	for k, v := range b.Params {
		cb.params[k] = v
	}
	for k, v := range cb.params {
		p, err := compileValue(v)
		if err != nil {
			c.problem(n, "parameter %s %s: %v", k, v, err)
			continue
		}
		cb.progs[k] = p
		cb.keys = append(cb.keys, k)
	}
	slices.Sort(cb.keys)
	return cb
}
