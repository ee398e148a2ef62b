// SPDX-License-Identifier: EUPL-1.2

package delivery_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/delivery"
	"rathaus/form"
	"rathaus/submission"
)

// smtpSink is a real SMTP server (emersion/go-smtp) on loopback that keeps
// the messages it receives.
type smtpSink struct {
	addr string
	mu   sync.Mutex
	msgs []smtpMsg
}

type smtpMsg struct {
	from string
	to   []string
	data []byte
}

type smtpSession struct {
	sink *smtpSink
	msg  smtpMsg
}

func (s *smtpSession) Reset()        { s.msg = smtpMsg{} }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(to, "@unknown.example") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.msg.to = append(s.msg.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.msg)
	s.sink.mu.Unlock()
	return nil
}

func newSMTP(t *testing.T) *smtpSink {
	sink := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{sink: sink}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink
}

func (s *smtpSink) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

func TestEmail(t *testing.T) {
	sink := newSMTP(t)
	e := newEnv(t, "sqlite", delivery.Options{})
	notify := e.route(t, darmstadt, service, delivery.ChannelEmail, delivery.EmailConfig{SMTP: sink.addr, From: "rathaus@darmstadt.example",
		To: []string{"ordnungsamt@darmstadt.example"}})
	full := e.route(t, darmstadt, service, delivery.ChannelEmail, delivery.EmailConfig{SMTP: sink.addr, From: "rathaus@darmstadt.example",
		To: []string{"fachamt@darmstadt.example"}, Content: delivery.EmailFull})
	bad := e.route(t, darmstadt, service, delivery.ChannelEmail, delivery.EmailConfig{SMTP: sink.addr, From: "rathaus@darmstadt.example",
		To: []string{"nobody@unknown.example"}})
	e.start(t)
	app := e.submit(t, darmstadt)
	e.waitStatus(t, darmstadt, app.ID, notify.ID, delivery.StatusDelivered)
	e.waitStatus(t, darmstadt, app.ID, full.ID, delivery.StatusDelivered)
	d := e.waitStatus(t, darmstadt, app.ID, bad.ID, delivery.StatusDead)
	if d.Attempts != 1 || !strings.Contains(d.LastError, "550") {
		t.Errorf("rejected recipient: %+v, want dead after one attempt with the 550", d)
	}
	byTo := map[string]*mail.Message{}
	for _, m := range sink.messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.data))
		if err != nil {
			t.Fatal(err)
		}
		byTo[m.to[0]] = msg
	}
	t.Run("NotificationOnly", func(t *testing.T) {
		msg := byTo["ordnungsamt@darmstadt.example"]
		if msg == nil {
			t.Fatal("no message")
		}
		if got := msg.Header.Get("Message-ID"); got != "<"+delivery.IdempotencyKey(app.ID, notify.ID)+"@rathaus.invalid>" {
			t.Errorf("Message-ID = %s", got)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if !strings.Contains(subj, app.Reference) {
			t.Errorf("subject = %q", subj)
		}
		body, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
		if !strings.Contains(string(body), app.Reference) || strings.Contains(string(body), "Müller") || strings.Contains(string(body), "juergen@") {
			t.Errorf("notification must name the reference and no personal data:\n%s", body)
		}
	})
	t.Run("Full", func(t *testing.T) {
		msg := byTo["fachamt@darmstadt.example"]
		if msg == nil {
			t.Fatal("no message")
		}
		_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(msg.Body, params["boundary"])
		var parts []string
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			content, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			ct := p.Header.Get("Content-Type")
			parts = append(parts, strings.Split(ct, ";")[0]+" "+p.FileName())
			switch {
			case strings.HasPrefix(ct, "text/plain") && !strings.Contains(string(content), "Müller-Lüdenscheidt"):
				t.Errorf("text part lacks the answers:\n%s", content)
			case ct == "application/pdf" && !bytes.Equal(content, pdf):
				t.Errorf("attachment content differs")
			}
		}
		if diff := cmp.Diff([]string{"text/plain ", "application/json antrag.json", "application/pdf nachweis.pdf"}, parts); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
	})
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, "sqlite", delivery.Options{})
	r := e.route(t, darmstadt, service, delivery.ChannelExport, delivery.ExportConfig{Dir: dir})
	e.start(t)
	app := e.submit(t, darmstadt)
	e.waitStatus(t, darmstadt, app.ID, r.ID, delivery.StatusDelivered)
	// Exactly one file per format, even when the attempt repeats.
	d, _ := e.svc.Delivery(context.Background(), darmstadt, app.ID, r.ID)
	ch, _ := delivery.NewExport(delivery.ExportConfig{Dir: dir})
	loaded, err := (&delivery.SubmissionSource{Intake: e.intake, NoReceipt: true}).Load(context.Background(), darmstadt, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	loaded.Form = submission.UniversalForm("de")
	if _, err := ch.Deliver(context.Background(), &delivery.Attempt{Delivery: d, App: loaded}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, darmstadt, "*"))
	if len(files) != 2 {
		t.Fatalf("files = %v, want the .json and the .xml", files)
	}
	t.Run("JSON", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, darmstadt, app.ID+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var got delivery.Application
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Reference != app.Reference || got.FormID != app.FormID || len(got.Attachments) != 1 || !bytes.Equal(got.Attachments[0].Content, pdf) {
			t.Errorf("json export = %+v", got)
		}
		if diff := cmp.Diff(map[string]any(validAnswersJSON(t)), got.Answers); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
	})
	t.Run("XMLFollowsTheFormModel", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, darmstadt, app.ID+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		root, err := parseXML(b)
		if err != nil {
			t.Fatal(err)
		}
		if root.name != "antrag" || root.attr["referenz"] != app.Reference || root.attr["formular"] != app.FormID {
			t.Fatalf("root = %s %v", root.name, root.attr)
		}
		if len(root.kids) != 2 || root.kids[0].name != "daten" || root.kids[1].name != "anlagen" {
			t.Fatalf("envelope children = %v", names(root.kids))
		}
		checkAgainstModel(t, "daten", root.kids[0].kids, submission.UniversalForm("de").Root, validAnswersJSON(t))
		anl := root.kids[1].kids
		if len(anl) != 1 || anl[0].attr["dateiname"] != "nachweis.pdf" {
			t.Fatalf("anlagen = %+v", anl)
		}
		if c, _ := base64.StdEncoding.DecodeString(anl[0].text); !bytes.Equal(c, pdf) {
			t.Errorf("anlage content differs")
		}
	})
}

