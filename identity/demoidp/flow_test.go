// SPDX-License-Identifier: EUPL-1.2

package demoidp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"rathaus/identity"
	"rathaus/identity/demoidp"
)

// TestClaims runs the code flow by hand and checks the raw claim names and
// shapes of the ID token and the userinfo endpoint.
func TestClaims(t *testing.T) {
	mux := http.NewServeMux()
	srv, iss := serveUsers(t, mux, []demoidp.User{{
		Subject: "erika", Password: "pw", Name: "Erika Mustermann", LoA: identity.LoAHigh,
		Roles: []string{"caseworker@064110000000"},
		Profile: identity.Profile{GivenName: "Erika", FamilyName: "Mustermann", BirthDate: "1964-08-12", BirthPlace: "Berlin",
			Nationality: "DE", Street: "Luisenplatz 5", PostalCode: "64283", City: "Darmstadt", Country: "DE", Email: "erika@example.org", Phone: "+49 6151 0"},
	}})
	ctx := context.Background()
	p, err := gooidc.NewProvider(ctx, iss)
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: "rp", ClientSecret: "s", Endpoint: p.Endpoint(), RedirectURL: srv + "/cb",
		Scopes: []string{"openid", "profile", "email"}}
	verifier := oauth2.GenerateVerifier()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/cb" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := c.Get(conf.AuthCodeURL("state1", gooidc.Nonce("nonce1"), oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	page := read(t, res)
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no login form: %s", page)
	}
	res, err = c.PostForm(iss+"/login", url.Values{"id": {m[1]}, "username": {"erika"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, res)
	loc, err := res.Location()
	if err != nil || loc.Query().Get("state") != "state1" {
		t.Fatalf("callback %v %v", loc, err)
	}

	t.Run("wrong verifier", func(t *testing.T) {
		if _, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Error("code exchanged with a wrong PKCE verifier")
		}
	})
	// Start a fresh flow for the rightful exchange.
	res, _ = c.Get(conf.AuthCodeURL("state2", gooidc.Nonce("nonce2"), oauth2.S256ChallengeOption(verifier)))
	m = regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(read(t, res))
	res, _ = c.PostForm(iss+"/login", url.Values{"id": {m[1]}, "username": {"erika"}, "password": {"pw"}})
	read(t, res)
	loc, _ = res.Location()

	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: "rp"}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	want := map[string]any{
		"sub": "erika", "acr": "http://eidas.europa.eu/LoA/high", "nonce": "nonce2",
		"name": "Erika Mustermann", "given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12",
		"place_of_birth": "Berlin", "nationality": "DE", "email": "erika@example.org", "phone_number": "+49 6151 0",
		"address": map[string]any{"street_address": "Luisenplatz 5", "postal_code": "64283", "locality": "Darmstadt", "country": "DE"},
		"roles":   []any{"caseworker@064110000000"},
	}
	for k, v := range want {
		if !cmp.Equal(claims[k], v) {
			t.Errorf("ID token claim %s = %#v, want %#v", k, claims[k], v)
		}
	}

	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	ui.Claims(&info)
	b, _ := json.Marshal(info)
	if info["sub"] != "erika" || info["family_name"] != "Mustermann" || info["email"] != "erika@example.org" {
		t.Errorf("userinfo = %s", b)
	}

	t.Run("code is single use", func(t *testing.T) {
		if _, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
			t.Error("code exchanged twice")
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		bad := *conf
		bad.ClientSecret = "x"
		if _, err := bad.Exchange(ctx, "whatever", oauth2.VerifierOption(verifier)); err == nil {
			t.Error("wrong secret accepted")
		}
	})
}
