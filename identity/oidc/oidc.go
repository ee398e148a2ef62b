// SPDX-License-Identifier: EUPL-1.2

// Package oidc is rathaus's OpenID Connect relying party: citizens log in
// through their IdP (BundID, or the demo IdP), staff through the staff IdP
// (may be the same). It runs the authorization code flow with PKCE, state
// and nonce, verifies the ID token (github.com/coreos/go-oidc/v3), maps the
// claims to an identity.User (profile for prefill, LoA from acr, staff grants
// from a "roles" claim), starts a server-side session and writes the audit
// log.
//
// Routes, below Config.Prefix ("/auth"):
//
//	GET  /auth/login?as=citizen|staff&next=/local/path[&loa=substantial|high]
//	GET  /auth/callback
//	POST /auth/logout[?next=/local/path]
//	GET|POST /auth/operator   local operator account (Config.OperatorFile)
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"rathaus"
	"rathaus/audit"
	"rathaus/identity"
	"rathaus/identity/session"
)

// Provider is one OpenID provider and rathaus's client registration there.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes requested besides "openid"; nil means profile and email.
	Scopes []string
}

// Config configures the relying party.
//
// When Citizen and Staff name the same issuer, the kind of account follows
// the ID token, not the button pressed: a non-empty "roles" claim makes a
// staff account, none a citizen account. So a caseworker who uses the
// citizen login link still arrives as staff (and vice versa), and one
// (issuer, subject) never turns into two kinds.
type Config struct {
	Citizen Provider
	Staff   Provider
	// RedirectURL is the absolute URL of the callback as registered at the
	// providers, e.g. "http://127.0.0.1:8080/auth/callback".
	RedirectURL string
	// Prefix is the path the handler is mounted at ("/auth").
	Prefix string
	// FlowKey seals the short-lived login cookie (AES-256-GCM, 32 bytes).
	// All nodes of a cluster need the same key; nil makes a random one,
	// fine for a single process.
	FlowKey []byte
	// Secure marks the login cookie Secure (https deployments).
	Secure bool
	// HTTPClient talks to the providers (discovery, token, keys); nil means
	// a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives failures that are not shown to the user.
	Logger *slog.Logger
	// OperatorFile is the operator password file (DATA/operator.passwd);
	// when set, the local operator login is served at /auth/operator. The
	// file is read at every attempt, so a new password applies at once.
	OperatorFile string
	// ErrorPage renders an error; nil writes plain text.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, message string)
}

const (
	flowCookie = "rathaus_oidc"
	flowTTL    = 10 * time.Minute
)

// Handler serves the login, callback and logout routes.
type Handler struct {
	cfg      Config
	store    identity.Store
	sessions *session.Manager
	audit    audit.Log
	sealer   *sealer
	mux      *http.ServeMux

	limits *limiter

	mu        sync.Mutex
	providers map[identity.Kind]*gooidc.Provider
}

// New returns the relying party handler. Providers are discovered lazily on
// first use, so the IdP may be served by the same process and not be
// listening yet. New panics on a FlowKey that is not 32 bytes (a wiring
// error).
func New(cfg Config, store identity.Store, sessions *session.Manager, log audit.Log) *Handler {
	if cfg.Prefix == "" {
		cfg.Prefix = "/auth"
	}
	cfg.Prefix = "/" + strings.Trim(cfg.Prefix, "/")
	if cfg.FlowKey == nil {
		cfg.FlowKey = make([]byte, 32)
		rand.Read(cfg.FlowKey)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s, err := newSealer(cfg.FlowKey)
	if err != nil {
		panic("oidc: " + err.Error())
	}
	h := &Handler{cfg: cfg, store: store, sessions: sessions, audit: log, sealer: s, providers: map[identity.Kind]*gooidc.Provider{},
		limits: &limiter{now: time.Now, fail: map[string][]time.Time{}}}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+cfg.Prefix+"/login", h.login)
	h.mux.HandleFunc("GET "+cfg.Prefix+"/callback", h.callback)
	h.mux.Handle("POST "+cfg.Prefix+"/logout", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.logout)))
	if cfg.OperatorFile != "" {
		h.mux.HandleFunc("GET "+cfg.Prefix+"/operator", h.operatorForm)
		h.mux.Handle("POST "+cfg.Prefix+"/operator", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.operatorLogin)))
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) providerConfig(k identity.Kind) (Provider, bool) {
	switch k {
	case identity.KindCitizen:
		return h.cfg.Citizen, h.cfg.Citizen.Issuer != ""
	case identity.KindStaff:
		return h.cfg.Staff, h.cfg.Staff.Issuer != ""
	}
	return Provider{}, false
}

