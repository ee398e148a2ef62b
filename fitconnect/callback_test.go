// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"rathaus"
	"rathaus/fitconnect"
)

func TestCallbackVerifier(t *testing.T) {
	secret := []byte("ein-geheimnis-mit-mindestens-32-zeichen")
	body := []byte(`{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissionIds":["f39ab143-d91a-474a-b69f-b00f1a1873c2"],"submissions":[{"destinationId":"d12caea8-f372-4eb1-b102-b0a228253a11","submissionId":"f39ab143-d91a-474a-b69f-b00f1a1873c2","caseId":"9eec7d3e-dc66-4f82-9f52-1520bf96a32e"}]}`)
	now := time.Unix(1672527599, 0)
	headers := func(ts int64, mac string) http.Header {
		h := http.Header{}
		h.Set(fitconnect.HeaderCallbackTimestamp, strconv.FormatInt(ts, 10))
		h.Set(fitconnect.HeaderCallbackAuthentication, mac)
		return h
	}
	sign := func(ts int64, b []byte) string { return fitconnect.SignCallback(secret, ts, b) }

	t.Run("ValidThenReplayed", func(t *testing.T) {
		v := &fitconnect.CallbackVerifier{Secret: secret, Now: func() time.Time { return now }}
		cb, err := v.Verify(headers(now.Unix(), sign(now.Unix(), body)), body)
		if err != nil {
			t.Fatal(err)
		}
		if cb.Type != fitconnect.CallbackNewSubmissions || len(cb.Submissions) != 1 || cb.Submissions[0].CaseID != "9eec7d3e-dc66-4f82-9f52-1520bf96a32e" {
			t.Errorf("callback = %+v", cb)
		}
		_, err = v.Verify(headers(now.Unix(), sign(now.Unix(), body)), body)
		wantCode(t, err, rathaus.EUNAUTHORIZED, "replayed")
	})
	if len(sign(1, body)) != 128 {
		t.Errorf("HMAC-SHA512 hex must have 128 characters")
	}
	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
		want string
	}{
		{"Stale", headers(now.Unix()-301, sign(now.Unix()-301, body)), body, "stale"},
		{"Future", headers(now.Unix()+301, sign(now.Unix()+301, body)), body, "future"},
		{"WrongSecret", headers(now.Unix(), fitconnect.SignCallback([]byte("123"), now.Unix(), body)), body, "invalid HMAC"},
		{"TamperedBody", headers(now.Unix(), sign(now.Unix(), body)), append(bytes.Clone(body), ' '), "invalid HMAC"},
		{"TimestampNotSigned", headers(now.Unix()-1, sign(now.Unix(), body)), body, "invalid HMAC"},
		{"NotHex", headers(now.Unix(), "zz"), body, "invalid HMAC"},
		{"NoHeaders", http.Header{}, body, "headers are required"},
		{"BadTimestamp", headers(0, sign(0, body)).Clone(), body, "stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &fitconnect.CallbackVerifier{Secret: secret, Now: func() time.Time { return now }}
			_, err := v.Verify(tc.h, tc.body)
			wantCode(t, err, rathaus.EUNAUTHORIZED, tc.want)
		})
	}
	t.Run("Handler", func(t *testing.T) {
		v := &fitconnect.CallbackVerifier{Secret: secret, Now: func() time.Time { return now }}
		got := 0
		h := v.Handler(func(*fitconnect.CallbackBody) { got++ })
		for i, want := range []int{http.StatusOK, http.StatusUnauthorized} { // second is a replay
			req := httptest.NewRequest(http.MethodPost, "/callbacks/fit-connect", bytes.NewReader(body))
			req.Header = headers(now.Unix(), sign(now.Unix(), body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != want {
				t.Errorf("request %d: status %d, want %d", i, rec.Code, want)
			}
		}
		if got != 1 {
			t.Errorf("handler called %d times, want 1", got)
		}
	})
}
