// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus/process"
	"rathaus/sqlstore/sqltest"
)

// stepModel forks into two user tasks; b has an interrupting boundary timer
// (P1D) and a non-interrupting cyclic one (R2/P1D), a joins to "after".
const stepModel = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:test">
  <process id="p" isExecutable="true">
    <startEvent id="s"/><parallelGateway id="fork"/><userTask id="a"/><userTask id="b"/>
    <boundaryEvent id="late" attachedToRef="b"><timerEventDefinition><timeDuration>P3D</timeDuration></timerEventDefinition></boundaryEvent>
    <boundaryEvent id="nag" attachedToRef="b" cancelActivity="false"><timerEventDefinition><timeCycle>R2/P1D</timeCycle></timerEventDefinition></boundaryEvent>
    <userTask id="remind"/><userTask id="escalated"/><parallelGateway id="join"/><userTask id="after"/><endEvent id="e"/><endEvent id="e2"/><endEvent id="e3"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="fork"/>
    <sequenceFlow id="f2" sourceRef="fork" targetRef="a"/>
    <sequenceFlow id="f3" sourceRef="fork" targetRef="b"/>
    <sequenceFlow id="f4" sourceRef="a" targetRef="join"/>
    <sequenceFlow id="f5" sourceRef="b" targetRef="join"/>
    <sequenceFlow id="f6" sourceRef="join" targetRef="after"/>
    <sequenceFlow id="f7" sourceRef="after" targetRef="e"/>
    <sequenceFlow id="f8" sourceRef="nag" targetRef="remind"/>
    <sequenceFlow id="f9" sourceRef="remind" targetRef="e2"/>
    <sequenceFlow id="f10" sourceRef="late" targetRef="escalated"/>
    <sequenceFlow id="f11" sourceRef="escalated" targetRef="e3"/>
  </process>