// provider returns the discovered provider for kind, discovering it on
// first use; failures are not cached.
func (h *Handler) provider(ctx context.Context, k identity.Kind) (*gooidc.Provider, Provider, error) {
	pc, ok := h.providerConfig(k)
	if !ok {
		return nil, pc, rathaus.Errorf(rathaus.EINVALID, "Für diese Anmeldeart ist kein Identitätsanbieter eingerichtet. / No identity provider is configured for this kind of login.")
	}
	h.mu.Lock()
	p := h.providers[k]
	h.mu.Unlock()
	if p != nil {
		return p, pc, nil
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, h.cfg.HTTPClient), pc.Issuer)
	if err != nil {
		return nil, pc, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Der Identitätsanbieter ist nicht erreichbar. Bitte versuchen Sie es später erneut. / The identity provider is not reachable.")
	}
	h.mu.Lock()
	h.providers[k] = p
	h.mu.Unlock()
	return p, pc, nil
}

func (h *Handler) oauth2Config(p *gooidc.Provider, pc Provider) *oauth2.Config {
	scopes := pc.Scopes
	if scopes == nil {
		scopes = []string{"profile", "email"}
	}
	return &oauth2.Config{
		ClientID:     pc.ClientID,
		ClientSecret: pc.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  h.cfg.RedirectURL,
		Scopes:       append([]string{gooidc.ScopeOpenID}, scopes...),
	}
}

// SafeNext returns next if it is a path on this site ("/…", not "//…" or
// "/\…", no scheme, host or control characters) and ok=false otherwise.
func SafeNext(next string) (string, bool) {
	if next == "" {
		return "/", true
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || len(next) > 2048 {
		return "", false
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false
	}
	return next, true
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	msg := rathaus.ErrorMessage(err)
	if status >= 500 || rathaus.ErrorCode(err) == rathaus.EINTERNAL {
		h.cfg.Logger.ErrorContext(r.Context(), "oidc", "path", r.URL.Path, "err", err)
	} else {
		h.cfg.Logger.InfoContext(r.Context(), "oidc: login refused", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	if h.cfg.ErrorPage != nil {
		h.cfg.ErrorPage(w, r, status, msg)
		return
	}
	http.Error(w, msg, status)
}

// statusOf maps a (non-nil) error to its HTTP status (rathaus.HTTPStatus).
func statusOf(err error) int { return rathaus.HTTPStatus(rathaus.ErrorCode(err)) }

// login starts the code flow: it remembers state, nonce, PKCE verifier and
// the local return path in the sealed flow cookie and redirects to the IdP.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind := identity.Kind(q.Get("as"))
	if kind == "" {
		kind = identity.KindCitizen
	}
	if kind != identity.KindCitizen && kind != identity.KindStaff {
		h.fail(w, r, http.StatusBadRequest, rathaus.Errorf(rathaus.EINVALID, "Unbekannte Anmeldeart %q (erlaubt: citizen, staff). / Unknown login kind.", q.Get("as")))
		return
	}
	next, ok := SafeNext(q.Get("next"))
	if !ok {
		h.fail(w, r, http.StatusBadRequest, rathaus.Errorf(rathaus.EINVALID, "Das Rücksprungziel muss eine Seite dieses Portals sein. / The return address must be a page of this portal."))
		return
	}
	var minLoA identity.LoA
	if v := q.Get("loa"); v != "" {
		if minLoA = identity.ParseLoA(v); minLoA == identity.LoANone {
			h.fail(w, r, http.StatusBadRequest, rathaus.Errorf(rathaus.EINVALID, "Unbekanntes Vertrauensniveau %q (erlaubt: low, substantial, high). / Unknown level of assurance.", v))
			return
		}
	}
	p, pc, err := h.provider(r.Context(), kind)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	f := flow{
		MinLoA:   int(minLoA),
		As:       string(kind),
		State:    randomString(32),
		Nonce:    randomString(32),
		Verifier: oauth2.GenerateVerifier(),
		Next:     next,
		Expires:  time.Now().Add(flowTTL).UTC(),
	}
	sealed, err := h.sealer.seal(flowCookie, f)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: flowCookie, Value: sealed, Path: h.cfg.Prefix + "/", MaxAge: int(flowTTL.Seconds()),
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if minLoA > identity.LoANone {
		// Ask for this level or higher (OIDC acr_values, eIDAS URIs); the
		// IdP then asks for the stronger means, and the callback checks.
		var acr []string
		for l := minLoA; l <= identity.LoAHigh; l++ {
			acr = append(acr, EIDASURI(l))
		}
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(acr, " ")),
			oauth2.SetAuthURLParam("prompt", "login")) // a fresh authentication, not a single sign-on session
	}
	authURL := h.oauth2Config(p, pc).AuthCodeURL(f.State, opts...)
	http.Redirect(w, r, authURL, http.StatusFound)
}

