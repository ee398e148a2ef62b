// SPDX-License-Identifier: EUPL-1.2

// Package worker runs processes durably for every application: the SQL
// process store (sqlstore.ProcessStore) advanced by jobs —
//
//   - process.start (enqueued by submission.Submit): creates the case,
//     evaluates the service's rules (recorded with their explanation),
//     starts the service's process (its own definition "service/<key>" if
//     deployed, else the universal process) and, when a rule decided, does
//     the completeness check for the caseworker — all in one transaction;
//   - process.effect: executes one effect of the outbox by its stable id;
//     an action's side effect (mailbox post, notice, delivery job) commits
//     in the same transaction as the step it completes, so a crash never
//     loses or repeats it;
//   - process.timer: fires a timer, enqueued at its due time (jobs.At).
//
// Every step commits the instance state, its effects, the case row, the
// jobs that carry it on and an audit entry in one transaction.
package worker

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/casework"
	"rathaus/jobs"
	"rathaus/process"
	"rathaus/sqlstore"
	"rathaus/tenant"
)

// Job kinds.
const (
	JobStart  = "process.start"
	JobEffect = "process.effect"
	JobTimer  = "process.timer"
	// JobDelivery is enqueued by the deliver action.
	JobDelivery = "delivery.send"
)

// RoleCaseworker is the lane of the caseworker tasks of the universal
// process.
const RoleCaseworker = "Sachbearbeitung"

// Application is what the worker needs of a submitted application, with
// its answers opened.
type Application struct {
	Tenant, ID, Reference, ServiceKey, Title string
	ApplicantUserID                          string
	SubmittedAt                              time.Time
	Answers                                  map[string]any
	// Lines are the answers as the form showed them (optional).
	Lines []casework.AnswerLine
	// Attachments are the uploaded files (optional; contents through
	// AttachmentSource).
	Attachments []casework.DocumentInfo
}

// Applications looks up submitted applications (see SubmissionApplications).
type Applications interface {
	Application(ctx context.Context, tenant, id string) (*Application, error)
}

// MailboxAttachment is a file of a mailbox message.
type MailboxAttachment struct {
	Filename, MediaType string
	Data                []byte
}

// MailboxMessage is a message to a citizen's mailbox.
type MailboxMessage struct {
	Tenant, UserID, ApplicationID string
	Kind                          string // message | notice | request
	Subject, Body                 string
	Attachments                   []MailboxAttachment
	DueAt                         time.Time
	// Key is the stable id of the effect that posts it.
	Key string
}

// Mailbox posts to a citizen's mailbox inside the caller's transaction
// (wire it to mailbox.Service.Post).
type Mailbox interface {
	Post(ctx context.Context, tx *sql.Tx, m MailboxMessage) error
}

// Sealer encrypts stored documents (the vault).
type Sealer interface {
	Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, sealed, aad []byte) ([]byte, error)
}

// Options wire a Worker.
type Options struct {
	DB           *sqlstore.DB
	Queue        *jobs.Queue
	Applications Applications
	Mailbox      Mailbox
	Sealer       Sealer // nil stores documents unsealed (tests)
	// Rules returns the automated rules of a service for a tenant (nil:
	// none). Without it, the rules stored for the service (CaseStore.PutRules,
	// `rathaus import rules`) apply, the nearest tenant's first.
	Rules func(tenant, serviceKey string) *casework.Rules
	// Letterhead returns the authority named on notices.
	Letterhead func(tenant string) string
	// Deadline is the processing deadline of a new case (default 30 days).
	Deadline time.Duration
	Now      func() time.Time
}

// Worker is the durable process runner.
type Worker struct {
	opts   Options
	DB     *sqlstore.DB
	Store  *sqlstore.ProcessStore
	Cases  *sqlstore.CaseStore
	Runner *process.Runner

	mu       sync.Mutex
	deployed map[string]bool
}

type txCtxKey struct{}

