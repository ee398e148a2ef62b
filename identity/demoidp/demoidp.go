// SPDX-License-Identifier: EUPL-1.2

// Package demoidp is an in-process OpenID Connect provider for demos and
// tests: a real OP (github.com/zitadel/oidc/v3/pkg/op) with in-memory
// storage, the authorization code flow with mandatory PKCE (S256), RS256
// ID tokens and BundID-like claims (given_name, family_name, birthdate,
// address, email, phone_number, nationality, place_of_birth), the trust
// level as an eIDAS URI in acr, and staff roles in a "roles" claim such as
// ["caseworker@064110000000"].
//
// Its login page says plainly that it is not a real identity provider and
// shows the demo passwords. Never enable it in production.
package demoidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"rathaus"
	"rathaus/identity"
)

// User is a demo account. Subject is both the login name and the
// pseudonymous "sub" claim.
type User struct {
	Subject  string
	Password string
	Name     string
	Profile  identity.Profile
	LoA      identity.LoA
	// Roles are sent in the "roles" claim, each "role@ARS", e.g.
	// "caseworker@064110000000". See RolesFromGrants.
	Roles []string
}

// Client is a relying party allowed to use the provider (a confidential
// client authenticating with client_secret_basic).
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
}

// Config configures New.
type Config struct {
	// Issuer is the absolute URL the provider is reachable at, e.g.
	// "http://127.0.0.1:8080/demo-idp". Its path is the mount prefix.
	// Plain http is allowed (demo on loopback).
	Issuer  string
	Users   []User
	Clients []Client
	// SigningKey signs the ID tokens; nil generates a 3072-bit RSA key
	// (BSI TR-02102-1: RSA ≥ 3000 bit).
	SigningKey *rsa.PrivateKey
	// Logger is used by the OP library; nil means slog.Default().
	Logger *slog.Logger
}

var germanTag = language.German

//go:embed assets
var assets embed.FS

var loginPage = template.Must(template.ParseFS(assets, "assets/login.html"))

// New returns the provider as an http.Handler that serves the full paths
// below the issuer's path (mount it at that prefix, e.g.
// mux.Handle("/demo-idp/", h)): discovery at
// /demo-idp/.well-known/openid-configuration, the endpoints, the login page
// at /demo-idp/login.
func New(cfg Config) (http.Handler, error) {
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || (iss.Scheme != "http" && iss.Scheme != "https") || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "demoidp: issuer %q is not an absolute http(s) URL", cfg.Issuer)
	}
	prefix := strings.TrimSuffix(iss.Path, "/")
	issuer := strings.TrimSuffix(cfg.Issuer, "/")

	st := &storage{
		now:      timeNow,
		users:    map[string]*User{},
		clients:  map[string]*client{},
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		tokens:   map[string]*accessToken{},
		key:      cfg.SigningKey,
	}
	for i := range cfg.Users {
		u := cfg.Users[i]
		if u.Subject == "" || u.Password == "" {
			return nil, rathaus.Errorf(rathaus.EINVALID, "demoidp: user %d: subject and password are required", i+1)
		}
		if _, dup := st.users[u.Subject]; dup {
			return nil, rathaus.Errorf(rathaus.EINVALID, "demoidp: user %d: duplicate subject %q", i+1, u.Subject)
		}
		st.users[u.Subject] = &u
	}
	for i, c := range cfg.Clients {
		if c.ID == "" || c.Secret == "" || len(c.RedirectURIs) == 0 {
			return nil, rathaus.Errorf(rathaus.EINVALID, "demoidp: client %d: id, secret and redirect URIs are required", i+1)
		}
		st.clients[c.ID] = &client{id: c.ID, secret: c.Secret, redirectURIs: append([]string(nil), c.RedirectURIs...), loginURL: prefix + "/login"}
	}
	if st.key == nil {
		if st.key, err = rsa.GenerateKey(rand.Reader, 3072); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "demoidp: key generation failed")
		}
	}
	if st.key.N.BitLen() < 2048 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "demoidp: signing key has %d bits, need at least 2048", st.key.N.BitLen())
	}
	kid := sha256.Sum256(st.key.N.Bytes())
	st.keyID = base64.RawURLEncoding.EncodeToString(kid[:12])

	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	conf := &op.Config{
		CryptoKey:          cryptoKey,
		CryptoKeyId:        "demo",
		CodeMethodS256:     true,
		AuthMethodPost:     true,
		SupportedUILocales: []language.Tag{language.German, language.English},
		SupportedScopes:    supportedScopes,
		SupportedClaims: append(append([]string(nil), op.DefaultSupportedClaims...),
			"birthdate", "address", "nationality", "place_of_birth", "roles"),
	}
	opts := []op.Option{}
	if iss.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	if cfg.Logger != nil {
		opts = append(opts, op.WithLogger(cfg.Logger))
	}
	provider, err := op.NewProvider(conf, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "demoidp: cannot create provider")
	}

	l := &login{store: st, users: cfg.Users, callback: issuer + "/authorize/callback?id=", prefix: prefix}
	mux := http.NewServeMux()
	mux.Handle("GET /login", http.HandlerFunc(l.show))
	mux.Handle("POST /login", http.NewCrossOriginProtection().Handler(http.HandlerFunc(l.submit)))
	mux.Handle("GET /assets/demoidp.css", http.FileServerFS(assets))
	mux.Handle("/", provider)
	return http.StripPrefix(prefix, mux), nil
}

