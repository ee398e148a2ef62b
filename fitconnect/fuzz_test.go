// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"rathaus"
	"rathaus/fitconnect"
)

// FuzzDecryptJWE feeds arbitrary tokens to DecryptJWE: it must never panic,
// and anything it accepts must be a token our own key can open.
func FuzzDecryptJWE(f *testing.F) {
	k := keys(f)
	good, err := fitconnect.EncryptJWE([]byte(`{"a":1}`), &k.enc.Public.JSONWebKey, "application/json")
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, s := range []string{good, "", "....", "a.b.c.d.e", parts[0] + "....", strings.Join(parts[:4], ".") + ".", good + ".x",
		"eyJhbGciOiJub25lIn0.e30.", `{"protected":"e30"}`, strings.Replace(good, parts[1], "", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		pt, cty, err := fitconnect.DecryptJWE(token, k.enc.Private)
		if err != nil {
			if code := rathaus.ErrorCode(err); code != rathaus.EINVALID {
				t.Fatalf("error code %s for %q: %v", code, token, err)
			}
			return
		}
		if cty == "" || pt == nil && token != good {
			t.Fatalf("accepted %q with cty %q", token, cty)
		}
	})
}

// FuzzVerifySET feeds arbitrary tokens to VerifySET: never a panic, only
// EINVALID errors, and anything accepted carries all required claims.
func FuzzVerifySET(f *testing.F) {
	k := keys(f)
	good, err := fitconnect.SignSET(newSET(fitconnect.EventRejectSubmission), k.service)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, s := range []string{good, "", "..", "a.b.c", parts[0] + ".." + parts[2], parts[0] + "." + parts[1] + ".",
		"eyJhbGciOiJub25lIiwidHlwIjoic2VjZXZlbnQrand0In0.e30.", good + "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		set, err := fitconnect.VerifySET(token, k.serviceSet, fitconnect.VerifyOptions{Now: time.Now()})
		if err != nil {
			if code := rathaus.ErrorCode(err); code != rathaus.EINVALID {
				t.Fatalf("error code %s: %v", code, err)
			}
			return
		}
		if set.ID == "" || set.Issuer == "" || set.Subject == "" || set.Txn == "" || set.Event == "" || set.IssuedAt.IsZero() {
			t.Fatalf("accepted SET with missing claims: %+v", set)
		}
	})
}

// FuzzParseMetadata: arbitrary JSON never panics; accepted metadata
// validates again after a round trip.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{`{"contentStructure":{"attachments":[]}}`, `{}`, `null`, `[]`,
		`{"contentStructure":{"attachments":[{"attachmentId":"0b799252-deb9-42b0-98d3-c50d24bbafe0"}]}}`,
		`{"contentStructure":{"attachments":[]},"replyChannel":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := fitconnect.ParseMetadata(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed metadata does not validate: %v", err)
		}
	})
}

// FuzzCallbackVerify: arbitrary headers and bodies never panic and never
// pass without the right HMAC.
func FuzzCallbackVerify(f *testing.F) {
	secret := []byte("fuzz-secret-0123456789-0123456789")
	now := time.Unix(1_700_000_000, 0)
	f.Add("1700000000", fitconnect.SignCallback(secret, 1_700_000_000, []byte(`{}`)), []byte(`{}`))
	f.Add("", "", []byte(nil))
	f.Add("-1", "00", []byte(`{"type":1}`))
	f.Fuzz(func(t *testing.T, ts, mac string, body []byte) {
		v := &fitconnect.CallbackVerifier{Secret: secret, Now: func() time.Time { return now }}
		h := http.Header{}
		h.Set(fitconnect.HeaderCallbackTimestamp, ts)
		h.Set(fitconnect.HeaderCallbackAuthentication, mac)
		if _, err := v.Verify(h, body); err == nil {
			n, _ := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if !strings.EqualFold(mac, fitconnect.SignCallback(secret, n, body)) {
				t.Fatalf("accepted a callback without the right HMAC")
			}
		}
	})
}
