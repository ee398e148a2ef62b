// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"rathaus"
)

// APIProblemPrefix starts the type URI of Submission API problems.
const APIProblemPrefix = "https://schema.fitko.de/fit-connect/submission-api/problems/"

// APIError is an error answer of the Submission API (or the token
// endpoint), decoded from application/problem+json.
type APIError struct {
	Status  int
	Problem Problem
}

// Error returns the status, title and detail in one line.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("HTTP %d", e.Status)
	if e.Problem.Title != "" {
		msg += ": " + e.Problem.Title
	}
	if e.Problem.Detail != "" {
		msg += ": " + e.Problem.Detail
	}
	return msg
}

// statusError carries an HTTP status that the rathaus codes do not express
// (413, 415, 422) with a safe message.
type statusError struct {
	status int
	name   string
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func unprocessable(name, format string, args ...any) error {
	return &statusError{status: http.StatusUnprocessableEntity, name: name, msg: fmt.Sprintf(format, args...)}
}

// problemNames are the problem type names of the error codes.
var problemNames = map[string]string{rathaus.EINVALID: "invalid-request", rathaus.ENOTFOUND: "not-found", rathaus.ECONFLICT: "conflict",
	rathaus.EUNAUTHORIZED: "unauthorized", rathaus.EFORBIDDEN: "forbidden", rathaus.EUNAVAILABLE: "unavailable"}

func statusFor(code string) (int, string) {
	name, ok := problemNames[code]
	if !ok {
		return http.StatusInternalServerError, "internal-error"
	}
	return rathaus.HTTPStatus(code), name
}

func codeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return rathaus.EUNAUTHORIZED
	case status == http.StatusForbidden:
		return rathaus.EFORBIDDEN
	case status == http.StatusNotFound:
		return rathaus.ENOTFOUND
	case status == http.StatusConflict:
		return rathaus.ECONFLICT
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		return rathaus.EUNAVAILABLE
	case status >= 400 && status < 500:
		return rathaus.EINVALID
	}
	return rathaus.EINTERNAL
}

// writeProblem answers err as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := Problem{Instance: r.URL.Path}
	if se, ok := errors.AsType[*statusError](err); ok {
		p.Status, p.Type, p.Title = se.status, APIProblemPrefix+se.name, se.msg
	} else {
		status, name := statusFor(rathaus.ErrorCode(err))
		p.Status, p.Type, p.Title = status, APIProblemPrefix+name, rathaus.ErrorMessage(err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fit-connect"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// apiError turns a non-2xx answer into a *rathaus.Error wrapping *APIError.
func apiError(what string, res *http.Response, body []byte) error {
	ae := &APIError{Status: res.StatusCode}
	if json.Unmarshal(body, &ae.Problem) != nil || ae.Problem.Title == "" {
		var oauth struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &oauth) == nil && oauth.Error != "" {
			ae.Problem.Title = oauth.Error
			ae.Problem.Detail = oauth.Description
		}
	}
	return &rathaus.Error{Code: codeFor(res.StatusCode), Message: what + ": " + ae.Error(), Err: ae}
}
