// SPDX-License-Identifier: EUPL-1.2

// Package storetest is the conformance suite every process.Store
// implementation runs (the in-memory one in package process, the SQL ones
// in sqlstore), so that they behave alike.
package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/bpmn"
	"rathaus/process"
)

// model is a small process with a user task (lane Sachbearbeitung), a
// boundary timer and an action.
const model = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:rathaus="urn:rathaus:bpmn" id="d" targetNamespace="urn:test">
  <process id="p" isExecutable="true">
    <laneSet><lane id="l" name="Sachbearbeitung"><flowNodeRef>u</flowNodeRef></lane></laneSet>
    <startEvent id="s"/>
    <userTask id="u" name="Prüfen"/>
    <boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><timerEventDefinition><timeDuration>P1D</timeDuration></timerEventDefinition></boundaryEvent>
    <serviceTask id="a" rathaus:action="deliver"/>
    <endEvent id="e"/><endEvent id="e2"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
    <sequenceFlow id="f2" sourceRef="u" targetRef="a"/>
    <sequenceFlow id="f3" sourceRef="a" targetRef="e"/>
    <sequenceFlow id="f4" sourceRef="b" targetRef="e2"/>
  </process>
</definitions>`

// Model returns the BPMN source the suite deploys (process id "p").
func Model() []byte { return []byte(model) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Run runs the suite. open returns a fresh, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) process.Store) {
	ctx := context.Background()
	d, err := bpmn.Parse(Model(), "storetest.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	def, _, err := process.Compile(d, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	def.Tenant, def.Key, def.Version = "091620000000", "p", 1
	n := 0
	eng := &process.Engine{Now: func() time.Time { return t0 }, NewID: func() string { n++; return "inst-" + string(rune('a'+n)) }}
	start := func(t *testing.T, s process.Store, tenant string) (*process.Instance, []process.Effect) {
		t.Helper()
		def.Tenant = tenant
		inst, effects, err := eng.Start(ctx, def, map[string]any{"amount": 12.5, "name": "Erika", "nested": map[string]any{"ok": true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateInstance(ctx, inst, effects); err != nil {
			t.Fatal(err)
		}
		return inst, effects
	}

	t.Run("DefinitionVersions", func(t *testing.T) {
		s := open(t)
		for want := 1; want <= 2; want++ {
			rec, err := s.SaveDefinition(ctx, process.DefinitionRecord{Tenant: "091620000000", Key: "p", ProcessID: "p", Source: Model(),
				Actions: process.ActionMap{"a": {Action: process.ActionDeliver, Params: map[string]string{"x": "${y}"}}}})
			if err != nil || rec.Version != want {
				t.Fatalf("save: version %d err %v, want %d", rec.Version, err, want)
			}
		}
		if rec, err := s.Definition(ctx, "091620000000", "p", 0); err != nil || rec.Version != 2 {
			t.Errorf("latest: %d %v", rec.Version, err)
		}
		rec, err := s.Definition(ctx, "091620000000", "p", 1)
		if err != nil || rec.Version != 1 || string(rec.Source) != model || rec.Actions["a"].Params["x"] != "${y}" || rec.ProcessID != "p" {
			t.Errorf("v1: %+v %v", rec, err)
		}
		for _, tc := range []struct {
			tenant, key string
			version     int
		}{{"091620000000", "p", 3}, {"091620000000", "q", 0}, {"053150000000", "p", 0}} {
			if _, err := s.Definition(ctx, tc.tenant, tc.key, tc.version); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("Definition(%v): %v, want not_found", tc, err)
			}
		}
		if rec, err := s.SaveDefinition(ctx, process.DefinitionRecord{Tenant: "053150000000", Key: "p", ProcessID: "p", Source: Model()}); err != nil || rec.Version != 1 {
			t.Errorf("other tenant starts at version 1: %d %v", rec.Version, err)
		}
	})

	t.Run("InstanceRoundTrip", func(t *testing.T) {
		s := open(t)
		inst, _ := start(t, s, "091620000000")
		got, err := s.Instance(ctx, "091620000000", inst.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(normal(t, inst), normal(t, got)); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if err := s.CreateInstance(ctx, inst, nil); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
			t.Errorf("duplicate create: %v", err)
		}
		if _, err := s.Instance(ctx, "053150000000", inst.ID); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
			t.Errorf("other tenant: %v, want not_found", err)
		}
	})

	t.Run("UpdateIsOptimisticAndCommitsEffects", func(t *testing.T) {
		s := open(t)
		inst, first := start(t, s, "091620000000")
		next, effects, err := eng.CompleteTask(ctx, def, inst, inst.OpenTasks()[0].ID, map[string]any{"ok": true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateInstance(ctx, next, effects, first[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateInstance(ctx, next, nil, ""); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
			t.Errorf("stale update: %v, want conflict", err)
		}
		got, _ := s.Instance(ctx, "091620000000", inst.ID)
		if got.Rev != next.Rev || got.Vars["ok"] != true {
			t.Errorf("stored rev %d vars %v", got.Rev, got.Vars)
		}
		pending, err := s.PendingEffects(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range pending {
			ids = append(ids, p.ID)
		}
		var want []string
		for _, e := range append(first[1:], effects...) {
			want = append(want, e.ID)
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("outbox (-want +got):\n%s", diff)
		}
		if p, _ := s.PendingEffects(ctx, 1); len(p) != 1 || p[0].ID != want[0] {
			t.Errorf("limit 1: %+v", p)
		}
		ghost := *next
		ghost.ID = "nope"
		if err := s.UpdateInstance(ctx, &ghost, nil, ""); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
			t.Errorf("update unknown: %v", err)
		}
	})

	t.Run("EffectsDoneAndErrors", func(t *testing.T) {
		s := open(t)
		_, effects := start(t, s, "091620000000")
		if err := s.RecordEffectError(ctx, "091620000000", effects[0].ID, "boom"); err != nil {
			t.Fatal(err)
		}
		p, _ := s.PendingEffects(ctx, 100)
		if len(p) != len(effects) || p[0].Attempts != 1 || p[0].LastError != "boom" {
			t.Errorf("after error: %+v", p)
		}
		for range 2 {
			if err := s.MarkEffectDone(ctx, "091620000000", effects[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		if p, _ := s.PendingEffects(ctx, 100); len(p) != len(effects)-1 {
			t.Errorf("after done: %d pending, want %d", len(p), len(effects)-1)
		}
		got := p[0].Effect
		if diff := cmp.Diff(normal(t, effects[0]), normal(t, got)); diff != "" {
			t.Errorf("effect round trip (-want +got):\n%s", diff)
		}
	})

	t.Run("DueTimersAndOpenTasks", func(t *testing.T) {
		s := open(t)
		a, _ := start(t, s, "091620000000")
		b, _ := start(t, s, "053150000000")
		if due, _ := s.DueTimers(ctx, t0.Add(23*time.Hour), 10); len(due) != 0 {
			t.Errorf("early: %+v", due)
		}
		due, err := s.DueTimers(ctx, t0.Add(24*time.Hour), 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("due: %+v %v", due, err)
		}
		if one, _ := s.DueTimers(ctx, t0.Add(48*time.Hour), 1); len(one) != 1 {
			t.Errorf("limit: %+v", one)
		}
		tasks, err := s.OpenTasks(ctx, "091620000000", "Sachbearbeitung")
		if err != nil || len(tasks) != 1 || tasks[0].Instance != a.ID || tasks[0].Node != "u" || tasks[0].Tenant != "091620000000" {
			t.Errorf("tasks: %+v %v", tasks, err)
		}
		if tasks, _ := s.OpenTasks(ctx, "091620000000", "Poststelle"); len(tasks) != 0 {
			t.Errorf("other role: %+v", tasks)
		}
		if tasks, _ := s.OpenTasks(ctx, "053150000000", ""); len(tasks) != 1 || tasks[0].Instance != b.ID {
			t.Errorf("other tenant: %+v", tasks)
		}
		// A completed instance has neither timers nor tasks.
		def.Tenant = "091620000000"
		next, eff, _ := eng.CompleteTask(ctx, def, a, a.OpenTasks()[0].ID, nil)
		next2, eff2, _ := eng.CompleteAction(ctx, def, next, next.OpenActions()[0].ID, nil)
		if err := s.UpdateInstance(ctx, next, eff, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateInstance(ctx, next2, eff2, ""); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueTimers(ctx, t0.Add(48*time.Hour), 10); len(due) != 1 || due[0].Instance != b.ID {
			t.Errorf("after completion: %+v", due)
		}
		if tasks, _ := s.OpenTasks(ctx, "091620000000", ""); len(tasks) != 0 {
			t.Errorf("after completion: %+v", tasks)
		}
	})
}

// normal re-encodes v through JSON so that stores may return numbers as
// float64 and times without monotonic readings.
func normal(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
