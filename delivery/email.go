// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"sort"
	"strings"
	"time"

	"rathaus"
)

// E-mail content modes.
const (
	// EmailNotification says only that an application arrived (reference,
	// service, time): no personal data leaves rathaus by e-mail.
	EmailNotification = "notification"
	// EmailFull adds the answers as text, the application as JSON and the
	// attachments.
	EmailFull = "full"
)

// EmailConfig configures an e-mail route to the office.
type EmailConfig struct {
	// SMTP is host:port of the relay.
	SMTP string   `json:"smtp"`
	From string   `json:"from"`
	To   []string `json:"to"`
	// Content is EmailNotification (default) or EmailFull.
	Content string `json:"content,omitempty"`
	// Username and Password authenticate (PLAIN; net/smtp refuses it
	// without TLS except on loopback).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Email is the e-mail channel.
type Email struct {
	cfg EmailConfig
}

// NewEmail checks cfg and returns the channel.
func NewEmail(cfg EmailConfig) (*Email, error) {
	if _, _, err := net.SplitHostPort(cfg.SMTP); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "email: field smtp: %q is no host:port", cfg.SMTP)
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "email: field from: %q is no address", cfg.From)
	}
	if len(cfg.To) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "email: field to: at least one recipient is required")
	}
	for i, to := range cfg.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "email: field to[%d]: %q is no address", i, to)
		}
	}
	switch cfg.Content {
	case "":
		cfg.Content = EmailNotification
	case EmailNotification, EmailFull:
	default:
		return nil, rathaus.Errorf(rathaus.EINVALID, "email: field content: %q is neither notification nor full", cfg.Content)
	}
	return &Email{cfg: cfg}, nil
}

// Deliver implements Channel: one message over SMTP. Its Message-ID is
// derived from the idempotency key, so a receiving system can drop a
// repeat.
func (e *Email) Deliver(ctx context.Context, a *Attempt) (*Result, error) {
	msgID := "<" + a.Delivery.IdempotencyKey() + "@rathaus.invalid>"
	msg, err := e.Message(a.App, msgID, time.Now())
	if err != nil {
		return nil, Permanent(err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.cfg.SMTP)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "email: %s unreachable", e.cfg.SMTP)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(e.cfg.SMTP)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "email: SMTP greeting")
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "email: STARTTLS")
		}
	}
	if e.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, host)); err != nil {
			return nil, smtpErr("AUTH", err)
		}
	}
	from, _ := mail.ParseAddress(e.cfg.From)
	if err := c.Mail(from.Address); err != nil {
		return nil, smtpErr("MAIL FROM", err)
	}
	for _, to := range e.cfg.To {
		addr, _ := mail.ParseAddress(to)
		if err := c.Rcpt(addr.Address); err != nil {
			return nil, smtpErr("RCPT TO", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return nil, smtpErr("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return nil, smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return nil, smtpErr("DATA", err)
	}
	c.Quit()
	return &Result{RemoteID: msgID, Message: "SMTP " + e.cfg.SMTP}, nil
}

// smtpErr: 5xx replies are permanent, everything else is retried.
func smtpErr(step string, err error) error {
	if te, ok := err.(*textproto.Error); ok && te.Code >= 500 {
		return Permanent(rathaus.Errorf(rathaus.EINVALID, "email: %s: %d %s", step, te.Code, te.Msg))
	}
	return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "email: %s", step)
}

// Message builds the RFC 5322 message for app.
func (e *Email) Message(app *Application, msgID string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	subject := "Neuer Antrag / new application " + app.Reference
	if app.ServiceName != "" {
		subject += " – " + app.ServiceName
	}
	hdr("From", e.cfg.From)
	hdr("To", strings.Join(e.cfg.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", msgID)
	hdr("MIME-Version", "1.0")
	intro := fmt.Sprintf("Ein neuer Antrag ist eingegangen.\r\nA new application has arrived.\r\n\r\nAktenzeichen / reference: %s\r\nLeistung / service: %s %s\r\nEingang / received: %s\r\nARS: %s\r\n",
		app.Reference, app.ServiceKey, app.ServiceName, app.SubmittedAt.UTC().Format(time.RFC3339), app.Tenant)
	if e.cfg.Content == EmailNotification {
		hdr("Content-Type", "text/plain; charset=utf-8")
		hdr("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		writeBase64(&b, []byte(intro+"\r\nDer Antrag liegt im Fachverfahren bzw. in rathaus vor; diese Nachricht enthält keine Antragsdaten.\r\nThe application is in the specialist software or in rathaus; this message holds no application data.\r\n"))
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	hdr("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	part := func(ct, disp string, data []byte) error {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", ct)
		h.Set("Content-Transfer-Encoding", "base64")
		if disp != "" {
			h.Set("Content-Disposition", disp)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		var pb bytes.Buffer
		writeBase64(&pb, data)
		_, err = w.Write(pb.Bytes())
		return err
	}
	var text strings.Builder
	text.WriteString(intro + "\r\nAngaben / answers:\r\n")
	flatten(&text, "", app.Answers)
	if err := part("text/plain; charset=utf-8", "", []byte(text.String())); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "email")
	}
	js, err := ExportJSON(app)
	if err != nil {
		return nil, err
	}
	if err := part("application/json", `attachment; filename="antrag.json"`, js); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "email")
	}
	for _, at := range app.Attachments {
		disp := mime.FormatMediaType("attachment", map[string]string{"filename": at.Filename})
		if err := part(at.MediaType, disp, at.Content); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "email")
		}
	}
	if err := mw.Close(); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "email")
	}
	return b.Bytes(), nil
}

func writeBase64(b *bytes.Buffer, data []byte) {
	s := base64.StdEncoding.EncodeToString(data)
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
}

// flatten writes answers as "path: value" lines in key order.
func flatten(b *strings.Builder, prefix string, v any) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(b, p, t[k])
		}
	case []any:
		for i, one := range t {
			flatten(b, fmt.Sprintf("%s[%d]", prefix, i), one)
		}
	default:
		fmt.Fprintf(b, "%s: %v\r\n", prefix, t)
	}
}