// New wires the store, runner and action handlers and registers the job
// kinds on opts.Queue (if set; call before Queue.Start).
func New(opts Options) (*Worker, error) {
	if opts.DB == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "worker: needs a database")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Deadline <= 0 {
		opts.Deadline = 30 * 24 * time.Hour
	}
	w := &Worker{opts: opts, DB: opts.DB, Store: opts.DB.Process(), Cases: opts.DB.Cases(), deployed: map[string]bool{}}
	w.Store.OnCommit = w.onCommit
	if err := w.Store.Prepare(context.Background()); err != nil {
		return nil, err
	}
	if err := w.Cases.Prepare(context.Background()); err != nil {
		return nil, err
	}
	// onCommit carries out everything but actions inside the step.
	w.Store.DoneKinds = map[process.EffectKind]bool{process.EffectCreateTask: true, process.EffectCancelTask: true, process.EffectScheduleTimer: true,
		process.EffectCancelTimer: true, process.EffectCompleted: true, process.EffectFailed: true}
	w.Runner = process.NewRunner(w.Store, &process.Engine{Now: func() time.Time { return opts.Now().UTC() }})
	w.Runner.Handle(process.ActionRequestInformation, w.requestInformation)
	w.Runner.Handle(process.ActionGenerateNotice, w.generateNotice)
	w.Runner.Handle(process.ActionSendToMailbox, w.sendToMailbox)
	w.Runner.Handle(process.ActionDeliver, w.deliver)
	w.Runner.Handle(process.ActionCallRegister, w.callRegister)
	if opts.Queue != nil {
		for kind, h := range map[string]jobs.Handler{JobStart: w.handleStart, JobEffect: w.handleEffect, JobTimer: w.handleTimer} {
			if err := opts.Queue.Register(kind, h); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// tx returns the transaction of a job step (set by atomic).
func txOf(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txCtxKey{}).(*sql.Tx)
	return tx
}

func (w *Worker) atomic(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return w.DB.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return fn(context.WithValue(ctx, txCtxKey{}, tx), tx)
	})
}

// effectArgs are the arguments of process.effect.
type effectArgs struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

// timerArgs are the arguments of process.timer.
type timerArgs struct {
	Tenant   string `json:"tenant"`
	Instance string `json:"instance"`
	Timer    string `json:"timer"`
}

// startArgs are the arguments of process.start (submission.JobArgs).
type startArgs struct {
	Tenant        string `json:"tenant"`
	ApplicationID string `json:"application_id"`
	ServiceKey    string `json:"service_key"`
}

// onCommit runs inside every step's transaction: it enqueues the jobs for
// the new effects and updates the case row if what it derives from the
// instance (status, role, decision, deadline) changed; UpdatedAt is the
// time of that change.
func (w *Worker) onCommit(ctx context.Context, tx *sql.Tx, inst *process.Instance, effects []process.Effect) error {
	if q := w.opts.Queue; q != nil {
		for _, e := range effects {
			if !w.Store.DoneKinds[e.Kind] {
				if err := q.Enqueue(ctx, tx, JobEffect, effectArgs{Tenant: e.Tenant, ID: e.ID}); err != nil {
					return err
				}
			}
			if e.Kind == process.EffectScheduleTimer {
				if err := q.Enqueue(ctx, tx, JobTimer, timerArgs{Tenant: e.Tenant, Instance: e.Instance, Timer: e.Ref}, jobs.At(e.Due)); err != nil {
					return err
				}
			}
		}
	}
	c, err := w.Cases.Case(ctx, inst.Tenant, inst.ID)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return nil // an instance without a case (tests, imports)
	}
	if err != nil {
		return err
	}
	before := *c
	Derive(c, inst, w.opts.Deadline)
	if c.Status == before.Status && c.Role == before.Role && c.Decision == before.Decision && c.DueAt.Equal(before.DueAt) {
		return nil // the row says it already
	}
	c.UpdatedAt = w.opts.Now().UTC()
	return w.Cases.PutCase(ctx, c)
}

