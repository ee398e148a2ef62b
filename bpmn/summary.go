// SPDX-License-Identifier: EUPL-1.2

package bpmn

import "fmt"

// Summary is what `rathaus bpmn inspect FILE --json` prints.
type Summary struct {
	Processes   []ProcessSummary `json:"processes"`
	Unsupported []Unsupported    `json:"unsupported"`
	Warnings    []string         `json:"warnings"`
}

// ProcessSummary counts the elements of one process by type.
type ProcessSummary struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Executable bool           `json:"executable"`
	Elements   map[string]int `json:"elements"`
}

// Unsupported is an element outside the executable subset.
type Unsupported struct {
	Process string `json:"process"`
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Reason  string `json:"reason"`
}

// Summary counts elements per process and lists those outside the
// executable subset (see CheckExecutable).
func (d *Definitions) Summary() Summary {
	s := Summary{Processes: []ProcessSummary{}, Unsupported: []Unsupported{}, Warnings: append([]string{}, d.Warnings...)}
	for _, pr := range d.Processes {
		ps := ProcessSummary{ID: pr.ID, Name: pr.Name, Executable: pr.Executable, Elements: map[string]int{}}
		var count func(c *Container)
		count = func(c *Container) {
			for _, n := range c.Nodes {
				ps.Elements[n.Type]++
				for _, ev := range n.Events {
					ps.Elements[ev.Kind+"EventDefinition"]++
				}
				if n.Sub != nil {
					count(n.Sub)
				}
			}
			if len(c.Flows) > 0 {
				ps.Elements["sequenceFlow"] += len(c.Flows)
			}
			for k, v := range c.Ignored {
				ps.Elements[k] += v
			}
		}
		count(&pr.Container)
		var lanes func(ls []*Lane)
		lanes = func(ls []*Lane) {
			for _, l := range ls {
				ps.Elements["lane"]++
				lanes(l.Children)
			}
		}
		lanes(pr.Lanes)
		s.Processes = append(s.Processes, ps)
		for _, u := range CheckExecutable(pr) {
			s.Unsupported = append(s.Unsupported, u)
		}
	}
	return s
}

// CheckExecutable lists the nodes of pr outside the executable subset of
// package process:
//
//   - startEvent without event definition; endEvent plain or terminate;
//   - intermediateCatchEvent with one timer (timeDuration or timeDate) or
//     message definition; intermediateThrowEvent without definition;
//   - boundaryEvent with a timer or message definition, interrupting or not;
//     a timeCycle (R3/P7D, R/P1D) only on a non-interrupting one;
//   - userTask, manualTask, receiveTask, serviceTask, sendTask, scriptTask,
//     businessRuleTask (the latter four bound to built-in actions; the
//     binding itself is checked by process.Compile);
//   - exclusiveGateway, parallelGateway, eventBasedGateway;
//   - embedded subProcess (not an event sub-process).
func CheckExecutable(pr *Process) []Unsupported {
	var out []Unsupported
	pr.Walk(func(n, _ *Node) {
		if reason := unsupportedReason(n); reason != "" {
			out = append(out, Unsupported{Process: pr.ID, Type: n.Type, ID: n.ID, Name: n.Name, Reason: reason})
		}
	})
	return out
}

func unsupportedReason(n *Node) string {
	kinds := func() string {
		if len(n.Events) == 0 {
			return ""
		}
		if len(n.Events) > 1 {
			return "multiple"
		}
		return n.Events[0].Kind
	}
	timerOK := func() string {
		ev := n.Events[0]
		if ev.TimeCycle != "" {
			if n.Type != "boundaryEvent" || n.CancelActivity {
				return "timer cycles are only executable on non-interrupting boundary events (reminders)"
			}
			return ""
		}
		if ev.TimeDuration == "" && ev.TimeDate == "" {
			return "timer without timeDuration or timeDate"
		}
		return ""
	}
	switch n.Type {
	case "startEvent":
		if k := kinds(); k != "" {
			return fmt.Sprintf("start event with %s trigger (only plain start events are executable)", k)
		}
	case "endEvent":
		if k := kinds(); k != "" && k != "terminate" {
			return fmt.Sprintf("end event with %s result (only plain and terminate end events are executable)", k)
		}
	case "intermediateThrowEvent":
		if k := kinds(); k != "" {
			return fmt.Sprintf("intermediate %s throw event is not executable (use a sendTask bound to an action)", k)
		}
	case "intermediateCatchEvent", "boundaryEvent":
		switch kinds() {
		case "timer":
			return timerOK()
		case "message":
			return ""
		case "":
			return "catch event without event definition"
		default:
			return fmt.Sprintf("%s event is not executable (only timer and message)", kinds())
		}
	case "userTask", "manualTask", "receiveTask", "serviceTask", "sendTask", "scriptTask", "businessRuleTask":
	case "exclusiveGateway", "parallelGateway", "eventBasedGateway":
	case "subProcess":
		if n.TriggeredByEvent {
			return "event sub-processes are not executable"
		}
	case "task":
		return "untyped task: make it a userTask, manualTask or serviceTask"
	case "callActivity":
		return "call activities are not executable (embed the sub-process)"
	case "inclusiveGateway", "complexGateway":
		return n.Type + " is not executable (use exclusive or parallel gateways)"
	case "adHocSubProcess", "transaction":
		return n.Type + " is not executable"
	default:
		return "unknown element"
	}
	return ""
}
