// SPDX-License-Identifier: EUPL-1.2

package mailbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/casework"
	"rathaus/casework/worker"
	"rathaus/mailbox"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/submission"
	"rathaus/vault"
)

const (
	arsA = "064110000000"
	arsB = "066110000000"
)

var pdf = []byte("%PDF-1.4\n% Bescheid\n1 0 obj<<>>endobj\n%%EOF\n")

type env struct {
	db     *sqlstore.DB
	svc    *mailbox.Service
	sealer mailbox.Sealer
	now    time.Time
}

func newEnv(t *testing.T, dialect string, opts mailbox.Options) *env {
	t.Helper()
	db := sqltest.Open(t, dialect)
	mk, _, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	e.sealer = vault.New(db.VaultKeys(), mk)
	opts.DB, opts.Sealer = db, e.sealer
	opts.Now = func() time.Time { e.now = e.now.Add(time.Second); return e.now }
	svc, err := mailbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) post(t *testing.T, m mailbox.Message) *mailbox.Message {
	t.Helper()
	var out *mailbox.Message
	err := e.db.Atomic(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = e.svc.Post(ctx, tx, m)
		return err
	})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	return out
}

func due(d time.Time) *time.Time { return &d }

func TestPostReadAttachment(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect, mailbox.Options{})
			ctx := context.Background()
			notice := mailbox.Message{Tenant: arsA, UserID: "u-erika", ApplicationID: "app-1", Kind: mailbox.KindNotice, Key: "eff-1",
				Subject: "Bescheid zu Ihrem Antrag DA-1", Body: "Geheimer Bescheidtext",
				Attachments: []mailbox.Attachment{{Filename: "bescheid.pdf", MediaType: "application/pdf", Data: pdf}}}
			m1 := e.post(t, notice)
			m2 := e.post(t, notice) // replayed effect
			if m1.ID == "" || m2.ID != m1.ID {
				t.Fatalf("replay of key eff-1 gave ids %q and %q, want the same", m1.ID, m2.ID)
			}
			e.post(t, mailbox.Message{Tenant: arsB, UserID: "u-other", ApplicationID: "app-2", Kind: mailbox.KindMessage, Subject: "Fremd", Body: "x"})

			// Sealed at rest: no plain subject, body or PDF in the tables.
			var content, blob []byte
			if err := e.db.SQL().QueryRow(e.db.Rebind(`SELECT content FROM mailbox_messages WHERE tenant = ? AND id = ?`), arsA, m1.ID).Scan(&content); err != nil {
				t.Fatal(err)
			}
			if err := e.db.SQL().QueryRow(e.db.Rebind(`SELECT data FROM mailbox_attachments WHERE tenant = ? AND message_id = ?`), arsA, m1.ID).Scan(&blob); err != nil {
				t.Fatal(err)
			}
			for _, plain := range []string{"Geheimer", "Bescheid zu", "bescheid.pdf"} {
				if bytes.Contains(content, []byte(plain)) {
					t.Errorf("stored content contains %q in plain text", plain)
				}
			}
			if bytes.Contains(blob, []byte("%PDF")) {
				t.Error("stored attachment is not sealed")
			}
			var n int
			if err := e.db.SQL().QueryRow(`SELECT COUNT(*) FROM mailbox_messages`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("rows = %d (%v), want 2", n, err)
			}

			list, err := e.svc.Messages(ctx, "u-erika")
			if err != nil || len(list) != 1 || list[0].Subject != notice.Subject || !list[0].Unread() {
				t.Fatalf("Messages = %+v, %v", list, err)
			}
			if u, _ := e.svc.Unread(ctx, "u-erika"); u != 1 {
				t.Errorf("unread = %d, want 1", u)
			}
			for _, tc := range []struct{ user, id string }{{"u-other", m1.ID}, {"", m1.ID}, {"u-erika", "nope"}} {
				if _, err := e.svc.MessageFor(ctx, tc.user, tc.id); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("MessageFor(%q, %q) = %v, want not_found", tc.user, tc.id, err)
				}
			}
			got, err := e.svc.Read(ctx, "u-erika", m1.ID)
			if err != nil || got.ReadAt == nil || got.Body != "Geheimer Bescheidtext" {
				t.Fatalf("Read = %+v, %v", got, err)
			}
			if u, _ := e.svc.Unread(ctx, "u-erika"); u != 0 {
				t.Errorf("unread after read = %d, want 0", u)
			}
			_, att, err := e.svc.Attachment(ctx, "u-erika", m1.ID, 1)
			if err != nil || !bytes.Equal(att.Data, pdf) || att.Filename != "bescheid.pdf" || att.Size != int64(len(pdf)) {
				t.Fatalf("Attachment = %+v, %v", att, err)
			}
			for _, tc := range []struct {
				user string
				n    int
			}{{"u-other", 1}, {"u-erika", 0}, {"u-erika", 2}} {
				if _, _, err := e.svc.Attachment(ctx, tc.user, m1.ID, tc.n); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("Attachment(%q, %d) = %v, want not_found", tc.user, tc.n, err)
				}
			}
			// The audit chain records post and read.
			var actions []string
			_ = e.db.Audit().Walk(ctx, func(en audit.Entry) error { actions = append(actions, en.Action); return nil })
			if strings.Join(actions, ",") != "mailbox.post,mailbox.post,mailbox.read" {
				t.Errorf("audit actions = %v", actions)
			}
		})
	}
}