// Derive sets status, role, decision and deadline of a case from its
// process instance.
func Derive(c *casework.Case, inst *process.Instance, deadline time.Duration) {
	if d, _ := inst.Vars["decision"].(string); d == casework.DecisionApprove || d == casework.DecisionReject {
		c.Decision = d
	}
	tasks := inst.OpenTasks()
	switch {
	case inst.Status != process.StatusRunning:
		c.Status = casework.StatusClosed
		c.DueAt = time.Time{}
	case len(inst.OpenWaits()) > 0:
		c.Status = casework.StatusWaiting
	case len(tasks) > 0:
		c.Status = casework.StatusNew
		if c.Assignee != "" {
			c.Status = casework.StatusInProgress
		}
		c.Role = tasks[0].Role
	case c.Decision != "":
		c.Status = casework.StatusDecided
	}
	if c.Status == casework.StatusClosed {
		return
	}
	c.DueAt = c.CreatedAt.Add(deadline)
	if c.Status == casework.StatusWaiting {
		for _, t := range inst.OpenTimers() {
			if c.Status == casework.StatusWaiting && t.Node == "deadline" || c.DueAt.IsZero() {
				c.DueAt = t.Due
			}
		}
	}
}

// handleStart works process.start.
func (w *Worker) handleStart(ctx context.Context, raw json.RawMessage) error {
	var a startArgs
	if err := json.Unmarshal(raw, &a); err != nil || a.Tenant == "" || a.ApplicationID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "process.start: bad arguments %s", raw)
	}
	_, err := w.StartCase(ctx, a.Tenant, a.ApplicationID)
	return err
}

// StartCase creates the case of an application and starts its process;
// a second call for the same application does nothing and returns the
// existing case.
func (w *Worker) StartCase(ctx context.Context, tenantARS, applicationID string) (*casework.Case, error) {
	if c, err := w.Cases.Case(ctx, tenantARS, applicationID); err == nil {
		return c, nil
	}
	if w.opts.Applications == nil {
		return nil, rathaus.Errorf(rathaus.EUNAVAILABLE, "worker: no application source")
	}
	app, err := w.opts.Applications.Application(ctx, tenantARS, applicationID)
	if err != nil {
		return nil, err
	}
	key, err := w.ensureDefinition(ctx, app.Tenant, app.ServiceKey)
	if err != nil {
		return nil, err
	}
	var rules *casework.Rules
	if w.opts.Rules != nil {
		rules = w.opts.Rules(app.Tenant, app.ServiceKey)
	} else {
		stored, err := w.Cases.RulesFor(ctx, app.Tenant, app.ServiceKey)
		if err != nil {
			return nil, err
		}
		if rules, err = casework.CompileRules(stored); err != nil {
			return nil, err
		}
	}
	out := rules.Evaluate(app.Answers)
	now := w.opts.Now().UTC().Truncate(time.Microsecond)
	c := &casework.Case{Tenant: app.Tenant, ID: app.ID, Reference: app.Reference, ServiceKey: app.ServiceKey, Title: app.Title,
		Office: out.Route, Status: casework.StatusNew, Applicant: app.ApplicantUserID, CreatedAt: app.SubmittedAt, UpdatedAt: now}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.DueAt = c.CreatedAt.Add(w.opts.Deadline)
	vars := map[string]any{"reference": app.Reference, "service_key": app.ServiceKey, "applicant": app.ApplicantUserID,
		"autoDecision": out.Decision, "decisionReason": out.Explanation}
	err = w.atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := w.Cases.PutCase(ctx, c); err != nil {
			return err
		}
		hist := []casework.Entry{{Tenant: c.Tenant, CaseID: c.ID, At: now, Actor: "system", Kind: casework.KindStep, Text: "Antrag eingegangen (" + app.Reference + ")"}}
		if rules.Len() > 0 {
			hist = append(hist, casework.Entry{Tenant: c.Tenant, CaseID: c.ID, At: now, Actor: "Regelwerk", Kind: casework.KindRule, Text: out.Explanation, Key: "rules"})
		}
		if err := w.Cases.Append(ctx, hist...); err != nil {
			return err
		}
		inst, err := w.Runner.StartWithID(ctx, app.Tenant, key, app.ID, vars)
		if err != nil {
			return err
		}
		if out.Decision != casework.DecisionManual {
			// The rules decided: the completeness check needs no human.
			for _, t := range inst.OpenTasks() {
				if t.Node == "check" {
					if _, err := w.Runner.CompleteTask(ctx, app.Tenant, app.ID, t.ID, map[string]any{"complete": true}); err != nil {
						return err
					}
				}
			}
		}
		_, err = w.Store.AppendAudit(ctx, tx, auditEntry(c.Tenant, "system", "case.create", c.ID, map[string]string{"process": key, "rule_decision": out.Decision}))
		return err
	})
	if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
		// Started concurrently. Read the winner's case in a transaction:
		// with group commit the winner may share the transaction that just
		// failed and commit only with it; a new one comes after.
		var won *casework.Case
		err := w.atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var err error
			won, err = w.Cases.Case(ctx, tenantARS, applicationID)
			return err
		})
		return won, err
	}
	if err != nil {
		return nil, err
	}
	return w.Cases.Case(ctx, c.Tenant, c.ID)
}

