// SPDX-License-Identifier: EUPL-1.2

package worker

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/process"
)

// The caseworker's actions. Each is one transaction: the case, its
// history, the process step (with its effects and jobs) and an audit
// entry. actor is the user id of the caseworker; callers check the grant
// (identity.Allowed with RoleCaseworker on the case's tenant) first.

// step runs fn in a transaction with the case loaded, then stores the case
// and the audit entry.
func (w *Worker) step(ctx context.Context, actor, ars, caseID, action string, details map[string]string, fn func(ctx context.Context, tx *sql.Tx, c *casework.Case) error) (*casework.Case, error) {
	var out *casework.Case
	err := w.atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := w.Cases.LockCase(ctx, ars, caseID); err != nil {
			return err
		}
		c, err := w.Cases.Case(ctx, ars, caseID)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx, c); err != nil {
			return err
		}
		// The process step may have updated the row; keep its view and
		// add what fn changed on c.
		cur, err := w.Cases.Case(ctx, ars, caseID)
		if err != nil {
			return err
		}
		cur.Assignee, cur.Office = c.Assignee, c.Office
		if c.Decision != "" {
			cur.Decision = c.Decision
		}
		if cur.Assignee != "" && cur.Status == casework.StatusNew {
			cur.Status = casework.StatusInProgress
		}
		cur.UpdatedAt = w.opts.Now().UTC()
		if err := w.Cases.PutCase(ctx, cur); err != nil {
			return err
		}
		out = cur
		_, err = w.Store.AppendAudit(ctx, tx, auditEntry(ars, actor, action, caseID, details))
		return err
	})
	return out, err
}

func (w *Worker) note(ctx context.Context, c *casework.Case, actor, kind, text string) error {
	return w.Cases.Append(ctx, casework.Entry{Tenant: c.Tenant, CaseID: c.ID, At: w.opts.Now().UTC(), Actor: actor, Kind: kind, Text: text})
}

// openTask returns the open task at node of the case's instance, or nil.
func (w *Worker) openTask(ctx context.Context, c *casework.Case, node string) (*process.Instance, *process.Task, error) {
	inst, err := w.Store.Instance(ctx, c.Tenant, c.ID)
	if err != nil {
		return nil, nil, err
	}
	return inst, inst.TaskByNode(node), nil
}

// Claim assigns the case to actor; ECONFLICT if someone else has it.
func (w *Worker) Claim(ctx context.Context, actor, ars, caseID string) (*casework.Case, error) {
	return w.step(ctx, actor, ars, caseID, "case.claim", nil, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		if c.Assignee != "" && c.Assignee != actor {
			return rathaus.Errorf(rathaus.ECONFLICT, "Vorgang ist bereits zugewiesen / case is assigned to someone else")
		}
		c.Assignee = actor
		return w.note(ctx, c, actor, casework.KindAssign, "Übernommen")
	})
}

// Assign gives the case to assignee ("" releases it).
func (w *Worker) Assign(ctx context.Context, actor, ars, caseID, assignee string) (*casework.Case, error) {
	return w.step(ctx, actor, ars, caseID, "case.assign", map[string]string{"assignee": assignee}, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		c.Assignee = assignee
		text := "Zugewiesen an " + assignee
		if assignee == "" {
			text = "Zuweisung aufgehoben"
		}
		return w.note(ctx, c, actor, casework.KindAssign, text)
	})
}

// Forward hands the case to another office of the tenant (unassigned).
func (w *Worker) Forward(ctx context.Context, actor, ars, caseID, office, reason string) (*casework.Case, error) {
	if strings.TrimSpace(office) == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field office: empty")
	}
	return w.step(ctx, actor, ars, caseID, "case.forward", map[string]string{"office": office}, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		c.Office, c.Assignee = office, ""
		return w.note(ctx, c, actor, casework.KindAssign, strings.TrimSpace("Weitergeleitet an "+office+". "+reason))
	})
}

// AddNote adds an internal note.
func (w *Worker) AddNote(ctx context.Context, actor, ars, caseID, text string) (*casework.Case, error) {
	if strings.TrimSpace(text) == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field note: empty")
	}
	return w.step(ctx, actor, ars, caseID, "case.note", nil, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		return w.note(ctx, c, actor, casework.KindNote, text)
	})
}

// DefaultRequestDeadline is the answer deadline when the caseworker gives
// none (the universal process's own default, too).
const DefaultRequestDeadline = 14 * 24 * time.Hour

