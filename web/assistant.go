// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"rathaus"
	"rathaus/assistant"
)

// AssistantFeature mounts the citizen assistant: the chat page /assistent
// (works without JavaScript: plain form posts render the whole
// conversation; /static/assistant.js adds incremental replies) and the
// JSON API POST /api/assistant. Add it to Deps.Features.
type AssistantFeature struct {
	Assistant *assistant.Assistant
	// Burst and Every configure the per-IP token bucket of the chat
	// routes: Burst questions at once, then one per Every. Zero values mean
	// 30 and 1 s; a negative Burst switches the limit off (benchmarks).
	Burst int
	Every time.Duration
}

// assistantCookie carries the conversation id between page loads.
const assistantCookie = "assistant"

// Register adds the assistant's routes.
func (f AssistantFeature) Register(s *Server) {
	h := &assistantHandlers{s: s, a: f.Assistant}
	if f.Burst >= 0 {
		burst, every := f.Burst, f.Every
		if burst == 0 {
			burst = 30
		}
		if every <= 0 {
			every = time.Second
		}
		h.limit = newLimiter(burst, every)
	}
	s.Route("GET /assistent", HandlerFunc(h.page), Meta{Scope: ScopePublic, Personal: true})
	s.Route("POST /assistent", HandlerFunc(h.post), Meta{Scope: ScopePublic, Personal: true})
	s.Route("POST /api/assistant", http.HandlerFunc(h.api), Meta{Scope: ScopePublic, Personal: true, Raw: true})
}

type assistantHandlers struct {
	s     *Server
	a     *assistant.Assistant
	limit *limiter // nil: no limit
}

// allowed takes a token of the client's bucket; when none is left it sets
// Retry-After and returns false.
func (h *assistantHandlers) allowed(w http.ResponseWriter, r *http.Request) bool {
	if h.limit == nil {
		return true
	}
	ok, wait := h.limit.allow(clientIP(r), time.Now())
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	}
	return ok
}

// tooMany is the text for a client over its limit.
func tooMany(r *http.Request) string {
	if Lang(r.Context()) == "en" {
		return "Too many questions in a short time. Please wait a moment."
	}
	return "Zu viele Fragen in kurzer Zeit. Bitte warten Sie einen Moment."
}

// chatPara is a paragraph of a reply: text, or a list of items.
type chatPara struct {
	Text  string
	Items []string
}

// chatMsg is one exchange of the page.
type chatMsg struct {
	N     int
	User  string
	Reply *assistant.Reply
	Paras []chatPara
}

// chatPage is the data of the assistant template.
type chatPage struct {
	ID       string
	LoggedIn bool // a citizen is logged in: prefill may be offered (with consent)
	Messages []chatMsg
	Choices  []assistant.Choice
}

// chatParas splits a reply text into paragraphs; lines starting with "• "
// become list items.
func chatParas(text string) []chatPara {
	var out []chatPara
	for _, block := range strings.Split(text, "\n\n") {
		var p chatPara
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "":
			case strings.HasPrefix(line, "• "):
				p.Items = append(p.Items, strings.TrimPrefix(line, "• "))
			default:
				if p.Text != "" {
					p.Text += " "
				}
				p.Text += line
			}
		}
		if p.Text != "" {
			out = append(out, chatPara{Text: p.Text})
		}
		if len(p.Items) > 0 {
			out = append(out, chatPara{Items: p.Items})
		}
	}
	return out
}

// begin loads (or starts) the conversation and prepares it for the
// request: language and the visitor's chosen municipality.
func (h *assistantHandlers) begin(r *http.Request, id string) (*assistant.State, func()) {
	st, done := h.a.Conversations().Get(id)
	st.Lang = Lang(r.Context())
	if st.Municipality == "" && st.Turns == 0 {
		if ars := h.s.municipality(r); ars != "" {
			_ = h.a.SetMunicipality(r.Context(), st, ars)
		}
	}
	return st, done
}

