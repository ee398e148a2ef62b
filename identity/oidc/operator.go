// SPDX-License-Identifier: EUPL-1.2

package oidc

import (
	"embed"
	"html/template"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/identity"
	"rathaus/identity/password"
	"rathaus/tenant"
)

// The local operator account: a name and an Argon2id hash in a file (see
// `rathaus operator set-password`), for running an instance before or
// without a staff IdP. A successful login is a staff session with the
// operator role on the whole tree, at LoA low (one factor).
//
//	GET  /auth/operator[?next=/path]   the form
//	POST /auth/operator[?next=/path]   name, password

// OperatorIssuer is the Issuer of users who logged in with the local
// operator account.
const OperatorIssuer = "local"

// Failed-login limits of the operator login (BSI APP.3.1.A7 / ASVS V2.2):
// after maxFailures failures within failureWindow for the same account or
// the same client address, further attempts get 429 until the window has
// passed.
const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

//go:embed assets/operator.html
var operatorFS embed.FS

var operatorPage = template.Must(template.ParseFS(operatorFS, "assets/operator.html"))

// limiter counts recent failures per key (in this process).
type limiter struct {
	mu   sync.Mutex
	now  func() time.Time
	fail map[string][]time.Time
}

func (l *limiter) recent(key string) []time.Time {
	cut := l.now().Add(-failureWindow)
	ts := l.fail[key]
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fail, key)
	} else {
		l.fail[key] = ts
	}
	return ts
}

// blocked reports whether any key has reached the limit.
func (l *limiter) blocked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k)) >= maxFailures {
			return true
		}
	}
	return false
}

// maxTracked is how many keys the limiter holds before it sweeps out the
// ones without recent failures (otherwise guessed names and rotating
// addresses would grow the map forever).
const maxTracked = 10000

func (l *limiter) failed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fail) >= maxTracked {
		for k := range l.fail {
			l.recent(k) // drops keys whose failures are all older than the window
		}
	}
	for _, k := range keys {
		l.fail[k] = append(l.recent(k), l.now())
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fail, key)
}

// hashSlots bounds concurrent Argon2id verifications (64 MiB each).
var hashSlots = make(chan struct{}, 2)

type operatorData struct {
	Name, Error, Next string
}

func (h *Handler) renderOperator(w http.ResponseWriter, status int, d operatorData) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	if hd.Get("Content-Security-Policy") == "" {
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	}
	w.WriteHeader(status)
	operatorPage.Execute(w, d)
}

func (h *Handler) operatorForm(w http.ResponseWriter, r *http.Request) {
	next, ok := SafeNext(r.URL.Query().Get("next"))
	if !ok {
		next = "/"
	}
	if next == "/" {
		next = ""
	}
	h.renderOperator(w, http.StatusOK, operatorData{Next: next})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) operatorLogin(w http.ResponseWriter, r *http.Request) {
	next, ok := SafeNext(r.URL.Query().Get("next"))
	if !ok {
		next = "/"
	}
	formNext := next
	if formNext == "/" {
		formNext = ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		h.renderOperator(w, http.StatusBadRequest, operatorData{Next: formNext, Error: "Ungültige Eingabe. / Invalid input."})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	pw := r.PostForm.Get("password")
	if len(name) > 64 {
		name = name[:64]
	}
	nameKey, ipKey := "name:"+name, "ip:"+clientIP(r)
	if h.limits.blocked(nameKey, ipKey) {
		w.Header().Set("Retry-After", "900")
		h.renderOperator(w, http.StatusTooManyRequests, operatorData{Name: name, Next: formNext, Error: "Zu viele Fehlversuche. Bitte warten Sie 15 Minuten. / Too many failed attempts; please wait 15 minutes."})
		return
	}
	wantName, phc, err := password.ReadFile(h.cfg.OperatorFile)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		h.renderOperator(w, http.StatusNotFound, operatorData{Next: formNext, Error: "Es ist kein Betriebskonto eingerichtet (rathaus operator set-password). / No operator account is set up."})
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Anmeldung derzeit nicht möglich. / Login currently not possible."))
		return
	}
	hashSlots <- struct{}{}
	okPW, verr := password.Verify(pw, phc)
	<-hashSlots
	if verr != nil || !okPW || name != wantName {
		h.limits.failed(nameKey, ipKey)
		if h.audit != nil {
			if _, err := h.audit.Append(r.Context(), audit.Entry{Actor: "anonymous", Action: "login.failed", Object: "operator/" + sanitize(name), Details: map[string]string{"idp": OperatorIssuer}}); err != nil {
				h.cfg.Logger.ErrorContext(r.Context(), "oidc: audit failed login", "err", err)
			}
		}
		h.renderOperator(w, http.StatusUnauthorized, operatorData{Name: name, Next: formNext, Error: "Kontoname oder Passwort ist falsch. / Account or password is wrong."})
		return
	}
	h.limits.reset(nameKey)

	u, err := h.storeLogin(r.Context(), identity.User{Kind: identity.KindStaff, Issuer: OperatorIssuer, Subject: name, Name: "Betrieb (" + name + ")"},
		[]identity.Grant{{Tenant: tenant.Bund, Role: identity.RoleOperator}},
		map[string]string{"kind": string(identity.KindStaff), "loa": identity.LoALow.String(), "idp": OperatorIssuer, "roles": "operator@" + tenant.Bund})
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	if _, err := h.sessions.Start(w, r, u, identity.LoALow, OperatorIssuer); err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// sanitize keeps account names in audit entries to the allowed alphabet.
func sanitize(name string) string {
	if password.ValidName(name) {
		return name
	}
	return "(invalid)"
}
