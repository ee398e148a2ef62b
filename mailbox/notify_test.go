// SPDX-License-Identifier: EUPL-1.2

package mailbox_test

import (
	"context"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"rathaus"
	"rathaus/jobs"
	"rathaus/mailbox"
	"rathaus/sqlstore/sqltest"
)

// mailSink is a real in-process SMTP server (emersion/go-smtp) on
// loopback that keeps every received mail.
type mailSink struct {
	mu    sync.Mutex
	mails []sunkMail
	got   chan struct{}
	addr  string
}

type sunkMail struct {
	From string
	To   []string
	Data string
}

type sinkSession struct {
	s   *mailSink
	cur sunkMail
}

func (ss *sinkSession) Reset()        { ss.cur = sunkMail{} }
func (ss *sinkSession) Logout() error { return nil }
func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.cur.From = from
	return nil
}
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.cur.To = append(ss.cur.To, to)
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = string(b)
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, ss.cur)
	ss.s.mu.Unlock()
	ss.s.got <- struct{}{}
	return nil
}

func newMailSink(t *testing.T) *mailSink {
	t.Helper()
	sink := &mailSink{got: make(chan struct{}, 16)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: sink}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink
}

func (s *mailSink) wait(t *testing.T, n int) []sunkMail {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		if len(s.mails) >= n {
			out := append([]sunkMail(nil), s.mails...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("no mail %d within 20 s", n)
		}
	}
}

// TestNotificationMail posts a message in a transaction; the notification
// job it enqueued sends an e-mail through the SMTP notifier to a real SMTP
// server. The mail links to the message and contains nothing of it.
func TestNotificationMail(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			sink := newMailSink(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var e *env
			recipients := map[string]string{"u-erika": "erika@example.org"}
			opts := mailbox.Options{
				Notifier: &mailbox.SMTPNotifier{Addr: sink.addr, From: "Rathaus Darmstadt <postfach@rathaus.example>"},
				Recipient: func(ctx context.Context, userID string) (string, string, error) {
					if a, ok := recipients[userID]; ok {
						return a, "Erika Mustermann", nil
					}
					return "", "", rathaus.Errorf(rathaus.ENOTFOUND, "no user")
				},
				BaseURL: "https://rathaus.example/",
			}
			e = newEnv(t, dialect, opts)
			q, err := jobs.New(ctx, e.db, jobs.Options{PollInterval: 50 * time.Millisecond, RetryBackoff: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			e.svc = mustNew(t, e, opts, q)
			if err := e.svc.RegisterJobs(q); err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer q.Stop(context.Background())

			secret := mailbox.Message{Tenant: arsA, UserID: "u-erika", ApplicationID: "app-1", Kind: mailbox.KindNotice, Key: "eff-9",
				Subject: "Bewilligung Wohngeld 734,50 Euro", Body: "Ihr Wohngeld beträgt 734,50 Euro monatlich.",
				Attachments: []mailbox.Attachment{{Filename: "bescheid-wohngeld.pdf", MediaType: "application/pdf", Data: pdf}}}
			m := e.post(t, secret)
			e.post(t, secret) // replay: no second mail
			// A citizen without an address gets no mail (and no retry loop).
			e.post(t, mailbox.Message{Tenant: arsA, UserID: "u-nomail", Kind: mailbox.KindMessage, Subject: "Hallo", Body: "x"})

			mails := sink.wait(t, 1)
			time.Sleep(500 * time.Millisecond)
			mails = sink.wait(t, 1)
			if len(mails) != 1 {
				t.Fatalf("%d mails, want 1", len(mails))
			}
			got := mails[0]
			if got.From != "postfach@rathaus.example" || len(got.To) != 1 || got.To[0] != "erika@example.org" {
				t.Errorf("envelope = %s → %v", got.From, got.To)
			}
			for _, want := range []string{"Sie haben eine neue Nachricht in Ihrem Postfach", "https://rathaus.example/postfach/" + m.ID, "You have a new message"} {
				if !strings.Contains(got.Data, want) {
					t.Errorf("mail lacks %q:\n%s", want, got.Data)
				}
			}
			// "734,50", not "734": the link's random id may contain any digits.
			for _, leak := range []string{"Wohngeld", "734,50", "Bewilligung", "bescheid", "%PDF", "app-1"} {
				if strings.Contains(got.Data, leak) {
					t.Errorf("mail contains message content %q:\n%s", leak, got.Data)
				}
			}
		})
	}
}