func (h *assistantHandlers) show(w http.ResponseWriter, r *http.Request, st *assistant.State) {
	p := chatPage{ID: st.ID, LoggedIn: h.s.principal(r) != nil}
	for i, ex := range st.Transcript {
		p.Messages = append(p.Messages, chatMsg{N: i + 1, User: ex.User, Reply: ex.Reply, Paras: chatParas(ex.Reply.Text)})
	}
	if n := len(st.Transcript); n > 0 {
		p.Choices = st.Transcript[n-1].Reply.Choices
	}
	http.SetCookie(w, h.s.cookie(assistantCookie, st.ID, int(assistant.TTL.Seconds())))
	h.s.render(w, r, http.StatusOK, "assistant", p)
}

func (h *assistantHandlers) page(w http.ResponseWriter, r *http.Request) error {
	id := ""
	if c, err := r.Cookie(assistantCookie); err == nil {
		id = c.Value
	}
	st, done := h.begin(r, id)
	defer done()
	if len(st.Transcript) == 0 {
		if _, err := h.a.Turn(r.Context(), st, ""); err != nil {
			return err
		}
	}
	h.show(w, r, st)
	return nil
}

func (h *assistantHandlers) post(w http.ResponseWriter, r *http.Request) error {
	if !h.allowed(w, r) {
		h.s.renderError(w, r, http.StatusTooManyRequests, tooMany(r), nil)
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "Das Formular konnte nicht gelesen werden.")
	}
	id := r.PostForm.Get("conversation")
	if r.PostForm.Get("reset") != "" {
		id = ""
	}
	msg := r.PostForm.Get("message")
	if !utf8.ValidString(msg) || utf8.RuneCountInString(msg) > 500 {
		return rathaus.Errorf(rathaus.EINVALID, "Feld message: höchstens 500 Zeichen.")
	}
	st, done := h.begin(r, id)
	defer done()
	if _, err := h.a.Turn(r.Context(), st, msg); err != nil {
		return err
	}
	h.show(w, r, st)
	return nil
}

// apiRequest is the body of POST /api/assistant.
type apiRequest struct {
	Conversation string `json:"conversation"`
	Message      string `json:"message"`
	Municipality string `json:"municipality,omitempty"` // ARS
}

// apiResponse is the answer of POST /api/assistant.
type apiResponse struct {
	Conversation string           `json:"conversation"`
	Reply        *assistant.Reply `json:"reply"`
}

func (h *assistantHandlers) api(w http.ResponseWriter, r *http.Request) {
	if !h.allowed(w, r) {
		assistantJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": "rate_limited", "message": tooMany(r)}})
		return
	}
	if err := h.apiTurn(w, r); err != nil {
		code := rathaus.ErrorCode(err)
		status := StatusFor(code)
		if status >= 500 {
			h.s.logger(r).ErrorContext(r.Context(), "assistant api", "error", err.Error())
		}
		assistantJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": rathaus.ErrorMessage(err)}})
	}
}

func (h *assistantHandlers) apiTurn(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return rathaus.Errorf(rathaus.EINVALID, "Content-Type: want application/json.")
	}
	var req apiRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return rathaus.Errorf(rathaus.EINVALID, "Die Anfrage ist zu groß.")
		}
		return rathaus.Errorf(rathaus.EINVALID, "Body: kein gültiges JSON-Objekt {conversation, message, municipality}: %v", err)
	}
	st, done := h.begin(r, req.Conversation)
	defer done()
	if req.Municipality != "" && req.Municipality != st.Municipality {
		if err := h.a.SetMunicipality(r.Context(), st, req.Municipality); err != nil {
			return err
		}
	}
	rep, err := h.a.Turn(r.Context(), st, req.Message)
	if err != nil {
		return err
	}
	assistantJSON(w, http.StatusOK, apiResponse{Conversation: st.ID, Reply: rep})
	return nil
}

func assistantJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
