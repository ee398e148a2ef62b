// SPDX-License-Identifier: EUPL-1.2

// Package mailbox is the citizen's Postfach: messages, requests and notices
// from the authority to a citizen (owner = identity user id), threaded per
// application, with unread markers and replies with attachments. Subjects,
// bodies, attachment names and attachment data are sealed by the vault at
// rest. Posting happens inside the caller's transaction (the process step
// that decides to write) and enqueues the e-mail notification job in the
// same transaction; the e-mail says only that a new message is waiting
// (with a link), never what it says.
//
// The process wiring (casework/worker) posts through [WorkerAdapter] and
// learns of the citizen's answers through [Service.OnReply], which runs in
// the reply's transaction.
package mailbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"rathaus"
	"rathaus/audit"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/submission"
)

// Message kinds.
const (
	KindMessage = "message" // a plain message from the authority
	KindNotice  = "notice"  // a notice (Bescheid), usually with a PDF
	KindRequest = "request" // a request for information, with a deadline
	KindReply   = "reply"   // the citizen's answer
)

// JobNotify is the job kind of the e-mail notification.
const JobNotify = "mailbox.notify"

// Limits of a citizen's reply.
const (
	MaxBodyRunes       = 10000
	MaxSubjectRunes    = 200
	MaxAttachments     = 5
	MaxAttachmentBytes = 5 << 20
)

// AllowedMediaTypes are the attachment types a citizen may upload; the type
// is taken from the content (sniffed), never from the browser's claim.
var AllowedMediaTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// Attachment is a file of a message. Data is set when posting and when
// opened with Service.Attachment; listings leave it nil.
type Attachment struct {
	Filename  string `json:"filename"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256,omitempty"`
	Data      []byte `json:"-"`
}

// Message is a mailbox message with its contents opened.
type Message struct {
	Tenant        string
	ID            string // set by Post
	UserID        string // the citizen whose mailbox it is
	ApplicationID string // the thread; "" for messages without an application
	Kind          string // KindMessage, KindNotice, KindRequest or KindReply
	FromCitizen   bool   // a reply written by the citizen
	ReplyTo       string // the message a reply answers
	Subject, Body string
	Attachments   []Attachment
	DueAt         *time.Time // deadline of a request
	// Key is the stable id of the effect that posts the message: a second
	// Post with the same (Tenant, Key) returns the first message.
	Key       string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Unread reports whether the citizen has not opened the message yet (their
// own replies are never unread).
func (m *Message) Unread() bool { return !m.FromCitizen && m.ReadAt == nil }

// Sealer encrypts and decrypts tenant data (implemented by *vault.Vault).
type Sealer interface {
	Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, sealed, aad []byte) ([]byte, error)
}

// Enqueuer enqueues a job in the caller's transaction (*jobs.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *sql.Tx, kind string, args any, opts ...jobs.EnqueueOption) error
}

// Options wire a Service.
type Options struct {
	DB     *sqlstore.DB
	Sealer Sealer   // required: contents are never stored in plain text
	Queue  Enqueuer // optional: no notification jobs without it
	// Notifier and Recipient send the e-mail of JobNotify (see
	// Service.RegisterJobs); without them the job does nothing.
	Notifier  Notifier
	Recipient func(ctx context.Context, userID string) (email, name string, err error)
	// BaseURL is the portal's public URL for the link in the e-mail.
	BaseURL string
	Now     func() time.Time
}

// Service is the mailbox.
type Service struct {
	opts  Options
	store *sqlstore.MailboxStore
	// OnReply, if set, is called inside the transaction that stores a
	// citizen's reply (the process wiring delivers "citizen answered" with
	// it, e.g. by enqueueing a job in tx). Its error rolls the reply back.
	OnReply func(ctx context.Context, tx *sql.Tx, reply *Message) error
}

// New returns the mailbox service.
func New(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Sealer == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "mailbox: needs a database and a sealer")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Service{opts: opts, store: opts.DB.Mailbox()}, nil
}

// Store returns the SQL store the service uses.
func (s *Service) Store() *sqlstore.MailboxStore { return s.store }

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// content is the sealed part of a message.
type content struct {
	Subject     string       `json:"s"`
	Body        string       `json:"b"`
	Attachments []Attachment `json:"a,omitempty"`
}

