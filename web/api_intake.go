// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"rathaus"
	"rathaus/form"
	"rathaus/identity"
	"rathaus/internal/jsonw"
	"rathaus/submission"
)

// IntakeAPIFeature mounts the JSON intake for machine clients and load
// tests: POST /api/v1/antraege/{key} with the answers as a JSON object in
// the body and an Idempotency-Key header. The municipality is the caller's
// own choice (municipality cookie, or a citizen session's tenant), never a
// tenant named in the URL. A logged-in citizen applies as themself; without
// login the application is anonymous. The answer is 201 with the
// application's id and reference once it is durable (200 and "replayed":
// true for a repeated key), 400 with the field errors for invalid answers.
// Add it to Deps.Features.
type IntakeAPIFeature struct {
	Intake *submission.Service
	// Form returns the form of service key as seen from municipality ars
	// (ENOTFOUND for an unknown service).
	Form func(ctx context.Context, ars, key string) (*form.Model, error)
	// AllowAnonymous reports whether a service may be applied for without
	// login; nil allows every service.
	AllowAnonymous func(serviceKey string) bool
	// MaxBodyBytes bounds the request body (default 1 MiB).
	MaxBodyBytes int64
}

// FormsOf returns an IntakeAPIFeature.Form over a form store: the form
// bound to the service for the municipality, else the universal form. The
// forms are cached per municipality and service for modelTTL (ttlCache), as the
// HTML intake caches its models: loading a stored form parses its whole
// model (S00000246: 200 kB of JSON, milliseconds), far more than the
// intake itself costs. A new binding or a re-imported version is seen
// within the TTL; errors are not cached. After the TTL one request reloads
// while the others keep the cached form.
func FormsOf(fs submission.FormStore) func(ctx context.Context, ars, key string) (*form.Model, error) {
	c := newTTLCache[string, *form.Model](modelTTL, maxIntakeForms)
	return func(ctx context.Context, ars, key string) (*form.Model, error) {
		return c.get(ars+"\x00"+key, func() (*form.Model, error) {
			ref, err := fs.Binding(ctx, ars, key)
			if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
				return submission.UniversalForm("de"), nil
			}
			if err != nil {
				return nil, err
			}
			return fs.FormFor(ctx, ars, ref.ID, ref.Version)
		})
	}
}

// maxIntakeForms bounds FormsOf's cache; past it the cache starts over.
const maxIntakeForms = 1000

// Register adds the intake route.
func (f IntakeAPIFeature) Register(s *Server) {
	if f.MaxBodyBytes <= 0 {
		f.MaxBodyBytes = 1 << 20
	}
	h := &intakeAPI{s: s, f: f}
	s.Route("POST /api/v1/antraege/{key}", http.HandlerFunc(h.post), Meta{Scope: ScopePublic, Personal: true, Raw: true,
		MaxBodyBytes: f.MaxBodyBytes, Example: "/api/v1/antraege/unbekannt",
		NotTenantScoped: "creates an application in the caller's own chosen municipality; a replayed idempotency key answers only its own applicant"})
}

type intakeAPI struct {
	s *Server
	f IntakeAPIFeature
}

// intakeReceipt is the answer of a successful submission.
type intakeReceipt struct {
	ID          string    `json:"id"`
	Reference   string    `json:"reference"`
	SubmittedAt time.Time `json:"submitted_at"`
	Replayed    bool      `json:"replayed"`
}

// intakeFieldError is one rejected answer.
type intakeFieldError struct {
	Path      string `json:"path"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageEN string `json:"message_en"`
}

func (h *intakeAPI) post(w http.ResponseWriter, r *http.Request) {
	rc, status, err := h.submit(r)
	if err != nil {
		code := rathaus.ErrorCode(err)
		st := StatusFor(code)
		if st >= 500 {
			h.s.logger(r).ErrorContext(r.Context(), "intake api", "error", err.Error())
		}
		body := map[string]any{"code": code, "message": rathaus.ErrorMessage(err)}
		if fe := submission.FieldErrors(err); fe != nil {
			fields := make([]intakeFieldError, len(fe))
			for i, e := range fe {
				fields[i] = intakeFieldError{e.Path, e.Code, e.Message, e.MessageEN}
			}
			body["fields"] = fields
		}
		intakeJSON(w, st, map[string]any{"error": body})
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(rc.appendJSON(make([]byte, 0, 160)))
}

// jsonContentType is the Content-Type header value of every intake answer
// (shared: net/http only reads it).
var jsonContentType = []string{"application/json; charset=utf-8"}

// appendJSON appends the receipt as encoding/json would write it (with
// json.Encoder's newline), without reflection.
func (rc *intakeReceipt) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, rc.ID)
	b = append(b, `,"reference":`...)
	b = jsonw.AppendString(b, rc.Reference)
	b = append(b, `,"submitted_at":"`...)
	b = rc.SubmittedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","replayed":`...)
	b = strconv.AppendBool(b, rc.Replayed)
	return append(b, "}\n"...)
}