// RequestInformation completes the completeness check as incomplete: the
// process posts message to the citizen's mailbox with the deadline and
// waits for the answer until then (the universal process's boundary timer
// "deadline" fires at it, its reminder halfway there). A zero deadline is
// DefaultRequestDeadline from now; a deadline not after now is EINVALID.
func (w *Worker) RequestInformation(ctx context.Context, actor, ars, caseID, message string, deadline time.Time) (*casework.Case, error) {
	if strings.TrimSpace(message) == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field message: empty")
	}
	now := w.opts.Now().UTC()
	if deadline.IsZero() {
		deadline = now.Add(DefaultRequestDeadline)
	}
	if !deadline.After(now) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Feld Frist: Die Frist muss in der Zukunft liegen / field deadline: %s is not in the future", deadline.UTC().Format(time.RFC3339))
	}
	return w.step(ctx, actor, ars, caseID, "case.request_information", nil, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		_, task, err := w.openTask(ctx, c, "check")
		if err != nil {
			return err
		}
		if task == nil {
			return rathaus.Errorf(rathaus.ECONFLICT, "Nachforderung ist nur während der Vollständigkeitsprüfung möglich / information can be requested during the completeness check only")
		}
		vars := map[string]any{"complete": false, "missingInfo": message, "requestDeadline": deadline.UTC().Format(time.RFC3339)}
		_, err = w.Runner.CompleteTask(ctx, c.Tenant, c.ID, task.ID, vars)
		return err
	})
}

// CitizenAnswered delivers the citizen's reply to the waiting process
// (message "citizen answered"); the case goes back to the check.
func (w *Worker) CitizenAnswered(ctx context.Context, ars, caseID, userID string) error {
	_, err := w.step(ctx, userID, ars, caseID, "case.citizen_answered", nil, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		if _, err := w.Runner.Message(ctx, c.Tenant, c.ID, "citizen answered", map[string]any{"answeredAt": w.opts.Now().UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
		return w.note(ctx, c, userID, casework.KindStep, "Antwort der antragstellenden Person eingegangen")
	})
	return err
}

// Decide records the caseworker's decision (approve or reject) with its
// reason. It always wins over the automated rules: at the decision task it
// completes it; during the completeness check it completes the check with
// the decision in place of the rules' one; after an automated decision
// (process done or past the decision) it records the override and issues
// a new notice into the citizen's mailbox.
func (w *Worker) Decide(ctx context.Context, actor, ars, caseID, decision, reason string) (*casework.Case, error) {
	if decision != casework.DecisionApprove && decision != casework.DecisionReject {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field decision: %q is neither approve nor reject", decision)
	}
	if strings.TrimSpace(reason) == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field reason: empty (a decision needs a reason)")
	}
	label := map[string]string{casework.DecisionApprove: "Bewilligt", casework.DecisionReject: "Abgelehnt"}[decision]
	return w.step(ctx, actor, ars, caseID, "case.decide", map[string]string{"decision": decision}, func(ctx context.Context, tx *sql.Tx, c *casework.Case) error {
		inst, task, err := w.openTask(ctx, c, "decide")
		if err != nil {
			return err
		}
		if err := w.note(ctx, c, actor, casework.KindDecision, label+": "+reason); err != nil {
			return err
		}
		c.Decision = decision
		if task != nil {
			_, err = w.Runner.CompleteTask(ctx, c.Tenant, c.ID, task.ID, map[string]any{"decision": decision, "decisionReason": reason})
			return err
		}
		if check := inst.TaskByNode("check"); check != nil {
			_, err = w.Runner.CompleteTask(ctx, c.Tenant, c.ID, check.ID, map[string]any{"complete": true, "autoDecision": decision, "decisionReason": reason})
			return err
		}
		if prev := inst.Vars["decision"]; prev == nil || prev == casework.DecisionManual {
			return rathaus.Errorf(rathaus.ECONFLICT, "Der Vorgang wartet nicht auf eine Entscheidung / the case is not awaiting a decision")
		}
		// Override of an automated decision: a new notice.
		hist, err := w.Cases.History(ctx, c.Tenant, c.ID)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("notice-override-%d", len(hist))
		if err := w.storeNotice(ctx, c, id, decision, reason); err != nil {
			return err
		}
		d, err := w.OpenDocument(ctx, c.Tenant, c.ID, id)
		if err != nil {
			return err
		}
		if w.opts.Mailbox != nil {
			if err := w.opts.Mailbox.Post(ctx, tx, MailboxMessage{Tenant: c.Tenant, UserID: c.Applicant, ApplicationID: c.ID, Kind: "notice", Key: id,
				Subject: "Geänderter Bescheid zu Ihrem Antrag " + c.Reference, Body: "Die automatische Entscheidung wurde von der Sachbearbeitung geändert. Anbei Ihr neuer Bescheid.",
				Attachments: []MailboxAttachment{{Filename: d.Filename, MediaType: d.MediaType, Data: d.Content}}}); err != nil {
				return err
			}
		}
		return w.note(ctx, c, actor, casework.KindNotice, "Automatische Entscheidung überschrieben; neuer Bescheid zugestellt")
	})
}

