// SPDX-License-Identifier: EUPL-1.2

// Package web is the citizen and staff portal: server-rendered HTML
// (html/template, embedded), static assets, German and English texts
// (go-i18n), and the middleware every response passes through (request ids,
// access log, panic recovery, security headers, CSRF protection, body
// limits, login rate limits, language choice, metrics).
//
// Every route is registered through [Server.Route] with a [Meta] that
// declares who may call it. Tests enumerate the registry: a route without a
// scope, or a tenant-scoped route without a tenant-isolation fixture, fails
// the build. Later features (forms, casework, mailbox) add their routes the
// same way and so are covered automatically.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"rathaus/catalog"
	"rathaus/identity"
	"rathaus/identity/session"
	"rathaus/tenant"
)

// Config is the static configuration of the portal.
type Config struct {
	// Demo shows the demo banner and mounts the demo identity provider.
	Demo bool
	// TLS marks the server as reached over HTTPS: cookies get Secure and
	// responses carry Strict-Transport-Security.
	TLS bool
	// SecureCookies forces the Secure attribute on cookies even without TLS
	// (behind a TLS-terminating proxy).
	SecureCookies bool
	// BaseURL is the public URL of the portal, e.g. "https://rathaus.example".
	BaseURL string
	// Logger receives the access log and error details; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// Version is shown in the footer and in /healthz logs.
	Version string
	// LoginBurst and LoginEvery configure the per-IP token bucket on the
	// login routes: LoginBurst requests at once, then one per LoginEvery.
	// Zero values mean 10 and 6 s.
	LoginBurst int
	LoginEvery time.Duration
}

// Deps are the parts the portal uses. Tenants and Catalog are required; the
// others are optional and their routes or features are left out when nil.
type Deps struct {
	Tenants  tenant.Store
	Catalog  catalog.Store
	Identity identity.Store // optional: remembers the chosen municipality in the session

	// Ready reports whether the server can take traffic (store reachable,
	// migrations applied); /readyz answers 503 while it returns an error.
	Ready func(ctx context.Context) error

	// Auth is the OIDC relying party, mounted at /auth/ (login, callback, logout).
	Auth http.Handler
	// DemoIdP is the in-process demo identity provider, mounted at
	// /demo-idp/ when Config.Demo is set.
	DemoIdP http.Handler
	// Sessions wraps the router and puts the *session.Principal of a
	// logged-in request into its context (session.Manager.Middleware).
	Sessions func(http.Handler) http.Handler

	// HasForm reports whether an online application exists for a service
	// key; the service page then links to /antrag/{key}.
	HasForm func(serviceKey string) bool

	// Search, when set, answers /suche with the German search index
	// (IndexSearch): compounds, stems, typos, synonyms, life events, per
	// municipality. Nil keeps the simple SQL search of Catalog.Search.
	Search SearchFunc

	// Features add their routes (forms, casework, mailbox, …) through
	// Server.Route when the server is built; the route checks of
	// web/webtest then cover them like the portal's own.
	Features []Feature
}

// Feature is a part of the portal that brings its own routes.
type Feature interface {
	// Register adds the feature's routes with s.Route.
	Register(s *Server)
}

// Scope says who may call a route.
type Scope int

// Scopes. The zero value is "undeclared" and makes the registry test fail.
const (
	ScopeUndeclared Scope = iota
	ScopePublic           // anyone
	ScopeCitizen          // a logged-in citizen (or staff member) with at least MinLoA
	ScopeStaff            // a logged-in staff member holding Role somewhere
)

func (s Scope) String() string {
	switch s {
	case ScopePublic:
		return "public"
	case ScopeCitizen:
		return "citizen"
	case ScopeStaff:
		return "staff"
	}
	return "undeclared"
}

