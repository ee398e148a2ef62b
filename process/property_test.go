// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"testing"
	"time"

	"pgregory.net/rapid"

	"rathaus"
)

// composite mixes parallel gateways, a sub-process with boundary timers,
// an event-based gateway and a loop.
const composite = `<startEvent id="s"/><parallelGateway id="fork"/>
<subProcess id="sub"><startEvent id="ss"/><userTask id="inner"/><exclusiveGateway id="again" default="fdone"/><endEvent id="se"/>
  <sequenceFlow id="a1" sourceRef="ss" targetRef="inner"/><sequenceFlow id="a2" sourceRef="inner" targetRef="again"/>
  <sequenceFlow id="a3" sourceRef="again" targetRef="inner"><conditionExpression>${complete == false}</conditionExpression></sequenceFlow>
  <sequenceFlow id="fdone" sourceRef="again" targetRef="se"/></subProcess>
<boundaryEvent id="late" attachedToRef="sub"><timerEventDefinition><timeDuration>P3D</timeDuration></timerEventDefinition></boundaryEvent>
<boundaryEvent id="nudge" attachedToRef="sub" cancelActivity="false"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></boundaryEvent>
<eventBasedGateway id="ebg"/><intermediateCatchEvent id="msg"><messageEventDefinition messageRef="M1"/></intermediateCatchEvent>
<intermediateCatchEvent id="tmo"><timerEventDefinition><timeDuration>PT5M</timeDuration></timerEventDefinition></intermediateCatchEvent>
<serviceTask id="act" rathaus:action="deliver"/><parallelGateway id="join"/><userTask id="final"/><endEvent id="e"/>
<manualTask id="nudged"/><endEvent id="e2"/><endEvent id="killed"><terminateEventDefinition/></endEvent>` +
	`<sequenceFlow id="b1" sourceRef="s" targetRef="fork"/><sequenceFlow id="b2" sourceRef="fork" targetRef="sub"/><sequenceFlow id="b3" sourceRef="fork" targetRef="ebg"/>
<sequenceFlow id="b4" sourceRef="ebg" targetRef="msg"/><sequenceFlow id="b5" sourceRef="ebg" targetRef="tmo"/>
<sequenceFlow id="b6" sourceRef="msg" targetRef="act"/><sequenceFlow id="b7" sourceRef="tmo" targetRef="act"/>
<sequenceFlow id="b8" sourceRef="act" targetRef="join"/><sequenceFlow id="b9" sourceRef="sub" targetRef="join"/>
<sequenceFlow id="b10" sourceRef="join" targetRef="final"/><sequenceFlow id="b11" sourceRef="final" targetRef="e"/>
<sequenceFlow id="b12" sourceRef="nudge" targetRef="nudged"/><sequenceFlow id="b13" sourceRef="nudged" targetRef="e2"/>
<sequenceFlow id="b14" sourceRef="late" targetRef="killed"/>`

func TestPropertyRandomEvents(t *testing.T) {
	universal, _, err := CompileUniversal(nil)
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]*Definition{"universal": universal, "composite": compileBody(t, composite, nil)}
	rapid.Check(t, func(rt *rapid.T) {
		name := rapid.SampledFrom([]string{"universal", "composite"}).Draw(rt, "def")
		def := defs[name]
		now := t0
		e := &Engine{Now: func() time.Time { return now }}
		ctx := context.Background()
		inst, effects, err := e.Start(ctx, def, map[string]any{"amount": rapid.IntRange(0, 1000).Draw(rt, "amount")})
		if err != nil {
			rt.Fatal(err)
		}
		seen := map[string]bool{}
		doneTasks := map[string]bool{}
		check := func() {
			for _, ef := range effects {
				if seen[ef.ID] {
					rt.Fatalf("effect id %s repeated", ef.ID)
				}
				seen[ef.ID] = true
			}
			for _, tok := range inst.Tokens {
				if def.Node(tok.Node) == nil {
					rt.Fatalf("token %s on unknown node %q", tok.ID, tok.Node)
				}
			}
			for _, task := range inst.Tasks {
				if doneTasks[task.ID] && task.State == StateOpen {
					rt.Fatalf("task %s reopened", task.ID)
				}
				if task.State != StateOpen {
					doneTasks[task.ID] = true
				}
			}
			switch inst.Status {
			case StatusCompleted:
				if len(inst.Tokens) != 0 || len(inst.OpenTasks()) != 0 || len(inst.OpenTimers()) != 0 || len(inst.OpenWaits()) != 0 {
					rt.Fatalf("completed instance still has tokens %v tasks %v timers %v", inst.Tokens, inst.OpenTasks(), inst.OpenTimers())
				}
			case StatusRunning:
				joining := 0
				for _, k := range inst.Tokens {
					if k.Joining {
						joining++
					}
				}
				if len(inst.OpenTasks())+len(inst.OpenTimers())+len(inst.OpenWaits())+len(inst.OpenActions()) == 0 {
					rt.Fatalf("running instance waits for nothing: tokens %+v", inst.Tokens)
				}
				if len(inst.Tokens) == 0 {
					rt.Fatalf("running instance without tokens")
				}
			case StatusFailed:
				if inst.Incident == "" {
					rt.Fatalf("failed without incident")
				}
			}
		}
		check()
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := 0; i < steps && inst.Status == StatusRunning; i++ {
			var next *Instance
			var eff []Effect
			var err error
			switch rapid.IntRange(0, 4).Draw(rt, "kind") {
			case 0: // complete a task
				open := inst.OpenTasks()
				if len(open) == 0 {
					continue
				}
				task := rapid.SampledFrom(open).Draw(rt, "task")
				vars := map[string]any{
					"complete": rapid.Bool().Draw(rt, "complete"),
					"decision": rapid.SampledFrom([]string{"approve", "reject"}).Draw(rt, "decision"),
				}
				next, eff, err = e.CompleteTask(ctx, def, inst, task.ID, vars)
				if err == nil {
					if _, _, err2 := e.CompleteTask(ctx, def, next, task.ID, vars); err2 == nil {
						rt.Fatalf("task %s completed twice", task.ID)
					}
				}
			case 1: // message
				next, eff, err = e.Message(ctx, def, inst, rapid.SampledFrom([]string{"citizen answered", "answer", "nobody"}).Draw(rt, "msg"), nil)
			case 2: // timer
				open := inst.OpenTimers()
				if len(open) == 0 {
					continue
				}
				tm := rapid.SampledFrom(open).Draw(rt, "timer")
				if tm.Due.After(now) {
					now = tm.Due
				}
				next, eff, err = e.FireTimer(ctx, def, inst, tm.ID)
			case 3: // action done
				open := inst.OpenActions()
				if len(open) == 0 {
					continue
				}
				a := rapid.SampledFrom(open).Draw(rt, "action")
				next, eff, err = e.CompleteAction(ctx, def, inst, a.ID, nil)
			case 4: // a bogus event
				next, eff, err = e.FireTimer(ctx, def, inst, "t0")
			}
			if err != nil {
				if c := rathaus.ErrorCode(err); c != rathaus.ECONFLICT && c != rathaus.ENOTFOUND {
					rt.Fatalf("unexpected error %v", err)
				}
				continue
			}
			inst, effects = next, eff
			check()
		}
	})
}
