// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"rathaus"
	"rathaus/casework"
	"rathaus/identity"
	"rathaus/mailbox"
	"rathaus/tenant"
)

// DeskService is the casework backend of the caseworker desk
// (casework/worker.Worker implements it). actor is the staff member's user
// id; the desk checks the grant on the case's tenant before every call.
type DeskService interface {
	Inbox(ctx context.Context, f casework.Filter) (casework.Page, error)
	View(ctx context.Context, actor, ars, id string) (*casework.CaseView, error)
	Claim(ctx context.Context, actor, ars, id string) (*casework.Case, error)
	Assign(ctx context.Context, actor, ars, id, assignee string) (*casework.Case, error)
	Forward(ctx context.Context, actor, ars, id, office, reason string) (*casework.Case, error)
	AddNote(ctx context.Context, actor, ars, id, text string) (*casework.Case, error)
	RequestInformation(ctx context.Context, actor, ars, id, message string, deadline time.Time) (*casework.Case, error)
	Decide(ctx context.Context, actor, ars, id, decision, reason string) (*casework.Case, error)
	Document(ctx context.Context, actor, ars, caseID, docID string) (*casework.File, error)
	Attachment(ctx context.Context, actor, ars, caseID, attID string) (*casework.File, error)
}

// DeskMail is the citizen's mailbox as the desk reads it
// (*mailbox.Service implements it): the thread of an application (the
// case id is the application id) and an attachment of a message opened
// (decrypted) with the id of the citizen whose mailbox holds it.
type DeskMail interface {
	Thread(ctx context.Context, tenant, applicationID string) ([]mailbox.Message, error)
	Attachment(ctx context.Context, userID, id string, n int) (*mailbox.Message, *mailbox.Attachment, error)
}

// DeskMailAuditor audits the desk's access to a mailbox attachment of a
// case (casework/worker.Worker implements it); the DeskService must
// implement it when Desk.Mail is set, else downloads are refused.
type DeskMailAuditor interface {
	AuditCorrespondence(ctx context.Context, actor, ars, caseID, messageID string, n int) error
}

// Desk is the caseworker desk at /verwaltung/faelle: the inbox (filters,
// sorting, paging, overdue cases marked), the case page (answers,
// attachments, documents, history, tasks) and its actions (claim, assign,
// note, request information, decide, forward). Add it to Deps.Features.
type Desk struct {
	Service DeskService
	// Fixture creates, for the tenant-isolation test, a case with the
	// given id in tenant ars whose reference and title contain secret,
	// with a document "doc-1".
	Fixture func(ctx context.Context, ars, id, secret string) error
	// Now is the clock for "overdue" (default time.Now).
	Now func() time.Time
	// Mail, if set, shows the case's correspondence with the citizen
	// (requests, messages, notices, the citizen's replies with their
	// attachments) on the case page; attachment downloads are audited
	// through the Service's DeskMailAuditor.
	Mail DeskMail
	// MailFixture posts, for the tenant-isolation test, a message with an
	// attachment into the thread of case id of tenant ars whose subject
	// contains secret (see MailIsolationFixture). Calling it again is fine.
	MailFixture func(ctx context.Context, ars, id, secret string) error
}

// MailIsolationFixture returns a Desk.MailFixture posting through mb: one
// message (stable key, so calling it again posts nothing) with a small PDF.
func MailIsolationFixture(mb *mailbox.Service) func(ctx context.Context, ars, id, secret string) error {
	return func(ctx context.Context, ars, id, secret string) error {
		_, err := mb.Send(ctx, mailbox.Message{Tenant: ars, UserID: "isolation-citizen", ApplicationID: id, Kind: mailbox.KindMessage,
			Subject: secret, Body: secret, Key: "isolation-" + id,
			Attachments: []mailbox.Attachment{{Filename: "isolation.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4\n% " + secret + "\n%%EOF\n")}}})
		return err
	}
}

type desk struct {
	s *Server
	d *Desk
}

const deskBase = "/verwaltung/faelle"