// View returns a case with its history, open tasks, documents and (opened)
// answers, and audits the access as "case.view".
func (w *Worker) View(ctx context.Context, actor, ars, caseID string) (*casework.CaseView, error) {
	c, err := w.Cases.Case(ctx, ars, caseID)
	if err != nil {
		return nil, err
	}
	v := &casework.CaseView{Case: c}
	if v.History, err = w.Cases.History(ctx, ars, caseID); err != nil {
		return nil, err
	}
	if inst, err := w.Store.Instance(ctx, ars, caseID); err == nil {
		v.Tasks = inst.OpenTasks()
	}
	docs, err := w.Cases.Documents(ctx, ars, caseID)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		v.Documents = append(v.Documents, casework.DocumentInfo{ID: d.ID, Filename: d.Filename, MediaType: d.MediaType})
	}
	if w.opts.Applications != nil {
		if app, err := w.opts.Applications.Application(ctx, ars, caseID); err == nil {
			v.Answers = app.Answers
			v.Form = app.Lines
			v.Attachments = app.Attachments
		}
	}
	if _, err := w.DB.Audit().Append(ctx, auditEntry(ars, actor, "case.view", caseID, nil)); err != nil {
		return nil, err
	}
	return v, nil
}

// Inbox returns a page of cases (see casework.Store.Inbox).
func (w *Worker) Inbox(ctx context.Context, f casework.Filter) (casework.Page, error) {
	return w.Cases.Inbox(ctx, f)
}

// Document returns a generated document of a case decrypted and audits
// the access as "case.document".
func (w *Worker) Document(ctx context.Context, actor, ars, caseID, docID string) (*casework.File, error) {
	d, err := w.OpenDocument(ctx, ars, caseID, docID)
	if err != nil {
		return nil, err
	}
	if _, err := w.DB.Audit().Append(ctx, auditEntry(ars, actor, "case.document", caseID, map[string]string{"document": docID})); err != nil {
		return nil, err
	}
	return &casework.File{Filename: d.Filename, MediaType: d.MediaType, Data: d.Content}, nil
}

// AttachmentSource is implemented by an Applications source that can
// return an attachment's content decrypted.
type AttachmentSource interface {
	Attachment(ctx context.Context, tenant, applicationID, attachmentID string) (*casework.File, error)
}

// Attachment returns an attachment of the application decrypted and
// audits the access as "case.attachment".
func (w *Worker) Attachment(ctx context.Context, actor, ars, caseID, attID string) (*casework.File, error) {
	if _, err := w.Cases.Case(ctx, ars, caseID); err != nil {
		return nil, err
	}
	src, ok := w.opts.Applications.(AttachmentSource)
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Anhang nicht gefunden / attachment not found")
	}
	f, err := src.Attachment(ctx, ars, caseID, attID)
	if err != nil {
		return nil, err
	}
	if _, err := w.DB.Audit().Append(ctx, auditEntry(ars, actor, "case.attachment", caseID, map[string]string{"attachment": attID})); err != nil {
		return nil, err
	}
	return f, nil
}

// IsolationFixture creates a case id in tenant ars whose reference and
// title contain secret, with a notice document "doc-1" (for the web
// tenant-isolation probes, see web.Desk.Fixture). Calling it again is fine.
func (w *Worker) IsolationFixture(ctx context.Context, ars, id, secret string) error {
	c := &casework.Case{Tenant: ars, ID: id, Reference: secret, Title: secret, Status: casework.StatusNew, Role: RoleCaseworker,
		CreatedAt: w.opts.Now().UTC(), UpdatedAt: w.opts.Now().UTC()}
	if err := w.Cases.PutCase(ctx, c); err != nil {
		return err
	}
	return w.storeNotice(ctx, c, "doc-1", casework.DecisionApprove, secret)
}

// AuditCorrespondence checks that case caseID exists in tenant ars and
// records that actor opened attachment n of message messageID of the
// case's mailbox thread ("case.mail_attachment"). The desk calls it before
// it hands out the decrypted file; an error means no download.
func (w *Worker) AuditCorrespondence(ctx context.Context, actor, ars, caseID, messageID string, n int) error {
	if _, err := w.Cases.Case(ctx, ars, caseID); err != nil {
		return err
	}
	_, err := w.DB.Audit().Append(ctx, auditEntry(ars, actor, "case.mail_attachment", caseID,
		map[string]string{"message": messageID, "attachment": strconv.Itoa(n)}))
	return err
}
