// SPDX-License-Identifier: EUPL-1.2

package bpmn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"rathaus"
)

// Namespaces whose subtrees are dropped while reading (diagram interchange).
var diNamespaces = map[string]bool{
	"http://www.omg.org/spec/BPMN/20100524/DI": true,
	"http://www.omg.org/spec/DD/20100524/DC":   true,
	"http://www.omg.org/spec/DD/20100524/DI":   true,
}

// vendorPrefix gives the canonical prefix of known extension namespaces.
var vendorPrefix = map[string]string{
	"http://activiti.org/bpmn":                             "activiti",
	"http://camunda.org/schema/1.0/bpmn":                   "camunda",
	"http://flowable.org/bpmn":                             "flowable",
	"http://camunda.org/schema/zeebe/1.0":                  "zeebe",
	"http://www.boc-group.com":                             "adonis",
	"http://www.w3.org/2001/XMLSchema-instance":            "xsi",
	"http://bpmn.io/schema/bpmn/biocolor/1.0":              "bioc",
	"http://www.omg.org/spec/BPMN/non-normative/color/1.0": "color",
	// RathausNS is our own namespace for action bindings.
	RathausNS: "rathaus",
}

// RathausNS is rathaus' own extension namespace; rathaus:action="NAME" on a
// task binds it to a built-in action.
const RathausNS = "urn:rathaus:bpmn"

// maxDepth bounds element nesting so that hostile input cannot exhaust the
// stack.
const maxDepth = 256

// elem is a minimal DOM node.
type elem struct {
	space, local string
	attrs        []xml.Attr
	children     []*elem
	text         strings.Builder
	line, col    int
}

func (e *elem) attr(local string) string {
	for _, a := range e.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (e *elem) hasAttr(local string) bool {
	for _, a := range e.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return true
		}
	}
	return false
}

func (e *elem) isBPMN(local string) bool { return e.space == NS && e.local == local }

// child returns the first BPMN child with the given local name.
func (e *elem) child(local string) *elem {
	for _, c := range e.children {
		if c.isBPMN(local) {
			return c
		}
	}
	return nil
}

func (e *elem) textOf() string { return strings.TrimSpace(e.text.String()) }

// Parse reads a BPMN 2.0 file. name is used in error messages. Malformed
// XML yields an EINVALID error with file, line, column and reason.
func Parse(data []byte, name string) (*Definitions, error) {
	root, err := readDOM(data, name)
	if err != nil {
		return nil, err
	}
	if !root.isBPMN("definitions") {
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d:%d: root element is {%s}%s, want definitions in namespace %s",
			name, root.line, root.col, root.space, root.local, NS)
	}
	p := &parser{file: name, defs: &Definitions{
		File:            name,
		ID:              root.attr("id"),
		Name:            root.attr("name"),
		TargetNamespace: root.attr("targetNamespace"),
		Exporter:        strings.TrimSpace(root.attr("exporter") + " " + root.attr("exporterVersion")),
		Messages:        map[string]string{},
		Signals:         map[string]string{},
		Errors:          map[string]string{},
		Escalations:     map[string]string{},
	}, ids: map[string]int{}}
	p.definitions(root)
	return p.defs, nil
}

func readDOM(data []byte, name string) (*elem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []*elem
	var root *elem
	skip := 0
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			l, c := d.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				l = se.Line
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d:%d: malformed XML: %s", name, l, c, se.Msg)
			}
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d:%d: malformed XML: %v", name, l, c, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 {
				skip++
				continue
			}
			if diNamespaces[t.Name.Space] {
				skip = 1
				continue
			}
			if len(stack) >= maxDepth {
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d:%d: elements nested deeper than %d", name, line, col, maxDepth)
			}
			e := &elem{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr, line: line, col: col}
			if len(stack) == 0 {
				if root != nil {
					return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d:%d: more than one root element", name, line, col)
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if skip == 0 && len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s:1:1: no root element (empty or not XML)", name)
	}
	return root, nil
}

