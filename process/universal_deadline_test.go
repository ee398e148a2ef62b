// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"strings"
	"testing"
	"time"
)

// dueAt returns the due time of the open timer at node of instance id.
func (te *testEnv) dueAt(id, node string) time.Time {
	te.t.Helper()
	for _, tm := range te.inst(id).OpenTimers() {
		if tm.Node == node {
			return tm.Due
		}
	}
	te.t.Fatalf("no open timer at %s: %s", node, te.where(id))
	return time.Time{}
}

func TestUniversalRequestDeadline(t *testing.T) {
	tests := []struct {
		name                   string
		deadline               any // requestDeadline set with the check; nil: unset
		wantDeadline, wantHalf time.Time
	}{
		{"Unset", nil, t0.AddDate(0, 0, 14), t0.AddDate(0, 0, 7)},
		{"Empty", "", t0.AddDate(0, 0, 14), t0.AddDate(0, 0, 7)},
		{"ThreeDays", t0.Add(72 * time.Hour).Format(time.RFC3339), t0.Add(72 * time.Hour), t0.Add(36 * time.Hour)},
		{"LocalZone", "2026-03-05T23:59:00+01:00", time.Date(2026, 3, 5, 22, 59, 0, 0, time.UTC), t0.Add(time.Date(2026, 3, 5, 22, 59, 0, 0, time.UTC).Sub(t0) / 2)},
		{"FiveWeeks", t0.AddDate(0, 0, 35).Format(time.RFC3339), t0.AddDate(0, 0, 35), t0.AddDate(0, 0, 35).Add(-t0.AddDate(0, 0, 35).Sub(t0) / 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t)
			_, _, err := te.runner.DeployUniversal(te.ctx, "09162000", nil)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := te.runner.Start(te.ctx, "09162000", UniversalKey, map[string]any{"missingInfo": "Foto"})
			if err != nil {
				t.Fatal(err)
			}
			te.drain()
			vars := map[string]any{"complete": false}
			if tt.deadline != nil {
				vars["requestDeadline"] = tt.deadline
			}
			te.complete(inst.ID, "check", vars)
			if got := te.dueAt(inst.ID, "deadline"); !got.Equal(tt.wantDeadline) {
				t.Errorf("deadline due %v, want %v", got, tt.wantDeadline)
			}
			if got := te.dueAt(inst.ID, "reminder"); !got.Equal(tt.wantHalf) {
				t.Errorf("reminder due %v, want %v", got, tt.wantHalf)
			}
			// Just before halfway nothing happens; at halfway the reminder.
			te.advance(tt.wantHalf.Sub(te.now) - time.Second)
			if strings.Contains(te.actions(), "remind") {
				t.Errorf("reminded early: %s", te.actions())
			}
			te.advance(time.Second)
			if !strings.Contains(te.actions(), "remind") || te.where(inst.ID) != "running msg:await_answer" {
				t.Errorf("at halfway: actions %s, %s", te.actions(), te.where(inst.ID))
			}
			te.advance(tt.wantDeadline.Sub(te.now) - time.Second)
			if w := te.where(inst.ID); w != "running msg:await_answer" {
				t.Errorf("a second before the deadline: %s", w)
			}
			te.advance(time.Second)
			if w := te.where(inst.ID); w != "running task:decide" || te.inst(inst.ID).Vars["deadlineExpired"] != true {
				t.Errorf("at the deadline: %s", w)
			}
		})
	}
}

// TestUniversalBadDeadlineIsIncident: a requestDeadline that is no date
// is an incident with the reason, not a silent default.
func TestUniversalBadDeadlineIsIncident(t *testing.T) {
	te := newTestEnv(t)
	if _, _, err := te.runner.DeployUniversal(te.ctx, "09162000", nil); err != nil {
		t.Fatal(err)
	}
	inst, err := te.runner.Start(te.ctx, "09162000", UniversalKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	te.drain()
	te.complete(inst.ID, "check", map[string]any{"complete": false, "requestDeadline": "in zwei Wochen"})
	got := te.inst(inst.ID)
	if got.Status != StatusFailed || !strings.Contains(got.Incident, "deadline") || !strings.Contains(got.Incident, `"in zwei Wochen"`) {
		t.Errorf("status %s incident %q", got.Status, got.Incident)
	}
}

func TestEnsureUniversal(t *testing.T) {
	te := newTestEnv(t)
	const tenant = "09162000"
	rec, deployed, err := te.runner.EnsureUniversal(te.ctx, tenant, nil)
	if err != nil || !deployed || rec.Version != 1 {
		t.Fatalf("first: v%d deployed=%v err=%v", rec.Version, deployed, err)
	}
	if rec, deployed, err = te.runner.EnsureUniversal(te.ctx, tenant, ActionMap{}); err != nil || deployed || rec.Version != 1 {
		t.Fatalf("same model: v%d deployed=%v err=%v", rec.Version, deployed, err)
	}
	old, err := te.runner.Start(te.ctx, tenant, UniversalKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	actions := ActionMap{"rules": {Action: ActionSetVariable, Params: map[string]string{"decision": "${autoDecision}"}}}
	if rec, deployed, err = te.runner.EnsureUniversal(te.ctx, tenant, actions); err != nil || !deployed || rec.Version != 2 {
		t.Fatalf("other actions: v%d deployed=%v err=%v", rec.Version, deployed, err)
	}
	if rec, deployed, err = te.runner.EnsureUniversal(te.ctx, tenant, actions); err != nil || deployed || rec.Version != 2 {
		t.Fatalf("again: v%d deployed=%v err=%v", rec.Version, deployed, err)
	}
	// Another model under the key (an older build): replaced once.
	if _, _, err := te.runner.Deploy(te.ctx, tenant, UniversalKey, []byte(strings.Replace(string(universalBPMN), "Abgeschlossen", "Erledigt", 1)), UniversalKey, actions); err != nil {
		t.Fatal(err)
	}
	if rec, deployed, err = te.runner.EnsureUniversal(te.ctx, tenant, actions); err != nil || !deployed || rec.Version != 4 {
		t.Fatalf("changed model: v%d deployed=%v err=%v", rec.Version, deployed, err)
	}
	if inst := te.inst(old.ID); inst.DefinitionVersion != 1 || inst.Status != StatusRunning {
		t.Errorf("running instance: v%d %s, want v1 running", inst.DefinitionVersion, inst.Status)
	}
	te.complete(old.ID, "check", map[string]any{"complete": true})
	if w := te.where(old.ID); w != "running task:decide" {
		t.Errorf("old instance after the check: %s", w)
	}
}