func contentAAD(id string) []byte     { return []byte("mailbox/" + id) }
func blobAAD(id string, n int) []byte { return []byte(fmt.Sprintf("mailbox/%s/%d", id, n)) }
func validKind(k string) bool         { return k == KindMessage || k == KindNotice || k == KindRequest }
func runes(s string) int              { return utf8.RuneCountInString(s) }
func notFound() error {
	return rathaus.Errorf(rathaus.ENOTFOUND, "Nachricht nicht gefunden / message not found")
}
func isNotFound(err error) bool { return rathaus.ErrorCode(err) == rathaus.ENOTFOUND }
func auditEntry(m *Message, actor, action string) audit.Entry {
	return audit.Entry{Tenant: m.Tenant, Actor: actor, Action: action, Object: "mailbox/" + m.ID,
		Details: map[string]string{"kind": m.Kind, "application": m.ApplicationID}}
}

// Post stores a message from the authority in the citizen's mailbox inside
// tx (the caller's transaction; on SQLite ctx should be the one of
// sqlstore.DB.Atomic so that sealing joins it), enqueues the notification
// job and appends the audit entry in the same transaction. It is
// idempotent on (Tenant, Key): a replay returns the stored message.
func (s *Service) Post(ctx context.Context, tx *sql.Tx, m Message) (*Message, error) {
	if tx == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "mailbox: Post needs the caller's transaction")
	}
	switch {
	case m.Tenant == "":
		return nil, rathaus.Errorf(rathaus.EINVALID, "field tenant: empty")
	case m.UserID == "":
		return nil, rathaus.Errorf(rathaus.EINVALID, "field user_id: empty (an application without an account has no mailbox)")
	case !validKind(m.Kind):
		return nil, rathaus.Errorf(rathaus.EINVALID, "field kind: %q is not message, notice or request", m.Kind)
	case strings.TrimSpace(m.Subject) == "":
		return nil, rathaus.Errorf(rathaus.EINVALID, "field subject: empty")
	case m.Kind == KindRequest && m.DueAt == nil:
		return nil, rathaus.Errorf(rathaus.EINVALID, "field due_at: a request needs a deadline")
	}
	m.FromCitizen, m.ReplyTo = false, ""
	stored, err := s.insert(ctx, tx, &m)
	if err != nil || stored != nil {
		return stored, err
	}
	if s.opts.Queue != nil {
		if err := s.opts.Queue.Enqueue(ctx, tx, JobNotify, notifyArgs{Tenant: m.Tenant, ID: m.ID}); err != nil {
			return nil, err
		}
	}
	if _, err := s.opts.DB.AppendAudit(ctx, tx, auditEntry(&m, "system", "mailbox.post")); err != nil {
		return nil, err
	}
	return &m, nil
}

// Send posts m in a transaction of its own (for callers without one).
func (s *Service) Send(ctx context.Context, m Message) (*Message, error) {
	var out *Message
	err := s.opts.DB.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = s.Post(ctx, tx, m)
		return err
	})
	return out, err
}

// insert seals and stores m, setting ID and CreatedAt; it returns the
// already stored message for a replayed Key (and nil for a new one).
func (s *Service) insert(ctx context.Context, tx *sql.Tx, m *Message) (*Message, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "mailbox: id")
	}
	m.ID = id.String()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	m.ReadAt = nil
	c := content{Subject: m.Subject, Body: m.Body}
	var blobs [][]byte
	for i := range m.Attachments {
		a := &m.Attachments[i]
		a.Size = int64(len(a.Data))
		sum := sha256.Sum256(a.Data)
		a.SHA256 = hex.EncodeToString(sum[:])
		b, err := s.opts.Sealer.Seal(ctx, m.Tenant, a.Data, blobAAD(m.ID, i+1))
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, b)
		c.Attachments = append(c.Attachments, Attachment{Filename: a.Filename, MediaType: a.MediaType, Size: a.Size, SHA256: a.SHA256})
	}
	pt, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	sealed, err := s.opts.Sealer.Seal(ctx, m.Tenant, pt, contentAAD(m.ID))
	if err != nil {
		return nil, err
	}
	row := &sqlstore.MailboxRow{Tenant: m.Tenant, ID: m.ID, UserID: m.UserID, ApplicationID: m.ApplicationID, Kind: m.Kind,
		FromCitizen: m.FromCitizen, ReplyTo: m.ReplyTo, Content: sealed, Key: m.Key, CreatedAt: m.CreatedAt}
	if m.DueAt != nil {
		row.DueAt = m.DueAt.UTC()
	}
	old, err := s.store.Insert(ctx, tx, row, blobs)
	if err != nil {
		return nil, err
	}
	if old != nil {
		return s.open(ctx, old)
	}
	return nil, nil
}