// callback finishes the code flow and starts the session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// The flow cookie is single use.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: h.cfg.Prefix + "/", MaxAge: -1, HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode})

	restart := rathaus.Errorf(rathaus.EINVALID, "Die Anmeldung ist abgelaufen oder ungültig. Bitte melden Sie sich erneut an. / The login expired or is invalid; please log in again.")
	c, err := r.Cookie(flowCookie)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, restart)
		return
	}
	f, err := h.sealer.open(flowCookie, c.Value)
	if err != nil || time.Now().After(f.Expires) {
		h.fail(w, r, http.StatusBadRequest, restart)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		h.fail(w, r, http.StatusBadRequest, restart)
		return
	}
	if e := q.Get("error"); e != "" {
		h.fail(w, r, http.StatusUnauthorized, rathaus.Errorf(rathaus.EUNAUTHORIZED, "Die Anmeldung wurde abgebrochen oder abgelehnt (%s). / The login was cancelled or refused.", e))
		return
	}
	kind := identity.Kind(f.As)
	p, pc, err := h.provider(r.Context(), kind)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	ctx := gooidc.ClientContext(r.Context(), h.cfg.HTTPClient)
	tok, err := h.oauth2Config(p, pc).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.fail(w, r, http.StatusUnauthorized, rathaus.Wrap(rathaus.EUNAUTHORIZED, err, "Der Identitätsanbieter hat die Anmeldung nicht bestätigt. / The identity provider did not confirm the login."))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.fail(w, r, http.StatusUnauthorized, rathaus.Errorf(rathaus.EUNAUTHORIZED, "Der Identitätsanbieter hat kein ID-Token geliefert. / The identity provider sent no ID token."))
		return
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: pc.ClientID}).Verify(ctx, raw)
	if err != nil {
		h.fail(w, r, http.StatusUnauthorized, rathaus.Wrap(rathaus.EUNAUTHORIZED, err, "Das ID-Token ist ungültig. / The ID token is invalid."))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		h.fail(w, r, http.StatusUnauthorized, rathaus.Errorf(rathaus.EUNAUTHORIZED, "Das ID-Token gehört nicht zu dieser Anmeldung. / The ID token does not belong to this login."))
		return
	}
	var cl claims
	if err := idt.Claims(&cl); err != nil {
		h.fail(w, r, http.StatusUnauthorized, rathaus.Wrap(rathaus.EUNAUTHORIZED, err, "Das ID-Token ist ungültig. / The ID token is invalid."))
		return
	}
	if cl.Subject == "" {
		cl.Subject = idt.Subject
	}
	if got := cl.loa(); got < identity.LoA(f.MinLoA) {
		err := rathaus.Errorf(rathaus.EFORBIDDEN, "Die Anmeldung hat nur das Vertrauensniveau „%s“ erreicht; verlangt ist „%s“. / The login reached a lower level of assurance than required.", got, identity.LoA(f.MinLoA))
		h.refused(r, kind, idt.Issuer, "loa_too_low")
		h.fail(w, r, http.StatusForbidden, err)
		return
	}
	if h.cfg.Citizen.Issuer == h.cfg.Staff.Issuer {
		kind = identity.KindCitizen
		if len(cl.Roles) > 0 {
			kind = identity.KindStaff
		}
	}
	u, loa, err := h.signIn(r.Context(), kind, idt.Issuer, &cl)
	if err != nil {
		if rathaus.ErrorCode(err) == rathaus.EFORBIDDEN {
			h.refused(r, kind, idt.Issuer, "forbidden")
		}
		h.fail(w, r, statusOf(err), err)
		return
	}
	if _, err := h.sessions.Start(w, r, u, loa, idt.Issuer); err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// signIn stores the user (and, for staff, the grants from the roles claim)