// readBody reads the request body; with a Content-Length into one buffer
// of that size (io.ReadAll grows its buffer from 512 bytes). The limit is
// enforced by the route's MaxBytesReader either way.
func readBody(r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > 1<<20 {
		return io.ReadAll(r.Body)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, err
	}
	var one [1]byte
	if m, err := r.Body.Read(one[:]); m > 0 || (err != nil && err != io.EOF) {
		if err == nil {
			err = errors.New("body longer than Content-Length")
		}
		return nil, err
	}
	return body, nil
}

func (h *intakeAPI) submit(r *http.Request) (*intakeReceipt, int, error) {
	key := r.PathValue("key")
	if key == "" || len(key) > 64 {
		return nil, 0, rathaus.Errorf(rathaus.ENOTFOUND, "Leistung nicht gefunden / service not found")
	}
	idem := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if idem == "" || len(idem) > 200 {
		return nil, 0, rathaus.Errorf(rathaus.EINVALID, "Header Idempotency-Key fehlt oder ist länger als 200 Zeichen / header Idempotency-Key missing or longer than 200 characters")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, 0, rathaus.Errorf(rathaus.EINVALID, "Content-Type: application/json erwartet / want application/json")
	}
	ars := h.s.municipality(r)
	if ars == "" {
		return nil, 0, rathaus.Errorf(rathaus.EINVALID, "Keine Gemeinde gewählt (Cookie municipality) / no municipality chosen (cookie municipality)")
	}
	var app submission.Applicant
	if p := h.s.principal(r); p != nil && p.User != nil && p.Session != nil && p.User.Kind == identity.KindCitizen {
		app = submission.Applicant{UserID: p.User.ID, LoA: p.Session.LoA, IdP: p.Session.IdP}
	} else if h.f.AllowAnonymous != nil && !h.f.AllowAnonymous(key) {
		return nil, 0, rathaus.Errorf(rathaus.EUNAUTHORIZED, "Für diese Leistung ist eine Anmeldung nötig / this service needs a login")
	}
	body, err := readBody(r)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, 0, rathaus.Errorf(rathaus.EINVALID, "Anfrage zu groß / request too large")
		}
		return nil, 0, rathaus.Errorf(rathaus.EINVALID, "Anfrage unlesbar / request unreadable")
	}
	answers, err := decodeAPIAnswers(body)
	if err != nil {
		return nil, 0, err
	}
	m, err := h.f.Form(r.Context(), ars, key)
	if err != nil {
		return nil, 0, err
	}
	rc, err := h.f.Intake.Submit(r.Context(), submission.SubmitRequest{Tenant: ars, ServiceKey: key, Model: m, Answers: answers, AnswersJSON: body,
		Applicant: app, IdempotencyKey: "api:" + idem})
	if err != nil {
		return nil, 0, err
	}
	a := rc.Application
	if rc.Replayed && a.ApplicantUserID != app.UserID {
		// Someone else's key: reveal nothing of their application.
		return nil, 0, rathaus.Errorf(rathaus.ECONFLICT, "Idempotency-Key schon verwendet / Idempotency-Key already used")
	}
	status := http.StatusCreated
	if rc.Replayed {
		status = http.StatusOK
	}
	return &intakeReceipt{ID: a.ID, Reference: a.Reference, SubmittedAt: a.SubmittedAt, Replayed: rc.Replayed}, status, nil
}

