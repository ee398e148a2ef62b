// SPDX-License-Identifier: EUPL-1.2

package worker_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/process"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

const darmstadt = "064110000000"

// apps is an in-memory application source.
type apps struct {
	mu sync.Mutex
	m  map[string]*worker.Application
}

func (a *apps) add(app *worker.Application) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]*worker.Application{}
	}
	a.m[app.Tenant+"/"+app.ID] = app
}

func (a *apps) Application(ctx context.Context, tenant, id string) (*worker.Application, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if app := a.m[tenant+"/"+id]; app != nil {
		return app, nil
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no application %s", id)
}

// tableMailbox posts into a table of the test database, inside the step's
// transaction, so the test can count what became visible.
type tableMailbox struct{ db *sqlstore.DB }

func newTableMailbox(t testing.TB, db *sqlstore.DB) *tableMailbox {
	t.Helper()
	ddl := `CREATE TABLE IF NOT EXISTS test_mailbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT, app TEXT, kind TEXT, subject TEXT, body TEXT, pdf BLOB, due BIGINT, eff TEXT)`
	if db.Dialect() == sqlstore.Postgres {
		ddl = `CREATE TABLE IF NOT EXISTS test_mailbox (seq BIGSERIAL PRIMARY KEY, tenant TEXT, app TEXT, kind TEXT, subject TEXT, body TEXT, pdf BYTEA, due BIGINT, eff TEXT)`
	}
	if _, err := db.SQL().Exec(ddl); err != nil {
		t.Fatal(err)
	}
	return &tableMailbox{db}
}

func (m *tableMailbox) Post(ctx context.Context, tx *sql.Tx, msg worker.MailboxMessage) error {
	var pdf []byte
	if len(msg.Attachments) > 0 {
		pdf = msg.Attachments[0].Data
	}
	_, err := tx.ExecContext(ctx, m.db.Rebind(`INSERT INTO test_mailbox (tenant, app, kind, subject, body, pdf, due, eff) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		msg.Tenant, msg.ApplicationID, msg.Kind, msg.Subject, msg.Body, pdf, msg.DueAt.Unix(), msg.Key)
	return err
}

type post struct {
	Kind, Subject, Body string
	PDF                 []byte
}

func (m *tableMailbox) posts(t testing.TB, app string) []post {
	t.Helper()
	rows, err := m.db.SQL().Query(m.db.Rebind(`SELECT kind, subject, body, pdf FROM test_mailbox WHERE app = ? ORDER BY seq`), app)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []post
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.Kind, &p.Subject, &p.Body, &p.PDF); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

type fixture struct {
	w    *worker.Worker
	mb   *tableMailbox
	apps *apps
	now  time.Time
}

func newFixture(t *testing.T, rules map[string][]casework.Rule) *fixture {
	t.Helper()
	return newFixtureOn(t, sqlstore.SQLite, rules)
}

func newFixtureOn(t *testing.T, dialect string, rules map[string][]casework.Rule) *fixture {
	t.Helper()
	db := sqltest.Open(t, dialect)
	f := &fixture{mb: newTableMailbox(t, db), apps: &apps{}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	compiled := map[string]*casework.Rules{}
	for svc, rs := range rules {
		c, err := casework.CompileRules(rs)
		if err != nil {
			t.Fatal(err)
		}
		compiled[svc] = c
	}
	w, err := worker.New(worker.Options{DB: db, Applications: f.apps, Mailbox: f.mb, Now: func() time.Time { return f.now },
		Rules:      func(tenant, svc string) *casework.Rules { return compiled[svc] },
		Letterhead: func(string) string { return "Wissenschaftsstadt Darmstadt" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.EnsureUniversal(context.Background(), "000000000000"); err != nil {
		t.Fatal(err)
	}
	f.w = w
	return f
}

func (f *fixture) submit(t *testing.T, id, svc string, answers map[string]any) *casework.Case {
	t.Helper()
	ctx := context.Background()
	f.apps.add(&worker.Application{Tenant: darmstadt, ID: id, Reference: "DA-" + id, ServiceKey: svc, Title: "Testleistung",
		ApplicantUserID: "citizen-1", SubmittedAt: f.now, Answers: answers})
	c, err := f.w.StartCase(ctx, darmstadt, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) caseOf(t *testing.T, id string) *casework.Case {
	t.Helper()
	c, err := f.w.Cases.Case(context.Background(), darmstadt, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func historyHas(t *testing.T, f *fixture, id, kind, substr string) bool {
	t.Helper()
	h, err := f.w.Cases.History(context.Background(), darmstadt, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h {
		if e.Kind == kind && strings.Contains(e.Text, substr) {
			return true
		}
	}
	return false
}

// TestUniversalProcessWithCaseworker walks the universal process: check,
// request information (mailbox request with deadline), the citizen
// answers, the caseworker approves, the notice PDF arrives in the
// mailbox, the case is closed.
func TestUniversalProcessWithCaseworker(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { testUniversalProcess(t, d) })
	}
}

func testUniversalProcess(t *testing.T, dialect string) {
	ctx := context.Background()
	f := newFixtureOn(t, dialect, nil)
	c := f.submit(t, "a1", "99001", map[string]any{"name": "Erika"})
	if c.Status != casework.StatusNew || c.Role != worker.RoleCaseworker || c.DueAt.IsZero() {
		t.Fatalf("new case: %+v", c)
	}
	if _, err := f.w.Claim(ctx, "cw-1", darmstadt, "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Claim(ctx, "cw-2", darmstadt, "a1"); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
		t.Errorf("second claim: %v, want conflict", err)
	}
	if c := f.caseOf(t, "a1"); c.Assignee != "cw-1" || c.Status != casework.StatusInProgress {
		t.Errorf("claimed: %+v", c)
	}
	deadline := f.now.Add(10 * 24 * time.Hour)
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "a1", "Bitte Meldebescheinigung nachreichen.", deadline); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if c := f.caseOf(t, "a1"); c.Status != casework.StatusWaiting {
		t.Errorf("after request: %+v", c)
	}
	posts := f.mb.posts(t, "a1")
	if len(posts) != 1 || posts[0].Kind != "request" || posts[0].Body != "Bitte Meldebescheinigung nachreichen." {
		t.Fatalf("request posts: %+v", posts)
	}
	if _, err := f.w.Decide(ctx, "cw-1", darmstadt, "a1", "approve", "ok"); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
		t.Errorf("decide while waiting: %v, want conflict", err)
	}
	if err := f.w.CitizenAnswered(ctx, darmstadt, "a1", "citizen-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if c := f.caseOf(t, "a1"); c.Status != casework.StatusInProgress {
		t.Errorf("after answer: %+v", c)
	}
	// At the check, a decision completes the check with it.
	if _, err := f.w.Decide(ctx, "cw-1", darmstadt, "a1", "approve", "Alle Voraussetzungen erfüllt."); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	c = f.caseOf(t, "a1")
	if c.Status != casework.StatusClosed || c.Decision != casework.DecisionApprove {
		t.Errorf("closed: %+v", c)
	}
	posts = f.mb.posts(t, "a1")
	if len(posts) != 2 || posts[1].Kind != "notice" || !bytes.HasPrefix(posts[1].PDF, []byte("%PDF-")) {
		t.Fatalf("notice posts: %d %+v", len(posts), posts[len(posts)-1].Subject)
	}
	for _, want := range []struct{ kind, text string }{
		{casework.KindStep, "Antrag eingegangen"},
		{casework.KindAssign, "Übernommen"},
		{casework.KindRequest, "Bitte Meldebescheinigung"},
		{casework.KindDecision, "Bewilligt: Alle Voraussetzungen"},
		{casework.KindNotice, "Dokument erzeugt (Bewilligungsbescheid)"},
		{casework.KindNotice, "In das Postfach zugestellt"},
	} {
		if !historyHas(t, f, "a1", want.kind, want.text) {
			t.Errorf("history lacks %s %q", want.kind, want.text)
		}
	}
	v, err := f.w.View(ctx, "cw-1", darmstadt, "a1")
	if err != nil || len(v.Documents) != 1 || v.Answers["name"] != "Erika" {
		t.Errorf("view: %+v %v", v, err)
	}
}

// TestRulesDecideAndCaseworkerOverrides: a rule approves a simple case
// without a human (explained in the history), another routes; a
// caseworker overrides the automated approval with a rejection and the
// citizen gets a new notice.
func TestRulesDecideAndCaseworkerOverrides(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { testRules(t, d) })
	}
}

func testRules(t *testing.T, dialect string) {
	ctx := context.Background()
	f := newFixtureOn(t, dialect, map[string][]casework.Rule{"99001": {
		{Name: "Kleinbetrag", When: `betrag <= 500`, Decision: "approve", Explanation: "Beträge bis 500 € werden ohne Prüfung bewilligt."},
		{Name: "Gewerbe", When: `gewerblich == true`, Route: "gewerbeamt", Explanation: "Gewerbliche Anträge bearbeitet das Gewerbeamt."},
	}})
	f.submit(t, "auto", "99001", map[string]any{"betrag": 120})
	c := f.caseOf(t, "auto")
	if c.Status != casework.StatusClosed || c.Decision != casework.DecisionApprove {
		t.Fatalf("auto case: %+v", c)
	}
	if !historyHas(t, f, "auto", casework.KindRule, `Regel "Kleinbetrag" trifft zu`) {
		t.Error("rule explanation missing")
	}
	if p := f.mb.posts(t, "auto"); len(p) != 1 || p[0].Kind != "notice" {
		t.Fatalf("auto notice: %+v", p)
	}
	if _, err := f.w.Decide(ctx, "cw-1", darmstadt, "auto", "reject", "Nachweis fehlt."); err != nil {
		t.Fatal(err)
	}
	if c := f.caseOf(t, "auto"); c.Decision != casework.DecisionReject {
		t.Errorf("override: %+v", c)
	}
	if p := f.mb.posts(t, "auto"); len(p) != 2 || !strings.Contains(p[1].Subject, "Geänderter Bescheid") || !bytes.HasPrefix(p[1].PDF, []byte("%PDF-")) {
		t.Errorf("override notice: %+v", p)
	}

	f.submit(t, "routed", "99001", map[string]any{"betrag": 9000, "gewerblich": true})
	if c := f.caseOf(t, "routed"); c.Office != "gewerbeamt" || c.Status != casework.StatusNew {
		t.Errorf("routed: %+v", c)
	}
	f.submit(t, "manual", "99001", map[string]any{"betrag": 9000})
	if c := f.caseOf(t, "manual"); c.Office != "" || c.Status != casework.StatusNew || !historyHas(t, f, "manual", casework.KindRule, "Keine Regel") {
		t.Errorf("manual: %+v", c)
	}
	// The manual case goes through the decision task after the check.
	inst, _ := f.w.Store.Instance(ctx, darmstadt, "manual")
	if _, err := f.w.Runner.CompleteTask(ctx, darmstadt, "manual", inst.TaskByNode("check").ID, map[string]any{"complete": true}); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Decide(ctx, "cw-1", darmstadt, "manual", "reject", "Betrag zu hoch."); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if c := f.caseOf(t, "manual"); c.Status != casework.StatusClosed || c.Decision != casework.DecisionReject {
		t.Errorf("manual decided: %+v", c)
	}
	if _, err := f.w.Forward(ctx, "cw-1", darmstadt, "routed", "ordnungsamt", "zuständig"); err != nil {
		t.Fatal(err)
	}
	if c := f.caseOf(t, "routed"); c.Office != "ordnungsamt" || c.Assignee != "" {
		t.Errorf("forwarded: %+v", c)
	}
}

// TestDeadlineExpiresToDecision: without an answer, the reminder goes out
// after 7 days and the deadline after 14 moves the case to the decision.
func TestDeadlineExpiresToDecision(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.submit(t, "late", "99001", nil)
	if _, err := f.w.RequestInformation(ctx, "cw-1", darmstadt, "late", "Bitte Foto nachreichen.", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(8 * 24 * time.Hour)
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if p := f.mb.posts(t, "late"); len(p) != 2 || !strings.HasPrefix(p[1].Subject, "Erinnerung") {
		t.Errorf("reminder: %+v", p)
	}
	f.now = f.now.Add(7 * 24 * time.Hour)
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	inst, _ := f.w.Store.Instance(ctx, darmstadt, "late")
	if inst.TaskByNode("decide") == nil {
		t.Errorf("after deadline: tasks %+v", inst.OpenTasks())
	}
}

// TestInstancesKeepTheirVersion: a new version of a definition does not
// change running instances; new instances get the new version.
func TestInstancesKeepTheirVersion(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.submit(t, "v1", "99001", nil)
	if _, _, err := f.w.Runner.Deploy(ctx, darmstadt, worker.ServiceKey("99001"), []byte(simple), "simple", nil); err != nil {
		t.Fatal(err)
	}
	f.submit(t, "v2", "99001", nil)
	i1, _ := f.w.Store.Instance(ctx, darmstadt, "v1")
	i2, _ := f.w.Store.Instance(ctx, darmstadt, "v2")
	if i1.DefinitionKey != process.UniversalKey || i1.DefinitionVersion != 1 || i1.Status != process.StatusRunning {
		t.Errorf("v1: %s v%d %s", i1.DefinitionKey, i1.DefinitionVersion, i1.Status)
	}
	if i2.DefinitionKey != worker.ServiceKey("99001") || i2.Status != process.StatusCompleted {
		t.Errorf("v2: %s v%d %s", i2.DefinitionKey, i2.DefinitionVersion, i2.Status)
	}
	// A second universal version for the tenant: the running instance stays on v1.
	if _, _, err := f.w.DeployUniversal(ctx, darmstadt); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Decide(ctx, "cw", darmstadt, "v1", "approve", "ok"); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if i1, _ = f.w.Store.Instance(ctx, darmstadt, "v1"); i1.DefinitionVersion != 1 || i1.Status != process.StatusCompleted {
		t.Errorf("v1 after redeploy: v%d %s", i1.DefinitionVersion, i1.Status)
	}
	if c := f.caseOf(t, "v2"); !historyHas(t, f, "v2", casework.KindRegister, worker.RegisterNotConfigured) || c.Status != casework.StatusClosed {
		t.Errorf("v2 case: %+v", c)
	}
}

// simple is a service process: register call, then end.
const simple = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:rathaus="urn:rathaus:bpmn" id="d" targetNamespace="urn:test">
  <process id="simple" isExecutable="true">
    <startEvent id="s"/>
    <serviceTask id="reg" name="Melderegister abfragen" rathaus:action="call_register"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="reg"/>
    <sequenceFlow id="f2" sourceRef="reg" targetRef="e"/>
  </process>
</definitions>`

// failingMailbox refuses posts for one application.
type failingMailbox struct {
	*tableMailbox
	bad string
}

func (m failingMailbox) Post(ctx context.Context, tx *sql.Tx, msg worker.MailboxMessage) error {
	if msg.ApplicationID == m.bad {
		return rathaus.Errorf(rathaus.EUNAVAILABLE, "mailbox down for %s", m.bad)
	}
	return m.tableMailbox.Post(ctx, tx, msg)
}

// TestDrainGoesPastAFailingEffect: one application's notice cannot be
// posted; the other still completes, the failure is reported and counted,
// and the failed effect stays pending for the next attempt.
func TestDrainGoesPastAFailingEffect(t *testing.T) {
	ctx := context.Background()
	db := sqltest.Open(t, sqlstore.SQLite)
	mb := newTableMailbox(t, db)
	apps := &worker.MemApplications{}
	rules, _ := casework.CompileRules([]casework.Rule{{Name: "alle", When: "true", Decision: "approve", Explanation: "Test"}})
	w, err := worker.New(worker.Options{DB: db, Applications: apps, Mailbox: failingMailbox{mb, "bad"}, Rules: func(string, string) *casework.Rules { return rules }})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bad", "good"} {
		apps.Add(&worker.Application{Tenant: darmstadt, ID: id, Reference: "DA-" + id, ServiceKey: "99001"})
		if _, err := w.StartCase(ctx, darmstadt, id); err != nil {
			t.Fatal(err)
		}
	}
	err = w.Drain(ctx)
	if err == nil || !strings.Contains(err.Error(), "mailbox down for bad") {
		t.Errorf("drain: %v, want the bad effect's error", err)
	}
	if c, _ := w.Cases.Case(ctx, darmstadt, "good"); c.Status != casework.StatusClosed {
		t.Errorf("good case: %+v", c)
	}
	p, _ := w.Store.PendingEffects(ctx, 10)
	if len(p) != 1 || p[0].Instance != "bad" || p[0].Attempts != 1 || !strings.Contains(p[0].LastError, "mailbox down") {
		t.Errorf("pending: %+v", p)
	}
}

// TestConcurrentClaims: of many caseworkers claiming one case at once,
// exactly one wins; the others get a conflict (both dialects).
func TestConcurrentClaims(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			f := newFixtureOn(t, d, nil)
			f.submit(t, "c1", "99001", nil)
			var mu sync.Mutex
			wins, conflicts := 0, 0
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Go(func() {
					_, err := f.w.Claim(ctx, fmt.Sprintf("cw-%d", i), darmstadt, "c1")
					mu.Lock()
					defer mu.Unlock()
					switch rathaus.ErrorCode(err) {
					case "":
						wins++
					case rathaus.ECONFLICT:
						conflicts++
					default:
						t.Errorf("claim: %v", err)
					}
				})
			}
			wg.Wait()
			if wins != 1 || conflicts != 5 {
				t.Errorf("%d wins, %d conflicts, want 1 and 5", wins, conflicts)
			}
		})
	}
}

