// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
	_ "time/tzdata" // Europe/Berlin without a system zoneinfo

	"rathaus"
	"rathaus/mailbox"
)

// MailboxFeature mounts the citizen's mailbox (Postfach) and the status
// pages of their applications:
//
//	GET  /postfach                   messages per application, unread markers
//	GET  /postfach/{id}              one message (marks it read), reply form
//	GET  /postfach/{id}/anhang/{n}   an attachment (e.g. the notice PDF)
//	POST /postfach/{id}/antwort      the citizen's reply (text + files, multipart)
//	GET  /antraege                   the citizen's applications
//	GET  /antraege/{id}              status: steps, what is expected, deadline
//
// Every route is ScopeCitizen; a citizen sees only their own messages and
// applications (another citizen's or another municipality's answer 404).
// Add it to Deps.Features.
type MailboxFeature struct {
	Mailbox *mailbox.Service
	// SeedApplication, if set, stores an application of userID in tenant
	// for the tenant-isolation test of /antraege/{id} and returns its id
	// and a text of it that must not leak. Without it the probe uses a
	// mailbox thread only.
	SeedApplication func(ctx context.Context, tenant, userID string) (id, secret string, err error)
}

// Register adds the mailbox and status routes.
func (f MailboxFeature) Register(s *Server) {
	h := &mailboxHandlers{s: s, mb: f.Mailbox, seed: f.SeedApplication}
	m := Meta{Scope: ScopeCitizen, Personal: true}
	s.Route("GET /postfach", HandlerFunc(h.list), m)
	s.Route("GET /postfach/{id}", HandlerFunc(h.show), Meta{Scope: ScopeCitizen, Personal: true,
		Example: "/postfach/unbekannt", Isolation: h.isolateMessage("")})
	s.Route("GET /postfach/{id}/anhang/{n}", HandlerFunc(h.attachment), Meta{Scope: ScopeCitizen, Personal: true,
		Example: "/postfach/unbekannt/anhang/1", Isolation: h.isolateMessage("/anhang/1")})
	s.Route("POST /postfach/{id}/antwort", HandlerFunc(h.reply), Meta{Scope: ScopeCitizen, Personal: true, Example: "/postfach/unbekannt/antwort", RateLimit: true,
		Isolation: h.isolateMessage("/antwort")})
	s.Route("GET /antraege", HandlerFunc(h.applications), m)
	s.Route("GET /antraege/{id}", HandlerFunc(h.status), Meta{Scope: ScopeCitizen, Personal: true,
		Example: "/antraege/unbekannt", Isolation: h.isolateApplication})
}

type mailboxHandlers struct {
	s    *Server
	mb   *mailbox.Service
	seed func(ctx context.Context, tenant, userID string) (string, string, error)
}

// mailboxZone is the time zone of every date shown.
var mailboxZone = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return l
	}
	return time.UTC
}()

// fmtDeadline shows the day of a deadline. Deadlines are ends of days
// (23:59 in UTC or in German time); the UTC day is never later than the
// German one, so the citizen is never told a later day than the one set.
func fmtDeadline(t time.Time) string { return t.UTC().Format("02.01.2006") }
func fmtTime(t time.Time) string     { return t.In(mailboxZone).Format("02.01.2006, 15:04") }

// userID returns the logged-in user's id (the guard ensures one).
func (h *mailboxHandlers) userID(r *http.Request) string {
	if p := h.s.principal(r); p != nil && p.User != nil {
		return p.User.ID
	}
	return ""
}

// msgView is a message as the templates show it.
type msgView struct {
	mailbox.Message
	When, Due   string
	Overdue     bool
	From        string
	Attachments []attView
}