// open decrypts a stored row (without attachment data).
func (s *Service) open(ctx context.Context, r *sqlstore.MailboxRow) (*Message, error) {
	pt, err := s.opts.Sealer.Open(ctx, r.Tenant, r.Content, contentAAD(r.ID))
	if err != nil {
		return nil, err
	}
	var c content
	if err := json.Unmarshal(pt, &c); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "mailbox: content of %s", r.ID)
	}
	m := &Message{Tenant: r.Tenant, ID: r.ID, UserID: r.UserID, ApplicationID: r.ApplicationID, Kind: r.Kind, FromCitizen: r.FromCitizen,
		ReplyTo: r.ReplyTo, Subject: c.Subject, Body: c.Body, Attachments: c.Attachments, Key: r.Key, CreatedAt: r.CreatedAt}
	if !r.DueAt.IsZero() {
		d := r.DueAt
		m.DueAt = &d
	}
	if !r.ReadAt.IsZero() {
		t := r.ReadAt
		m.ReadAt = &t
	}
	return m, nil
}

func (s *Service) openAll(ctx context.Context, rows []sqlstore.MailboxRow) ([]Message, error) {
	out := make([]Message, 0, len(rows))
	for i := range rows {
		m, err := s.open(ctx, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, nil
}

// Messages returns the citizen's messages (all municipalities), newest
// first.
func (s *Service) Messages(ctx context.Context, userID string) ([]Message, error) {
	rows, err := s.store.Messages(ctx, userID, 0)
	if err != nil {
		return nil, err
	}
	return s.openAll(ctx, rows)
}

// Unread counts the citizen's unread messages.
func (s *Service) Unread(ctx context.Context, userID string) (int, error) {
	return s.store.Unread(ctx, userID)
}

// MessageFor returns message id if it belongs to userID; ENOTFOUND
// otherwise (another citizen's message looks like a missing one).
func (s *Service) MessageFor(ctx context.Context, userID, id string) (*Message, error) {
	r, err := s.store.MessageOf(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, r)
}

// Read returns message id of userID and marks it read (audited the first
// time).
func (s *Service) Read(ctx context.Context, userID, id string) (*Message, error) {
	m, err := s.MessageFor(ctx, userID, id)
	if err != nil || !m.Unread() {
		return m, err
	}
	now := s.now()
	err = s.opts.DB.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok, err := s.store.MarkRead(ctx, m.Tenant, m.ID, now)
		if err != nil || !ok {
			return err
		}
		_, err = s.opts.DB.AppendAudit(ctx, tx, auditEntry(m, userID, "mailbox.read"))
		return err
	})
	if err != nil {
		return nil, err
	}
	m.ReadAt = &now
	return m, nil
}

// Attachment opens attachment n (1-based) of message id of userID.
func (s *Service) Attachment(ctx context.Context, userID, id string, n int) (*Message, *Attachment, error) {
	m, err := s.MessageFor(ctx, userID, id)
	if err != nil {
		return nil, nil, err
	}
	if n < 1 || n > len(m.Attachments) {
		return nil, nil, rathaus.Errorf(rathaus.ENOTFOUND, "Anhang nicht gefunden / attachment not found")
	}
	sealed, err := s.store.Attachment(ctx, m.Tenant, m.ID, n)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.opts.Sealer.Open(ctx, m.Tenant, sealed, blobAAD(m.ID, n))
	if err != nil {
		return nil, nil, err
	}
	a := m.Attachments[n-1]
	a.Data = data
	return m, &a, nil
}

// Thread returns the messages of an application in order (no access
// check: for the process and the caseworker desk).
func (s *Service) Thread(ctx context.Context, tenant, applicationID string) ([]Message, error) {
	rows, err := s.store.Thread(ctx, tenant, applicationID)
	if err != nil {
		return nil, err
	}
	return s.openAll(ctx, rows)
}

// Replies returns the citizen's replies of an application in order.
func (s *Service) Replies(ctx context.Context, tenant, applicationID string) ([]Message, error) {
	all, err := s.Thread(ctx, tenant, applicationID)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, m := range all {
		if m.FromCitizen {
			out = append(out, m)
		}
	}
	return out, nil
}

// Upload is a file the citizen attaches to a reply.
type Upload struct {
	Filename string
	Data     []byte
}