func TestPostRejects(t *testing.T) {
	e := newEnv(t, sqlstore.SQLite, mailbox.Options{})
	ok := mailbox.Message{Tenant: arsA, UserID: "u", Kind: mailbox.KindMessage, Subject: "s"}
	for _, tc := range []struct {
		name  string
		edit  func(m *mailbox.Message)
		field string
	}{
		{"no tenant", func(m *mailbox.Message) { m.Tenant = "" }, "tenant"},
		{"no user", func(m *mailbox.Message) { m.UserID = "" }, "user_id"},
		{"bad kind", func(m *mailbox.Message) { m.Kind = "reply" }, "kind"},
		{"no subject", func(m *mailbox.Message) { m.Subject = " " }, "subject"},
		{"request without deadline", func(m *mailbox.Message) { m.Kind = mailbox.KindRequest }, "due_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ok
			tc.edit(&m)
			_, err := e.svc.Send(context.Background(), m)
			if rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.Contains(err.Error(), "field "+tc.field) {
				t.Errorf("Send = %v, want invalid field %s", err, tc.field)
			}
		})
	}
}

func TestReply(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect, mailbox.Options{})
			ctx := context.Background()
			req := e.post(t, mailbox.Message{Tenant: arsA, UserID: "u-erika", ApplicationID: "app-1", Kind: mailbox.KindRequest,
				Subject: "Nachforderung", Body: "Bitte Meldebescheinigung nachreichen", DueAt: due(e.now.Add(14 * 24 * time.Hour))})

			var seen []string
			fail := false
			e.svc.OnReply = func(ctx context.Context, tx *sql.Tx, r *mailbox.Message) error {
				// Fires inside the reply's transaction: the row is visible in tx.
				var n int
				if err := tx.QueryRowContext(ctx, e.db.Rebind(`SELECT COUNT(*) FROM mailbox_messages WHERE tenant = ? AND id = ?`), r.Tenant, r.ID).Scan(&n); err != nil || n != 1 {
					t.Errorf("reply row in tx: %d, %v", n, err)
				}
				seen = append(seen, r.ApplicationID)
				if fail {
					return errors.New("process down")
				}
				return nil
			}
			if _, err := e.svc.Reply(ctx, "u-other", req.ID, "hallo", nil); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("reply to another citizen's message: %v, want not_found", err)
			}
			r, err := e.svc.Reply(ctx, "u-erika", req.ID, "Anbei die Bescheinigung.", []mailbox.Upload{{Filename: `C:\tmp\melde.pdf`, Data: pdf}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != mailbox.KindReply || !r.FromCitizen || r.ReplyTo != req.ID || r.ApplicationID != "app-1" || r.Attachments[0].Filename != "melde.pdf" {
				t.Errorf("reply = %+v", r)
			}
			if len(seen) != 1 || seen[0] != "app-1" {
				t.Errorf("OnReply calls = %v", seen)
			}
			reps, err := e.svc.Replies(ctx, arsA, "app-1")
			if err != nil || len(reps) != 1 || reps[0].Body != "Anbei die Bescheinigung." {
				t.Fatalf("Replies = %+v, %v", reps, err)
			}
			if m, _ := e.svc.MessageFor(ctx, "u-erika", req.ID); m.ReadAt == nil {
				t.Error("answered request is still unread")
			}
			if _, _, err := e.svc.Attachment(ctx, "u-erika", r.ID, 1); err != nil {
				t.Errorf("own reply attachment: %v", err)
			}
			// OnReply failing rolls the reply back.
			fail = true
			if _, err := e.svc.Reply(ctx, "u-erika", req.ID, "zweite Antwort", nil); err == nil {
				t.Fatal("reply with failing OnReply succeeded")
			}
			if reps, _ := e.svc.Replies(ctx, arsA, "app-1"); len(reps) != 1 {
				t.Errorf("replies after rolled back reply = %d, want 1", len(reps))
			}
			if _, err := e.svc.Reply(ctx, "u-erika", r.ID, "an mich selbst", nil); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("reply to own reply: %v, want invalid", err)
			}
		})
	}
}