// ServiceKey returns the definition key of a service's own process.
func ServiceKey(serviceKey string) string { return "service/" + serviceKey }

// ensureDefinition returns the definition key for a service in tenant: the
// service's own process if deployed for the tenant or an ancestor, else
// the universal process; a definition found at an ancestor is deployed for
// the tenant too, so that instances and their definitions share the
// tenant key. The tenant's universal process is upgraded to this build's
// model when that changed (running instances keep their version).
func (w *Worker) ensureDefinition(ctx context.Context, ars, serviceKey string) (string, error) {
	lineage := tenant.Lineage(ars)
	if len(lineage) == 0 {
		lineage = []string{ars}
	}
	for _, key := range []string{ServiceKey(serviceKey)} {
		ck := ars + "\x00" + key
		w.mu.Lock()
		ok := w.deployed[ck]
		w.mu.Unlock()
		if ok {
			return key, nil
		}
		for i, anc := range lineage {
			rec, err := w.Store.Definition(ctx, anc, key, 0)
			if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
				continue
			}
			if err != nil {
				return "", err
			}
			if i > 0 {
				if _, _, err := w.Runner.Deploy(ctx, ars, key, rec.Source, rec.ProcessID, rec.Actions); err != nil {
					return "", err
				}
			}
			w.mu.Lock()
			w.deployed[ck] = true
			w.mu.Unlock()
			return key, nil
		}
	}
	ck := ars + "\x00" + process.UniversalKey
	w.mu.Lock()
	ok := w.deployed[ck]
	w.mu.Unlock()
	if !ok {
		if _, _, err := w.Runner.EnsureUniversal(ctx, ars, UniversalActions()); err != nil {
			return "", err
		}
		w.mu.Lock()
		w.deployed[ck] = true
		w.mu.Unlock()
	}
	return process.UniversalKey, nil
}

// UniversalActions binds the universal process's rules task to the
// decision the service rules took at the start (autoDecision).
func UniversalActions() process.ActionMap {
	return process.ActionMap{"rules": {Action: process.ActionSetVariable, Params: map[string]string{"decision": "${autoDecision}"}}}
}

// DeployUniversal deploys the universal process for a tenant (e.g. Bund
// "000000000000" at start), wired to the service rules.
func (w *Worker) DeployUniversal(ctx context.Context, ars string) (process.DefinitionRecord, []process.Problem, error) {
	return w.Runner.DeployUniversal(ctx, ars, UniversalActions())
}

// EnsureUniversal deploys the universal process for ars unless its latest
// version has this build's model already (see
// process.Runner.EnsureUniversal); running instances keep their version.
func (w *Worker) EnsureUniversal(ctx context.Context, ars string) error {
	_, _, err := w.Runner.EnsureUniversal(ctx, ars, UniversalActions())
	return err
}

// handleEffect works process.effect: one effect, in one transaction with
// the step it completes.
func (w *Worker) handleEffect(ctx context.Context, raw json.RawMessage) error {
	var a effectArgs
	if err := json.Unmarshal(raw, &a); err != nil || a.Tenant == "" || a.ID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "process.effect: bad arguments %s", raw)
	}
	return w.RunEffect(ctx, a.Tenant, a.ID)
}

// RunEffect executes one effect of the outbox unless it is done.
func (w *Worker) RunEffect(ctx context.Context, tenantARS, id string) error {
	err := w.atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		pe, done, err := w.Store.Effect(ctx, tenantARS, id)
		if err != nil || done {
			return err
		}
		if err := w.Store.LockInstance(ctx, tenantARS, pe.Instance); err != nil {
			return err
		}
		if _, done, err = w.Store.Effect(ctx, tenantARS, id); err != nil || done {
			return err
		}
		return w.Runner.RunEffect(ctx, pe.Effect)
	})
	if err != nil {
		_ = w.Store.RecordEffectError(ctx, tenantARS, id, err.Error())
	}
	return err
}

