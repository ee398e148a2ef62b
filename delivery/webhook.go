// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"rathaus"
)

// Webhook headers.
const (
	// HeaderSignature carries "t=<unix>,v1=<hex>[,v1=<hex>…]": one v1 per
	// secret during a rotation, each hex(HMAC-SHA256(secret, t + "." + body)).
	HeaderSignature = "X-Rathaus-Signature"
	// HeaderIdempotencyKey is the same for every attempt of one
	// application × route; receivers store it and ignore repeats.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderAttempt is the 1-based attempt number.
	HeaderAttempt = "X-Rathaus-Delivery-Attempt"
)

// ReplayWindow is how far the signature timestamp may lie from the
// receiver's clock.
const ReplayWindow = 5 * time.Minute

// WebhookConfig configures a webhook route.
type WebhookConfig struct {
	// URL receives POST requests (https; http only for loopback).
	URL string `json:"url"`
	// Secrets sign every request; during a rotation list the new and the
	// old one, each gets a v1 signature.
	Secrets []string `json:"secrets"`
}

// WebhookBody is the JSON body of a webhook request: the application with
// its answers decrypted for the receiver, its metadata and its attachments
// inline (base64 in "content").
type WebhookBody struct {
	Type           string       `json:"type"` // "application"
	IdempotencyKey string       `json:"idempotencyKey"`
	Application    *Application `json:"application"`
}

// Webhook is the webhook channel.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
	now    func() time.Time
}

// NewWebhook checks cfg and returns the channel.
func NewWebhook(cfg WebhookConfig, client *http.Client) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "webhook: field url: %q is no https URL", cfg.URL)
	}
	if len(cfg.Secrets) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "webhook: field secrets: at least one secret is required")
	}
	for i, s := range cfg.Secrets {
		if len(s) < 16 {
			return nil, rathaus.Errorf(rathaus.EINVALID, "webhook: field secrets[%d]: shorter than 16 characters", i)
		}
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	// Redirects are not followed: the signed application goes to the
	// configured URL only (a 3xx is a permanent error).
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Webhook{cfg: cfg, client: &c, now: time.Now}, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Sign returns the X-Rathaus-Signature value for body at t, one v1 per
// secret.
func Sign(secrets []string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		b.WriteString(",v1=" + signature(s, ts, body))
	}
	return b.String()
}

func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook request for receivers: header is the
// X-Rathaus-Signature value, body the raw request body, secrets the
// receiver's current secrets (any may match), now its clock. It fails when
// no v1 matches or the timestamp lies outside ReplayWindow. Receivers also
// keep the Idempotency-Key of accepted requests to drop replays within the
// window.
func Verify(header string, body []byte, secrets []string, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return rathaus.Errorf(rathaus.EUNAUTHORIZED, "webhook: malformed %s header", HeaderSignature)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > ReplayWindow || d < -ReplayWindow {
		return rathaus.Errorf(rathaus.EUNAUTHORIZED, "webhook: timestamp outside the %v replay window", ReplayWindow)
	}
	for _, s := range secrets {
		want := signature(s, ts, body)
		for _, got := range sigs {
			if hmac.Equal([]byte(want), []byte(got)) {
				return nil
			}
		}
	}
	return rathaus.Errorf(rathaus.EUNAUTHORIZED, "webhook: no valid signature")
}

// Deliver implements Channel: one signed POST.
func (w *Webhook) Deliver(ctx context.Context, a *Attempt) (*Result, error) {
	body, err := json.Marshal(WebhookBody{Type: "application", IdempotencyKey: a.Delivery.IdempotencyKey(), Application: a.App})
	if err != nil {
		return nil, Permanent(rathaus.Wrap(rathaus.EINTERNAL, err, "webhook body"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, strings.NewReader(string(body)))
	if err != nil {
		return nil, Permanent(rathaus.Wrap(rathaus.EINVALID, err, "webhook"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rathaus-delivery/1")
	req.Header.Set(HeaderIdempotencyKey, a.Delivery.IdempotencyKey())
	req.Header.Set(HeaderAttempt, strconv.Itoa(a.Delivery.Attempts))
	req.Header.Set(HeaderSignature, Sign(w.cfg.Secrets, w.now(), body))
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "webhook: %s unreachable", w.cfg.URL)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 3 {
		return nil, Permanent(rathaus.Errorf(rathaus.EINVALID, "webhook: HTTP %d redirect to %q not followed; configure the final URL", resp.StatusCode, resp.Header.Get("Location")))
	}
	if resp.StatusCode/100 != 2 {
		return nil, httpError("webhook", resp, rb)
	}
	return &Result{Message: "HTTP " + strconv.Itoa(resp.StatusCode)}, nil
}
