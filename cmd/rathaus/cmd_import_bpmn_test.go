// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/internal/testenv"
	"rathaus/process"
	"rathaus/sqlstore"
)

type oneApp struct{ app *worker.Application }

func (o oneApp) Application(ctx context.Context, tenant, id string) (*worker.Application, error) {
	if o.app.Tenant == tenant && o.app.ID == id {
		return o.app, nil
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no application")
}

// TestImportBPMNServiceBW imports service-bw's generic model for a service
// of Freiburg and runs an application through it end to end on the
// durable store; bad input fails with a one-line reason.
func TestImportBPMNServiceBW(t *testing.T) {
	path := testenv.SharedData(t, "bpmn/servicebw/generischesProzessmodell.bpmn20.xml")
	dir := t.TempDir()
	env := map[string]string{"RATHAUS_DATA": dir}
	const freiburg, leika = "083110000000", "99050012104000"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no service", []string{"import", "bpmn", path, "--tenant", freiburg}, "--service"},
		{"bad tenant", []string{"import", "bpmn", path, "--service", leika, "--tenant", "0831"}, "ARS"},
		{"missing file", []string{"import", "bpmn", dir + "/nope.bpmn", "--service", leika, "--tenant", freiburg}, "cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runMain(t, env, tc.args...)
			if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 3 {
				t.Errorf("code %d, stderr %q, want %q", code, errs, tc.want)
			}
		})
	}
	code, out, errs := runMain(t, env, "import", "bpmn", path, "--service", leika, "--tenant", freiburg, "--caseworker", "userId:4711", "--json")
	if code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	var res bpmnImport
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err, out)
	}
	if res.Version != 1 || res.Key != "service/"+leika || res.Process != process.ServiceBWProcessID || res.Mapping != "service-bw" {
		t.Errorf("import result %+v", res)
	}

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := &worker.Application{Tenant: freiburg, ID: "app-bw", Reference: "FR-2026-0001", ServiceKey: leika, ApplicantUserID: "userId:42",
		SubmittedAt: time.Now().UTC(), Answers: map[string]any{"name": "Erika"}}
	w, err := worker.New(worker.Options{DB: db, Applications: oneApp{app}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.StartCase(ctx, freiburg, "app-bw"); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Drain(ctx))
	inst, err := w.Store.Instance(ctx, freiburg, "app-bw")
	must(err)
	if inst.DefinitionKey != "service/"+leika {
		t.Fatalf("instance runs %s", inst.DefinitionKey)
	}
	for _, step := range []struct {
		node string
		vars map[string]any
	}{
		{"userLogin", nil},
		{"userTaskFillForm", map[string]any{"genericForm": map[string]any{"name": "Erika", "plz": "79098"}}},
		{"finalMessageForAssignee", nil},
		{"approveFormByCaseWorker", map[string]any{"radioAntrag": "angenommen", "kommentarAnAntragsteller": "ok", "copyToCaseworker": "x"}},
		{"finalMessageForCaseWorker", nil},
	} {
		inst, err := w.Store.Instance(ctx, freiburg, "app-bw")
		must(err)
		task := inst.TaskByNode(step.node)
		if task == nil {
			t.Fatalf("no task %s (open %+v, incident %q)", step.node, inst.OpenTasks(), inst.Incident)
		}
		_, err = w.Runner.CompleteTask(ctx, freiburg, "app-bw", task.ID, step.vars)
		must(err)
		must(w.Drain(ctx))
	}
	inst, err = w.Store.Instance(ctx, freiburg, "app-bw")
	must(err)
	c, err := w.Cases.Case(ctx, freiburg, "app-bw")
	must(err)
	if inst.Status != process.StatusCompleted || c.Status != casework.StatusClosed {
		t.Fatalf("instance %s (%q), case %s", inst.Status, inst.Incident, c.Status)
	}
	h, err := w.Cases.History(ctx, freiburg, "app-bw")
	must(err)
	var texts []string
	for _, e := range h {
		texts = append(texts, e.Text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"Antragsübersicht", "Nachricht an die Sachbearbeitung", "In das Postfach zugestellt"} {
		if !strings.Contains(all, want) {
			t.Errorf("history lacks %q:\n%s", want, all)
		}
	}
	// A second import is version 2; the finished instance kept version 1.
	if code, out, _ := runMain(t, env, "import", "bpmn", path, "--service", leika, "--tenant", freiburg); code != 0 || !strings.Contains(out, "Version 2") {
		t.Errorf("second import: %d %q", code, out)
	}
}

// TestImportRules sets a service's rules for a Land; an application of a
// municipality in it is decided by them (inherited), with the explanation
// in the history. Bad files fail with file, line or rule, field, reason.
func TestImportRules(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"RATHAUS_DATA": dir}
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const hessen, darmstadt, leika = "060000000000", "064110000000", "99108001000000"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"syntax", "[\n{\"name\": \"a\",\n \"when\": }]", "rules.json:3:"},
		{"unknown field", `[{"name": "a", "wenn": "x"}]`, "unknown field"},
		{"bad expression", `[{"name": "a", "when": "betrag <=", "decision": "approve"}]`, "rule 1 (a): field when"},
		{"bad decision", `[{"name": "a", "when": "true", "decision": "maybe"}]`, "field decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runMain(t, env, "import", "rules", write("rules.json", tc.body), "--service", leika, "--tenant", hessen)
			if code == 0 || !strings.Contains(errs, tc.want) {
				t.Errorf("code %d, stderr %q, want %q", code, errs, tc.want)
			}
		})
	}
	rules := write("ok.json", `[{"name": "Kleinhund", "when": "gewicht < 20 && rasse != \"Kampfhund\"", "decision": "approve", "explanation": "Kleine Hunde werden ohne Prüfung angemeldet."}]`)
	if code, out, errs := runMain(t, env, "import", "rules", rules, "--service", leika, "--tenant", hessen, "--json"); code != 0 || !strings.Contains(out, `"rules":1`) {
		t.Fatalf("import rules: %d %q %q", code, out, errs)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := &worker.Application{Tenant: darmstadt, ID: "hund-1", Reference: "DA-HUND-1", ServiceKey: leika, Answers: map[string]any{"gewicht": 8, "rasse": "Dackel"}}
	w, err := worker.New(worker.Options{DB: db, Applications: oneApp{app}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.StartCase(ctx, darmstadt, "hund-1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := w.Cases.Case(ctx, darmstadt, "hund-1")
	if err != nil || c.Status != casework.StatusClosed || c.Decision != casework.DecisionApprove {
		t.Fatalf("case %+v %v", c, err)
	}
	h, _ := w.Cases.History(ctx, darmstadt, "hund-1")
	if len(h) < 2 || h[1].Kind != casework.KindRule || !strings.Contains(h[1].Text, "Kleine Hunde") {
		t.Errorf("history %+v", h)
	}
}
