// SPDX-License-Identifier: EUPL-1.2

package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"rathaus"
)

// Message is one chat message of an LLM request.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// LLM completes a chat. Only masked text and catalog records are ever
// passed to it.
type LLM interface {
	Complete(ctx context.Context, msgs []Message) (string, error)
}

// OpenAIConfig configures an OpenAI-compatible chat completions client.
type OpenAIConfig struct {
	BaseURL   string        // e.g. "http://127.0.0.1:8000"; the client posts to {BaseURL}/v1/chat/completions
	Model     string        // model name
	APIKey    string        // optional bearer token
	Timeout   time.Duration // per request; default 8 s
	MaxTokens int           // default 400
	Client    *http.Client  // optional
}

// OpenAI is a client for POST {base}/v1/chat/completions.
type OpenAI struct {
	cfg OpenAIConfig
	hc  *http.Client
}

// NewOpenAI returns a client; BaseURL and Model are required.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, rathaus.Errorf(rathaus.EINVALID, "LLM URL %q: want http://… or https://…", cfg.BaseURL)
	}
	if cfg.Model == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "LLM model: missing")
	}
	cfg.BaseURL = strings.TrimSuffix(strings.TrimSuffix(cfg.BaseURL, "/"), "/v1")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 8 * time.Second
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 400
	}
	hc := cfg.Client
	if hc == nil {
		hc = &http.Client{}
	}
	return &OpenAI{cfg: cfg, hc: hc}, nil
}

// Complete sends the messages and returns the first choice's content.
func (c *OpenAI) Complete(ctx context.Context, msgs []Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{
		"model": c.cfg.Model, "messages": msgs, "max_tokens": c.cfg.MaxTokens, "temperature": 0,
	})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EUNAVAILABLE, err, "LLM not reachable")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", rathaus.Wrap(rathaus.EUNAVAILABLE, err, "LLM answer not readable")
	}
	if resp.StatusCode != http.StatusOK {
		return "", rathaus.Errorf(rathaus.EUNAVAILABLE, "LLM answered HTTP %d", resp.StatusCode)
	}
	var out struct {
		Choices []struct {
			Message Message `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", rathaus.Wrap(rathaus.EUNAVAILABLE, err, "LLM answer is not JSON")
	}
	if len(out.Choices) == 0 || strings.TrimSpace(out.Choices[0].Message.Content) == "" {
		return "", rathaus.Errorf(rathaus.EUNAVAILABLE, "LLM answer has no content")
	}
	return strings.TrimSpace(out.Choices[0].Message.Content), nil
}

// rewrite asks the LLM for a short standalone search query; the result
// still goes through the retriever.
func (a *Assistant) rewrite(ctx context.Context, q string) (string, error) {
	out, err := a.opts.LLM.Complete(ctx, []Message{
		{Role: "system", Content: "Formuliere die Frage eines Bürgers als kurze Suchanfrage nach einer Verwaltungsleistung (höchstens 6 Wörter, Deutsch). Antworte nur mit der Suchanfrage."},
		{Role: "user", Content: q},
	})
	if err != nil {
		return "", err
	}
	out = strings.TrimSpace(strings.Trim(out, "\"„“"))
	if len(out) > 200 {
		out = out[:200]
	}
	return out, nil
}

// phrase lets the LLM rephrase a template reply from its sources; the
// rephrasing replaces the template only when Check passes.
func (a *Assistant) phrase(ctx context.Context, st *State, rep *Reply) {
	if a.opts.LLM == nil || len(rep.Sources) == 0 {
		return
	}
	var recs strings.Builder
	for _, s := range rep.Sources {
		fmt.Fprintf(&recs, "[%s] %s\n", s.ID, strings.Join(s.Texts, "\n"))
	}
	lang := "Deutsch in einfacher Sprache"
	if st.en() {
		lang = "plain English"
	}
	out, err := a.opts.LLM.Complete(ctx, []Message{
		{Role: "system", Content: "Du formulierst Antworten des Bürger-Assistenten um (" + lang + "). Verwende nur Angaben aus den Datensätzen. " +
			"Zitiere jeden Datensatz, den du verwendest, mit seiner Kennung wie [S1]. Erfinde keine Zahlen, Beträge, Daten, Fristen, Adressen oder Links. " +
			"Wenn etwas nicht in den Datensätzen steht, schreibe „nicht bekannt“.\n\nDatensätze:\n" + recs.String()},
		{Role: "user", Content: rep.Text},
	})
	if err != nil {
		a.log.WarnContext(ctx, "assistant llm phrase failed, template used", "error", err.Error())
		return
	}
	if err := Check(out, rep.Sources); err != nil {
		a.log.WarnContext(ctx, "assistant llm answer rejected, template used", "reason", err.Error())
		return
	}
	rep.Text = out
	rep.Phrasing = "llm"
}

var (
	reCite   = regexp.MustCompile(`\[(S\d+)\]`)
	reURL    = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'\])]+`)
	reDate   = regexp.MustCompile(`\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})\b|\b(\d{4})-(\d{2})-(\d{2})\b`)
	reNumber = regexp.MustCompile(`\d+(?:[.,' ]\d{3})*(?:[.,]\d+)?`)
	reAmount = regexp.MustCompile(`(?i)(\d+(?:[.,' ]\d{3})*(?:[.,]\d+)?)\s*(?:€|euro\b|eur\b)|(?:€|\beur\b)\s*(\d+(?:[.,' ]\d{3})*(?:[.,]\d+)?)`)
)