// Register implements Feature.
func (d *Desk) Register(s *Server) {
	h := &desk{s: s, d: d}
	staff := Meta{Scope: ScopeStaff, Role: identity.RoleCaseworker, Personal: true}
	withProbe := func(m Meta, method, suffix, body string) Meta {
		m.Isolation = h.probe(method, suffix, body)
		m.Example = deskBase + "/" + tenant.Bund + "/beispiel" + suffix
		return m
	}
	s.Route("GET "+deskBase, HandlerFunc(h.inbox), staff)
	s.Route("GET "+deskBase+"/desk.css", http.HandlerFunc(deskCSS), Meta{Scope: ScopePublic, Raw: true})
	s.Route("GET "+deskBase+"/{ars}/{id}", HandlerFunc(h.view), withProbe(staff, "", "", ""))
	s.Route("GET "+deskBase+"/{ars}/{id}/dateien/{file}", HandlerFunc(h.file), withProbe(staff, "", "/dateien/doc:doc-1", ""))
	if d.Mail != nil {
		m := withProbe(staff, "", "/post/1/1", "")
		m.Isolation = h.mailProbe()
		s.Route("GET "+deskBase+"/{ars}/{id}/post/{pos}/{n}", HandlerFunc(h.mailFile), m)
	}
	for _, a := range []struct{ name, body string }{
		{"claim", ""}, {"assign", "assignee=x"}, {"note", "text=x"}, {"request", "message=x&deadline=2030-01-01"},
		{"decide", "decision=approve&reason=x"}, {"forward", "office=x"},
	} {
		s.Route("POST "+deskBase+"/{ars}/{id}/"+a.name, HandlerFunc(h.action), withProbe(staff, http.MethodPost, "/"+a.name, a.body))
	}
}

// probe builds the isolation probe of a desk route: the same case id in A
// and B, the request against B's.
func (h *desk) probe(method, suffix, body string) func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		if h.d.Fixture == nil {
			return IsolationProbe{}, fmt.Errorf("desk: no Fixture to create cases")
		}
		id := "isolation-case"
		secret := "Geheimvorgang-" + fx.B
		if err := h.d.Fixture(ctx, fx.A, id, "Eigenvorgang-"+fx.A); err != nil {
			return IsolationProbe{}, err
		}
		if err := h.d.Fixture(ctx, fx.B, id, secret); err != nil {
			return IsolationProbe{}, err
		}
		return IsolationProbe{Method: method, Path: deskBase + "/" + fx.B + "/" + id + suffix, Body: body, Secrets: []string{secret}}, nil
	}
}

// mailProbe is the isolation probe of the correspondence download: the
// same case with one message in A and B, the request for B's attachment.
func (h *desk) mailProbe() func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	base := h.probe("", "/post/1/1", "")
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		if h.d.MailFixture == nil {
			return IsolationProbe{}, fmt.Errorf("desk: no MailFixture to post messages")
		}
		p, err := base(ctx, fx)
		if err != nil {
			return p, err
		}
		if err := h.d.MailFixture(ctx, fx.A, "isolation-case", "Eigennachricht-"+fx.A); err != nil {
			return p, err
		}
		secret := "Geheimnachricht-" + fx.B
		if err := h.d.MailFixture(ctx, fx.B, "isolation-case", secret); err != nil {
			return p, err
		}
		p.Secrets = append(p.Secrets, secret)
		return p, nil
	}
}

func (h *desk) now() time.Time {
	if h.d.Now != nil {
		return h.d.Now()
	}
	return time.Now()
}

// caseworkerRoots returns the tenants where the user is a caseworker (or
// operator), sorted.
func caseworkerRoots(gs []identity.Grant) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range gs {
		if (g.Role == identity.RoleCaseworker || g.Role == identity.RoleOperator) && !seen[g.Tenant] {
			seen[g.Tenant] = true
			out = append(out, g.Tenant)
		}
	}
	sort.Strings(out)
	return out
}

// allowed checks the caseworker grant on ars; a case of another tenant is
// "not found", revealing nothing.
func (h *desk) allowed(r *http.Request, ars string) error {
	p := h.s.principal(r)
	if !tenant.ValidARS(ars) || p == nil || !identity.Allowed(p.Grants, identity.RoleCaseworker, ars) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "Vorgang nicht gefunden / case not found")
	}
	return nil
}