// Meta declares the access rules and test fixtures of a route.
type Meta struct {
	Scope  Scope
	Role   identity.Role // ScopeStaff: the role needed on some tenant (checked per object by the handler)
	MinLoA identity.LoA  // minimum level of assurance of the session

	// Personal marks pages with personal data: they get
	// Cache-Control: no-store (every page of a logged-in user does anyway).
	Personal bool
	// RateLimit puts the route behind the per-IP login token bucket.
	RateLimit bool
	// Raw routes (health checks, metrics, mounted handlers) do not render
	// HTML; the header crawl still checks their security headers.
	Raw bool
	// MaxBodyBytes raises the request body limit of this route above
	// Config.MaxBodyBytes (uploads); 0 keeps the server's limit.
	MaxBodyBytes int64

	// Example is a concrete path used by crawlers for patterns with
	// wildcards, e.g. "/leistungen/99050012104000".
	Example string

	// NotTenantScoped explains why a route with a wildcard in its path
	// carries no tenant data (e.g. "public catalog text, same for everyone").
	// Either this or Isolation must be set on every route with a wildcard.
	NotTenantScoped string
	// Isolation builds a request for an object of another tenant; the
	// tenant-isolation test runs it for every tenant-scoped route.
	Isolation func(ctx context.Context, fx *IsolationFixture) (IsolationProbe, error)
}

// IsolationFixture is what the tenant-isolation test offers a route's
// Isolation hook: two tenants A and B, the stores to create objects in, and
// the two requesting users. A feature keeps its own stores in the closure
// of its hook.
type IsolationFixture struct {
	A, B     string // ARS of the two tenants
	Tenants  tenant.Store
	Catalog  catalog.Store
	Identity identity.Store
	// Principal is the requesting staff member (grants on A, none on B).
	Principal *session.Principal
	// Citizen is a requesting citizen of A; objects the hook creates for
	// another citizen (or in B) must stay hidden from them. Nil when the
	// test has no citizen.
	Citizen *session.Principal
}

// IsolationProbe is one request against tenant B's object and the texts of B
// that must not appear in the response.
type IsolationProbe struct {
	Method string // "" means GET
	Path   string
	Body   string // form-encoded body for POST
	// AsCitizen sends the probe as fx.Citizen instead of fx.Principal
	// (mailbox, applications: citizen X must not reach citizen Y's object).
	AsCitizen bool
	// Secrets are strings that belong to B and must not be in the response.
	Secrets []string
}

// RouteInfo describes a registered route for tests and tools.
type RouteInfo struct {
	Pattern string // as given to Route, e.g. "GET /leistungen/{key}"
	Method  string // "" for patterns without a method
	Path    string // the path part of the pattern
	Meta    Meta
}

// HasWildcard reports whether the path contains a {wildcard}.
func (ri RouteInfo) HasWildcard() bool {
	return strings.Contains(strings.ReplaceAll(ri.Path, "{$}", ""), "{")
}

// Server is the portal. Build it with New; serve Handler.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []RouteInfo
	pages   *pages
	i18n    *translator
	metrics *metrics
	limiter *limiter
	// headerTenants caches the municipality of every page's header.
	headerTenants *ttlCache[string, *tenant.Tenant]

	once    sync.Once
	handler http.Handler
	bodyMax map[string]int64 // route pattern → body limit (Meta.MaxBodyBytes)
}

// New builds the portal and registers its routes.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Tenants == nil || deps.Catalog == nil {
		return nil, errors.New("web: Deps.Tenants and Deps.Catalog are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	if cfg.LoginEvery <= 0 {
		cfg.LoginEvery = 6 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr, err := newTranslator()
	if err != nil {
		return nil, err
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		deps:    deps,
		log:     log,
		mux:     http.NewServeMux(),
		pages:   pg,
		i18n:    tr,
		metrics: newMetrics(),
		limiter: newLimiter(cfg.LoginBurst, cfg.LoginEvery),

		headerTenants: newTTLCache[string, *tenant.Tenant](modelTTL, 5000),
	}
	s.routesPortal()
	for _, f := range deps.Features {
		f.Register(s)
	}
	return s, nil
}