// Amounts returns the normalised money amounts (numbers next to €, Euro
// or EUR) of s.
func Amounts(s string) []string {
	var out []string
	for _, m := range reAmount.FindAllStringSubmatch(s, -1) {
		n := m[1]
		if n == "" {
			n = m[2]
		}
		out = append(out, normNumber(n))
	}
	return out
}

// Numbers returns the normalised numbers and dates of s: dates as
// YYYY-MM-DD, numbers with German or English separators as plain decimals
// without trailing zeros ("37,00" → "37", "1.234,5" → "1234.5").
func Numbers(s string) []string {
	var out []string
	s = reURL.ReplaceAllString(s, " ")
	s = reCite.ReplaceAllString(s, " ")
	s = reDate.ReplaceAllStringFunc(s, func(m string) string {
		p := reDate.FindStringSubmatch(m)
		var y, mo, d int
		if p[4] != "" {
			y, _ = strconv.Atoi(p[4])
			mo, _ = strconv.Atoi(p[5])
			d, _ = strconv.Atoi(p[6])
		} else {
			d, _ = strconv.Atoi(p[1])
			mo, _ = strconv.Atoi(p[2])
			y, _ = strconv.Atoi(p[3])
			if y < 100 {
				y += 2000
			}
		}
		out = append(out, fmt.Sprintf("%04d-%02d-%02d", y, mo, d))
		return " "
	})
	for _, m := range reNumber.FindAllString(s, -1) {
		out = append(out, normNumber(m))
	}
	return out
}

func normNumber(m string) string {
	m = strings.TrimSpace(m)
	// The last separator followed by 1–2 digits is the decimal mark.
	dec := ""
	if i := strings.LastIndexAny(m, ".,"); i >= 0 && len(m)-i-1 <= 2 {
		dec, m = m[i+1:], m[:i]
	}
	m = strings.NewReplacer(".", "", ",", "", "'", "", " ", "").Replace(m)
	m = strings.TrimLeft(m, "0")
	if m == "" {
		m = "0"
	}
	dec = strings.TrimRight(dec, "0")
	if dec != "" {
		return m + "." + dec
	}
	return m
}

// Check verifies an LLM answer against the cited records: every citation
// names a retrieved record, at least one record is cited, every amount
// (€, Euro, EUR) is an amount of the records, and every other number, date
// and URL of the answer appears in the records (after normalising number
// formats). The 115 service number and its page are
// always allowed. A nil error means the answer may be shown.
func Check(answer string, sources []Source) error {
	ids := map[string]*Source{}
	for i := range sources {
		ids[sources[i].ID] = &sources[i]
	}
	cited := reCite.FindAllStringSubmatch(answer, -1)
	if len(cited) == 0 {
		return fmt.Errorf("no citation")
	}
	nums := map[string]bool{Phone115: true}
	amounts := map[string]bool{}
	urls := map[string]bool{strings.TrimSuffix(Link115, "/"): true}
	for _, c := range cited {
		s, ok := ids[c[1]]
		if !ok {
			return fmt.Errorf("citation [%s] of a record that was not retrieved", c[1])
		}
		for _, tx := range s.Texts {
			for _, n := range Numbers(tx) {
				nums[n] = true
			}
			for _, n := range Amounts(tx) {
				amounts[n] = true
			}
			for _, u := range reURL.FindAllString(tx, -1) {
				urls[normURL(u)] = true
			}
			if strings.HasPrefix(tx, "/") {
				urls[tx] = true
			}
		}
	}
	for _, u := range reURL.FindAllString(answer, -1) {
		if !urls[normURL(u)] {
			return fmt.Errorf("URL %q is not in the cited records", u)
		}
	}
	plainAnswer := reURL.ReplaceAllString(answer, " ")
	for _, n := range Amounts(plainAnswer) {
		if !amounts[n] {
			return fmt.Errorf("amount %q is not an amount in the cited records", n)
		}
	}
	for _, n := range Numbers(plainAnswer) {
		if !nums[n] {
			return fmt.Errorf("number %q is not in the cited records", n)
		}
	}
	return nil
}

func normURL(u string) string {
	return strings.TrimRight(strings.TrimSuffix(strings.TrimRight(u, ".,;:!?"), "/"), ".,;:!?")
}