// TestConcurrentStarts: a start job and the sweep (or two nodes) starting
// the same application at once create one case and one instance.
func TestConcurrentStarts(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			f := newFixtureOn(t, d, nil)
			f.apps.add(&worker.Application{Tenant: darmstadt, ID: "s1", Reference: "DA-s1", ServiceKey: "99001", SubmittedAt: f.now})
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if _, err := f.w.StartCase(ctx, darmstadt, "s1"); err != nil {
						t.Errorf("start: %v", err)
					}
				})
			}
			wg.Wait()
			inst, err := f.w.Store.Instance(ctx, darmstadt, "s1")
			if err != nil || inst.Rev != 1 {
				t.Errorf("instance %+v %v", inst, err)
			}
			if h, _ := f.w.Cases.History(ctx, darmstadt, "s1"); len(h) != 1 {
				t.Errorf("history %+v, want one entry", h)
			}
		})
	}
}

// TestMessageToCaseworkerStaysInternal: a send_to_mailbox addressed to the
// responsible caseworker (service-bw's processes) is an internal note on
// the desk, never a step the citizen's status page shows, and nothing
// lands in the citizen's mailbox; one addressed to the citizen does.
func TestMessageToCaseworkerStaysInternal(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, "bw", "99001", map[string]any{"name": "Erika"})
	before := len(f.mb.posts(t, "bw"))
	ctx := context.Background()
	call := process.ActionCall{Tenant: darmstadt, Instance: "bw", EffectID: "bw/e-intern", Action: process.ActionSendToMailbox,
		Params: map[string]any{"empfaengerId": "sb-7", "betreff": "Bitte Akte prüfen"}, Vars: map[string]any{"responsibleCaseworkerId": "sb-7"}}
	if _, err := f.w.RunAction(ctx, call); err != nil {
		t.Fatal(err)
	}
	if !historyHas(t, f, "bw", casework.KindNote, "Nachricht an die Sachbearbeitung: Bitte Akte prüfen") {
		t.Error("no internal note for the caseworker's message")
	}
	if historyHas(t, f, "bw", casework.KindStep, "Bitte Akte prüfen") {
		t.Error("the caseworker's message is a step: the citizen's status page would show it")
	}
	if n := len(f.mb.posts(t, "bw")); n != before {
		t.Errorf("%d mailbox posts after a message to the caseworker, want %d", n, before)
	}
	call.EffectID, call.Params = "bw/e-citizen", map[string]any{"text": "Ihr Antrag ist vollständig."}
	if _, err := f.w.RunAction(ctx, call); err != nil {
		t.Fatal(err)
	}
	if n := len(f.mb.posts(t, "bw")); n != before+1 {
		t.Errorf("%d mailbox posts after a message to the citizen, want %d", n, before+1)
	}
}