// validAnswersJSON are the answers as they come back from JSON.
func validAnswersJSON(t *testing.T) map[string]any {
	b, _ := json.Marshal(validAnswers())
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// node is a parsed XML element.
type node struct {
	name string
	attr map[string]string
	kids []*node
	text string
}

func parseXML(b []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attr: map[string]string{}}
			if t.Name.Space != delivery.XMLNamespace {
				return nil, rathaus.Errorf(rathaus.EINVALID, "element %s in namespace %q", t.Name.Local, t.Name.Space)
			}
			for _, a := range t.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += strings.TrimSpace(string(t))
			}
		}
	}
}

func names(ns []*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	return out
}

// checkAgainstModel validates the XML against the form model: every
// element is an item of the model at its place (groups contain only their
// items, in model order), fields hold the answer, and every answer is
// there.
func checkAgainstModel(t *testing.T, path string, got []*node, items []form.Item, answers map[string]any) {
	t.Helper()
	pos := 0
	for _, n := range got {
		idx := -1
		for i := pos; i < len(items); i++ {
			if items[i].ID == n.name {
				idx = i
				break
			}
		}
		if idx < 0 {
			t.Errorf("%s/%s: not an item of the model here, or out of model order", path, n.name)
			continue
		}
		pos = idx
		it := &items[idx]
		if it.Kind == form.KindGroup {
			sub, _ := answers[it.ID].(map[string]any)
			checkAgainstModel(t, path+"/"+n.name, n.kids, it.Items, sub)
			continue
		}
		if s, ok := answers[it.ID].(string); ok && n.text != s {
			t.Errorf("%s/%s = %q, want %q", path, n.name, n.text, s)
		}
	}
	for id := range answers {
		found := false
		for _, n := range got {
			found = found || n.name == id
		}
		if !found {
			t.Errorf("%s: answer %s missing", path, id)
		}
	}
}

