// SPDX-License-Identifier: EUPL-1.2

package mailbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"rathaus"
	"rathaus/jobs"
)

// Notification is the e-mail that tells a citizen a new message is
// waiting. It carries no content of the message: only the link to the
// mailbox (the mailbox needs a login to read).
type Notification struct {
	To   string // e-mail address
	Name string // the citizen's name, for the address header
	Link string // e.g. https://rathaus.example/postfach/0190…
}

// Notifier sends notifications.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// SMTPNotifier sends notifications through an SMTP relay (net/smtp; STARTTLS
// when the server offers it).
type SMTPNotifier struct {
	Addr string    // host:port of the relay
	From string    // sender address, e.g. "Rathaus <postfach@rathaus.example>"
	Auth smtp.Auth // optional (smtp.PlainAuth needs TLS or localhost)
	// Now stamps the Date header (default time.Now).
	Now func() time.Time
}

// NotificationSubject is the subject of every notification e-mail.
const NotificationSubject = "Neue Nachricht in Ihrem Postfach / New message in your mailbox"

// Message returns the RFC 5322 message for n: fixed German and English
// text and the link, nothing of the message itself.
func (sn *SMTPNotifier) Message(n Notification) ([]byte, error) {
	from, err := mail.ParseAddress(sn.From)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field from: %q is no e-mail address", sn.From)
	}
	to, err := mail.ParseAddress(n.To)
	if err != nil || strings.ContainsAny(n.To, "\r\n") {
		// The address itself stays out of the error: job errors end up in
		// logs and in the queue's table.
		return nil, rathaus.Errorf(rathaus.EINVALID, "field to: no valid e-mail address (%d characters)", len(n.To))
	}
	to.Name = strings.NewReplacer("\r", " ", "\n", " ").Replace(n.Name)
	if strings.ContainsAny(n.Link, "\r\n") {
		return nil, rathaus.Errorf(rathaus.EINVALID, "field link: line break")
	}
	now := time.Now
	if sn.Now != nil {
		now = sn.Now
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", NotificationSubject))
	hdr("Date", now().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	body := "Guten Tag,\r\n\r\nSie haben eine neue Nachricht in Ihrem Postfach.\r\n" +
		"Bitte melden Sie sich an, um sie zu lesen:\r\n" + n.Link + "\r\n\r\n" +
		"Diese E-Mail wurde automatisch erstellt; bitte antworten Sie nicht darauf.\r\n\r\n" +
		"---\r\nYou have a new message in your mailbox. Please log in to read it:\r\n" + n.Link + "\r\n"
	b.WriteString(body)
	return b.Bytes(), nil
}

// Notify implements Notifier.
func (sn *SMTPNotifier) Notify(ctx context.Context, n Notification) error {
	msg, err := sn.Message(n)
	if err != nil {
		return err
	}
	from, _ := mail.ParseAddress(sn.From)
	to, _ := mail.ParseAddress(n.To)
	done := make(chan error, 1)
	go func() { done <- sn.send(ctx, from.Address, to.Address, msg) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (sn *SMTPNotifier) send(ctx context.Context, from, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", sn.Addr)
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: cannot reach %s", sn.Addr)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
	}
	host, _, _ := net.SplitHostPort(sn.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: %v", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: starttls: %v", err)
		}
	}
	if sn.Auth != nil {
		if err := c.Auth(sn.Auth); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: auth: %v", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: MAIL: %v", err)
	}
	if err := c.Rcpt(to); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: RCPT: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: DATA: %v", err)
	}
	if _, err := w.Write(msg); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: write: %v", err)
	}
	if err := w.Close(); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "smtp: end of data: %v", err)
	}
	return c.Quit()
}

// notifyArgs are the arguments of JobNotify.
type notifyArgs struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

// Registrar registers job handlers (*jobs.Queue).
type Registrar interface {
	Register(kind string, fn jobs.Handler) error
}

// RegisterJobs registers the notification job on q (before q.Start).
func (s *Service) RegisterJobs(q Registrar) error {
	return q.Register(JobNotify, s.handleNotify)
}

func (s *Service) handleNotify(ctx context.Context, raw json.RawMessage) error {
	var a notifyArgs
	if err := json.Unmarshal(raw, &a); err != nil || a.Tenant == "" || a.ID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "mailbox.notify: bad arguments %s", raw)
	}
	return s.Notify(ctx, a.Tenant, a.ID)
}

// Notify sends the notification of message id (the work of JobNotify and
// of NotifyPending) at most once: the message is claimed first, and
// released again only when the e-mail could not be sent. Nothing is sent
// when no notifier is configured, for the citizen's own replies, when the
// message was read meanwhile, or when the citizen has no e-mail address.
func (s *Service) Notify(ctx context.Context, tenant, id string) error {
	_, err := s.notify(ctx, tenant, id)
	return err
}

func (s *Service) notify(ctx context.Context, tenant, id string) (bool, error) {
	if s.opts.Notifier == nil || s.opts.Recipient == nil {
		return false, nil
	}
	r, err := s.store.Message(ctx, tenant, id)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil || r.FromCitizen {
		return false, err
	}
	claimed, err := s.store.ClaimNotification(ctx, tenant, id, s.now())
	if err != nil || !claimed || !r.ReadAt.IsZero() {
		return false, err
	}
	email, name, err := s.opts.Recipient(ctx, r.UserID)
	if isNotFound(err) || err == nil && strings.TrimSpace(email) == "" {
		return false, nil
	}
	if err == nil {
		err = s.opts.Notifier.Notify(ctx, Notification{To: email, Name: name, Link: s.opts.BaseURL + "/postfach/" + r.ID})
	}
	if err != nil {
		if rerr := s.store.ReleaseNotification(context.WithoutCancel(ctx), tenant, id); rerr != nil {
			return false, errors.Join(err, rerr)
		}
		return false, err
	}
	return true, nil
}

// NotifyPending sends the notifications of messages older than grace that
// have none yet (for installations without a job queue, and as a safety
// net behind it); it returns how many e-mails it sent and the first error.
func (s *Service) NotifyPending(ctx context.Context, grace time.Duration, limit int) (int, error) {
	if s.opts.Notifier == nil || s.opts.Recipient == nil {
		return 0, nil
	}
	rows, err := s.store.Unnotified(ctx, s.now().Add(-grace), limit)
	if err != nil {
		return 0, err
	}
	sent, first := 0, error(nil)
	for _, r := range rows {
		ok, err := s.notify(ctx, r.Tenant, r.ID)
		if ok {
			sent++
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return sent, first
}

// RunNotifier calls NotifyPending every interval until ctx ends; errors go
// to onErr (if set).
func (s *Service) RunNotifier(ctx context.Context, every, grace time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.NotifyPending(ctx, grace, 100); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
