// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"strings"
	"testing"
	"time"

	"rathaus"
)

func seq(ids ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(ids); i++ {
		b.WriteString(`<sequenceFlow id="f` + ids[i] + `_` + ids[i+1] + `" sourceRef="` + ids[i] + `" targetRef="` + ids[i+1] + `"/>`)
	}
	return b.String()
}

func TestElements(t *testing.T) {
	type tc struct {
		name string
		body string
		vars map[string]any
		run  func(h *harness)
	}
	tests := []tc{
		{"StartEnd", `<startEvent id="s"/><endEvent id="e"/>` + seq("s", "e"), nil, func(h *harness) {
			h.want(StatusCompleted)
		}},
		{"StartWithoutFlowEndsImplicitly", `<startEvent id="s"/>`, nil, func(h *harness) { h.want(StatusCompleted) }},
		{"UserTask", `<startEvent id="s"/><userTask id="u" name="Prüfen" activiti:assignee="${who}" activiti:candidateGroups="team" activiti:formKey="f1"/><endEvent id="e"/>` + seq("s", "u", "e"),
			map[string]any{"who": "anna"}, func(h *harness) {
				h.want(StatusRunning, "task:u")
				task := h.inst.TaskByNode("u")
				if task.Assignee != "anna" || task.CandidateGroups != "team" || task.FormKey != "f1" || task.Name != "Prüfen" {
					t.Errorf("task = %+v", task)
				}
				h.complete("u", map[string]any{"ok": true})
				h.want(StatusCompleted)
				if h.inst.Vars["ok"] != true {
					t.Errorf("vars = %v", h.inst.Vars)
				}
			}},
		{"ManualTask", `<startEvent id="s"/><manualTask id="m"/><endEvent id="e"/>` + seq("s", "m", "e"), nil, func(h *harness) {
			h.want(StatusRunning, "task:m")
			h.complete("m", nil)
			h.want(StatusCompleted)
		}},
		{"ServiceTaskAction", `<startEvent id="s"/><serviceTask id="a" rathaus:action="deliver"><extensionElements><rathaus:field name="to" expression="${dest}"/><rathaus:field name="mode" stringValue="x"/></extensionElements></serviceTask><endEvent id="e"/>` + seq("s", "a", "e"),
			map[string]any{"dest": "fitconnect"}, func(h *harness) {
				h.want(StatusRunning, "action:a")
				var ef Effect
				for _, e := range h.effects {
					if e.Kind == EffectRunAction {
						ef = e
					}
				}
				if ef.Action != ActionDeliver || ef.Params["to"] != "fitconnect" || ef.Params["mode"] != "x" {
					t.Errorf("effect = %+v", ef)
				}
				h.act("a", map[string]any{"delivered": true})
				h.want(StatusCompleted)
			}},
		{"SendTaskAndScriptTaskSetVariable", `<startEvent id="s"/><scriptTask id="sc" scriptFormat="groovy" rathaus:action="set_variable"><extensionElements><rathaus:field name="n" expression="${n + 1}"/></extensionElements><script>System.exit(1)</script></scriptTask><sendTask id="sd" rathaus:action="send_to_mailbox"/><endEvent id="e"/>` + seq("s", "sc", "sd", "e"),
			map[string]any{"n": 1}, func(h *harness) {
				h.want(StatusRunning, "action:sd")
				if h.inst.Vars["n"] != 2 {
					t.Errorf("n = %v", h.inst.Vars["n"])
				}
				h.act("sd", nil)
				h.want(StatusCompleted)
			}},
		{"ExclusiveConditionAndDefault", `<startEvent id="s"/><exclusiveGateway id="g" default="fd"/><userTask id="a"/><userTask id="b"/>
			<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
			<sequenceFlow id="fa" sourceRef="g" targetRef="a"><conditionExpression>${x gt 3}</conditionExpression></sequenceFlow>
			<sequenceFlow id="fd" sourceRef="g" targetRef="b"/>`, map[string]any{"x": 5}, func(h *harness) {
			h.want(StatusRunning, "task:a")
		}},
		{"ExclusiveDefault", `<startEvent id="s"/><exclusiveGateway id="g" default="fd"/><userTask id="a"/><userTask id="b"/>
			<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
			<sequenceFlow id="fa" sourceRef="g" targetRef="a"><conditionExpression>${x gt 3}</conditionExpression></sequenceFlow>
			<sequenceFlow id="fd" sourceRef="g" targetRef="b"/>`, map[string]any{"x": 1}, func(h *harness) {
			h.want(StatusRunning, "task:b")
		}},
		{"ExclusiveNoMatchFails", `<startEvent id="s"/><exclusiveGateway id="g"/><userTask id="a"/>
			<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
			<sequenceFlow id="fa" sourceRef="g" targetRef="a"><conditionExpression>${x == 'y'}</conditionExpression></sequenceFlow>`, nil, func(h *harness) {
			h.want(StatusFailed)
			if !strings.Contains(h.inst.Incident, "no outgoing flow of exclusive gateway g") {
				t.Errorf("incident = %q", h.inst.Incident)
			}
		}},
		{"ParallelForkJoin", `<startEvent id="s"/><parallelGateway id="fork"/><userTask id="a"/><userTask id="b"/><parallelGateway id="join"/><userTask id="after"/>` +
			seq("s", "fork") + seq("fork", "a", "join") + seq("fork", "b", "join") + seq("join", "after"), nil, func(h *harness) {
			h.want(StatusRunning, "task:a", "task:b")
			h.complete("a", nil)
			h.want(StatusRunning, "task:b", "join:join")
			h.complete("b", nil)
			h.want(StatusRunning, "task:after")
			h.complete("after", nil)
			h.want(StatusCompleted)
		}},
		{"TerminateEnd", `<startEvent id="s"/><parallelGateway id="fork"/><userTask id="a"/><userTask id="b"/><endEvent id="t"><terminateEventDefinition/></endEvent>` +
			seq("s", "fork") + seq("fork", "a", "t") + seq("fork", "b"), nil, func(h *harness) {
			h.want(StatusRunning, "task:a", "task:b")
			h.complete("a", nil)
			h.want(StatusCompleted)
			if !strings.Contains(h.effectKinds(), "cancel_task:b") {
				t.Errorf("task b not cancelled: %s", h.effectKinds())
			}
		}},
		{"IntermediateTimer", `<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>PT5M</timeDuration></timerEventDefinition></intermediateCatchEvent><endEvent id="e"/>` + seq("s", "w", "e"), nil, func(h *harness) {
			h.want(StatusRunning, "timer:w")
			if due := h.inst.OpenTimers()[0].Due; !due.Equal(t0.Add(5 * time.Minute)) {
				t.Errorf("due %v", due)
			}
			h.fire("w")
			h.want(StatusCompleted)
		}},
		{"TimerFromVariable", `<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>${wait}</timeDuration></timerEventDefinition></intermediateCatchEvent><endEvent id="e"/>` + seq("s", "w", "e"),
			map[string]any{"wait": "P2D"}, func(h *harness) {
				if due := h.inst.OpenTimers()[0].Due; !due.Equal(t0.AddDate(0, 0, 2)) {
					t.Errorf("due %v", due)
				}
			}},
		{"MessageCatch", `<startEvent id="s"/><intermediateCatchEvent id="m"><messageEventDefinition messageRef="M1"/></intermediateCatchEvent><endEvent id="e"/>` + seq("s", "m", "e"), nil, func(h *harness) {
			h.want(StatusRunning, "msg:m")
			h.message("answer", map[string]any{"text": "hier"})
			h.want(StatusCompleted)
		}},
		{"ReceiveTask", `<startEvent id="s"/><receiveTask id="r" messageRef="M1"/><endEvent id="e"/>` + seq("s", "r", "e"), nil, func(h *harness) {
			h.want(StatusRunning, "msg:r")
			h.message("answer", nil)
			h.want(StatusCompleted)
		}},
		{"EventBasedGatewayMessageWins", `<startEvent id="s"/><eventBasedGateway id="g"/>
			<intermediateCatchEvent id="m"><messageEventDefinition messageRef="M1"/></intermediateCatchEvent>
			<intermediateCatchEvent id="tm"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></intermediateCatchEvent>
			<userTask id="onMsg"/><userTask id="onTime"/>` + seq("s", "g") + seq("g", "m", "onMsg") + seq("g", "tm", "onTime"), nil, func(h *harness) {
			h.want(StatusRunning, "msg:m", "timer:tm")
			h.message("answer", nil)
			h.want(StatusRunning, "task:onMsg")
			if !strings.Contains(h.effectKinds(), "cancel_timer:tm") {
				t.Errorf("timer not cancelled: %s", h.effectKinds())
			}
		}},
		{"EventBasedGatewayTimerWins", `<startEvent id="s"/><eventBasedGateway id="g"/>
			<intermediateCatchEvent id="m"><messageEventDefinition messageRef="M1"/></intermediateCatchEvent>
			<intermediateCatchEvent id="tm"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></intermediateCatchEvent>
			<userTask id="onMsg"/><userTask id="onTime"/>` + seq("s", "g") + seq("g", "m", "onMsg") + seq("g", "tm", "onTime"), nil, func(h *harness) {
			h.fire("tm")
			h.want(StatusRunning, "task:onTime")
			if _, _, err := h.e.Message(context.Background(), h.def, h.inst, "answer", nil); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
				t.Errorf("late message: err = %v, want conflict", err)
			}
		}},
		{"BoundaryTimerInterrupting", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u"><timerEventDefinition><timeDuration>P14D</timeDuration></timerEventDefinition></boundaryEvent><userTask id="late"/><endEvent id="e"/>` +
			seq("s", "u", "e") + seq("b", "late"), nil, func(h *harness) {
			h.want(StatusRunning, "task:u", "timer:b")
			h.fire("b")
			h.want(StatusRunning, "task:late")
			if h.inst.Tasks[0].State != StateCancelled {
				t.Errorf("task u = %s, want cancelled", h.inst.Tasks[0].State)
			}
		}},
		{"BoundaryTimerNonInterrupting", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><timerEventDefinition><timeDuration>P7D</timeDuration></timerEventDefinition></boundaryEvent><serviceTask id="remind" rathaus:action="send_to_mailbox"/><endEvent id="e"/><endEvent id="e2"/>` +
			seq("s", "u", "e") + seq("b", "remind", "e2"), nil, func(h *harness) {
			h.fire("b")
			h.want(StatusRunning, "task:u", "action:remind")
			h.act("remind", nil)
			h.want(StatusRunning, "task:u")
			h.complete("u", nil)
			h.want(StatusCompleted)
		}},
		{"BoundaryTimerCycleReminds", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><timerEventDefinition><timeCycle>R3/P7D</timeCycle></timerEventDefinition></boundaryEvent><serviceTask id="remind" rathaus:action="send_to_mailbox"/><endEvent id="e"/><endEvent id="e2"/>` +
			seq("s", "u", "e") + seq("b", "remind", "e2"), nil, func(h *harness) {
			for i := 1; i <= 3; i++ {
				h.fire("b")
				h.act("remind", nil)
				if want := t0.AddDate(0, 0, 7*i); !h.now.Equal(want) {
					t.Errorf("firing %d at %v, want %v", i, h.now, want)
				}
			}
			h.want(StatusRunning, "task:u")
			h.complete("u", nil)
			h.want(StatusCompleted)
		}},
		{"BoundaryTimerCancelledOnCompletion", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u"><timerEventDefinition><timeDuration>P14D</timeDuration></timerEventDefinition></boundaryEvent><endEvent id="e"/><endEvent id="e2"/>` +
			seq("s", "u", "e") + seq("b", "e2"), nil, func(h *harness) {
			h.complete("u", nil)
			h.want(StatusCompleted)
			if !strings.Contains(h.effectKinds(), "cancel_timer:b") {
				t.Errorf("boundary timer not cancelled: %s", h.effectKinds())
			}
		}},
		{"BoundaryMessage", `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u"><messageEventDefinition messageRef="M1"/></boundaryEvent><userTask id="withdrawn"/><endEvent id="e"/>` +
			seq("s", "u", "e") + seq("b", "withdrawn"), nil, func(h *harness) {
			h.message("answer", nil)
			h.want(StatusRunning, "task:withdrawn")
		}},
		{"EmbeddedSubProcess", `<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/><userTask id="inner"/><subProcess id="sub2"><startEvent id="s2"/><userTask id="deep"/><endEvent id="e2"/>` + seq("s2", "deep", "e2") + `</subProcess><endEvent id="se"/>` + seq("ss", "inner", "sub2", "se") + `</subProcess><userTask id="after"/>` + seq("s", "sub", "after"), nil, func(h *harness) {
			h.want(StatusRunning, "task:inner")
			h.complete("inner", nil)
			h.want(StatusRunning, "task:deep")
			h.complete("deep", nil)
			h.want(StatusRunning, "task:after")
		}},
		{"SubProcessTerminateAndBoundary", `<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/><parallelGateway id="pf"/><userTask id="x"/><userTask id="y"/><endEvent id="te"><terminateEventDefinition/></endEvent>` + seq("ss", "pf") + seq("pf", "x", "te") + seq("pf", "y") + `</subProcess>
			<boundaryEvent id="bt" attachedToRef="sub"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></boundaryEvent><userTask id="after"/><userTask id="timeout"/>` + seq("s", "sub", "after") + seq("bt", "timeout"), nil, func(h *harness) {
			h.want(StatusRunning, "task:x", "task:y", "timer:bt")
			h.complete("x", nil)
			h.want(StatusRunning, "task:after")
		}},
		{"SubProcessInterruptedByBoundary", `<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/><userTask id="x"/><endEvent id="se"/>` + seq("ss", "x", "se") + `</subProcess>
			<boundaryEvent id="bt" attachedToRef="sub"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></boundaryEvent><userTask id="after"/><userTask id="timeout"/>` + seq("s", "sub", "after") + seq("bt", "timeout"), nil, func(h *harness) {
			h.fire("bt")
			h.want(StatusRunning, "task:timeout")
			if len(h.inst.Tokens) != 1 {
				t.Errorf("tokens = %+v", h.inst.Tokens)
			}
		}},
		{"LanesAreRoles", `<laneSet><lane id="l" name="Sachbearbeitung"><flowNodeRef>u</flowNodeRef></lane></laneSet><startEvent id="s"/><userTask id="u"/>` + seq("s", "u"), nil, func(h *harness) {
			if r := h.inst.TaskByNode("u").Role; r != "Sachbearbeitung" {
				t.Errorf("role = %q", r)
			}
			for _, e := range h.effects {
				if e.Kind == EffectCreateTask && e.Role != "Sachbearbeitung" {
					t.Errorf("effect role = %q", e.Role)
				}
			}
		}},
		{"HostileExpressionFails", `<startEvent id="s"/><scriptTask id="x" rathaus:action="set_variable"><extensionElements><rathaus:field name="big" expression="${len(1..100000000)}"/></extensionElements></scriptTask>` + seq("s", "x"), nil, func(h *harness) {
			h.want(StatusFailed)
			if !strings.Contains(h.inst.Incident, "memory budget") {
				t.Errorf("incident = %q", h.inst.Incident)
			}
		}},
		{"EndlessLoopFails", `<startEvent id="s"/><exclusiveGateway id="g"/><scriptTask id="x" rathaus:action="set_variable"/>` + seq("s", "g", "x", "g"), nil, func(h *harness) {
			h.want(StatusFailed)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := compileBody(t, tt.body, nil)
			h := newHarness(t, def, tt.vars)
			tt.run(h)
			// Every effect id is unique.
			seen := map[string]bool{}
			for _, e := range h.effects {
				if seen[e.ID] {
					t.Errorf("duplicate effect id %s", e.ID)
				}
				seen[e.ID] = true
			}
		})
	}
}