type parser struct {
	file string
	defs *Definitions
	ids  map[string]int // id → line of first definition
}

func (p *parser) warnf(line int, format string, args ...any) {
	p.defs.Warnings = append(p.defs.Warnings, fmt.Sprintf("%s:%d: ", p.file, line)+fmt.Sprintf(format, args...))
}

// id registers an element id and warns about duplicates.
func (p *parser) id(e *elem) string {
	id := e.attr("id")
	if id == "" {
		return ""
	}
	if first, dup := p.ids[id]; dup {
		p.warnf(e.line, "duplicate id %q (first defined on line %d)", id, first)
	} else {
		p.ids[id] = e.line
	}
	return id
}

func (p *parser) definitions(root *elem) {
	for _, c := range root.children {
		if c.space != NS {
			continue
		}
		switch c.local {
		case "process":
			p.defs.Processes = append(p.defs.Processes, p.process(c))
		case "collaboration":
			p.defs.Collaborations = append(p.defs.Collaborations, p.collaboration(c))
		case "message":
			p.defs.Messages[p.id(c)] = c.attr("name")
		case "signal":
			p.defs.Signals[p.id(c)] = c.attr("name")
		case "error":
			p.defs.Errors[p.id(c)] = c.attr("name")
		case "escalation":
			p.defs.Escalations[p.id(c)] = c.attr("name")
		default:
			p.id(c)
		}
	}
	// Name processes after their pools.
	for _, col := range p.defs.Collaborations {
		for _, part := range col.Participants {
			if pr := p.defs.Process(part.ProcessRef); pr != nil {
				pr.Participant = part.Name
				if pr.Name == "" {
					pr.Name = part.Name
				}
			} else if part.ProcessRef != "" {
				p.warnf(part.Line, "participant %q refers to unknown process %q", part.ID, part.ProcessRef)
			}
		}
	}
	for _, pr := range p.defs.Processes {
		p.check(pr)
	}
}

func (p *parser) collaboration(e *elem) *Collaboration {
	c := &Collaboration{ID: p.id(e), Name: e.attr("name")}
	for _, ch := range e.children {
		switch {
		case ch.isBPMN("participant"):
			c.Participants = append(c.Participants, Participant{ID: p.id(ch), Name: ch.attr("name"), ProcessRef: ch.attr("processRef"), Line: ch.line})
		case ch.isBPMN("messageFlow"):
			c.MessageFlows = append(c.MessageFlows, MessageFlow{ID: p.id(ch), Name: ch.attr("name"), SourceRef: ch.attr("sourceRef"), TargetRef: ch.attr("targetRef")})
		}
	}
	return c
}

func (p *parser) process(e *elem) *Process {
	pr := &Process{ID: p.id(e), Name: e.attr("name"), Executable: e.attr("isExecutable") == "true", Line: e.line}
	p.container(e, &pr.Container)
	for _, ls := range e.children {
		if ls.isBPMN("laneSet") {
			pr.Lanes = append(pr.Lanes, p.lanes(ls)...)
		}
	}
	// Assign lanes, innermost wins (children are visited after parents).
	var assign func(ls []*Lane)
	assign = func(ls []*Lane) {
		for _, l := range ls {
			for _, ref := range l.FlowNodeRefs {
				if n := pr.Node(ref); n != nil {
					n.Lane, n.LaneID = l.Name, l.ID
				} else {
					p.warnf(pr.Line, "lane %q lists unknown flow node %q", l.ID, ref)
				}
			}
			assign(l.Children)
		}
	}
	assign(pr.Lanes)
	return pr
}

func (p *parser) lanes(ls *elem) []*Lane {
	var out []*Lane
	for _, le := range ls.children {
		if !le.isBPMN("lane") {
			continue
		}
		l := &Lane{ID: p.id(le), Name: le.attr("name")}
		for _, c := range le.children {
			switch {
			case c.isBPMN("flowNodeRef"):
				l.FlowNodeRefs = append(l.FlowNodeRefs, c.textOf())
			case c.isBPMN("childLaneSet"):
				l.Children = append(l.Children, p.lanes(c)...)
			}
		}
		out = append(out, l)
	}
	return out
}