// handleTimer works process.timer.
func (w *Worker) handleTimer(ctx context.Context, raw json.RawMessage) error {
	var a timerArgs
	if err := json.Unmarshal(raw, &a); err != nil || a.Tenant == "" || a.Instance == "" {
		return rathaus.Errorf(rathaus.EINVALID, "process.timer: bad arguments %s", raw)
	}
	return w.handleTimerArgs(ctx, a)
}

func (w *Worker) handleTimerArgs(ctx context.Context, a timerArgs) error {
	return w.atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := w.Store.LockInstance(ctx, a.Tenant, a.Instance); err != nil {
			return err
		}
		return w.Runner.FireTimer(ctx, a.Tenant, a.Instance, a.Timer)
	})
}

func auditEntry(tenantARS, actor, action, caseID string, details map[string]string) audit.Entry {
	return audit.Entry{Tenant: tenantARS, Actor: actor, Action: action, Object: "case/" + caseID, Details: details}
}

// ---- actions ----

func str(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		return s
	default:
		return fmt.Sprint(s)
	}
}

func (w *Worker) requestInformation(ctx context.Context, call process.ActionCall) (map[string]any, error) {
	tx := txOf(ctx)
	if tx == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "request_information outside a job step")
	}
	due := w.opts.Now().UTC().Add(14 * 24 * time.Hour)
	if d := str(call.Params["deadline"]); d != "" {
		if dd, err := process.ParseDuration(d); err == nil {
			due = dd.AddTo(w.opts.Now().UTC())
		}
	}
	if d, err := time.Parse(time.RFC3339, str(call.Vars["requestDeadline"])); err == nil {
		due = d
	}
	msg := str(call.Params["message"])
	if msg == "" {
		msg = "Bitte reichen Sie fehlende Angaben nach."
	}
	c, err := w.Cases.Case(ctx, call.Tenant, call.Instance)
	if err != nil {
		return nil, err
	}
	if w.opts.Mailbox != nil {
		if err := w.opts.Mailbox.Post(ctx, tx, MailboxMessage{Tenant: call.Tenant, UserID: c.Applicant, ApplicationID: c.ID, Kind: "request",
			Subject: "Nachforderung zu Ihrem Antrag " + c.Reference, Body: msg, DueAt: due, Key: call.EffectID}); err != nil {
			return nil, err
		}
	}
	return nil, w.Cases.Append(ctx, casework.Entry{Tenant: call.Tenant, CaseID: call.Instance, Actor: "system", Kind: casework.KindRequest,
		Text: fmt.Sprintf("Angaben nachgefordert (Frist %s): %s", due.Format("02.01.2006"), msg), Key: call.EffectID})
}

func (w *Worker) generateNotice(ctx context.Context, call process.ActionCall) (map[string]any, error) {
	c, err := w.Cases.Case(ctx, call.Tenant, call.Instance)
	if err != nil {
		return nil, err
	}
	decision := str(call.Vars["decision"])
	switch str(call.Params["template"]) {
	case "rejection":
		decision = casework.DecisionReject
	case "approval":
		decision = casework.DecisionApprove
	}
	if decision != casework.DecisionReject && decision != casework.DecisionApprove {
		decision = "" // a summary of the application (e.g. service-bw's PdfErstellenService)
	}
	id := "notice-" + strings.ReplaceAll(call.EffectID, "/", "-") // path-safe
	if err := w.storeNotice(ctx, c, id, decision, str(call.Vars["decisionReason"])); err != nil {
		return nil, err
	}
	return map[string]any{"notice": id}, w.Cases.Append(ctx, casework.Entry{Tenant: call.Tenant, CaseID: call.Instance, Actor: "system",
		Kind: casework.KindNotice, Text: "Dokument erzeugt (" + map[string]string{casework.DecisionApprove: "Bewilligungsbescheid", casework.DecisionReject: "Ablehnungsbescheid", "": "Antragsübersicht"}[decision] + ")", Key: call.EffectID})
}