// Route registers h for pattern ("GET /path/{id}", Go 1.22 ServeMux syntax)
// with its access rules. h may be a HandlerFunc, whose errors are rendered
// by the central error page. Route panics on an invalid or duplicate
// pattern, like http.ServeMux.Handle.
func (s *Server) Route(pattern string, h http.Handler, m Meta) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	ri := RouteInfo{Pattern: pattern, Method: method, Path: path, Meta: m}
	s.routes = append(s.routes, ri)
	if m.MaxBodyBytes > 0 {
		if s.bodyMax == nil {
			s.bodyMax = map[string]int64{}
		}
		s.bodyMax[pattern] = m.MaxBodyBytes
	}
	if hf, ok := h.(HandlerFunc); ok {
		h = s.errors(hf)
	}
	s.mux.Handle(pattern, s.guard(ri, h))
}

// Routes returns the registered routes, sorted by pattern.
func (s *Server) Routes() []RouteInfo {
	out := append([]RouteInfo(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// Handler returns the portal with its full middleware chain.
func (s *Server) Handler() http.Handler {
	s.once.Do(func() {
		var h http.Handler = s.mux
		if s.deps.Sessions != nil {
			h = s.deps.Sessions(h)
		}
		h = s.language(h)
		h = s.csrf(h)
		h = s.bodyLimit(h)
		h = s.accessLog(h)
		h = s.securityHeaders(h)
		h = s.requestID(h)
		h = s.recovery(h)
		s.handler = h
	})
	return s.handler
}

// HandlerFunc is a handler that returns an error; the server renders it as
// an error page with the status of its rathaus error code.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP lets a HandlerFunc be used where no Server is at hand; errors
// become a plain 500. Server.Route renders them properly.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		http.Error(w, "Interner Fehler.", http.StatusInternalServerError)
	}
}

// Fail renders err as the error page: the status from its rathaus error
// code, its safe message for the user, the detail in the log.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) }

// Municipality returns the ARS of the municipality the visitor chose (or a
// logged-in citizen's session remembers), or "".
func (s *Server) Municipality(r *http.Request) string { return s.municipality(r) }

// T translates a message id of the portal's bundles into the request's
// language.
func (s *Server) T(r *http.Request, id string, kv ...any) string { return s.tr(r, id, kv...) }

// principal returns the logged-in user of r, or nil.
func (s *Server) principal(r *http.Request) *session.Principal {
	return session.FromContext(r.Context())
}

// guard enforces the route's Meta before calling h, records the route
// pattern for logs and metrics, and marks personal pages no-store.
func (s *Server) guard(ri RouteInfo, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = ri.Pattern
		}
		if ri.Meta.RateLimit {
			if ok, wait := s.limiter.allow(clientIP(r), time.Now()); !ok {
				w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+0.999)))
				s.renderError(w, r, http.StatusTooManyRequests, s.tr(r, "error.ratelimit"), nil)
				return
			}
		}
		p := s.principal(r)
		if ri.Meta.Personal || p != nil {
			w.Header().Set("Cache-Control", "no-store")
		}
		switch ri.Meta.Scope {
		case ScopePublic:
		case ScopeCitizen, ScopeStaff:
			if p == nil {
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					as := "citizen"
					if ri.Meta.Scope == ScopeStaff {
						as = "staff"
					}
					http.Redirect(w, r, "/auth/login?as="+as+"&next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				s.fail(w, r, errUnauthorized)
				return
			}
			if !p.HasLoA(ri.Meta.MinLoA) {
				s.fail(w, r, errLoA)
				return
			}
			if ri.Meta.Scope == ScopeStaff {
				if !p.IsStaff() || !hasRole(p.Grants, ri.Meta.Role) {
					s.fail(w, r, errForbidden)
					return
				}
			}
		default:
			// Fail closed: a route without a declared scope serves nobody.
			s.fail(w, r, errForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hasRole reports whether grants hold role (or operator) on any tenant; an
// empty role only needs some grant.
func hasRole(gs []identity.Grant, role identity.Role) bool {
	for _, g := range gs {
		if role == "" || g.Role == role || g.Role == identity.RoleOperator {
			return true
		}
	}
	return false
}