// decodeAPIAnswers parses the body: one JSON object, numbers kept exact
// (json.Number). It gives the same values as encoding/json with UseNumber
// into form.Answers — nested objects map[string]any, arrays []any, null
// nil, strings with invalid UTF-8 or bad surrogates replaced by U+FFFD,
// duplicate keys: the last wins — but walks the body once with gjson
// instead of reflection (FuzzDecodeAPIAnswers checks it against
// encoding/json). One difference: encoding/json's Decoder.More let a stray
// "}" or "]" after the object pass; here anything but whitespace after the
// object is trailing data.
func decodeAPIAnswers(body []byte) (form.Answers, error) {
	i := 0
	for i < len(body) && isJSONSpace(body[i]) {
		i++
	}
	if i == len(body) || body[i] != '{' {
		return nil, errNotAnswerObject
	}
	s := string(body[i:]) // one copy; every key and value below is a substring of it
	if !gjson.Valid(s) {
		// Rare: tell a broken object from a good one with more after it.
		var first json.RawMessage
		if json.NewDecoder(strings.NewReader(s)).Decode(&first) == nil {
			return nil, errTrailingAnswers
		}
		return nil, errNotAnswerObject
	}
	p := answerParser{s: s}
	v, ok := p.value(1)
	if !ok {
		return nil, errNotAnswerObject
	}
	return form.Answers(v.(map[string]any)), nil
}

var (
	errNotAnswerObject = rathaus.Errorf(rathaus.EINVALID, "Body: kein JSON-Objekt mit den Antworten / body: not a JSON object of answers")
	errTrailingAnswers = rathaus.Errorf(rathaus.EINVALID, "Body: nach dem JSON-Objekt folgt noch etwas / body: trailing data after the JSON object")
)

// maxAnswerDepth is encoding/json's nesting limit, kept for the same errors.
const maxAnswerDepth = 10000

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// answerParser walks JSON text that gjson.Valid accepted, once, building
// the values encoding/json would. Being valid, the text needs no checks
// here beyond the nesting depth.
type answerParser struct {
	s string
	i int
}

func (p *answerParser) space() {
	for p.i < len(p.s) && isJSONSpace(p.s[p.i]) {
		p.i++
	}
}

// value parses the value at p.i; depth is its nesting level if it is an
// object or array (false beyond maxAnswerDepth).
func (p *answerParser) value(depth int) (any, bool) {
	p.space()
	switch p.s[p.i] {
	case '{':
		if depth > maxAnswerDepth {
			return nil, false
		}
		p.i++
		m := map[string]any{}
		p.space()
		if p.s[p.i] == '}' {
			p.i++
			return m, true
		}
		for {
			p.space()
			k := p.str()
			p.space()
			p.i++ // ':'
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			p.space()
			p.i++ // ',' or '}'
			if p.s[p.i-1] == '}' {
				return m, true
			}
		}
	case '[':
		if depth > maxAnswerDepth {
			return nil, false
		}
		p.i++
		out := []any{}
		p.space()
		if p.s[p.i] == ']' {
			p.i++
			return out, true
		}
		for {
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			out = append(out, v)
			p.space()
			p.i++ // ',' or ']'
			if p.s[p.i-1] == ']' {
				return out, true
			}
		}
	case '"':
		return p.str(), true
	case 't':
		p.i += 4
		return true, true
	case 'f':
		p.i += 5
		return false, true
	case 'n':
		p.i += 4
		return nil, true
	}
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("0123456789+-.eE", p.s[p.i]) >= 0 {
		p.i++
	}
	return json.Number(p.s[start:p.i]), true
}

// str parses the string literal at p.i: the bytes between the quotes when
// there is nothing to unescape or repair (no copy), else what encoding/json
// makes of it (escapes, invalid UTF-8 and lone surrogates as U+FFFD).
func (p *answerParser) str() string {
	start := p.i
	p.i++
	plain, ascii := true, true
	for {
		c := p.s[p.i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			p.i += 2
			continue
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		p.i++
	}
	p.i++
	raw := p.s[start:p.i]
	inner := raw[1 : len(raw)-1]
	if plain && (ascii || utf8.ValidString(inner)) {
		return inner
	}
	var s string
	_ = json.Unmarshal([]byte(raw), &s) // valid literal: cannot fail
	return s
}

func intakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
