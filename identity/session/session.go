// SPDX-License-Identifier: EUPL-1.2

// Package session keeps server-side login sessions. The browser holds only
// a 256-bit random session id in an HttpOnly cookie; the session (user, LoA,
// IdP, expiry, chosen tenant and language) lives in the identity.Store.
//
// Manager.Start begins a session after a successful login (always with a new
// id, so a planted id cannot be fixed), Manager.End ends it, and
// Manager.Middleware loads the Principal of each request into its context,
// where FromContext finds it.
package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"rathaus"
	"rathaus/identity"
)

// Options configure a Manager. Zero fields take the defaults.
type Options struct {
	// CookieName is the name of the session cookie ("rathaus_session").
	CookieName string
	// Secure marks the cookie Secure; set it whenever rathaus is served over
	// https (always in production).
	Secure bool
	// TTL is the idle lifetime of a session (8h): without requests for this
	// long it ends. Sliding needs a store that implements Toucher; otherwise
	// TTL is the lifetime from login.
	TTL time.Duration
	// Absolute is the lifetime from login after which a session ends
	// regardless of activity (12h).
	Absolute time.Duration
	// SameSite of the cookie (http.SameSiteLaxMode); Lax is needed so that
	// the OIDC redirect back from the IdP carries the cookie.
	SameSite http.SameSite
	// LoginPath is where RequireLoA sends anonymous visitors ("/auth/login").
	LoginPath string
	// Now is the clock (time.Now).
	Now func() time.Time
	// Logger receives store failures (slog.Default()).
	Logger *slog.Logger
}

// Toucher is an optional interface of an identity.Store: it moves the
// expiry of a session forward (sliding idle timeout).
type Toucher interface {
	TouchSession(ctx context.Context, id string, expiresAt time.Time) error
}

// Manager starts, loads and ends sessions.
type Manager struct {
	store identity.Store
	opts  Options
}

// NewManager returns a Manager over store.
func NewManager(store identity.Store, opts Options) *Manager {
	if opts.CookieName == "" {
		opts.CookieName = "rathaus_session"
	}
	if opts.TTL <= 0 {
		opts.TTL = 8 * time.Hour
	}
	if opts.Absolute <= 0 {
		opts.Absolute = 12 * time.Hour
	}
	if opts.Absolute < opts.TTL {
		opts.TTL = opts.Absolute
	}
	if opts.SameSite == 0 {
		opts.SameSite = http.SameSiteLaxMode
	}
	if opts.LoginPath == "" {
		opts.LoginPath = "/auth/login"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Manager{store: store, opts: opts}
}

// CookieName returns the name of the session cookie.
func (m *Manager) CookieName() string { return m.opts.CookieName }

// NewID returns a fresh session id: 32 bytes from crypto/rand, base64url
// without padding (43 characters).
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (crypto/rand, Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validID reports whether id has the shape NewID makes, so that junk cookies
// never reach the store.
func validID(id string) bool {
	if len(id) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 32
}

// Start ends any session the request carries and begins a new one for user
// with the given level of assurance and IdP issuer; it sets the cookie and
// returns the session. Call it only after a successful authentication.
func (m *Manager) Start(w http.ResponseWriter, r *http.Request, user *identity.User, loa identity.LoA, idp string) (*identity.Session, error) {
	if user == nil || user.ID == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "session: user without id")
	}
	if c, err := r.Cookie(m.opts.CookieName); err == nil && validID(c.Value) {
		if err := m.store.DeleteSession(r.Context(), c.Value); err != nil {
			return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Anmeldung derzeit nicht möglich.")
		}
	}
	now := m.opts.Now().UTC().Truncate(time.Second)
	s := identity.Session{
		ID:        NewID(),
		UserID:    user.ID,
		LoA:       loa,
		IdP:       idp,
		AuthTime:  now,
		ExpiresAt: now.Add(m.opts.TTL),
		Lang:      "de",
	}
	if err := m.store.CreateSession(r.Context(), s); err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Anmeldung derzeit nicht möglich.")
	}
	m.setCookie(w, s.ID, s.ExpiresAt)
	return &s, nil
}

// End deletes the session the request carries (if any) and clears the
// cookie. Ending without a session is not an error.
func (m *Manager) End(w http.ResponseWriter, r *http.Request) error {
	m.clearCookie(w)
	c, err := r.Cookie(m.opts.CookieName)
	if err != nil || !validID(c.Value) {
		return nil
	}
	if err := m.store.DeleteSession(r.Context(), c.Value); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Abmeldung derzeit nicht möglich.")
	}
	return nil
}

func (m *Manager) setCookie(w http.ResponseWriter, id string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     m.opts.CookieName,
		Value:    id,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(expires.Sub(m.opts.Now()).Seconds()) + 1,
		HttpOnly: true,
		Secure:   m.opts.Secure,
		SameSite: m.opts.SameSite,
	})
}

func (m *Manager) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     m.opts.CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   m.opts.Secure,
		SameSite: m.opts.SameSite,
	})
}