func TestXMLName(t *testing.T) {
	for in, want := range map[string]string{"F00000123": "F00000123", "kontakt": "kontakt", "1abc": "_1abc", "a b": "a_b", "xmlfoo": "_xmlfoo", "": "_", "größe": "größe", "\xf4": "_", "ä1": "ä1"} {
		if got := delivery.XMLName(in); got != want {
			t.Errorf("XMLName(%q) = %q, want %q", in, got, want)
		}
		if err := xml.Unmarshal([]byte("<"+delivery.XMLName(in)+"/>"), new(any)); err != nil {
			t.Errorf("XMLName(%q) is no XML name: %v", in, err)
		}
	}
}

func TestResolveEfA(t *testing.T) {
	e := newEnv(t, "sqlite", delivery.Options{})
	ctx := context.Background()
	hook := delivery.WebhookConfig{URL: "https://fachverfahren.example/hook", Secrets: []string{secret1}}
	land := e.route(t, hessen, service, delivery.ChannelWebhook, hook)
	landAny := e.route(t, hessen, delivery.AnyService, delivery.ChannelWebhook, hook)
	own := e.route(t, darmstadt, "99000000000001", delivery.ChannelWebhook, hook)
	tests := []struct {
		ars, service string
		want         []string
	}{
		{darmstadt, service, []string{land.ID}},             // inherited from the Land
		{darmstadt, "99000000000001", []string{own.ID}},     // the municipality's own route wins
		{darmstadt, "99000000000002", []string{landAny.ID}}, // the Land's catch-all
		{"064120000000", service, []string{land.ID}},        // another municipality of Hessen
		{muenchen, service, nil},                            // not in the subtree
	}
	for _, tt := range tests {
		t.Run(tt.ars+"/"+tt.service, func(t *testing.T) {
			rs, err := e.svc.Resolve(ctx, tt.ars, tt.service)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("BadConfig", func(t *testing.T) {
		for _, r := range []*delivery.Route{
			{Tenant: darmstadt, ServiceKey: service, Channel: "fax", Config: json.RawMessage(`{}`)},
			{Tenant: darmstadt, ServiceKey: service, Channel: delivery.ChannelWebhook, Config: json.RawMessage(`{"url":"ftp://x","secrets":["0123456789abcdefg"]}`)},
			{Tenant: darmstadt, ServiceKey: service, Channel: delivery.ChannelWebhook, Config: json.RawMessage(`{"url":"https://x.example","secrets":["short"]}`)},
			{Tenant: darmstadt, ServiceKey: service, Channel: delivery.ChannelEmail, Config: json.RawMessage(`{"smtp":"mail:25","from":"a@b.example","to":[],"unknown":1}`)},
			{Tenant: darmstadt, ServiceKey: service, Channel: delivery.ChannelExport, Config: json.RawMessage(`{"dir":"relative"}`)},
			{Tenant: "12", ServiceKey: service, Channel: delivery.ChannelExport, Config: json.RawMessage(`{"dir":"/tmp"}`)},
		} {
			if err := e.svc.PutRoute(ctx, r, "test"); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("PutRoute(%s %s) = %v, want invalid", r.Channel, r.Config, err)
			}
		}
	})
	t.Run("ConfigSealedAtRest", func(t *testing.T) {
		var n int
		e.db.SQL().QueryRow(`SELECT count(*) FROM delivery_route WHERE CAST(config AS TEXT) LIKE '%` + secret1 + `%'`).Scan(&n)
		if n != 0 {
			t.Errorf("%d route configs hold the secret in clear", n)
		}
		r, err := e.svc.Route(ctx, hessen, land.ID)
		if err != nil || !strings.Contains(string(r.Config), secret1) {
			t.Errorf("Route = %v, %v", r, err)
		}
	})
}