// storeNotice renders and stores (sealed) a notice as document id.
func (w *Worker) storeNotice(ctx context.Context, c *casework.Case, id, decision, reason string) error {
	letterhead := c.Tenant
	if w.opts.Letterhead != nil {
		letterhead = w.opts.Letterhead(c.Tenant)
	}
	var buf bytes.Buffer
	if err := casework.RenderNotice(&buf, casework.Notice{Letterhead: letterhead, Reference: c.Reference, Service: c.Title, Decision: decision,
		Reason: reason, Date: w.opts.Now()}); err != nil {
		return err
	}
	content := buf.Bytes()
	if w.opts.Sealer != nil {
		var err error
		if content, err = w.opts.Sealer.Seal(ctx, c.Tenant, content, []byte("casedoc/"+id)); err != nil {
			return err
		}
	}
	return w.Cases.PutDocument(ctx, sqlstore.Document{Tenant: c.Tenant, CaseID: c.ID, ID: id, Filename: "Bescheid-" + c.Reference + ".pdf",
		MediaType: "application/pdf", Content: content, CreatedAt: w.opts.Now().UTC()})
}

// OpenDocument returns a case document decrypted.
func (w *Worker) OpenDocument(ctx context.Context, tenantARS, caseID, id string) (*sqlstore.Document, error) {
	d, err := w.Cases.Document(ctx, tenantARS, caseID, id)
	if err != nil {
		return nil, err
	}
	if w.opts.Sealer != nil {
		if d.Content, err = w.opts.Sealer.Open(ctx, tenantARS, d.Content, []byte("casedoc/"+id)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (w *Worker) sendToMailbox(ctx context.Context, call process.ActionCall) (map[string]any, error) {
	tx := txOf(ctx)
	if tx == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "send_to_mailbox outside a job step")
	}
	c, err := w.Cases.Case(ctx, call.Tenant, call.Instance)
	if err != nil {
		return nil, err
	}
	m := MailboxMessage{Tenant: call.Tenant, UserID: c.Applicant, ApplicationID: c.ID, Kind: "message", Key: call.EffectID,
		Subject: "Nachricht zu Ihrem Antrag " + c.Reference, Body: str(call.Params["text"])}
	if str(call.Params["template"]) == "reminder" {
		m.Subject, m.Body = "Erinnerung: Nachforderung zu Ihrem Antrag "+c.Reference, "Bitte denken Sie an die angeforderten Angaben."
	}
	if doc := str(call.Params["document"]); doc != "" {
		d, err := w.OpenDocument(ctx, call.Tenant, c.ID, doc)
		if err != nil {
			return nil, err
		}
		m.Kind, m.Subject = "notice", "Bescheid zu Ihrem Antrag "+c.Reference
		m.Body = "Anbei erhalten Sie Ihren Bescheid."
		m.Attachments = []MailboxAttachment{{Filename: d.Filename, MediaType: d.MediaType, Data: d.Content}}
	}
	if s := str(call.Params["betreff"]); s != "" {
		m.Subject = s
	}
	if to := str(call.Params["empfaengerId"]); to != "" && to == str(call.Vars["responsibleCaseworkerId"]) {
		// service-bw's message to the caseworker: the desk shows it as an
		// internal note (a step would appear on the citizen's status page).
		return nil, w.Cases.Append(ctx, casework.Entry{Tenant: call.Tenant, CaseID: call.Instance, Actor: "system", Kind: casework.KindNote,
			Text: "Nachricht an die Sachbearbeitung: " + m.Subject, Key: call.EffectID})
	}
	if w.opts.Mailbox != nil {
		if err := w.opts.Mailbox.Post(ctx, tx, m); err != nil {
			return nil, err
		}
	}
	return nil, w.Cases.Append(ctx, casework.Entry{Tenant: call.Tenant, CaseID: call.Instance, Actor: "system", Kind: casework.KindNotice,
		Text: "In das Postfach zugestellt: " + m.Subject, Key: call.EffectID})
}

func (w *Worker) deliver(ctx context.Context, call process.ActionCall) (map[string]any, error) {
	tx := txOf(ctx)
	if tx == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "deliver outside a job step")
	}
	c, err := w.Cases.Case(ctx, call.Tenant, call.Instance)
	if err != nil {
		return nil, err
	}
	if w.opts.Queue != nil {
		if err := w.opts.Queue.Enqueue(ctx, tx, JobDelivery, startArgs{Tenant: c.Tenant, ApplicationID: c.ID, ServiceKey: c.ServiceKey}); err != nil {
			return nil, err
		}
	}
	return nil, w.Cases.Append(ctx, casework.Entry{Tenant: call.Tenant, CaseID: call.Instance, Actor: "system", Kind: casework.KindStep,
		Text: "Zustellung an das Fachverfahren beauftragt", Key: call.EffectID})
}

