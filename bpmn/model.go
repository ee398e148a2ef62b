// SPDX-License-Identifier: EUPL-1.2

// Package bpmn reads BPMN 2.0 XML as written by the common modelling tools
// (Camunda Modeler, bpmn-js, ADONIS, Activiti Designer) into a plain process
// model. Elements are matched by namespace URI and local name, never by
// prefix. Diagram interchange (BPMNDI) is ignored. The package is pure: it
// executes nothing; see package process for the engine.
package bpmn

// NS is the BPMN 2.0 model namespace.
const NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

// Definitions is one parsed BPMN file.
type Definitions struct {
	// File is the name the file was parsed under (for messages).
	File            string
	ID              string
	Name            string
	TargetNamespace string
	Exporter        string
	Processes       []*Process
	Collaborations  []*Collaboration
	// Messages, Signals, Errors and Escalations map the id of the root
	// element to its name.
	Messages    map[string]string
	Signals     map[string]string
	Errors      map[string]string
	Escalations map[string]string
	// Warnings are structural problems that do not prevent reading the
	// model (flows to unknown nodes, processes without a start event, …).
	Warnings []string
}

// Process returns the process with the given id, or nil.
func (d *Definitions) Process(id string) *Process {
	for _, p := range d.Processes {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Collaboration is a collaboration diagram: pools (participants) and the
// message flows between them.
type Collaboration struct {
	ID           string
	Name         string
	Participants []Participant
	MessageFlows []MessageFlow
}

// Participant is a pool; ProcessRef names the process it shows (may be
// empty for a collapsed pool).
type Participant struct {
	ID         string
	Name       string
	ProcessRef string
	Line       int
}

// MessageFlow connects two pools or nodes in different pools.
type MessageFlow struct {
	ID        string
	Name      string
	SourceRef string
	TargetRef string
}

// Process is one process (or the content of one pool).
type Process struct {
	ID         string
	Name       string
	Executable bool
	// Participant is the name of the pool that shows this process, if any.
	Participant string
	Container
	// Lanes are the top-level lanes; nested lanes are in Lane.Children.
	Lanes []*Lane
	Line  int
}

// Container holds flow nodes and sequence flows: a process or an embedded
// sub-process.
type Container struct {
	Nodes []*Node
	Flows []*SequenceFlow
	// Ignored counts elements that carry no behaviour (dataObject,
	// association, textAnnotation, …) by local name.
	Ignored map[string]int
}

// Lane is a lane of a lane set; its FlowNodeRefs name the nodes in it.
type Lane struct {
	ID           string
	Name         string
	FlowNodeRefs []string
	Children     []*Lane
}

// Node is a flow node: an event, activity or gateway. Type is the BPMN
// local element name ("userTask", "exclusiveGateway", "boundaryEvent", …).
type Node struct {
	ID   string
	Name string
	Type string
	// Line is the line of the start tag in the file.
	Line int
	// Lane and LaneID are the innermost lane that lists this node.
	Lane   string
	LaneID string
	// Events are the event definitions of an event node.
	Events []EventDefinition
	// AttachedTo is the activity a boundary event is attached to;
	// CancelActivity tells whether it interrupts (default true).
	AttachedTo     string
	CancelActivity bool
	// Default is the id of the default outgoing flow of a gateway or
	// activity.
	Default string
	// Attrs holds every attribute except id and name: plain ones under
	// their local name ("scriptFormat", "calledElement"), extension ones as
	// "prefix:local" with a canonical prefix for known vendors
	// ("activiti:assignee", "camunda:formKey", "rathaus:action") and the
	// namespace URI in braces otherwise ("{urn:x}attr").
	Attrs map[string]string
	// Fields are the activiti:field / camunda:field injections of a task
	// (name → string or expression).
	Fields map[string]string
	// Extensions are the direct children of extensionElements (except
	// fields and bulky vendor data), in document order.
	Extensions []Extension
	// Script is the body of a scriptTask. It is kept for display only and
	// never executed.
	Script string
	// Documentation is the text of the documentation element.
	Documentation string
	// TriggeredByEvent marks an event sub-process.
	TriggeredByEvent bool
	// Sub holds the content of subProcess, adHocSubProcess and transaction.
	Sub *Container
}

// Attr returns the attribute with the given key ("activiti:assignee").
func (n *Node) Attr(key string) string { return n.Attrs[key] }

// EventDefinition is one event definition of an event node. Kind is the
// local name without "EventDefinition": timer, message, signal, error,
// terminate, escalation, conditional, link, compensate, cancel.
type EventDefinition struct {
	Kind         string
	ID           string
	TimeDuration string
	TimeDate     string
	TimeCycle    string
	// Ref is messageRef, signalRef, errorRef or escalationRef; for a link
	// event it is the link name.
	Ref string
	// Condition is the condition of a conditional event.
	Condition string
}

// Extension is one extension element with its attributes and text.
type Extension struct {
	Name  string
	Attrs map[string]string
	Text  string
}

// SequenceFlow connects two nodes of the same container.
type SequenceFlow struct {
	ID        string
	Name      string
	SourceRef string
	TargetRef string
	// Condition is the text of conditionExpression, as written (e.g.
	// "${approved == true}").
	Condition string
	// Language is the language attribute of the condition, if any.
	Language string
	Line     int
}

// Walk calls fn for every node of c, depth first, including the nodes of
// nested sub-processes. parent is the sub-process node holding n, or nil.
func (c *Container) Walk(fn func(n *Node, parent *Node)) {
	c.walk(nil, fn)
}

func (c *Container) walk(parent *Node, fn func(n *Node, parent *Node)) {
	for _, n := range c.Nodes {
		fn(n, parent)
		if n.Sub != nil {
			n.Sub.walk(n, fn)
		}
	}
}

// Node returns the node with the given id anywhere in c, or nil.
func (c *Container) Node(id string) *Node {
	var found *Node
	c.Walk(func(n, _ *Node) {
		if found == nil && n.ID == id {
			found = n
		}
	})
	return found
}