func TestCheckUploads(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nrest")
	big := append([]byte("%PDF-"), make([]byte, mailbox.MaxAttachmentBytes)...)
	for _, tc := range []struct {
		name    string
		ups     []mailbox.Upload
		wantErr string
		wantMT  string
	}{
		{"pdf", []mailbox.Upload{{Filename: "a.pdf", Data: pdf}}, "", "application/pdf"},
		{"png named pdf is png", []mailbox.Upload{{Filename: "a.pdf", Data: png}}, "", "image/png"},
		{"html refused", []mailbox.Upload{{Filename: "a.pdf", Data: []byte("<html><script>")}}, "nur PDF, JPEG oder PNG", ""},
		{"empty", []mailbox.Upload{{Filename: "a.pdf"}}, "leer", ""},
		{"too big", []mailbox.Upload{{Filename: "a.pdf", Data: big}}, "zu groß", ""},
		{"no name", []mailbox.Upload{{Filename: " ", Data: pdf}}, "Dateiname", ""},
		{"header injection", []mailbox.Upload{{Filename: "a\r\n.pdf", Data: pdf}}, "Dateiname", ""},
		{"too many", make([]mailbox.Upload, mailbox.MaxAttachments+1), "höchstens", ""},
		{"polyglot pdf with html", []mailbox.Upload{{Filename: "a.pdf", Data: []byte("%PDF-1.4\n<HTML><body><SCRIPT>alert(1)</script>")}}, "aktive Inhalte (Skript)", ""},
		{"pdf with javascript action", []mailbox.Upload{{Filename: "a.pdf", Data: []byte("%PDF-1.4\n1 0 obj<</S/JavaScript/JS(app.alert(1))>>")}}, "PDF-JavaScript", ""},
		{"pdf launch action", []mailbox.Upload{{Filename: "a.pdf", Data: []byte("%PDF-1.4\n<</Type/Action/S/Launch/F(cmd.exe)>>")}}, "PDF-Startaktion", ""},
		{"jpeg with zip appended", []mailbox.Upload{{Filename: "a.jpg", Data: []byte("\xFF\xD8\xFF\xE0JFIF\xFF\xD9PK\x03\x04evil")}}, "ZIP-Archiv", ""},
		{"png with svg", []mailbox.Upload{{Filename: "a.png", Data: []byte("\x89PNG\r\n\x1a\n<svg xmlns=\"http://www.w3.org/2000/svg\">")}}, "SVG", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mailbox.CheckUploads(tc.ups)
			if tc.wantErr != "" {
				if rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "field attachments") {
					t.Errorf("err = %v, want invalid with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got[0].MediaType != tc.wantMT {
				t.Errorf("got %+v, %v; want %s", got, err, tc.wantMT)
			}
		})
	}
}

func FuzzCheckUploads(f *testing.F) {
	f.Add("a.pdf", pdf)
	f.Add("", []byte{})
	f.Add("x\x00.png", []byte("\x89PNG\r\n\x1a\n"))
	f.Add(`..\..\evil.jpg`, []byte{0xFF, 0xD8, 0xFF, 0})
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		got, err := mailbox.CheckUploads([]mailbox.Upload{{Filename: name, Data: data}})
		if err != nil {
			return
		}
		a := got[0]
		if a.MediaType != "application/pdf" && a.MediaType != "image/jpeg" && a.MediaType != "image/png" {
			t.Fatalf("accepted media type %q", a.MediaType)
		}
		if strings.ContainsAny(a.Filename, "/\\\r\n\x00") || a.Filename == "" {
			t.Fatalf("accepted file name %q", a.Filename)
		}
	})
}

func TestWorkerAdapter(t *testing.T) {
	e := newEnv(t, sqlstore.SQLite, mailbox.Options{})
	var mb worker.Mailbox = mailbox.WorkerAdapter{Service: e.svc}
	ctx := context.Background()
	m := worker.MailboxMessage{Tenant: arsA, UserID: "u-erika", ApplicationID: "app-1", Kind: "request", Subject: "Nachforderung",
		Body: "Bitte nachreichen", DueAt: e.now.Add(48 * time.Hour), Key: "effect-7",
		Attachments: []worker.MailboxAttachment{{Filename: "hinweis.pdf", MediaType: "application/pdf", Data: pdf}}}
	for range 2 {
		if err := e.db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error { return mb.Post(ctx, tx, m) }); err != nil {
			t.Fatal(err)
		}
	}
	// Anonymous applications have no mailbox: nothing posted, no error.
	anon := m
	anon.UserID, anon.Key = "", "effect-8"
	if err := e.db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error { return mb.Post(ctx, tx, anon) }); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.Messages(ctx, "u-erika")
	if err != nil || len(list) != 1 {
		t.Fatalf("messages = %d, %v; want 1 (idempotent on key)", len(list), err)
	}
	if got := list[0]; got.Kind != "request" || got.DueAt == nil || !got.DueAt.Equal(m.DueAt) || len(got.Attachments) != 1 {
		t.Errorf("message = %+v", got)
	}
}