// inboxRow is one line of the inbox table.
type inboxRow struct {
	casework.Case
	Link    string
	Overdue bool
	Mine    bool
}

type inboxData struct {
	Roots    []rootOption
	Filter   casework.Filter
	Rows     []inboxRow
	Total    string // "10000+" when the store stopped counting
	Pages    int
	Prev     string
	Next     string
	Statuses []string
	Sorts    []string
	Mine     bool
	Overdue  bool
	Due      string
	Query    url.Values
}

type rootOption struct {
	ARS, Name string
	Selected  bool
}

func (h *desk) inbox(w http.ResponseWriter, r *http.Request) error {
	p := h.s.principal(r)
	roots := caseworkerRoots(p.Grants)
	if len(roots) == 0 {
		return errForbidden
	}
	q := r.URL.Query()
	root := q.Get("ars")
	if root == "" {
		root = roots[0]
	}
	if !tenant.ValidARS(root) || !identity.Allowed(p.Grants, identity.RoleCaseworker, root) {
		return errForbidden
	}
	f := casework.Filter{Root: root, Office: q.Get("office"), ServiceKey: q.Get("service"), Status: q.Get("status"),
		Sort: q.Get("sort"), Desc: q.Get("desc") == "1", Overdue: q.Get("overdue") == "1", Now: h.now().UTC()}
	switch a := q.Get("assignee"); a {
	case "me":
		f.Assignee = p.User.ID
	case "none":
		f.Assignee = "-"
	}
	if d := q.Get("due"); d != "" {
		t, err := time.ParseInLocation("2006-01-02", d, time.UTC)
		if err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "Feld Frist: Datum im Format JJJJ-MM-TT erwartet / field due: date YYYY-MM-DD expected")
		}
		f.DueBefore = t.Add(24*time.Hour - time.Microsecond)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil {
		f.Page = n
	}
	page, err := h.d.Service.Inbox(r.Context(), f)
	if err != nil {
		return err
	}
	_ = f.Normalize()
	total := strconv.Itoa(page.Total)
	if page.More {
		total += "+"
	}
	data := inboxData{Filter: f, Total: total, Statuses: casework.Statuses,
		Sorts: []string{casework.SortCreated, casework.SortDue, casework.SortUpdated, casework.SortReference}, Query: q,
		Mine: q.Get("assignee") == "me", Overdue: f.Overdue, Due: q.Get("due")}
	for _, ars := range roots {
		data.Roots = append(data.Roots, rootOption{ARS: ars, Name: h.s.tenantName(r.Context(), ars), Selected: ars == root})
	}
	for _, c := range page.Cases {
		data.Rows = append(data.Rows, inboxRow{Case: c, Link: deskBase + "/" + c.Tenant + "/" + url.PathEscape(c.ID), Overdue: c.Overdue(f.Now), Mine: c.Assignee == p.User.ID})
	}
	data.Pages = (page.Total + f.PageSize - 1) / f.PageSize
	pageLink := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return deskBase + "?" + v.Encode()
	}
	if f.Page > 1 {
		data.Prev = pageLink(f.Page - 1)
	}
	if f.Page < data.Pages {
		data.Next = pageLink(f.Page + 1)
	}
	h.s.render(w, r, http.StatusOK, "desk_inbox", data)
	return nil
}

type caseData struct {
	View    *casework.CaseView
	Base    string
	Overdue bool
	Mine    bool
	Answers []casework.AnswerLine
	Can     map[string]bool
	Today   string
	Mail    []mailLine
	HasMail bool // the desk reads the mailbox
}

// mailLine is a message of the case's thread with its download links.
type mailLine struct {
	mailbox.Message
	Files []mailFile
}

type mailFile struct {
	Name, Link string
	Size       int64
}

