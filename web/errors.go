// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"log/slog"
	"net/http"

	"rathaus"
)

var (
	errUnauthorized = rathaus.Errorf(rathaus.EUNAUTHORIZED, "Bitte melden Sie sich an.")
	errForbidden    = rathaus.Errorf(rathaus.EFORBIDDEN, "Sie haben keinen Zugriff auf diese Seite.")
	errLoA          = rathaus.Errorf(rathaus.EFORBIDDEN, "Für diese Seite ist eine Anmeldung mit höherem Vertrauensniveau nötig.")
	errNotFound     = rathaus.Errorf(rathaus.ENOTFOUND, "Die Seite wurde nicht gefunden.")
)

// StatusFor maps a rathaus error code to its HTTP status (rathaus.HTTPStatus).
func StatusFor(code string) int { return rathaus.HTTPStatus(code) }

// errors adapts a HandlerFunc: a returned error becomes the error page.
func (s *Server) errors(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail renders err: status from its code, the safe message to the user and
// the detail to the log. Internal errors show a generic text only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := rathaus.ErrorCode(err)
	status := StatusFor(code)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger(r).Log(r.Context(), level, "request failed", "code", code, "status", status, "error", err.Error())
	msg := rathaus.ErrorMessage(err)
	if code == rathaus.EINTERNAL {
		msg = s.tr(r, "error.internal")
	}
	s.renderError(w, r, status, msg, err)
}

// renderError writes the friendly error page.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string, _ error) {
	titleKey := "error.title.generic"
	switch status {
	case http.StatusNotFound:
		titleKey = "error.title.notfound"
	case http.StatusUnauthorized:
		titleKey = "error.title.unauthorized"
	case http.StatusForbidden:
		titleKey = "error.title.forbidden"
	case http.StatusTooManyRequests:
		titleKey = "error.title.ratelimit"
	case http.StatusServiceUnavailable:
		titleKey = "error.title.unavailable"
	case http.StatusMethodNotAllowed:
		titleKey = "error.title.method"
	}
	s.render(w, r, status, "error", errorPage{Status: status, TitleKey: titleKey, Message: msg, RequestID: RequestID(r.Context())})
}

// errorPage is the data of the error template.
type errorPage struct {
	Status    int
	TitleKey  string
	Message   string
	RequestID string
}

// ErrorPage renders the portal's error page with status and a safe
// message. Mounted handlers (the OIDC relying party) use it so that their
// errors look like the rest of the portal.
func (s *Server) ErrorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.renderError(w, r, status, message, nil)
}