</definitions>`

// TestProcessStepRows checks that the task and timer rows a step rewrites
// (only those that changed, UpdateInstanceFrom) always equal the open tasks
// and timers of the stored instance, through forks, timers firing,
// cancelled timers and the end, on both dialects, prepared or not.
func TestProcessStepRows(t *testing.T) {
	ctx := context.Background()
	const ars = "091620000000"
	for _, d := range sqltest.Dialects(t) {
		for _, prepared := range []bool{false, true} {
			name := d
			if prepared {
				name += "/prepared"
			}
			t.Run(name, func(t *testing.T) {
				s := sqltest.Open(t, d).Process()
				if prepared {
					if err := s.Prepare(ctx); err != nil {
						t.Fatal(err)
					}
				}
				now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
				r := process.NewRunner(s, &process.Engine{Now: func() time.Time { return now }})
				if _, _, err := r.Deploy(ctx, ars, "steps", []byte(stepModel), "p", nil); err != nil {
					t.Fatal(err)
				}
				inst, err := r.Start(ctx, ars, "steps", nil)
				if err != nil {
					t.Fatal(err)
				}
				check := func(step string) *process.Instance {
					t.Helper()
					cur, err := s.Instance(ctx, ars, inst.ID)
					if err != nil {
						t.Fatal(err)
					}
					var wantTasks, gotTasks, wantTimers, gotTimers []string
					if cur.Status == process.StatusRunning {
						for _, tk := range cur.OpenTasks() {
							wantTasks = append(wantTasks, tk.ID+"@"+tk.Node)
						}
						for _, tm := range cur.OpenTimers() {
							wantTimers = append(wantTimers, tm.ID+"@"+tm.Due.UTC().Format(time.RFC3339))
						}
					}
					refs, err := s.OpenTasks(ctx, ars, "")
					if err != nil {
						t.Fatal(err)
					}
					for _, ref := range refs {
						gotTasks = append(gotTasks, ref.ID+"@"+ref.Node)
					}
					due, err := s.DueTimers(ctx, now.AddDate(1, 0, 0), 100)
					if err != nil {
						t.Fatal(err)
					}
					for _, tm := range due {
						gotTimers = append(gotTimers, tm.Timer+"@"+tm.Due.UTC().Format(time.RFC3339))
					}
					for _, l := range [][]string{wantTasks, gotTasks, wantTimers, gotTimers} {
						slices.Sort(l)
					}
					if diff := cmp.Diff(wantTasks, gotTasks); diff != "" {
						t.Errorf("%s: task rows (-instance +rows):\n%s", step, diff)
					}
					if diff := cmp.Diff(wantTimers, gotTimers); diff != "" {
						t.Errorf("%s: timer rows (-instance +rows):\n%s", step, diff)
					}
					return cur
				}
				task := func(cur *process.Instance, node string) string {
					t.Helper()
					if tk := cur.TaskByNode(node); tk != nil {
						return tk.ID
					}
					t.Fatalf("no open task at %s", node)
					return ""
				}
				cur := check("start")
				if len(cur.OpenTimers()) != 2 {
					t.Fatalf("open timers = %d, want 2", len(cur.OpenTimers()))
				}
				// The cyclic timer fires: the reminder task opens, the timer is rescheduled.
				now = now.Add(25 * time.Hour)
				if n, err := r.FireDueTimers(ctx, now); err != nil || n != 1 {
					t.Fatalf("FireDueTimers = %d, %v", n, err)
				}
				cur = check("nag fired")
				if _, err := r.CompleteTask(ctx, ars, inst.ID, task(cur, "remind"), nil); err != nil {
					t.Fatal(err)
				}
				cur = check("reminder done")
				if _, err := r.CompleteTask(ctx, ars, inst.ID, task(cur, "a"), nil); err != nil {
					t.Fatal(err)
				}
				cur = check("a done")
				// b done: both boundary timers are cancelled.
				if _, err := r.CompleteTask(ctx, ars, inst.ID, task(cur, "b"), nil); err != nil {
					t.Fatal(err)
				}
				cur = check("b done")
				if len(cur.OpenTimers()) != 0 {
					t.Errorf("open timers after b = %d", len(cur.OpenTimers()))
				}
				if _, err := r.CompleteTask(ctx, ars, inst.ID, task(cur, "after"), nil); err != nil {
					t.Fatal(err)
				}
				if cur = check("end"); cur.Status != process.StatusCompleted {
					t.Errorf("status = %s", cur.Status)
				}
			})
		}
	}
}

// TestProcessInstanceReadsIndependent: instances read again (decoded once,
// then copied) are equal and independent of what earlier readers changed,
// and a new state is read as such.
func TestProcessInstanceReadsIndependent(t *testing.T) {
	ctx := context.Background()
	const ars = "091620000000"
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			s := sqltest.Open(t, d).Process()
			r := process.NewRunner(s, nil)
			if _, _, err := r.Deploy(ctx, ars, "steps", []byte(stepModel), "p", nil); err != nil {
				t.Fatal(err)
			}
			inst, err := r.Start(ctx, ars, "steps", map[string]any{"nested": map[string]any{"list": []any{"a"}}})
			if err != nil {
				t.Fatal(err)
			}
			first, err := s.Instance(ctx, ars, inst.ID)
			if err != nil {
				t.Fatal(err)
			}
			first.Vars["nested"].(map[string]any)["list"].([]any)[0] = "changed"
			first.Vars["top"] = true
			first.Tasks[0].State = process.StateDone
			second, err := s.Instance(ctx, ars, inst.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := second.Vars["nested"].(map[string]any)["list"].([]any)[0]; got != "a" || second.Vars["top"] != nil || second.Tasks[0].State != process.StateOpen {
				t.Fatalf("second read sees the first reader's changes: %v", second.Vars)
			}
			if _, err := r.CompleteTask(ctx, ars, inst.ID, second.TaskByNode("a").ID, map[string]any{"x": "y"}); err != nil {
				t.Fatal(err)
			}
			third, err := s.Instance(ctx, ars, inst.ID)
			if err != nil {
				t.Fatal(err)
			}
			if third.Rev != second.Rev+1 || third.Vars["x"] != "y" || third.TaskByNode("a") != nil {
				t.Errorf("after the step: rev %d (want %d), vars %v", third.Rev, second.Rev+1, third.Vars)
			}
		})
	}
}