func (h *desk) view(w http.ResponseWriter, r *http.Request) error {
	ars, id := r.PathValue("ars"), r.PathValue("id")
	if err := h.allowed(r, ars); err != nil {
		return err
	}
	p := h.s.principal(r)
	v, err := h.d.Service.View(r.Context(), p.User.ID, ars, id)
	if err != nil {
		return err
	}
	d := caseData{View: v, Base: deskBase + "/" + ars + "/" + url.PathEscape(id), Overdue: v.Case.Overdue(h.now()), Mine: v.Case.Assignee == p.User.ID,
		Answers: v.Form, Can: map[string]bool{}, Today: h.now().Format("2006-01-02")}
	if d.Answers == nil {
		d.Answers = answerLines(v.Answers, 0)
	}
	for _, t := range v.Tasks {
		d.Can[t.Node] = true
	}
	if h.d.Mail != nil {
		d.HasMail = true
		thread, err := h.d.Mail.Thread(r.Context(), ars, id)
		if err != nil {
			return err
		}
		for _, m := range thread {
			l := mailLine{Message: m}
			for i, a := range m.Attachments {
				l.Files = append(l.Files, mailFile{Name: a.Filename, Size: a.Size,
					Link: d.Base + "/post/" + strconv.Itoa(len(d.Mail)+1) + "/" + strconv.Itoa(i+1)})
			}
			d.Mail = append(d.Mail, l)
		}
	}
	h.s.render(w, r, http.StatusOK, "desk_case", d)
	return nil
}

// answerLines lists answers by key when no form describes them.
func answerLines(m map[string]any, depth int) []casework.AnswerLine {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []casework.AnswerLine
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			out = append(out, casework.AnswerLine{Label: k, Depth: depth})
			out = append(out, answerLines(v, depth+1)...)
		default:
			out = append(out, casework.AnswerLine{Label: k, Value: fmt.Sprint(v), Depth: depth})
		}
	}
	return out
}

func (h *desk) file(w http.ResponseWriter, r *http.Request) error {
	ars, id, file := r.PathValue("ars"), r.PathValue("id"), r.PathValue("file")
	if err := h.allowed(r, ars); err != nil {
		return err
	}
	actor := h.s.principal(r).User.ID
	var f *casework.File
	var err error
	switch kind, ref, _ := strings.Cut(file, ":"); kind {
	case "doc":
		f, err = h.d.Service.Document(r.Context(), actor, ars, id, ref)
	case "att":
		f, err = h.d.Service.Attachment(r.Context(), actor, ars, id, ref)
	default:
		err = rathaus.Errorf(rathaus.ENOTFOUND, "Datei nicht gefunden / file not found")
	}
	if err != nil {
		return err
	}
	sendDownload(w, f.MediaType, f.Filename, f.Data)
	return nil
}

// mailFile sends attachment n of message pos (1-based, in thread order:
// messages are only ever appended) of the case's mailbox thread, decrypted,
// after the grant check and the audit entry; a case of another tenant is
// "not found".
func (h *desk) mailFile(w http.ResponseWriter, r *http.Request) error {
	ars, id := r.PathValue("ars"), r.PathValue("id")
	if err := h.allowed(r, ars); err != nil {
		return err
	}
	notFound := rathaus.Errorf(rathaus.ENOTFOUND, "Anhang nicht gefunden / attachment not found")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		return notFound
	}
	pos, err := strconv.Atoi(r.PathValue("pos"))
	if err != nil || pos < 1 {
		return notFound
	}
	auditor, ok := h.d.Service.(DeskMailAuditor)
	if !ok || h.d.Mail == nil {
		return notFound
	}
	thread, err := h.d.Mail.Thread(r.Context(), ars, id)
	if err != nil {
		return err
	}
	if pos > len(thread) || thread[pos-1].Tenant != ars || thread[pos-1].ApplicationID != id {
		return notFound
	}
	msg := thread[pos-1].ID
	m, a, err := h.d.Mail.Attachment(r.Context(), thread[pos-1].UserID, msg, n)
	if err != nil {
		return err
	}
	if m.Tenant != ars || m.ApplicationID != id {
		return notFound
	}
	if err := auditor.AuditCorrespondence(r.Context(), h.s.principal(r).User.ID, ars, id, msg, n); err != nil {
		return err
	}
	sendDownload(w, a.MediaType, a.Filename, a.Data)
	return nil
}