type attView struct {
	N               int
	Filename, Size  string
	MediaType, Href string
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt((n+1023)>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " Byte"
}

func (h *mailboxHandlers) view(ctx context.Context, m mailbox.Message, now time.Time) msgView {
	v := msgView{Message: m, When: fmtTime(m.CreatedAt), From: h.s.tenantName(ctx, m.Tenant)}
	if m.DueAt != nil {
		v.Due, v.Overdue = fmtDeadline(*m.DueAt), m.DueAt.Before(now)
	}
	for i, a := range m.Attachments {
		v.Attachments = append(v.Attachments, attView{N: i + 1, Filename: a.Filename, Size: humanBytes(a.Size), MediaType: a.MediaType,
			Href: fmt.Sprintf("/postfach/%s/anhang/%d", url.PathEscape(m.ID), i+1)})
	}
	return v
}

// mailboxGroup is the messages of one application.
type mailboxGroup struct {
	ApplicationID, Reference, Title string
	Messages                        []msgView
}

type mailboxPage struct {
	Groups []mailboxGroup
	Unread int
	Total  int
}

func (h *mailboxHandlers) list(w http.ResponseWriter, r *http.Request) error {
	ctx, uid := r.Context(), h.userID(r)
	msgs, apps, err := h.mb.Overview(ctx, uid)
	if err != nil {
		return err
	}
	now := time.Now()
	p := mailboxPage{Total: len(msgs)}
	idx := map[string]int{}
	for _, a := range apps {
		idx[a.Tenant+"/"+a.ApplicationID] = len(p.Groups)
		p.Groups = append(p.Groups, mailboxGroup{ApplicationID: a.ApplicationID, Reference: a.Reference, Title: h.title(ctx, &a)})
	}
	var rest []msgView
	for _, m := range msgs {
		if m.Unread() {
			p.Unread++
		}
		v := h.view(ctx, m, now)
		if i, ok := idx[m.Tenant+"/"+m.ApplicationID]; ok && m.ApplicationID != "" {
			p.Groups[i].Messages = append(p.Groups[i].Messages, v)
		} else {
			rest = append(rest, v)
		}
	}
	groups := p.Groups[:0]
	for _, g := range p.Groups {
		if len(g.Messages) > 0 {
			groups = append(groups, g)
		}
	}
	p.Groups = groups
	if len(rest) > 0 {
		p.Groups = append(p.Groups, mailboxGroup{Messages: rest})
	}
	h.s.render(w, r, http.StatusOK, "mailbox", p)
	return nil
}

// title names an application: the case title, else the catalog name of
// its service, else the service key.
func (h *mailboxHandlers) title(ctx context.Context, st *mailbox.Status) string {
	if st.Title != "" {
		return st.Title
	}
	if res, err := h.s.deps.Catalog.Resolve(ctx, st.Tenant, st.ServiceKey); err == nil && res.Service.Name != "" {
		return res.Service.Name
	}
	return st.ServiceKey
}

type messagePage struct {
	Msg        msgView
	CanReply   bool
	Sent       bool
	Error      string
	Body       string
	Accept     string
	MaxFiles   int
	MaxFileMB  int64
	MaxBodyLen int
}

func (h *mailboxHandlers) messagePage(r *http.Request, m *mailbox.Message) messagePage {
	return messagePage{Msg: h.view(r.Context(), *m, time.Now()), CanReply: !m.FromCitizen,
		Accept:   ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
		MaxFiles: mailbox.MaxAttachments, MaxFileMB: h.maxFileMB(), MaxBodyLen: mailbox.MaxBodyRunes}
}

// maxFileMB is the largest file a reply can carry: the mailbox's limit,
// or less when the server's request body limit is lower.
func (h *mailboxHandlers) maxFileMB() int64 {
	n := min(int64(mailbox.MaxAttachmentBytes), h.s.cfg.MaxBodyBytes) >> 20
	return max(n, 1)
}

func (h *mailboxHandlers) show(w http.ResponseWriter, r *http.Request) error {
	m, err := h.mb.Read(r.Context(), h.userID(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	p := h.messagePage(r, m)
	p.Sent = r.URL.Query().Get("gesendet") == "1"
	h.s.render(w, r, http.StatusOK, "mailbox_message", p)
	return nil
}

func (h *mailboxHandlers) attachment(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return errNotFound
	}
	_, a, err := h.mb.Attachment(r.Context(), h.userID(r), r.PathValue("id"), n)
	if err != nil {
		return err
	}
	sendDownload(w, a.MediaType, a.Filename, a.Data)
	return nil
}

func (h *mailboxHandlers) reply(w http.ResponseWriter, r *http.Request) error {
	ctx, uid, id := r.Context(), h.userID(r), r.PathValue("id")
	// Ownership first: another citizen's message is "not found", whatever
	// the body.
	m, err := h.mb.MessageFor(ctx, uid, id)
	if err != nil {
		return err
	}
	fail := func(status int, msg, body string) error {
		p := h.messagePage(r, m)
		p.Error, p.Body = msg, body
		h.s.render(w, r, status, "mailbox_message", p)
		return nil
	}
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(http.StatusRequestEntityTooLarge, h.s.tr(r, "mailbox.error.toolarge"), "")
		}
		if !errors.Is(err, http.ErrNotMultipart) {
			return fail(http.StatusBadRequest, h.s.tr(r, "mailbox.error.form"), "")
		}
		if err := r.ParseForm(); err != nil {
			return fail(http.StatusBadRequest, h.s.tr(r, "mailbox.error.form"), "")
		}
	}
	defer func() {
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
	}()
	body := r.PostFormValue("text")
	var ups []mailbox.Upload
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["anhang"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue // the empty file input of a browser
			}
			if fh.Size > mailbox.MaxAttachmentBytes {
				return fail(http.StatusUnprocessableEntity, h.s.tr(r, "mailbox.error.filesize", "Name", fh.Filename, "MB", mailbox.MaxAttachmentBytes>>20), body)
			}
			f, err := fh.Open()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(f, mailbox.MaxAttachmentBytes+1))
			f.Close()
			if err != nil {
				return err
			}
			ups = append(ups, mailbox.Upload{Filename: fh.Filename, Data: data})
		}
	}
	reply, err := h.mb.Reply(ctx, uid, id, body, ups)
	if rathaus.ErrorCode(err) == rathaus.EINVALID {
		return fail(http.StatusUnprocessableEntity, rathaus.ErrorMessage(err), body)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/postfach/"+url.PathEscape(reply.ID)+"?gesendet=1", http.StatusSeeOther)
	return nil
}