// RegisterNotConfigured is the history text of call_register: rathaus has
// no register connection yet; the step is recorded and the process goes on.
const RegisterNotConfigured = "Registerabruf nicht konfiguriert"

func (w *Worker) callRegister(ctx context.Context, call process.ActionCall) (map[string]any, error) {
	text := RegisterNotConfigured
	if r := str(call.Params["register"]); r != "" {
		text += " (" + r + ")"
	}
	if _, err := w.Cases.Case(ctx, call.Tenant, call.Instance); err != nil {
		return map[string]any{"registerResult": "not_configured"}, nil
	}
	return map[string]any{"registerResult": "not_configured"}, w.Cases.Append(ctx, casework.Entry{Tenant: call.Tenant, CaseID: call.Instance,
		Actor: "system", Kind: casework.KindRegister, Text: text, Key: call.EffectID})
}

// Drain executes pending effects (and fires timers due at Now) until none
// is left or none makes progress: the synchronous equivalent of the jobs,
// for tests, imports, single-shot commands and the sweep. A failing effect
// or timer does not stop the others; the errors are returned together.
func (w *Worker) Drain(ctx context.Context) error {
	failed := map[string]error{}
	for range 10000 {
		progressed := false
		due, err := w.Store.DueTimers(ctx, w.opts.Now().UTC(), 1000)
		if err != nil {
			return err
		}
		for _, t := range due {
			key := "timer/" + t.Tenant + "/" + t.Instance + "/" + t.Timer
			if failed[key] != nil {
				continue
			}
			if err := w.handleTimerArgs(ctx, timerArgs{Tenant: t.Tenant, Instance: t.Instance, Timer: t.Timer}); err != nil {
				failed[key] = err
				continue
			}
			progressed = true
		}
		pending, err := w.Store.PendingEffects(ctx, 1000)
		if err != nil {
			return err
		}
		for _, pe := range pending {
			key := "effect/" + pe.Tenant + "/" + pe.ID
			if failed[key] != nil {
				continue
			}
			if err := w.RunEffect(ctx, pe.Tenant, pe.ID); err != nil {
				failed[key] = err
				continue
			}
			progressed = true
		}
		if !progressed {
			var errs []error
			for k, err := range failed {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
			return errors.Join(errs...)
		}
	}
	return rathaus.Errorf(rathaus.EINTERNAL, "worker: drain does not converge")
}

// Recover carries on what a crash interrupted, independent of the job
// queue's own rescue: it starts the cases of applications submitted before
// now minus grace that have none, then runs every pending effect and due
// timer (Drain). Everything it does is idempotent; run it at start and
// periodically (Sweep).
func (w *Worker) Recover(ctx context.Context, grace time.Duration) error {
	var errs []error
	for w.opts.Applications != nil {
		refs, err := w.Cases.ApplicationsWithoutCase(ctx, w.opts.Now().UTC().Add(-grace), 100)
		if err != nil {
			return err
		}
		started := 0
		for _, r := range refs {
			if _, err := w.StartCase(ctx, r.Tenant, r.ID); err != nil {
				errs = append(errs, fmt.Errorf("start %s/%s: %w", r.Tenant, r.ID, err))
				continue
			}
			started++
		}
		if len(refs) < 100 || started == 0 {
			break
		}
	}
	return errors.Join(append(errs, w.Drain(ctx))...)
}

// Sweep runs Recover every interval until ctx ends; errors are passed to
// logf (if set) and retried at the next interval.
func (w *Worker) Sweep(ctx context.Context, every, grace time.Duration, logf func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.Recover(ctx, grace); err != nil && logf != nil && ctx.Err() == nil {
				logf(err)
			}
		}
	}
}
