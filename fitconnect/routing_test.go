// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
	"rathaus/fitconnect"
	"rathaus/internal/testenv"
)

func TestRouter(t *testing.T) {
	f := keys(t)
	ssp := f.service // stands in for the Self-Service-Portal's key
	sspKeys := f.serviceSet
	sign := func(t *testing.T, claims any, typ string) string {
		t.Helper()
		return signRaw(t, jose.PS512, ssp.Key, ssp.KeyID, typ, claims)
	}
	const dest = "ac715f34-333e-41f4-9bb5-186b309ea233"
	claims := map[string]any{"submissionHost": "submission-api-dev.fit-connect.fitko.dev", "iss": "https://portal.auth-dev.fit-connect.fitko.dev",
		"services": []map[string]any{{"gebietIDs": []string{"urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:064110000000"},
			"leistungIDs": []string{"urn:de:fim:leika:leistung:99108008003000"}}},
		"destinationId": dest, "iat": 1637863481, "jti": "2d1426f2-d673-46de-868e-d96844d24fe1"}
	good := sign(t, claims, "jwt")
	var gotUA, gotQuery string
	var route atomic.Value // the signature the fake Routing API serves
	route.Store(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotQuery = r.UserAgent(), r.URL.RawQuery
		if r.URL.Query().Get("ars") == "091620000000" {
			w.Header().Set("RateLimit-Reset", "42")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"count": 1, "offset": 0, "totalCount": 1, "routes": []map[string]any{
			{"destinationId": dest, "destinationSignature": route.Load(), "destinationName": "Wohngeldstelle Darmstadt", "origin": "PVOG"}}})
	}))
	defer srv.Close()
	r := &fitconnect.Router{BaseURL: srv.URL + "/v1", UserAgent: "rathaus-test", SignatureKeys: sspKeys}

	list, err := r.Routes(t.Context(), "99108008003000", "064110000000")
	if err != nil {
		t.Fatal(err)
	}
	if list.TotalCount != 1 || list.Routes[0].DestinationID != dest || list.Routes[0].DestinationName != "Wohngeldstelle Darmstadt" || len(list.Routes[0].Raw) == 0 {
		t.Errorf("routes = %+v", list)
	}
	if gotUA != "rathaus-test" || gotQuery != "ars=064110000000&leikaKey=99108008003000" {
		t.Errorf("request UA %q query %q", gotUA, gotQuery)
	}

	for _, tc := range []struct {
		name, sig, want string
	}{
		{"OtherDestination", sign(t, func() map[string]any {
			c := map[string]any{}
			for k, v := range claims {
				c[k] = v
			}
			c["destinationId"] = "other"
			return c
		}(), "jwt"), "signed for destination"},
		{"OtherService", sign(t, func() map[string]any {
			c := map[string]any{}
			for k, v := range claims {
				c[k] = v
			}
			c["services"] = []map[string]any{{"leistungIDs": []string{"urn:de:fim:leika:leistung:99000000000000"}}}
			return c
		}(), "jwt"), "is not signed for this destination"},
		{"ForgedKey", signRaw(t, jose.PS512, f.enc.Private.Key, ssp.KeyID, "jwt", claims), "bad signature"},
		{"WrongTyp", sign(t, claims, "secevent+jwt"), "typ must be jwt"},
		{"RS256", signRaw(t, jose.RS256, ssp.Key, ssp.KeyID, "jwt", claims), "unexpected signature algorithm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route.Store(tc.sig)
			_, err := r.Routes(t.Context(), "99108008003000", "064110000000")
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
	route.Store(good)
	t.Run("RateLimited", func(t *testing.T) {
		_, err := r.Routes(t.Context(), "99108008003000", "091620000000")
		wantCode(t, err, rathaus.EUNAVAILABLE, "retry after 42 s")
	})
	t.Run("BadInput", func(t *testing.T) {
		_, err := r.Routes(t.Context(), "12345678901234", "064110000000")
		wantCode(t, err, rathaus.EINVALID, "leikaKey")
		_, err = r.Routes(t.Context(), "99108008003000", "0641100")
		wantCode(t, err, rathaus.EINVALID, "ars must have")
	})
}

// TestRoutingSpecExample parses the real destinationSignature example of
// the Routing API 2.0.0 spec: PS512 with typ jwt is accepted by the parser,
// and without the SSP's key it is refused for that reason.
func TestRoutingSpecExample(t *testing.T) {
	b, err := os.ReadFile(testenv.SharedData(t, "fitconnect/fitko/routing-api-2.0.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`example: (eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no destinationSignature example in the spec")
	}
	_, err = fitconnect.VerifyDestinationSignature(string(m[1]), keys(t).serviceSet, "ac715f34-333e-41f4-9bb5-186b309ea233", "")
	wantCode(t, err, rathaus.EINVALID, `unknown signing key "fOHstLO4beBq0px-01pLJ2RxPmBDjCmlKHBO8g5W-SA"`)
}