func TestApplicationStatus(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect, mailbox.Options{})
			ctx := context.Background()
			sub := e.now.Add(-time.Hour)
			app := &submission.Application{Tenant: arsA, ID: "0190aaaa-0000-7000-8000-000000000001", Reference: "DA-2026-AAAA-BBBB", ServiceKey: "99050012104000",
				FormID: "f", FormVersion: "1", ApplicantUserID: "u-erika", SealedAnswers: []byte("x"), Status: "submitted", SubmittedAt: sub, IdempotencyKey: "k1"}
			other := *app
			other.ID, other.Reference, other.ApplicantUserID, other.IdempotencyKey = "0190aaaa-0000-7000-8000-000000000002", "DA-2026-CCCC-DDDD", "u-other", "k2"
			if err := e.db.SubmissionStore(nil).CreateApplications(ctx, []*submission.Intake{{App: app}, {App: &other}}); err != nil {
				t.Fatal(err)
			}
			st, err := e.svc.ApplicationStatus(ctx, "u-erika", app.ID)
			if err != nil || st.State != mailbox.StateReceived || st.Closed || len(st.Steps) != 1 {
				t.Fatalf("status before case = %+v, %v", st, err)
			}
			if _, err := e.svc.ApplicationStatus(ctx, "u-erika", other.ID); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("other citizen's application: %v, want not_found", err)
			}
			c := &casework.Case{Tenant: arsA, ID: app.ID, Reference: app.Reference, ServiceKey: app.ServiceKey, Title: "Personalausweis",
				Status: casework.StatusWaiting, Applicant: "u-erika", CreatedAt: sub, UpdatedAt: e.now}
			if err := e.db.Cases().PutCase(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := e.db.Cases().Append(ctx,
				casework.Entry{Tenant: arsA, CaseID: app.ID, At: sub, Actor: "system", Kind: casework.KindStep, Text: "Antrag eingegangen"},
				casework.Entry{Tenant: arsA, CaseID: app.ID, At: e.now, Actor: "sb", Kind: casework.KindNote, Text: "INTERNE NOTIZ"},
				casework.Entry{Tenant: arsA, CaseID: app.ID, At: e.now, Actor: "system", Kind: casework.KindRequest, Text: "Angaben nachgefordert"},
			); err != nil {
				t.Fatal(err)
			}
			deadline := e.now.Add(14 * 24 * time.Hour).Truncate(time.Microsecond)
			req := e.post(t, mailbox.Message{Tenant: arsA, UserID: "u-erika", ApplicationID: app.ID, Kind: mailbox.KindRequest,
				Subject: "Nachforderung", Body: "Bitte Lichtbild nachreichen", DueAt: &deadline})

			st, err = e.svc.ApplicationStatus(ctx, "u-erika", app.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != casework.StatusWaiting || st.Expected != "Bitte Lichtbild nachreichen" || st.DueAt == nil || !st.DueAt.Equal(deadline) || st.Unread != 1 {
				t.Errorf("waiting status = %+v", st)
			}
			for _, s := range st.Steps {
				if strings.Contains(s.Text, "INTERNE") {
					t.Error("internal note shown to the citizen")
				}
			}
			if len(st.Steps) != 2 {
				t.Errorf("steps = %+v, want received, request", st.Steps)
			}
			if _, err := e.svc.Reply(ctx, "u-erika", req.ID, "Lichtbild anbei", nil); err != nil {
				t.Fatal(err)
			}
			st, _ = e.svc.ApplicationStatus(ctx, "u-erika", app.ID)
			if st.Expected != "" || st.DueAt != nil {
				t.Errorf("after the answer still expected %q", st.Expected)
			}
			c.Status, c.Decision = casework.StatusClosed, casework.DecisionApprove
			if err := e.db.Cases().PutCase(ctx, c); err != nil {
				t.Fatal(err)
			}
			all, err := e.svc.Applications(ctx, "u-erika")
			if err != nil || len(all) != 1 || !all[0].Closed || all[0].State != casework.StatusClosed || all[0].Title != "Personalausweis" {
				t.Fatalf("Applications = %+v, %v", all, err)
			}
		})
	}
}