// login serves the demo login page.
type login struct {
	store    *storage
	users    []User
	callback string
	prefix   string
}

type pageData struct {
	ID       string
	Username string
	Error    string
	Users    []userRow
	CSS      string
}

type userRow struct {
	Subject, Password, Name, LoA, Roles string
}

func (l *login) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	for _, u := range l.users {
		d.Users = append(d.Users, userRow{u.Subject, u.Password, u.Name, loaLabel(u.LoA), strings.Join(u.Roles, ", ")})
	}
	d.CSS = l.prefix + "/assets/demoidp.css"
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	loginPage.Execute(w, d)
}

func (l *login) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if _, err := l.store.AuthRequestByID(r.Context(), id); err != nil {
		l.render(w, r, http.StatusBadRequest, pageData{Error: "Die Anmeldeanfrage ist unbekannt oder abgelaufen. Bitte beginnen Sie die Anmeldung erneut. / The login request is unknown or expired."})
		return
	}
	l.render(w, r, http.StatusOK, pageData{ID: id})
}

func (l *login) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		l.render(w, r, http.StatusBadRequest, pageData{Error: "Ungültige Eingabe. / Invalid input."})
		return
	}
	id, name, pw := r.PostForm.Get("id"), strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	u, ok := l.store.checkPassword(name, pw)
	if !ok {
		l.render(w, r, http.StatusUnauthorized, pageData{ID: id, Username: name, Error: "Benutzername oder Passwort ist falsch. / User name or password is wrong."})
		return
	}
	if err := l.store.login(id, u); errors.Is(err, errLoATooLow) {
		l.render(w, r, http.StatusForbidden, pageData{ID: id, Username: name, Error: "Dieses Konto erreicht nur das Vertrauensniveau „" + loaLabel(u.LoA) + "“; der Dienst verlangt ein höheres. Bitte wählen Sie ein anderes Konto. / This account's level of assurance is too low for this service."})
		return
	} else if err != nil {
		l.render(w, r, http.StatusBadRequest, pageData{Error: "Die Anmeldeanfrage ist unbekannt oder abgelaufen. Bitte beginnen Sie die Anmeldung erneut. / The login request is unknown or expired."})
		return
	}
	http.Redirect(w, r, l.callback+url.QueryEscape(id), http.StatusSeeOther)
}

// LoAURI returns the eIDAS URI of l, sent in the acr claim; LoANone gives
// "". It is l.EIDASURI().
func LoAURI(l identity.LoA) string { return l.EIDASURI() }

func loaLabel(l identity.LoA) string {
	switch l {
	case identity.LoALow:
		return "niedrig (Basisregistrierung)"
	case identity.LoASubstantial:
		return "substanziell (ELSTER-Zertifikat)"
	case identity.LoAHigh:
		return "hoch (Online-Ausweis)"
	}
	return "keines"
}

// RolesFromGrants renders grants as "role@ARS" strings for User.Roles.
func RolesFromGrants(gs []identity.Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, string(g.Role)+"@"+g.Tenant)
	}
	return out
}

func randomID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