func TestStepErrors(t *testing.T) {
	def := compileBody(t, `<startEvent id="s"/><userTask id="u"/><endEvent id="e"/>`+seq("s", "u", "e"), nil)
	h := newHarness(t, def, nil)
	task := h.inst.TaskByNode("u")
	before := h.inst
	h.complete("u", nil)
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"DoubleComplete", func() error {
			_, _, err := h.e.CompleteTask(ctx, def, before, task.ID, nil)
			return nil2(err, h.e, def, h.inst, task.ID)
		}(), rathaus.ECONFLICT},
		{"UnknownTask", func() error { _, _, err := h.e.CompleteTask(ctx, def, before, "nope", nil); return err }(), rathaus.ENOTFOUND},
		{"NoSubscriber", func() error { _, _, err := h.e.Message(ctx, def, before, "answer", nil); return err }(), rathaus.ECONFLICT},
		{"UnknownTimer", func() error { _, _, err := h.e.FireTimer(ctx, def, before, "t99"); return err }(), rathaus.ECONFLICT},
		{"WrongVersion", func() error {
			other := *def
			other.Version = 7
			_, _, err := h.e.CompleteTask(ctx, &other, before, task.ID, nil)
			return err
		}(), rathaus.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rathaus.ErrorCode(tt.err); got != tt.code {
				t.Errorf("code = %q (%v), want %q", got, tt.err, tt.code)
			}
		})
	}
	if before.Status != StatusRunning || before.TaskByNode("u") == nil {
		t.Errorf("engine mutated the instance passed in")
	}
}

// nil2 completes the task on the already-completed instance: the first
// error is from the old instance (which still has it open, so it must
// succeed); the double completion is on the new state.
func nil2(first error, e *Engine, def *Definition, inst *Instance, taskID string) error {
	if first != nil {
		return first
	}
	_, _, err := e.CompleteTask(context.Background(), def, inst, taskID, nil)
	return err
}
