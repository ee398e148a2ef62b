// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rathaus"
	"rathaus/bpmn"
	"rathaus/internal/testenv"
)

// env is a runner over a MemStore with recording handlers and a fake clock.
type testEnv struct {
	t      *testing.T
	ctx    context.Context
	now    time.Time
	store  *MemStore
	runner *Runner
	calls  []ActionCall
}

func newTestEnv(t *testing.T) *testEnv {
	te := &testEnv{t: t, ctx: context.Background(), now: t0, store: NewMemStore()}
	te.runner = NewRunner(te.store, &Engine{Now: func() time.Time { return te.now }})
	record := func(out func(ActionCall) map[string]any) ActionHandler {
		return func(ctx context.Context, c ActionCall) (map[string]any, error) {
			te.calls = append(te.calls, c)
			if out == nil {
				return nil, nil
			}
			return out(c), nil
		}
	}
	te.runner.Handle(ActionRequestInformation, record(nil))
	te.runner.Handle(ActionSendToMailbox, record(nil))
	te.runner.Handle(ActionDeliver, record(nil))
	te.runner.Handle(ActionCallRegister, record(nil))
	te.runner.Handle(ActionGenerateNotice, record(func(c ActionCall) map[string]any {
		return map[string]any{"notice": "bescheid-" + fmt.Sprint(c.Params["template"]) + ".pdf"}
	}))
	return te
}

func (te *testEnv) drain() {
	te.t.Helper()
	if err := te.runner.Drain(te.ctx); err != nil {
		te.t.Fatal(err)
	}
}

func (te *testEnv) inst(id string) *Instance {
	te.t.Helper()
	inst, err := te.store.Instance(te.ctx, "09162000", id)
	if err != nil {
		te.t.Fatal(err)
	}
	return inst
}

func (te *testEnv) complete(id, node string, vars map[string]any) {
	te.t.Helper()
	task := te.inst(id).TaskByNode(node)
	if task == nil {
		te.t.Fatalf("no open task at %s: %s", node, te.where(id))
	}
	if _, err := te.runner.CompleteTask(te.ctx, "09162000", id, task.ID, vars); err != nil {
		te.t.Fatal(err)
	}
	te.drain()
}

func (te *testEnv) advance(d time.Duration) {
	te.t.Helper()
	te.now = te.now.Add(d)
	if _, err := te.runner.FireDueTimers(te.ctx, te.now); err != nil {
		te.t.Fatal(err)
	}
	te.drain()
}

func (te *testEnv) where(id string) string {
	inst := te.inst(id)
	var w []string
	for _, t := range inst.OpenTasks() {
		w = append(w, "task:"+t.Node)
	}
	for _, x := range inst.OpenWaits() {
		w = append(w, "msg:"+x.Node)
	}
	for _, a := range inst.OpenActions() {
		w = append(w, "action:"+a.Node)
	}
	slices.Sort(w)
	return string(inst.Status) + " " + strings.Join(w, ",")
}

func (te *testEnv) actions() string {
	var a []string
	for _, c := range te.calls {
		a = append(a, c.Node)
	}
	return strings.Join(a, ",")
}