// nodeTypes are the flow node element names.
var nodeTypes = map[string]bool{
	"startEvent": true, "endEvent": true, "intermediateCatchEvent": true, "intermediateThrowEvent": true, "boundaryEvent": true,
	"task": true, "userTask": true, "manualTask": true, "serviceTask": true, "sendTask": true, "receiveTask": true,
	"scriptTask": true, "businessRuleTask": true, "callActivity": true,
	"exclusiveGateway": true, "parallelGateway": true, "inclusiveGateway": true, "eventBasedGateway": true, "complexGateway": true,
	"subProcess": true, "adHocSubProcess": true, "transaction": true,
}

// ignoredTypes carry no behaviour; they are counted.
var ignoredTypes = map[string]bool{
	"dataObject": true, "dataObjectReference": true, "dataStoreReference": true, "dataStore": true,
	"association": true, "textAnnotation": true, "group": true, "category": true,
	"property": true, "ioSpecification": true, "documentation": true, "extensionElements": true,
	"laneSet": true, "dataInputAssociation": true, "dataOutputAssociation": true,
	"incoming": true, "outgoing": true, "multiInstanceLoopCharacteristics": true, "standardLoopCharacteristics": true,
}

// Ignored types that the summary counts (the others are plumbing).
var countedIgnored = map[string]bool{
	"dataObject": true, "dataObjectReference": true, "dataStoreReference": true, "dataStore": true,
	"association": true, "textAnnotation": true, "group": true,
}

func (p *parser) container(e *elem, c *Container) {
	c.Ignored = map[string]int{}
	for _, ch := range e.children {
		if ch.space != NS {
			continue
		}
		switch {
		case ch.local == "sequenceFlow":
			f := &SequenceFlow{ID: p.id(ch), Name: ch.attr("name"), SourceRef: ch.attr("sourceRef"), TargetRef: ch.attr("targetRef"), Line: ch.line}
			if ce := ch.child("conditionExpression"); ce != nil {
				f.Condition = ce.textOf()
				f.Language = ce.attr("language")
			}
			c.Flows = append(c.Flows, f)
		case nodeTypes[ch.local]:
			c.Nodes = append(c.Nodes, p.node(ch))
		case ignoredTypes[ch.local]:
			p.id(ch)
			if countedIgnored[ch.local] {
				c.Ignored[ch.local]++
			}
		default:
			// Unknown BPMN element with an id: keep it as a generic node
			// so flows to it resolve; package process reports it.
			if ch.hasAttr("id") {
				p.warnf(ch.line, "unknown element %q (id %q) kept as a generic node", ch.local, ch.attr("id"))
				c.Nodes = append(c.Nodes, p.node(ch))
			} else {
				c.Ignored[ch.local]++
			}
		}
	}
}

func (p *parser) node(e *elem) *Node {
	n := &Node{ID: p.id(e), Name: e.attr("name"), Type: e.local, Line: e.line, Attrs: map[string]string{}, CancelActivity: true}
	for _, a := range e.attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		switch {
		case a.Name.Space == "" && (a.Name.Local == "id" || a.Name.Local == "name"):
		case a.Name.Space == "" && a.Name.Local == "attachedToRef":
			n.AttachedTo = a.Value
		case a.Name.Space == "" && a.Name.Local == "cancelActivity":
			n.CancelActivity = a.Value != "false"
		case a.Name.Space == "" && a.Name.Local == "default":
			n.Default = a.Value
		case a.Name.Space == "" && a.Name.Local == "triggeredByEvent":
			n.TriggeredByEvent = a.Value == "true"
		default:
			n.Attrs[attrKey(a.Name)] = a.Value
		}
	}
	for _, ch := range e.children {
		switch {
		case ch.space == NS && strings.HasSuffix(ch.local, "EventDefinition"):
			n.Events = append(n.Events, p.eventDef(ch))
		case ch.isBPMN("script"):
			n.Script = ch.text.String()
		case ch.isBPMN("documentation"):
			n.Documentation = ch.textOf()
		case ch.isBPMN("extensionElements"):
			p.extensions(ch, n)
		}
	}
	if n.Type == "subProcess" || n.Type == "adHocSubProcess" || n.Type == "transaction" {
		n.Sub = &Container{}
		p.container(e, n.Sub)
	}
	return n
}