// mustNew rebuilds the service of e with the queue (the env's vault keeps
// its keys in the same database).
func mustNew(t *testing.T, e *env, opts mailbox.Options, q *jobs.Queue) *mailbox.Service {
	t.Helper()
	opts.DB, opts.Queue = e.db, q
	opts.Sealer = e.sealer
	opts.Now = time.Now
	svc, err := mailbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSMTPNotifierRejects(t *testing.T) {
	n := &mailbox.SMTPNotifier{Addr: "127.0.0.1:1", From: "postfach@rathaus.example"}
	for _, tc := range []struct {
		name string
		in   mailbox.Notification
	}{
		{"bad address", mailbox.Notification{To: "kein-at", Link: "https://x/postfach/1"}},
		{"header injection in address", mailbox.Notification{To: "a@b.de\r\nBcc: c@d.de", Link: "https://x/postfach/1"}},
		{"line break in link", mailbox.Notification{To: "a@b.de", Link: "https://x/\r\nBcc: c@d.de"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.Message(tc.in)
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("Message = %v, want invalid", err)
			}
			// No personal data in the error: it is logged and kept with the job.
			if tc.in.To != "a@b.de" && strings.Contains(err.Error(), tc.in.To) || strings.Contains(err.Error(), "@") {
				t.Errorf("error %q names the address", err)
			}
		})
	}
	// A name with a line break is folded into the header, never a new one.
	b, err := n.Message(mailbox.Notification{To: "a@b.de", Name: "Erika\r\nBcc: c@d.de", Link: "https://x/postfach/1"})
	if err != nil || strings.Contains(string(b), "\r\nBcc:") {
		t.Errorf("name injection: %v\n%s", err, b)
	}
	// Unreachable relay: unavailable, so the job retries.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Notify(ctx, mailbox.Notification{To: "a@b.de", Link: "https://x/postfach/1"}); rathaus.ErrorCode(err) != rathaus.EUNAVAILABLE {
		t.Errorf("Notify to closed port = %v, want unavailable", err)
	}
}

// TestNotifyPending sends notifications without a job queue: once per
// message, none for read messages or citizens without an address, and a
// failed send is tried again on the next sweep.
func TestNotifyPending(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var sent []mailbox.Notification
			fail := true
			opts := mailbox.Options{
				Notifier: mailbox.NotifierFunc(func(ctx context.Context, n mailbox.Notification) error {
					if fail {
						fail = false
						return rathaus.Errorf(rathaus.EUNAVAILABLE, "relay down")
					}
					sent = append(sent, n)
					return nil
				}),
				Recipient: func(ctx context.Context, userID string) (string, string, error) {
					if userID == "u-nomail" {
						return "", "", nil
					}
					return userID + "@example.org", "", nil
				},
				BaseURL: "https://rathaus.example",
			}
			e := newEnv(t, dialect, opts)
			a := e.post(t, mailbox.Message{Tenant: arsA, UserID: "u-erika", Kind: mailbox.KindMessage, Subject: "Eins", Body: "x"})
			e.post(t, mailbox.Message{Tenant: arsA, UserID: "u-nomail", Kind: mailbox.KindMessage, Subject: "Zwei", Body: "x"})
			read := e.post(t, mailbox.Message{Tenant: arsB, UserID: "u-max", Kind: mailbox.KindMessage, Subject: "Drei", Body: "x"})
			if _, err := e.svc.Read(ctx, "u-max", read.ID); err != nil {
				t.Fatal(err)
			}
			n, err := e.svc.NotifyPending(ctx, 0, 10)
			if n != 0 || rathaus.ErrorCode(err) != rathaus.EUNAVAILABLE {
				t.Fatalf("first sweep with the relay down: %d, %v", n, err)
			}
			n, err = e.svc.NotifyPending(ctx, 0, 10)
			if n != 1 || err != nil {
				t.Fatalf("second sweep: %d, %v; want 1 sent", n, err)
			}
			if n, err := e.svc.NotifyPending(ctx, 0, 10); n != 0 || err != nil {
				t.Errorf("third sweep: %d, %v; want nothing", n, err)
			}
			if err := e.svc.Notify(ctx, arsA, a.ID); err != nil || len(sent) != 1 {
				t.Errorf("Notify after the sweep: %v, %d mails; want no second mail", err, len(sent))
			}
			if len(sent) != 1 || sent[0].To != "u-erika@example.org" || sent[0].Link != "https://rathaus.example/postfach/"+a.ID {
				t.Errorf("sent = %+v", sent)
			}
			// A grace period leaves fresh messages to the job queue.
			e.post(t, mailbox.Message{Tenant: arsA, UserID: "u-erika", Kind: mailbox.KindMessage, Subject: "Vier", Body: "x"})
			if n, _ := e.svc.NotifyPending(ctx, time.Hour, 10); n != 0 {
				t.Errorf("sweep with grace sent %d", n)
			}
		})
	}
}