func TestUniversalPaths(t *testing.T) {
	tests := []struct {
		name        string
		rules       string // expression for task "rules", "" = default (manual)
		vars        map[string]any
		run         func(te *testEnv, id string)
		wantActions string
		wantNotice  string
	}{
		{name: "CompleteApprovedByCaseworker", run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": true})
			te.complete(id, "decide", map[string]any{"decision": "approve"})
		}, wantActions: "notice_approval,to_mailbox", wantNotice: "bescheid-approval.pdf"},
		{name: "CompleteRejectedByCaseworker", run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": true})
			te.complete(id, "decide", map[string]any{"decision": "reject"})
		}, wantActions: "notice_rejection,to_mailbox", wantNotice: "bescheid-rejection.pdf"},
		{name: "AutomaticallyApprovedByRules", rules: "${amount <= 500 ? 'approve' : 'manual'}", vars: map[string]any{"amount": 120}, run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": true})
		}, wantActions: "notice_approval,to_mailbox", wantNotice: "bescheid-approval.pdf"},
		{name: "RulesLeaveHardCaseToCaseworker", rules: "${amount <= 500 ? 'approve' : 'manual'}", vars: map[string]any{"amount": 5000}, run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": true})
			if w := te.where(id); w != "running task:decide" {
				t.Fatalf("after rules: %s", w)
			}
			te.complete(id, "decide", map[string]any{"decision": "reject"})
		}, wantActions: "notice_rejection,to_mailbox", wantNotice: "bescheid-rejection.pdf"},
		{name: "IncompleteCitizenAnswers", vars: map[string]any{"missingInfo": "Bitte Meldebescheinigung nachreichen"}, run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": false})
			if w := te.where(id); w != "running msg:await_answer" {
				t.Fatalf("after request: %s", w)
			}
			if len(te.inst(id).OpenTimers()) != 2 {
				t.Errorf("timers = %+v, want deadline and reminder", te.inst(id).OpenTimers())
			}
			te.advance(24 * time.Hour)
			if _, err := te.runner.Message(te.ctx, "09162000", id, "citizen answered", map[string]any{"answer": "anbei"}); err != nil {
				t.Fatal(err)
			}
			te.drain()
			if n := len(te.inst(id).OpenTimers()); n != 0 {
				t.Errorf("%d timers left after the answer", n)
			}
			te.complete(id, "check", map[string]any{"complete": true})
			te.complete(id, "decide", map[string]any{"decision": "approve"})
		}, wantActions: "request_info,notice_approval,to_mailbox", wantNotice: "bescheid-approval.pdf"},
		{name: "ReminderThenAnswer", run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": false})
			te.advance(7*24*time.Hour + time.Minute)
			if w := te.where(id); w != "running msg:await_answer" {
				t.Fatalf("after reminder: %s", w)
			}
			if _, err := te.runner.Message(te.ctx, "09162000", id, "citizen answered", nil); err != nil {
				t.Fatal(err)
			}
			te.drain()
			te.complete(id, "check", map[string]any{"complete": true})
			te.complete(id, "decide", map[string]any{"decision": "approve"})
		}, wantActions: "request_info,remind,notice_approval,to_mailbox", wantNotice: "bescheid-approval.pdf"},
		{name: "DeadlineExpires", run: func(te *testEnv, id string) {
			te.complete(id, "check", map[string]any{"complete": false})
			te.advance(7*24*time.Hour + time.Minute)
			te.advance(7 * 24 * time.Hour)
			inst := te.inst(id)
			if w := te.where(id); w != "running task:decide" || inst.Vars["deadlineExpired"] != true {
				t.Fatalf("after deadline: %s vars %v", w, inst.Vars)
			}
			if _, err := te.runner.Message(te.ctx, "09162000", id, "citizen answered", nil); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
				t.Errorf("late answer: %v, want conflict", err)
			}
			te.complete(id, "decide", map[string]any{"decision": "reject"})
		}, wantActions: "request_info,remind,notice_rejection,to_mailbox", wantNotice: "bescheid-rejection.pdf"},
		{name: "TwoRoundsOfQuestions", run: func(te *testEnv, id string) {
			for range 2 {
				te.complete(id, "check", map[string]any{"complete": false})
				if _, err := te.runner.Message(te.ctx, "09162000", id, "citizen answered", nil); err != nil {
					t.Fatal(err)
				}
				te.drain()
			}
			te.complete(id, "check", map[string]any{"complete": true})
			te.complete(id, "decide", map[string]any{"decision": "approve"})
		}, wantActions: "request_info,request_info,notice_approval,to_mailbox", wantNotice: "bescheid-approval.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t)
			var actions ActionMap
			if tt.rules != "" {
				actions = ActionMap{"rules": {Action: ActionSetVariable, Params: map[string]string{"decision": tt.rules}}}
			}
			rec, problems, err := te.runner.DeployUniversal(te.ctx, "09162000", actions)
			if err != nil {
				t.Fatalf("deploy: %v %v", err, problems)
			}
			if rec.Version != 1 {
				t.Errorf("version %d", rec.Version)
			}
			inst, err := te.runner.Start(te.ctx, "09162000", UniversalKey, tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			te.drain()
			if task := te.inst(inst.ID).TaskByNode("check"); task == nil || task.Role != "Sachbearbeitung" {
				t.Fatalf("check task = %+v", task)
			}
			tt.run(te, inst.ID)
			final := te.inst(inst.ID)
			if final.Status != StatusCompleted {
				t.Fatalf("status %s (%s), incident %q", final.Status, te.where(inst.ID), final.Incident)
			}
			if got := te.actions(); got != tt.wantActions {
				t.Errorf("actions %s, want %s", got, tt.wantActions)
			}
			last := te.calls[len(te.calls)-1]
			if last.Params["document"] != tt.wantNotice {
				t.Errorf("mailbox document = %v, want %s", last.Params["document"], tt.wantNotice)
			}
			if p, _ := te.store.PendingEffects(te.ctx, 10); len(p) != 0 {
				t.Errorf("outbox not empty: %+v", p)
			}
		})
	}
}

