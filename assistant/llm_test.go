// SPDX-License-Identifier: EUPL-1.2

package assistant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"rathaus/assistant"
	"rathaus/demo"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// fakeLLM speaks the OpenAI chat completions protocol and answers with
// canned texts chosen by the test.
type fakeLLM struct {
	mu     sync.Mutex
	answer func(req chatReq) string
	delay  time.Duration
	seen   []chatReq
	srv    *httptest.Server
}

type chatReq struct {
	Model     string              `json:"model"`
	Messages  []assistant.Message `json:"messages"`
	MaxTokens int                 `json:"max_tokens"`
}

func newFakeLLM(t *testing.T) *fakeLLM {
	f := &fakeLLM{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req chatReq
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.mu.Lock()
		f.seen = append(f.seen, req)
		ans, delay := f.answer, f.delay
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "model": req.Model,
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]string{"role": "assistant", "content": ans(req)}}},
		})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLLM) requests() []chatReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatReq(nil), f.seen...)
}

// rewriteOr answers rewrite requests with rw and phrasing requests with ph.
func rewriteOr(rw, ph string) func(chatReq) string {
	return func(r chatReq) string {
		if strings.Contains(r.Messages[0].Content, "Suchanfrage") {
			return rw
		}
		return ph
	}
}

func TestLLMPhrasingChecked(t *testing.T) {
	db := sqltest.Open(t, sqlstore.SQLite)
	seed(t, db)
	f := newFakeLLM(t)
	var logs bytes.Buffer
	client, err := assistant.NewOpenAI(assistant.OpenAIConfig{BaseURL: f.srv.URL, Model: "test-model", Timeout: time.Second, MaxTokens: 123})
	if err != nil {
		t.Fatal(err)
	}
	a := newAssistant(t, db, assistant.Options{LLM: client, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	cases := []struct {
		name     string
		answer   string
		delay    time.Duration
		phrasing string
		want     string
	}{
		{"grounded answer passes", "Ein Personalausweis kostet in Darmstadt 37 Euro, unter 24 Jahren 22,80 € [S1]. Mehr: https://darmstadt.example/personalausweis [S1]", 0, "llm", "37 Euro"},
		{"invented fee rejected", "Der Personalausweis kostet nur 5 € [S1].", 0, "template", "37,00 Euro"},
		{"unknown URL rejected", "Infos unter https://evil.example/ausweis [S1] – 37,00 Euro.", 0, "template", "37,00 Euro"},
		{"unknown citation rejected", "Kostet 37,00 Euro [S7].", 0, "template", "37,00 Euro"},
		{"no citation rejected", "Kostet 37,00 Euro.", 0, "template", "37,00 Euro"},
		{"timeout falls back", "Kostet 37,00 Euro [S1].", 4 * time.Second, "template", "37,00 Euro"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.answer, f.delay = rewriteOr("Personalausweis", tc.answer), tc.delay
			f.mu.Unlock()
			st := &assistant.State{ID: assistant.NewID()}
			if _, err := a.Turn(context.Background(), st, "ich wohne in Darmstadt"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rep, err := a.Turn(context.Background(), st, "Was kostet ein Personalausweis? Meine Mail ist erika@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("turn took %v: the LLM timeout did not hold", time.Since(start))
			}
			if rep.Phrasing != tc.phrasing || !strings.Contains(rep.Text, tc.want) {
				t.Errorf("phrasing %q, want %q; text:\n%s", rep.Phrasing, tc.phrasing, rep.Text)
			}
			checkGrounded(t, rep)
		})
	}
	for _, r := range f.requests() {
		if r.Model != "test-model" || r.MaxTokens != 123 {
			t.Errorf("request model %q max_tokens %d", r.Model, r.MaxTokens)
		}
		for _, m := range r.Messages {
			if strings.Contains(m.Content, "erika@example.org") {
				t.Errorf("personal data sent to the LLM: %q", m.Content)
			}
		}
	}
	if strings.Contains(logs.String(), "erika@example.org") {
		t.Error("personal data in the log")
	}
}

func TestLLMRewriteGoesThroughRetriever(t *testing.T) {
	db := sqltest.Open(t, sqlstore.SQLite)
	seed(t, db)
	f := newFakeLLM(t)
	client, err := assistant.NewOpenAI(assistant.OpenAIConfig{BaseURL: f.srv.URL + "/v1/", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	a := newAssistant(t, db, assistant.Options{LLM: client})
	for _, tc := range []struct {
		name, rewrite, want string
		handoff             bool
	}{
		{"rewrite finds a service", "Hundesteuer", demo.KeyHundesteuer, false},
		{"rewrite to nothing hands over", "Mondlandung buchen", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.answer = rewriteOr(tc.rewrite, "kein Zitat")
			f.mu.Unlock()
			st := &assistant.State{ID: assistant.NewID()}
			rep, err := a.Turn(context.Background(), st, "mein neuer Vierbeiner bellt")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Handoff != tc.handoff || (tc.want != "" && (len(rep.Services) == 0 || rep.Services[0].Key != tc.want)) {
				t.Errorf("reply %s handoff=%v services=%+v", rep.Text, rep.Handoff, rep.Services)
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"37,00 Euro", "37"},
		{"22,80 €", "22.8"},
		{"€ 22.80", "22.8"},
		{"1.234,50 Euro", "1234.5"},
		{"1,234.50 EUR", "1234.5"},
		{"Stand: 01.11.2026", "2026-11-01"},
		{"am 1.11.2026", "2026-11-01"},
		{"2026-11-01", "2026-11-01"},
		{"3 bis 4 Wochen", "3 4"},
		{"keine Zahl", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := strings.Join(assistant.Numbers(tc.in), " "); got != tc.want {
				t.Errorf("Numbers(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOpenAIConfig(t *testing.T) {
	for _, tc := range []assistant.OpenAIConfig{{BaseURL: "ftp://x", Model: "m"}, {BaseURL: "http://x"}} {
		if _, err := assistant.NewOpenAI(tc); err == nil {
			t.Errorf("NewOpenAI(%+v) accepted", tc)
		}
	}
}