// HasMailbox reports whether the mailbox routes are mounted (the layout
// then links them for citizens).
func (v *view) HasMailbox() bool {
	for _, ri := range v.s.routes {
		if ri.Pattern == "GET /postfach" {
			return true
		}
	}
	return false
}

// statusView is an application as the status templates show it.
type statusView struct {
	mailbox.Status
	Name, Submitted, Updated, Due string
	Overdue                       bool
	StateLabel                    string
	Steps                         []stepView
	Messages                      []msgView
}

type stepView struct{ When, Text string }

func (h *mailboxHandlers) statusView(r *http.Request, st *mailbox.Status) statusView {
	ctx, now := r.Context(), time.Now()
	stateKey := "status.state." + st.State // keys status.state.* in the locales
	v := statusView{Status: *st, Name: h.title(ctx, st), Submitted: fmtTime(st.SubmittedAt), StateLabel: h.s.tr(r, stateKey)}
	if !st.UpdatedAt.IsZero() {
		v.Updated = fmtTime(st.UpdatedAt)
	}
	if st.DueAt != nil {
		v.Due, v.Overdue = fmtDeadline(*st.DueAt), st.DueAt.Before(now)
	}
	for _, s := range st.Steps {
		v.Steps = append(v.Steps, stepView{When: fmtTime(s.At), Text: s.Text})
	}
	for _, m := range st.Messages {
		v.Messages = append(v.Messages, h.view(ctx, m, now))
	}
	return v
}

func (h *mailboxHandlers) applications(w http.ResponseWriter, r *http.Request) error {
	apps, err := h.mb.Applications(r.Context(), h.userID(r))
	if err != nil {
		return err
	}
	vs := make([]statusView, 0, len(apps))
	for i := range apps {
		vs = append(vs, h.statusView(r, &apps[i]))
	}
	h.s.render(w, r, http.StatusOK, "status_list", vs)
	return nil
}

func (h *mailboxHandlers) status(w http.ResponseWriter, r *http.Request) error {
	st, err := h.mb.ApplicationStatus(r.Context(), h.userID(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	h.s.render(w, r, http.StatusOK, "status", h.statusView(r, st))
	return nil
}

// isolationOwner is the citizen the isolation fixtures write for: never
// the requesting citizen.
const isolationOwner = "isolation-other-citizen"

// isolateMessage posts a message of another citizen in tenant B and probes
// path suffix of it as the requesting citizen.
func (h *mailboxHandlers) isolateMessage(suffix string) func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	return func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
		subject, body := "Bescheid Geheimsache "+fx.B, "Vertraulicher Inhalt für eine andere Person in "+fx.B
		m, err := h.mb.Send(ctx, mailbox.Message{Tenant: fx.B, UserID: isolationOwner, ApplicationID: "isolation-thread", Kind: mailbox.KindNotice,
			Subject: subject, Body: body, Attachments: []mailbox.Attachment{{Filename: "geheim-" + fx.B + ".pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4 geheim")}}})
		if err != nil {
			return IsolationProbe{}, err
		}
		p := IsolationProbe{Path: "/postfach/" + m.ID + suffix, AsCitizen: true, Secrets: []string{subject, body, "geheim-" + fx.B}}
		if suffix == "/antwort" {
			p.Method, p.Body = http.MethodPost, "text=Antwort+auf+fremde+Nachricht"
		}
		return p, nil
	}
}

// isolateApplication probes the status page of another citizen's
// application in tenant B.
func (h *mailboxHandlers) isolateApplication(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error) {
	id, secret := "isolation-app-of-another-citizen", "" // no ARS in the path: there is no "own tenant" twin
	if h.seed != nil {
		var err error
		if id, secret, err = h.seed(ctx, fx.B, isolationOwner); err != nil {
			return IsolationProbe{}, err
		}
	}
	subject := "Nachforderung Geheimsache " + fx.B
	if _, err := h.mb.Send(ctx, mailbox.Message{Tenant: fx.B, UserID: isolationOwner, ApplicationID: id, Kind: mailbox.KindMessage,
		Subject: subject, Body: "Vertraulich"}); err != nil {
		return IsolationProbe{}, err
	}
	return IsolationProbe{Path: "/antraege/" + url.PathEscape(id), AsCitizen: true, Secrets: []string{subject, secret}}, nil
}
