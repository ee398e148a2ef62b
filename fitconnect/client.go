// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
)

// Endpoint says where and as whom a client talks to a delivery service.
type Endpoint struct {
	// SubmissionAPI is the base URL of the Submission API, e.g.
	// https://submission-api-testing.fit-connect.fitko.dev.
	SubmissionAPI string
	// TokenURL is the OAuth2 token endpoint (client_credentials,
	// client_secret_post).
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Scope is requested with the token; empty asks for the client's default.
	Scope string
	// APIVersion is the path prefix, "v2" (default) or "v1".
	APIVersion string
	// HTTPClient is used for every request; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// UserAgent is sent with every request (the Routing API demands one).
	UserAgent string
	// ServiceIssuer, if set, is the iss every SET of the delivery service
	// must carry (its public URL); otherwise any URL issuer whose SET
	// verifies with the service's JWKS is accepted.
	ServiceIssuer string
}

// conn is the HTTP side shared by Sender and Subscriber: token cache,
// bearer requests, problem decoding.
type conn struct {
	ep  Endpoint
	now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	jwks    *jose.JSONWebKeySet
}

func newConn(ep Endpoint, now func() time.Time) *conn {
	ep.SubmissionAPI = strings.TrimRight(ep.SubmissionAPI, "/")
	if ep.APIVersion == "" {
		ep.APIVersion = "v2"
	}
	if ep.HTTPClient == nil {
		ep.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if ep.UserAgent == "" {
		ep.UserAgent = "rathaus-fitconnect/1"
	}
	if now == nil {
		now = time.Now
	}
	return &conn{ep: ep, now: now}
}

func (c *conn) api(path string) string {
	return c.ep.SubmissionAPI + "/" + c.ep.APIVersion + path
}

// accessToken returns a cached token or fetches a new one; tokens are
// renewed a minute before they expire.
func (c *conn) accessToken(ctx context.Context, force bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && c.token != "" && c.now().Before(c.expires.Add(-time.Minute)) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ep.ClientID}, "client_secret": {c.ep.ClientSecret}}
	if c.ep.Scope != "" {
		form.Set("scope", c.ep.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINVALID, err, "token URL %q", c.ep.TokenURL)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", c.ep.UserAgent)
	res, err := c.ep.HTTPClient.Do(req)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EUNAVAILABLE, err, "token endpoint unreachable")
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusOK {
		return "", apiError("token", res, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "bearer") {
		return "", rathaus.Errorf(rathaus.EINTERNAL, "token: unexpected answer from the token endpoint")
	}
	c.token, c.expires = tr.AccessToken, c.now().Add(time.Duration(tr.ExpiresIn)*time.Second)
	return c.token, nil
}

// do sends an authenticated request and returns the body of a response
// with status want. A 401 fetches a new token and retries once.
func (c *conn) do(ctx context.Context, method, url, contentType string, body []byte, want int) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx, attempt > 0)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "request %s %s", method, url)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", c.ep.UserAgent)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := c.ep.HTTPClient.Do(req)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "%s %s: delivery service unreachable", method, url)
		}
		data, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
		res.Body.Close()
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "%s %s: reading the answer", method, url)
		}
		if res.StatusCode == http.StatusUnauthorized && attempt == 0 {
			continue
		}
		if res.StatusCode != want {
			return nil, apiError(method+" "+strings.TrimPrefix(url, c.ep.SubmissionAPI), res, data)
		}
		return data, nil
	}
}

func (c *conn) getJSON(ctx context.Context, url string, v any) error {
	b, err := c.do(ctx, http.MethodGet, url, "", nil, http.StatusOK)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "GET %s: answer is not the expected JSON: %v", url, err)
	}
	return nil
}

// serviceJWKS fetches (once) the delivery service's SET keys.
func (c *conn) serviceJWKS(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error) {
	c.mu.Lock()
	if c.jwks != nil && !refresh {
		defer c.mu.Unlock()
		return c.jwks, nil
	}
	c.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.ep.SubmissionAPI+"/.well-known/jwks.json", nil)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "jwks URL")
	}
	req.Header.Set("User-Agent", c.ep.UserAgent)
	res, err := c.ep.HTTPClient.Do(req)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "jwks unreachable")
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return nil, apiError("GET /.well-known/jwks.json", res, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "jwks: %v", err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return nil, rathaus.Errorf(rathaus.EINVALID, "jwks: contains private key material")
		}
	}
	c.mu.Lock()
	c.jwks = &set
	c.mu.Unlock()
	return &set, nil
}

// events fetches the whole event log of a case.
func (c *conn) events(ctx context.Context, caseID string) ([]string, error) {
	var all []string
	for offset := 0; ; {
		var page EventLog
		if err := c.getJSON(ctx, c.api("/cases/"+url.PathEscape(caseID)+"/events?limit=500&offset="+itoa(offset)), &page); err != nil {
			return nil, err
		}
		all = append(all, page.EventLog...)
		offset += page.Count
		if page.Count == 0 || offset >= page.TotalCount {
			return all, nil
		}
	}
}

// verifyServiceSET verifies a SET issued by the delivery service (iss is
// a URL); an unknown kid refreshes the JWKS once (key rollover).
func (c *conn) verifyServiceSET(ctx context.Context, token string, opts VerifyOptions) (*SET, error) {
	jwks, err := c.serviceJWKS(ctx, false)
	if err != nil {
		return nil, err
	}
	set, err := VerifySET(token, jwks, opts)
	if err != nil && strings.Contains(rathaus.ErrorMessage(err), "unknown signing key") {
		if jwks, err = c.serviceJWKS(ctx, true); err != nil {
			return nil, err
		}
		set, err = VerifySET(token, jwks, opts)
	}
	return set, err
}

// unverifiedIssuer reads iss from a JWS without verifying it, to pick the
// key source.
func unverifiedIssuer(token string) (string, error) {
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{SignatureAlgorithm})
	if err != nil {
		return "", rathaus.Errorf(rathaus.EINVALID, "set: %v", err)
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &c); err != nil || c.Iss == "" {
		return "", rathaus.Errorf(rathaus.EINVALID, "set: no iss claim")
	}
	return c.Iss, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