func attrKey(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	if pfx, ok := vendorPrefix[n.Space]; ok {
		return pfx + ":" + n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

func (p *parser) eventDef(e *elem) EventDefinition {
	ed := EventDefinition{Kind: strings.TrimSuffix(e.local, "EventDefinition"), ID: p.id(e)}
	for _, a := range []string{"messageRef", "signalRef", "errorRef", "escalationRef"} {
		if v := e.attr(a); v != "" {
			ed.Ref = v
		}
	}
	if ed.Kind == "link" {
		ed.Ref = e.attr("name")
	}
	for _, c := range e.children {
		switch {
		case c.isBPMN("timeDuration"):
			ed.TimeDuration = c.textOf()
		case c.isBPMN("timeDate"):
			ed.TimeDate = c.textOf()
		case c.isBPMN("timeCycle"):
			ed.TimeCycle = c.textOf()
		case c.isBPMN("condition"):
			ed.Condition = c.textOf()
		}
	}
	return ed
}

func (p *parser) extensions(e *elem, n *Node) {
	for _, c := range e.children {
		pfx, known := vendorPrefix[c.space]
		if !known || pfx == "adonis" {
			continue // bulky tool data (ADONIS attributes, colours, …)
		}
		if c.local == "field" {
			if n.Fields == nil {
				n.Fields = map[string]string{}
			}
			v := c.attr("stringValue")
			if v == "" {
				v = c.attr("expression")
			}
			for _, cc := range c.children {
				if cc.local == "string" || cc.local == "expression" {
					v = cc.textOf()
				}
			}
			n.Fields[c.attr("name")] = v
			continue
		}
		x := Extension{Name: pfx + ":" + c.local, Attrs: map[string]string{}, Text: c.textOf()}
		for _, a := range c.attrs {
			x.Attrs[attrKey(a.Name)] = a.Value
		}
		n.Extensions = append(n.Extensions, x)
	}
}

// check adds warnings for structural problems of a process.
func (p *parser) check(pr *Process) {
	p.checkContainer(pr.ID, &pr.Container, pr.Line, true)
}

func (p *parser) checkContainer(where string, c *Container, line int, top bool) {
	ids := map[string]*Node{}
	starts := 0
	for _, n := range c.Nodes {
		ids[n.ID] = n
		if n.Type == "startEvent" {
			starts++
		}
	}
	for _, f := range c.Flows {
		if _, ok := ids[f.SourceRef]; !ok {
			p.warnf(f.Line, "sequence flow %q in %q starts at unknown node %q", f.ID, where, f.SourceRef)
		}
		if _, ok := ids[f.TargetRef]; !ok {
			p.warnf(f.Line, "sequence flow %q in %q ends at unknown node %q", f.ID, where, f.TargetRef)
		}
	}
	if starts == 0 && len(c.Nodes) > 0 {
		if top {
			p.warnf(line, "process %q has no start event", where)
		} else {
			p.warnf(line, "sub-process %q has no start event", where)
		}
	}
	for _, n := range c.Nodes {
		if n.Type == "boundaryEvent" {
			if _, ok := ids[n.AttachedTo]; !ok {
				p.warnf(n.Line, "boundary event %q is attached to unknown activity %q", n.ID, n.AttachedTo)
			}
		}
		if n.Sub != nil {
			p.checkContainer(n.ID, n.Sub, n.Line, false)
		}
	}
}
