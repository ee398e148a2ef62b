// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rathaus"
	"rathaus/bpmn"
	"rathaus/internal/testenv"
)

func TestCompileProblems(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		actions ActionMap
		want    []string // substrings of problem reasons, in any order
	}{
		{"UnboundServiceTask", `<startEvent id="s"/><serviceTask id="x" activiti:class="a.B"/>` + seq("s", "x"), nil,
			[]string{`not bound to a built-in action (activiti:class=a.B)`}},
		{"BoundByClass", `<startEvent id="s"/><serviceTask id="x" activiti:class="a.B"/>` + seq("s", "x"), ActionMap{"a.B": {Action: ActionDeliver}}, nil},
		{"BoundByName", `<startEvent id="s"/><sendTask id="x" name="Senden"/>` + seq("s", "x"), ActionMap{"Senden": {Action: ActionSendToMailbox}}, nil},
		{"UnknownAction", `<startEvent id="s"/><serviceTask id="x" rathaus:action="rm_rf"/>` + seq("s", "x"), nil, []string{`unknown action "rm_rf"`}},
		{"ScriptTaskNeverRuns", `<startEvent id="s"/><scriptTask id="x" scriptFormat="groovy"><script>evil()</script></scriptTask>` + seq("s", "x"), nil, []string{"not bound to a built-in action"}},
		{"BadCondition", `<startEvent id="s"/><exclusiveGateway id="g"/><endEvent id="e"/><sequenceFlow id="f" sourceRef="s" targetRef="g"/><sequenceFlow id="c" sourceRef="g" targetRef="e"><conditionExpression>${a ==}</conditionExpression></sequenceFlow>`, nil, []string{"condition ${a ==}"}},
		{"ScriptCondition", `<startEvent id="s"/><exclusiveGateway id="g"/><endEvent id="e"/><sequenceFlow id="f" sourceRef="s" targetRef="g"/><sequenceFlow id="c" sourceRef="g" targetRef="e"><conditionExpression language="javascript">next(null, true)</conditionExpression></sequenceFlow>`, nil, []string{`condition in language "javascript"`}},
		{"BadTimer", `<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>14 days</timeDuration></timerEventDefinition></intermediateCatchEvent>` + seq("s", "w"), nil, []string{`duration "14 days"`}},
		{"TimerCycle", `<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition><timeCycle>R3/PT1H</timeCycle></timerEventDefinition></intermediateCatchEvent>` + seq("s", "w"), nil, []string{"timer cycles are only executable on non-interrupting boundary events"}},
		{"BadCycle", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><timerEventDefinition><timeCycle>R0/PT1S</timeCycle></timerEventDefinition></boundaryEvent>` + seq("s", "u"), nil, []string{"bad repetition count"}},
		{"TooFastCycle", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><timerEventDefinition><timeCycle>R/PT1S</timeCycle></timerEventDefinition></boundaryEvent>` + seq("s", "u"), nil, []string{"shorter than a minute"}},
		{"NoStart", `<userTask id="u"/>`, nil, []string{"no plain start event"}},
		{"TwoStarts", `<startEvent id="s1"/><startEvent id="s2"/>`, nil, []string{"2 plain start events"}},
		{"FlowToUnknown", `<startEvent id="s"/>` + seq("s", "ghost"), nil, []string{`connects unknown nodes "s" → "ghost"`}},
		{"BoundaryOnGateway", `<startEvent id="s"/><exclusiveGateway id="g"/><boundaryEvent id="b" attachedToRef="g"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></boundaryEvent>` + seq("s", "g"), nil, []string{"boundary event must be attached"}},
		{"EventGatewayToTask", `<startEvent id="s"/><eventBasedGateway id="g"/><userTask id="a"/><userTask id="b"/>` + seq("s", "g", "a") + seq("g", "b"), nil, []string{"event-based gateway must lead to timer or message catch events"}},
		{"BadDefault", `<startEvent id="s"/><exclusiveGateway id="g" default="nope"/>` + seq("s", "g"), nil, []string{`default flow "nope"`}},
		{"InclusiveAndCallActivity", `<startEvent id="s"/><inclusiveGateway id="g"/><callActivity id="c" calledElement="x"/><task id="t"/>` + seq("s", "g", "c", "t"), nil,
			[]string{"inclusiveGateway is not executable", "call activities are not executable", "untyped task"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := bpmn.Parse([]byte(wrap(tt.body)), "t.bpmn")
			if err != nil {
				t.Fatal(err)
			}
			def, problems, err := Compile(d, "p", tt.actions)
			if len(tt.want) == 0 {
				if err != nil || def == nil {
					t.Fatalf("err %v problems %v", err, problems)
				}
				return
			}
			if err == nil || def != nil || rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("compiled; want problems %v", tt.want)
			}
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			joined := strings.Join(all, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("problems lack %q:\n%s", w, joined)
				}
			}
		})
	}
}

// TestSharedModelsAreReported compiles every process of the shared
// (documentation) models: each either compiles or lists its problems; none
// is silently accepted with unsupported elements.
func TestSharedModelsAreReported(t *testing.T) {
	dir := testenv.SharedData(t, "bpmn/mik-brandenburg")
	files, _ := filepath.Glob(filepath.Join(dir, "*.bpmn"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := bpmn.Parse(data, filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Processes {
			unsupported := bpmn.CheckExecutable(p)
			def, problems, err := Compile(d, p.ID, nil)
			if len(unsupported) > 0 && (err == nil || def != nil || len(problems) < len(unsupported)) {
				t.Errorf("%s/%s: %d unsupported elements but compile err=%v problems=%d", filepath.Base(f), p.ID, len(unsupported), err, len(problems))
			}
		}
	}
}

func TestPoolIsRoleOutsideLanes(t *testing.T) {
	src := `<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <collaboration id="c"><participant id="pa" name="Bürgeramt" processRef="p"/></collaboration>
  <process id="p" isExecutable="true"><startEvent id="s"/><userTask id="u"/>` + seq("s", "u") + `</process></definitions>`
	d, err := bpmn.Parse([]byte(src), "pool.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	def, _, err := Compile(d, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, def, nil)
	if r := h.inst.TaskByNode("u").Role; r != "Bürgeramt" {
		t.Errorf("role = %q, want the pool name", r)
	}
}
