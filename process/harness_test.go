// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"rathaus/bpmn"
)

// wrap puts process content into a definitions document.
func wrap(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:rathaus="urn:rathaus:bpmn"
  xmlns:activiti="http://activiti.org/bpmn" id="d" targetNamespace="urn:test">
  <message id="M1" name="answer"/>
  <process id="p" isExecutable="true">` + body + `</process>
</definitions>`
}

func compileBody(t *testing.T, body string, actions ActionMap) *Definition {
	t.Helper()
	d, err := bpmn.Parse([]byte(wrap(body)), "test.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	def, problems, err := Compile(d, "p", actions)
	if err != nil {
		t.Fatalf("Compile: %v %v", err, problems)
	}
	return def
}

// harness drives one instance through the engine with a fake clock.
type harness struct {
	t       *testing.T
	e       *Engine
	now     time.Time
	def     *Definition
	inst    *Instance
	effects []Effect
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, def *Definition, vars map[string]any) *harness {
	t.Helper()
	h := &harness{t: t, now: t0, def: def}
	n := 0
	h.e = &Engine{Now: func() time.Time { return h.now }, NewID: func() string { n++; return fmt.Sprintf("i%d", n) }}
	inst, eff, err := h.e.Start(context.Background(), def, vars)
	if err != nil {
		t.Fatal(err)
	}
	h.inst, h.effects = inst, eff
	return h
}

func (h *harness) step(inst *Instance, eff []Effect, err error) error {
	h.t.Helper()
	if err != nil {
		return err
	}
	if inst.Rev != h.inst.Rev+1 {
		h.t.Fatalf("rev %d after %d", inst.Rev, h.inst.Rev)
	}
	h.inst, h.effects = inst, append(h.effects, eff...)
	return nil
}

func (h *harness) complete(node string, vars map[string]any) {
	h.t.Helper()
	task := h.inst.TaskByNode(node)
	if task == nil {
		h.t.Fatalf("no open task at %s; waiting at %v", node, h.waiting())
	}
	if err := h.step(h.e.CompleteTask(context.Background(), h.def, h.inst, task.ID, vars)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) message(name string, vars map[string]any) {
	h.t.Helper()
	if err := h.step(h.e.Message(context.Background(), h.def, h.inst, name, vars)); err != nil {
		h.t.Fatal(err)
	}
}

// fire advances the clock to the timer at node and fires it.
func (h *harness) fire(node string) {
	h.t.Helper()
	for _, tm := range h.inst.OpenTimers() {
		if tm.Node == node {
			if tm.Due.After(h.now) {
				h.now = tm.Due
			}
			if err := h.step(h.e.FireTimer(context.Background(), h.def, h.inst, tm.ID)); err != nil {
				h.t.Fatal(err)
			}
			return
		}
	}
	h.t.Fatalf("no open timer at %s; waiting at %v", node, h.waiting())
}

// act completes the open action at node.
func (h *harness) act(node string, vars map[string]any) {
	h.t.Helper()
	for _, a := range h.inst.OpenActions() {
		if a.Node == node {
			if err := h.step(h.e.CompleteAction(context.Background(), h.def, h.inst, a.ID, vars)); err != nil {
				h.t.Fatal(err)
			}
			return
		}
	}
	h.t.Fatalf("no open action at %s; waiting at %v", node, h.waiting())
}

// waiting lists where the instance waits: task:node, timer:node,
// msg:node, action:node, join:node; sorted.
func (h *harness) waiting() []string {
	var w []string
	for _, t := range h.inst.OpenTasks() {
		w = append(w, "task:"+t.Node)
	}
	for _, t := range h.inst.OpenTimers() {
		w = append(w, "timer:"+t.Node)
	}
	for _, x := range h.inst.OpenWaits() {
		w = append(w, "msg:"+x.Node)
	}
	for _, a := range h.inst.OpenActions() {
		w = append(w, "action:"+a.Node)
	}
	for _, k := range h.inst.Tokens {
		if k.Joining {
			w = append(w, "join:"+k.Node)
		}
	}
	slices.Sort(w)
	return w
}

func (h *harness) want(status Status, waiting ...string) {
	h.t.Helper()
	slices.Sort(waiting)
	if got := h.waiting(); !slices.Equal(got, waiting) || h.inst.Status != status {
		h.t.Fatalf("status %s waiting %v, want %s waiting %v (incident %q)", h.inst.Status, got, status, waiting, h.inst.Incident)
	}
}

func (h *harness) effectKinds() string {
	var k []string
	for _, e := range h.effects {
		k = append(k, string(e.Kind)+":"+e.Node)
	}
	return strings.Join(k, " ")
}
