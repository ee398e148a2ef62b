// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"rathaus"
)

// Callback header names and types (fitconnect.md §6).
const (
	HeaderCallbackAuthentication = "callback-authentication"
	HeaderCallbackTimestamp      = "callback-timestamp"
	CallbackNewSubmissions       = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"
	CallbackNewEvents            = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-events"
)

// CallbackBody is the JSON body of a callback.
type CallbackBody struct {
	Type          string         `json:"type"`
	SubmissionIDs []string       `json:"submissionIds"` // deprecated by FITKO, still sent
	Submissions   []SubmissionID `json:"submissions"`
}

// SubmissionID identifies a submission within its destination and case.
type SubmissionID struct {
	DestinationID string `json:"destinationId"`
	SubmissionID  string `json:"submissionId"`
	CaseID        string `json:"caseId"`
}

// SignCallback returns the callback-authentication value: lowercase hex of
// HMAC-SHA512(secret, timestamp + "." + body).
func SignCallback(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha512.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// CallbackVerifier checks incoming callbacks: the HMAC in constant time,
// the timestamp window (default 5 minutes, both directions) and replays
// (the same authentication value twice within the window). It is safe for
// concurrent use; the replay memory lives in the process.
type CallbackVerifier struct {
	Secret []byte
	Window time.Duration    // 0: 5 minutes
	Now    func() time.Time // nil: time.Now

	mu   sync.Mutex
	seen map[string]time.Time
}

// Verify checks one callback given its headers and raw body and returns the
// decoded body. Errors are EUNAUTHORIZED (bad or missing HMAC, stale,
// replayed) or EINVALID (malformed).
func (v *CallbackVerifier) Verify(h http.Header, body []byte) (*CallbackBody, error) {
	if len(v.Secret) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "callback: no secret configured")
	}
	mac := h.Get(HeaderCallbackAuthentication)
	tsText := h.Get(HeaderCallbackTimestamp)
	if mac == "" || tsText == "" {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: %s and %s headers are required", HeaderCallbackAuthentication, HeaderCallbackTimestamp)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: %s is not Unix seconds", HeaderCallbackTimestamp)
	}
	got, err := hex.DecodeString(mac)
	want, _ := hex.DecodeString(SignCallback(v.Secret, ts, body))
	if err != nil || !hmac.Equal(got, want) {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: invalid HMAC")
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	window := v.Window
	if window == 0 {
		window = 5 * time.Minute
	}
	at := time.Unix(ts, 0)
	if now.Sub(at) > window {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: stale (timestamp %s older than %s)", at.UTC().Format(time.RFC3339), window)
	}
	if at.Sub(now) > window {
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: timestamp %s lies in the future", at.UTC().Format(time.RFC3339))
	}
	v.mu.Lock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	for k, t := range v.seen {
		if now.Sub(t) > window {
			delete(v.seen, k)
		}
	}
	if _, dup := v.seen[mac]; dup {
		v.mu.Unlock()
		return nil, rathaus.Errorf(rathaus.EUNAUTHORIZED, "callback: replayed")
	}
	v.seen[mac] = at
	v.mu.Unlock()
	var cb CallbackBody
	if err := json.Unmarshal(body, &cb); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "callback: body is not JSON: %v", err)
	}
	return &cb, nil
}

// Handler returns an http.Handler that verifies callbacks and passes each
// valid one to fn. It answers 200 on success and 401/400 otherwise, so the
// delivery service sees the failure; invalid callbacks are ignored.
func (v *CallbackVerifier) Handler(fn func(*CallbackBody)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeProblem(w, r, rathaus.Errorf(rathaus.EINVALID, "callback: cannot read body"))
			return
		}
		cb, err := v.Verify(r.Header, body)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		if fn != nil {
			fn(cb)
		}
		w.WriteHeader(http.StatusOK)
	})
}