// TestVersionsKeepInstances deploys a second version while an instance of
// the first runs.
func TestVersionsKeepInstances(t *testing.T) {
	te := newTestEnv(t)
	if _, _, err := te.runner.Deploy(te.ctx, "09162000", "k", UniversalBPMN(), UniversalKey, nil); err != nil {
		t.Fatal(err)
	}
	old, err := te.runner.Start(te.ctx, "09162000", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	v2 := []byte(strings.Replace(string(UniversalBPMN()), `name="Vollständigkeit prüfen"`, `name="Prüfen (v2)"`, 1))
	rec, _, err := te.runner.Deploy(te.ctx, "09162000", "k", v2, UniversalKey, nil)
	if err != nil || rec.Version != 2 {
		t.Fatalf("v2: %v %v", rec.Version, err)
	}
	neu, err := te.runner.Start(te.ctx, "09162000", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if old.DefinitionVersion != 1 || neu.DefinitionVersion != 2 {
		t.Errorf("versions %d, %d", old.DefinitionVersion, neu.DefinitionVersion)
	}
	if n := te.inst(neu.ID).TaskByNode("check").Name; n != "Prüfen (v2)" {
		t.Errorf("v2 task name %q", n)
	}
	te.complete(old.ID, "check", map[string]any{"complete": true})
	te.complete(old.ID, "decide", map[string]any{"decision": "approve"})
	if s := te.inst(old.ID).Status; s != StatusCompleted {
		t.Errorf("old instance %s", s)
	}
	if _, err := te.store.Instance(te.ctx, "other-tenant", old.ID); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
		t.Errorf("other tenant sees the instance: %v", err)
	}
}

// TestReplayedActionIsIdempotent simulates a crash after the handler ran
// but before the commit: the effect runs again, sees the same effect id,
// and the instance moves on exactly once.
func TestReplayedActionIsIdempotent(t *testing.T) {
	te := newTestEnv(t)
	done := map[string]int{}
	crash := true
	te.runner.Handle(ActionGenerateNotice, func(ctx context.Context, c ActionCall) (map[string]any, error) {
		done[c.EffectID]++
		if crash {
			crash = false
			return nil, fmt.Errorf("crash before commit")
		}
		return map[string]any{"notice": "n.pdf"}, nil
	})
	if _, _, err := te.runner.Deploy(te.ctx, "09162000", UniversalKey, UniversalBPMN(), UniversalKey, nil); err != nil {
		t.Fatal(err)
	}
	inst, _ := te.runner.Start(te.ctx, "09162000", UniversalKey, nil)
	te.drain()
	task := te.inst(inst.ID).TaskByNode("check")
	te.runner.CompleteTask(te.ctx, "09162000", inst.ID, task.ID, map[string]any{"complete": true})
	te.runner.Drain(te.ctx)
	task = te.inst(inst.ID).TaskByNode("decide")
	te.runner.CompleteTask(te.ctx, "09162000", inst.ID, task.ID, map[string]any{"decision": "approve"})
	if err := te.runner.Drain(te.ctx); err == nil || !strings.Contains(err.Error(), "crash before commit") {
		t.Fatalf("first drain: %v", err)
	}
	te.drain()
	if len(done) != 1 {
		t.Errorf("effect ids %v, want one id", done)
	}
	for id, n := range done {
		if n != 2 {
			t.Errorf("effect %s ran %d times, want 2 (one crashed)", id, n)
		}
	}
	if s := te.inst(inst.ID); s.Status != StatusCompleted {
		t.Errorf("status %s", s.Status)
	}
	if p, _ := te.store.PendingEffects(te.ctx, 10); len(p) != 0 {
		t.Errorf("outbox %+v", p)
	}
}

// TestServiceBW runs service-bw's generic Activiti model end to end with
// the documented action mapping.
func TestServiceBW(t *testing.T) {
	path := testenv.SharedData(t, "bpmn/servicebw/generischesProzessmodell.bpmn20.xml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := bpmn.Parse(src, "generischesProzessmodell.bpmn20.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, problems, err := Compile(d, ServiceBWProcessID, nil); err == nil || len(problems) != 9 {
		t.Errorf("without mapping: err %v, %d problems %v, want 9 unbound tasks", err, len(problems), problems)
	}
	for _, decision := range []string{"angenommen", "abgelehnt"} {
		t.Run(decision, func(t *testing.T) {
			te := newTestEnv(t)
			if _, problems, err := te.runner.Deploy(te.ctx, "08111000", "servicebw", src, ServiceBWProcessID, ServiceBWActions("userId:4711", "Gewerbeanmeldung")); err != nil {
				t.Fatalf("deploy: %v %v", err, problems)
			}
			inst, err := te.runner.Start(te.ctx, "08111000", "servicebw", map[string]any{"startedBy": "userId:42", "genericForm": map[string]any{"name": "Erika"}})
			if err != nil {
				t.Fatal(err)
			}
			te.drain()
			get := func() *Instance {
				i, err := te.store.Instance(te.ctx, "08111000", inst.ID)
				if err != nil {
					t.Fatal(err)
				}
				return i
			}
			step := func(node string, vars map[string]any) {
				t.Helper()
				task := get().TaskByNode(node)
				if task == nil {
					t.Fatalf("no task %s; tasks %+v incident %q", node, get().OpenTasks(), get().Incident)
				}
				if _, err := te.runner.CompleteTask(te.ctx, "08111000", inst.ID, task.ID, vars); err != nil {
					t.Fatal(err)
				}
				te.drain()
			}
			if a := get().TaskByNode("userLogin").Assignee; a != "userId:42" {
				t.Errorf("login assignee %q", a)
			}
			step("userLogin", nil)
			if task := get().TaskByNode("userTaskFillForm"); task == nil || task.Assignee != "userId:42" {
				t.Fatalf("fill form task %+v", task)
			}
			if v := get().Vars["responsibleCaseworkerId"]; v != "userId:4711" {
				t.Errorf("caseworker %v", v)
			}
			step("userTaskFillForm", map[string]any{"genericForm": map[string]any{"name": "Erika", "plz": "79098"}})
			step("finalMessageForAssignee", nil)
			if a := get().TaskByNode("approveFormByCaseWorker").Assignee; a != "userId:4711" {
				t.Errorf("caseworker task assignee %q", a)
			}
			step("approveFormByCaseWorker", map[string]any{"radioAntrag": decision, "kommentarAnAntragsteller": "ok", "copyToCaseworker": "x"})
			step("finalMessageForCaseWorker", nil)
			if s := get().Status; s != StatusCompleted {
				t.Fatalf("status %s incident %q", s, get().Incident)
			}
			want := "createPdfForAssignee,sendMessageToCaseWorker,sendMessageToAssignee,"
			if decision == "angenommen" {
				want += "sendApprovalToAssignee"
			} else {
				want += "sendRejectionToAssignee"
			}
			want += ",createPdfForCaseWorker,sendApprovedFormToCaseWorker"
			got := te.actions()
			// The parallel branches may run in either order.
			got = strings.Replace(got, "sendMessageToAssignee,sendMessageToCaseWorker", "sendMessageToCaseWorker,sendMessageToAssignee", 1)
			if got != want {
				t.Errorf("actions\n got %s\nwant %s", got, want)
			}
			for _, c := range te.calls {
				if c.Node == "sendMessageToAssignee" && c.Params["empfaengerId"] != "userId:42" {
					t.Errorf("recipient %v", c.Params["empfaengerId"])
				}
			}
		})
	}
}