// and writes the "login" audit entry, all in one transaction when the store
// supports it (identity.Atomic): a failure at any step, a refused account
// kind included, leaves neither a changed user, nor grants, nor the entry.
func (h *Handler) signIn(ctx context.Context, kind identity.Kind, issuer string, cl *claims) (*identity.User, identity.LoA, error) {
	loa := cl.loa()
	if loa == identity.LoANone {
		return nil, 0, rathaus.Errorf(rathaus.EFORBIDDEN, "Der Identitätsanbieter hat ein unbekanntes Vertrauensniveau gemeldet. / The identity provider reported an unknown level of assurance.")
	}
	want := identity.User{Kind: kind, Issuer: issuer, Subject: cl.Subject, Name: cl.displayName()}
	if kind == identity.KindCitizen {
		want.Profile = cl.profile()
	} else {
		// Staff: only what identifies the person at work.
		want.Profile = identity.Profile{GivenName: cl.GivenName, FamilyName: cl.FamilyName, Email: cl.Email}
	}
	var grants []identity.Grant
	if kind == identity.KindStaff {
		var err error
		if grants, err = ParseRoles("", cl.Roles); err != nil {
			return nil, 0, rathaus.Wrap(rathaus.EFORBIDDEN, err, "Die Rollen aus dem Identitätsanbieter sind ungültig; bitte wenden Sie sich an den Betrieb. / The roles sent by the identity provider are invalid.")
		}
	}
	details := map[string]string{"kind": string(kind), "loa": loa.String(), "idp": issuer}
	if kind == identity.KindStaff {
		details["roles"] = strings.Join(cl.Roles, " ")
	}
	u, err := h.storeLogin(ctx, want, grants, details)
	if err != nil {
		return nil, 0, err
	}
	return u, loa, nil
}

// storeLogin upserts want, replaces the grants of a staff member with
// grants (their UserID is filled in) and appends the "login" audit entry
// with details, in one transaction of the store when it implements
// identity.Atomic. A user stored with another kind than want.Kind is
// refused with EFORBIDDEN (and the upsert rolled back).
func (h *Handler) storeLogin(ctx context.Context, want identity.User, grants []identity.Grant, details map[string]string) (*identity.User, error) {
	unavailable := func(err error) error {
		if rathaus.ErrorCode(err) == rathaus.EFORBIDDEN {
			return err
		}
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Anmeldung derzeit nicht möglich. / Login currently not possible.")
	}
	var u *identity.User
	err := identity.RunAtomic(ctx, h.store, func(ctx context.Context) error {
		var err error
		if u, err = h.store.UpsertUser(ctx, want); err != nil {
			return err
		}
		if u.Kind != want.Kind {
			return rathaus.Errorf(rathaus.EFORBIDDEN, "Dieses Konto ist als %s registriert und kann sich hier nicht anmelden. / This account cannot log in here.", kindLabel(u.Kind))
		}
		if want.Kind == identity.KindStaff {
			for i := range grants {
				grants[i].UserID = u.ID
			}
			if err := h.store.SetGrants(ctx, u.ID, grants); err != nil {
				return err
			}
		}
		if h.audit != nil {
			if _, err := h.audit.Append(ctx, audit.Entry{Actor: u.ID, Action: "login", Object: "user/" + u.ID, Details: details}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// One message for every failure of the store, its commit included
		// (their texts are not for citizens); the kind mismatch as is.
		return nil, unavailable(err)
	}
	return u, nil
}

// refused writes a "login.refused" audit entry for a verified identity
// that may not log in (weak LoA, wrong account kind, invalid roles). Only
// logins with a valid ID token are recorded, so anonymous requests cannot
// fill the log.
func (h *Handler) refused(r *http.Request, kind identity.Kind, issuer, reason string) {
	if h.audit == nil {
		return
	}
	if _, err := h.audit.Append(r.Context(), audit.Entry{Actor: "anonymous", Action: "login.refused", Object: "idp/" + issuer,
		Details: map[string]string{"kind": string(kind), "reason": reason}}); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "oidc: audit refused login", "err", err)
	}
}

// EIDASURI returns the eIDAS URI of a level of assurance, as used in acr
// and acr_values; LoANone gives "". It is l.EIDASURI().
func EIDASURI(l identity.LoA) string { return l.EIDASURI() }

func kindLabel(k identity.Kind) string {
	if k == identity.KindStaff {
		return "Dienstkonto"
	}
	return "Bürgerkonto"
}

// logout ends the session, clears the cookie, writes the "logout" audit
// entry and returns to next (a local path, default "/").
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next, ok := SafeNext(r.URL.Query().Get("next"))
	if !ok {
		next = "/"
	}
	p, err := h.sessions.Load(r.Context(), r)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Abmeldung derzeit nicht möglich. / Logout currently not possible."))
		return
	}
	if err := h.sessions.End(w, r); err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	if p != nil && h.audit != nil {
		if _, err := h.audit.Append(r.Context(), audit.Entry{Actor: p.User.ID, Action: "logout", Object: "user/" + p.User.ID, Details: map[string]string{"kind": string(p.User.Kind)}}); err != nil {
			h.cfg.Logger.ErrorContext(r.Context(), "oidc: audit logout", "err", err)
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