func (h *desk) action(w http.ResponseWriter, r *http.Request) error {
	ars, id := r.PathValue("ars"), r.PathValue("id")
	if err := h.allowed(r, ars); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "Formular unlesbar / unreadable form")
	}
	ctx, actor := r.Context(), h.s.principal(r).User.ID
	val := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	var err error
	switch name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]; name {
	case "claim":
		_, err = h.d.Service.Claim(ctx, actor, ars, id)
	case "assign":
		a := val("assignee")
		if a == "me" {
			a = actor
		}
		_, err = h.d.Service.Assign(ctx, actor, ars, id, a)
	case "note":
		_, err = h.d.Service.AddNote(ctx, actor, ars, id, val("text"))
	case "request":
		var deadline time.Time
		if s := val("deadline"); s != "" {
			if deadline, err = time.ParseInLocation("2006-01-02", s, time.UTC); err != nil {
				return rathaus.Errorf(rathaus.EINVALID, "Feld Frist: Datum im Format JJJJ-MM-TT erwartet / field deadline: date YYYY-MM-DD expected")
			}
			deadline = deadline.Add(23*time.Hour + 59*time.Minute)
		}
		_, err = h.d.Service.RequestInformation(ctx, actor, ars, id, val("message"), deadline)
	case "decide":
		_, err = h.d.Service.Decide(ctx, actor, ars, id, val("decision"), val("reason"))
	case "forward":
		_, err = h.d.Service.Forward(ctx, actor, ars, id, val("office"), val("reason"))
	default:
		err = rathaus.Errorf(rathaus.ENOTFOUND, "unknown action")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, deskBase+"/"+ars+"/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

func deskCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte(deskStyle))
}

// deskStyle complements style.css for the desk's tables and forms.
const deskStyle = `/* SPDX-License-Identifier: EUPL-1.2 */
main:has(.desk) { max-width: 80rem; }
.desk-filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; margin: 1rem 0; }
.desk-filters label { margin: 0; }
.desk-filters select, .desk-filters input, .desk form select, .desk form input, .desk form textarea { font: inherit; padding: 0.3rem; border: 2px solid var(--fg); background: var(--bg); color: var(--fg); }
.desk form textarea { width: min(100%, 40rem); min-height: 4rem; display: block; }
.desk-filters .check { display: flex; gap: 0.3rem; align-items: center; font-weight: normal; }
table.cases { border-collapse: collapse; width: 100%; }
table.cases th, table.cases td { text-align: left; border-bottom: 1px solid var(--border); padding: 0.35rem 0.5rem; vertical-align: top; }
table.cases tr.overdue td { background: #fde8e8; }
.badge { display: inline-block; border: 2px solid var(--fg); padding: 0 0.3rem; font-size: 0.9rem; font-weight: 600; }
.badge.overdue { border-color: #a30000; color: #a30000; }
.mail { list-style: none; padding: 0; }
.mail li { border: 2px solid var(--border); padding: 0.4rem 0.8rem; margin-bottom: 0.6rem; }
.mail li.from-citizen { border-left: 6px solid var(--accent); }
.mail .body { white-space: pre-line; margin: 0.3rem 0; }
.desk-grid { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 1.5rem; }
.desk-actions form { border: 2px solid var(--border); padding: 0.5rem 1rem 1rem; margin-bottom: 1rem; }
.desk-actions fieldset { border: 0; padding: 0; margin: 0.5rem 0; }
.history { list-style: none; padding: 0; }
.history li { border-left: 4px solid var(--border); padding: 0.2rem 0.6rem; margin-bottom: 0.4rem; }
.history .kind-rule, .history .kind-decision { border-left-color: var(--accent); }
.answers dd { white-space: pre-line; }
.answers .depth-1 { padding-left: 1rem; } .answers .depth-2 { padding-left: 2rem; } .answers .depth-3 { padding-left: 3rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 50rem) { .desk-grid { grid-template-columns: 1fr; } }
@media (prefers-color-scheme: dark) { table.cases tr.overdue td { background: #4a1010; } .badge.overdue { border-color: #ff9b9b; color: #ff9b9b; } }
`