// CheckUploads validates a reply's files: at most MaxAttachments, each
// non-empty, at most MaxAttachmentBytes, of an allowed type recognised
// from its content. The error names the file and the reason.
func CheckUploads(ups []Upload) ([]Attachment, error) {
	if len(ups) > MaxAttachments {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field attachments: höchstens %d Dateien / at most %d files", MaxAttachments, MaxAttachments)
	}
	var out []Attachment
	for i, up := range ups {
		name := strings.TrimSpace(up.Filename)
		if j := strings.LastIndexAny(name, `/\`); j >= 0 {
			name = name[j+1:]
		}
		field := fmt.Sprintf("field attachments[%d] (%s)", i+1, name)
		switch {
		case name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00\r\n") || !utf8.ValidString(name):
			return nil, rathaus.Errorf(rathaus.EINVALID, "field attachments[%d]: ungültiger Dateiname / invalid file name", i+1)
		case len(up.Data) == 0:
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: Datei ist leer / file is empty", field)
		case len(up.Data) > MaxAttachmentBytes:
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: Datei zu groß (höchstens %d MB) / file too large (at most %d MB)", field, MaxAttachmentBytes>>20, MaxAttachmentBytes>>20)
		}
		mt := submission.Sniff(up.Data)
		if mt == "" {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: nur PDF, JPEG oder PNG erlaubt / only PDF, JPEG or PNG allowed", field)
		}
		if why := polyglot(mt, up.Data); why != "" {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: Datei enthält aktive Inhalte (%s) und wird nicht angenommen / file contains active content (%s) and is refused", field, why, why)
		}
		out = append(out, Attachment{Filename: name, MediaType: mt, Size: int64(len(up.Data)), Data: up.Data})
	}
	return out, nil
}

// marker is a sign of active content hidden in an otherwise valid file (a
// polyglot), matched case-insensitively.
type marker struct{ bytes, name string }

// The markers: HTML or script anywhere, scripts and launch actions in
// PDFs, an archive appended to an image. They are long enough that random
// bytes of a large image match them practically never.
var (
	htmlMarkers = []marker{{"<script", "Skript"}, {"<html", "HTML"}, {"<!doctype", "HTML"}, {"<iframe", "HTML"}, {"<object", "HTML"},
		{"<embed", "HTML"}, {`xmlns="http://www.w3.org/2000/svg`, "SVG"}}
	pdfMarkers   = []marker{{"/javascript", "PDF-JavaScript"}, {"/launch", "PDF-Startaktion"}}
	imageMarkers = []marker{{"pk\x03\x04", "ZIP-Archiv"}}
)

// polyglot names the active content data of media type mt carries, or
// returns "".
func polyglot(mt string, data []byte) string {
	lower := bytes.ToLower(data)
	ms := append(append([]marker(nil), htmlMarkers...), imageMarkers...)
	if mt == "application/pdf" {
		ms = append(htmlMarkers[:len(htmlMarkers):len(htmlMarkers)], pdfMarkers...)
	}
	for _, m := range ms {
		if bytes.Contains(lower, []byte(m.bytes)) {
			return m.name
		}
	}
	return ""
}

// Reply stores the citizen's answer to message parentID of their mailbox,
// with text and files, in one transaction with its audit entry and
// OnReply. Replying to another citizen's message gives ENOTFOUND.
func (s *Service) Reply(ctx context.Context, userID, parentID, body string, ups []Upload) (*Message, error) {
	parent, err := s.MessageFor(ctx, userID, parentID)
	if err != nil {
		return nil, err
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "" && len(ups) == 0:
		return nil, rathaus.Errorf(rathaus.EINVALID, "field body: Bitte schreiben Sie eine Antwort oder hängen Sie eine Datei an / write an answer or attach a file")
	case runes(body) > MaxBodyRunes:
		return nil, rathaus.Errorf(rathaus.EINVALID, "field body: höchstens %d Zeichen / at most %d characters", MaxBodyRunes, MaxBodyRunes)
	case !utf8.ValidString(body):
		return nil, rathaus.Errorf(rathaus.EINVALID, "field body: kein gültiger Text / not valid UTF-8")
	case parent.FromCitizen:
		return nil, rathaus.Errorf(rathaus.EINVALID, "field reply_to: Antworten Sie auf die Nachricht der Behörde / reply to the authority's message")
	}
	atts, err := CheckUploads(ups)
	if err != nil {
		return nil, err
	}
	subject := parent.Subject
	if !strings.HasPrefix(subject, "Antwort: ") {
		subject = "Antwort: " + subject
	}
	if runes(subject) > MaxSubjectRunes {
		subject = string([]rune(subject)[:MaxSubjectRunes])
	}
	m := &Message{Tenant: parent.Tenant, UserID: userID, ApplicationID: parent.ApplicationID, Kind: KindReply, FromCitizen: true,
		ReplyTo: parent.ID, Subject: subject, Body: body, Attachments: atts}
	err = s.opts.DB.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.insert(ctx, tx, m); err != nil {
			return err
		}
		if _, err := s.store.MarkRead(ctx, parent.Tenant, parent.ID, s.now()); err != nil {
			return err
		}
		if _, err := s.opts.DB.AppendAudit(ctx, tx, auditEntry(m, userID, "mailbox.reply")); err != nil {
			return err
		}
		if s.OnReply != nil {
			return s.OnReply(ctx, tx, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range m.Attachments {
		m.Attachments[i].Data = nil
	}
	return m, nil
}