// Load returns the Principal of the request's session cookie, or nil when
// there is none or it is unknown, expired or its user is gone. A store
// failure is returned as an error (fail closed: the caller must not treat
// the request as anonymous and continue with partial data).
func (m *Manager) Load(ctx context.Context, r *http.Request) (*Principal, error) {
	c, err := r.Cookie(m.opts.CookieName)
	if err != nil || !validID(c.Value) {
		return nil, nil
	}
	s, err := m.store.Session(ctx, c.Value)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := m.opts.Now()
	if !now.Before(s.ExpiresAt) || !now.Before(s.AuthTime.Add(m.opts.Absolute)) {
		return nil, nil
	}
	u, err := m.store.User(ctx, s.UserID)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var grants []identity.Grant
	if u.Kind == identity.KindStaff {
		if grants, err = m.store.Grants(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return &Principal{User: u, Session: s, Grants: grants}, nil
}

// Middleware loads the session of every request into its context (see
// FromContext). Requests without a valid session pass through anonymously
// and a stale cookie is cleared; a store failure answers 503.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := m.Load(r.Context(), r)
		if err != nil {
			m.opts.Logger.ErrorContext(r.Context(), "session: load", "err", err)
			http.Error(w, "Dienst vorübergehend nicht verfügbar. / Service temporarily unavailable.", http.StatusServiceUnavailable)
			return
		}
		if p == nil {
			if c, err := r.Cookie(m.opts.CookieName); err == nil && c.Value != "" {
				m.clearCookie(w)
			}
			next.ServeHTTP(w, r)
			return
		}
		m.touch(w, r, p.Session)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
	})
}

// touch slides the idle expiry forward once a tenth of the TTL has passed,
// when the store supports it.
func (m *Manager) touch(w http.ResponseWriter, r *http.Request, s *identity.Session) {
	t, ok := m.store.(Toucher)
	if !ok {
		return
	}
	now := m.opts.Now().UTC().Truncate(time.Second)
	exp := now.Add(m.opts.TTL)
	if abs := s.AuthTime.Add(m.opts.Absolute); exp.After(abs) {
		exp = abs
	}
	if exp.Sub(s.ExpiresAt) < m.opts.TTL/10 {
		return
	}
	if err := t.TouchSession(r.Context(), s.ID, exp); err != nil {
		m.opts.Logger.WarnContext(r.Context(), "session: touch", "err", err)
		return
	}
	s.ExpiresAt = exp
	m.setCookie(w, s.ID, exp)
}

// RequireLoA returns middleware that lets a request through only if it has
// a session with at least min. Anonymous GET and HEAD requests are sent to
// the login page with next= the current path and, above low, loa=min so
// that the IdP asks for strong enough means; a GET with a weaker session is
// sent there too (step-up: a higher LoA always needs a fresh login, it is
// never upgraded in place). Other requests get 401 (anonymous) or 403 (too
// weak). Use it after Middleware.
func (m *Manager) RequireLoA(min identity.LoA) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := FromContext(r.Context())
			get := r.Method == http.MethodGet || r.Method == http.MethodHead
			switch {
			case p.HasLoA(min):
				next.ServeHTTP(w, r)
			case get:
				http.Redirect(w, r, m.LoginURL(p, min, r.URL.RequestURI()), http.StatusSeeOther)
			case p == nil:
				http.Error(w, "Bitte melden Sie sich an. / Please log in.", http.StatusUnauthorized)
			default:
				http.Error(w, "Für diese Aktion ist ein höheres Vertrauensniveau nötig ("+min.String()+"). / This action needs a higher level of assurance.", http.StatusForbidden)
			}
		})
	}
}

// LoginURL returns the login path that brings the visitor back to next
// with at least min: "/auth/login?next=…" plus as=staff for staff and
// loa=… above low.
func (m *Manager) LoginURL(p *Principal, min identity.LoA, next string) string {
	q := url.Values{"next": {next}}
	if p.IsStaff() {
		q.Set("as", string(identity.KindStaff))
	}
	if min > identity.LoALow {
		q.Set("loa", min.String())
	}
	return m.opts.LoginPath + "?" + q.Encode()
}

// Principal is who a request acts for: the user, the session and (for
// staff) the grants.
type Principal struct {
	User    *identity.User
	Session *identity.Session
	Grants  []identity.Grant
}

// Can reports whether the principal is staff with role on ars (or an
// ancestor of ars). A nil principal can do nothing.
func (p *Principal) Can(role identity.Role, ars string) bool {
	if p == nil || p.User == nil || p.User.Kind != identity.KindStaff {
		return false
	}
	return identity.Allowed(p.Grants, role, ars)
}

// HasLoA reports whether the session's level of assurance is at least min.
func (p *Principal) HasLoA(min identity.LoA) bool {
	return p != nil && p.Session != nil && p.Session.LoA >= min
}

// IsStaff reports whether the principal is a staff member.
func (p *Principal) IsStaff() bool {
	return p != nil && p.User != nil && p.User.Kind == identity.KindStaff
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the Principal of ctx, or nil for an anonymous request.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
