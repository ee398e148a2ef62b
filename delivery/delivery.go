// SPDX-License-Identifier: EUPL-1.2

// Package delivery hands submitted applications to the specialist software
// (Fachverfahren) of the responsible office: over FIT-Connect, as a signed
// webhook, as an e-mail to the office or as an export (JSON and FIM-shaped
// XML) into a directory.
//
// Routes are configured per tenant and service (LeiKa key or "*"); the
// nearest tenant of the application's lineage that has routes for the
// service wins (EfA: a Land may configure the route for all its
// municipalities). Every application gets one delivery per route.
//
// Reliability: submission.Submit enqueues the job delivery.send in its own
// transaction (outbox). Its handler fans out to one delivery row and one
// delivery.send job per route, idempotently. A send job claims its
// delivery with a lease, tries the channel once and records the outcome,
// the delivery log entry and (for final outcomes) the audit entry in one
// transaction. Failures are retried with exponential backoff and jitter up
// to MaxAttempts, then the delivery is dead-lettered; operators re-drive it.
// A crash mid-delivery leaves an expired lease, and the periodic sweep
// (delivery.sweep) picks the delivery up again. Each channel carries the
// delivery's idempotency key (application × route), so the receiver sees
// one delivery even when the transport repeats: webhook header
// Idempotency-Key, FIT-Connect submission reuse (the announced submission is
// persisted before it is completed), deterministic export file names,
// e-mail Message-ID.
package delivery

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"time"

	"rathaus"
	"rathaus/form"
	"rathaus/sqlstore"
)

//go:embed migrations
var migrations embed.FS

func init() {
	sqlite, _ := fs.Sub(migrations, "migrations/sqlite")
	postgres, _ := fs.Sub(migrations, "migrations/postgres")
	sqlstore.RegisterMigrations(sqlstore.Migrations{Name: "delivery", SQLite: sqlite, Postgres: postgres})
}

// Channels.
const (
	ChannelFITConnect = "fitconnect"
	ChannelWebhook    = "webhook"
	ChannelEmail      = "email"
	ChannelExport     = "export"
)

// Delivery states.
const (
	// StatusPending: waiting for its (next) attempt.
	StatusPending = "pending"
	// StatusDelivered: the receiver took it (for FIT-Connect: submitted,
	// decision pending).
	StatusDelivered = "delivered"
	// StatusAccepted: the FIT-Connect destination accepted it.
	StatusAccepted = "accepted"
	// StatusRejected: the FIT-Connect destination rejected it; the reason
	// is in LastError; an operator may resend it.
	StatusRejected = "rejected"
	// StatusDead: attempts exhausted or a permanent error; an operator may
	// re-drive it.
	StatusDead = "dead"
)

// Job kinds.
const (
	// JobSend delivers an application: without route_id it fans out to
	// one delivery per route, with route_id it makes one attempt.
	JobSend = "delivery.send"
	// JobSweep re-enqueues deliveries whose attempt was lost (crash) and
	// follows FIT-Connect submissions until they are decided.
	JobSweep = "delivery.sweep"
)

// AnyService is the service key of a route that takes every service.
const AnyService = "*"

// SendArgs are the arguments of JobSend; the first three are those of
// submission.JobArgs.
type SendArgs struct {
	Tenant        string `json:"tenant"`
	ApplicationID string `json:"application_id"`
	ServiceKey    string `json:"service_key"`
	RouteID       string `json:"route_id,omitempty"`
}

// Route is where the applications of a service of a tenant (subtree) go.
type Route struct {
	Tenant     string // ARS where the route is configured; it applies to the subtree
	ID         string
	ServiceKey string // LeiKa key or AnyService
	Channel    string // ChannelFITConnect, ChannelWebhook, ChannelEmail, ChannelExport
	Name       string
	// Config is the channel's JSON configuration (WebhookConfig,
	// EmailConfig, ExportConfig, FITConnectConfig). It is sealed at rest
	// (it holds secrets).
	Config    json.RawMessage
	Enabled   bool
	CreatedAt time.Time
}

// Delivery is one application × route.
type Delivery struct {
	Tenant        string // the application's tenant
	ApplicationID string
	RouteID       string
	RouteTenant   string
	Channel       string
	ServiceKey    string
	Status        string
	Attempts      int
	NextAt        time.Time
	LeaseUntil    time.Time
	LastError     string
	RemoteID      string          // e.g. the FIT-Connect submission id
	State         json.RawMessage // channel state between attempts (ciphertext only)
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// IdempotencyKey is the same for every attempt of the delivery and
// different for every other application or route.
func (d *Delivery) IdempotencyKey() string { return IdempotencyKey(d.ApplicationID, d.RouteID) }

// IdempotencyKey returns the idempotency key of application × route.
func IdempotencyKey(applicationID, routeID string) string { return applicationID + "." + routeID }

// LogEntry is one line of the delivery log, part of the case history.
type LogEntry struct {
	Tenant        string
	ApplicationID string
	RouteID       string
	Seq           int
	At            time.Time
	Attempt       int
	Status        string // queued, delivered, accepted, rejected, retry, dead, redrive
	Message       string
}

// Application is what a channel delivers: the application with its answers
// and attachments opened.
type Application struct {
	Tenant      string         `json:"tenant"`
	ID          string         `json:"id"`
	Reference   string         `json:"reference"`
	ServiceKey  string         `json:"serviceKey"`
	ServiceName string         `json:"serviceName,omitempty"`
	FormID      string         `json:"formId"`
	FormVersion string         `json:"formVersion"`
	SubmittedAt time.Time      `json:"submittedAt"`
	LoA         int            `json:"loa"`
	IdP         string         `json:"idp,omitempty"`
	Answers     map[string]any `json:"answers"`
	Attachments []Attachment   `json:"attachments"`
	// ReplyEmail is the applicant's e-mail address from the answers (a
	// field "email"), the FIT-Connect reply channel; may be empty.
	ReplyEmail string `json:"replyEmail,omitempty"`
	// Form is the model the citizen filled in (XML export, JSON Schema);
	// may be nil.
	Form *form.Model `json:"-"`
	// Receipt is the PDF receipt, sent as the FIT-Connect "form"
	// attachment; may be nil.
	Receipt []byte `json:"-"`
}

// Attachment is an uploaded file of an application.
type Attachment struct {
	ID        string `json:"id"`
	FieldPath string `json:"fieldPath,omitempty"`
	Filename  string `json:"filename"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Content   []byte `json:"content,omitempty"` // base64 in JSON
}

// Source loads applications for delivery (SubmissionSource over the
// intake).
type Source interface {
	Load(ctx context.Context, tenant, applicationID string) (*Application, error)
}

// Sealer encrypts route configurations at rest (*vault.Vault).
type Sealer interface {
	Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, sealed, aad []byte) ([]byte, error)
}

// Attempt is one try of a channel.
type Attempt struct {
	Delivery *Delivery
	Route    *Route
	App      *Application
	// SaveState persists channel state before an irreversible step, so a
	// later attempt (after a crash) resumes instead of repeating it.
	SaveState func(ctx context.Context, state json.RawMessage) error
}

// Result is the outcome of a successful attempt.
type Result struct {
	Status   string // StatusDelivered (default), StatusAccepted or StatusRejected
	RemoteID string
	Message  string
	State    json.RawMessage // replaces the stored state when non-nil
}

// Channel delivers one application over one route.
type Channel interface {
	Deliver(ctx context.Context, a *Attempt) (*Result, error)
}

// Follower is a channel whose receiver decides later (FIT-Connect); the
// sweep asks it for the decision of delivered deliveries. It returns nil
// while undecided.
type Follower interface {
	Follow(ctx context.Context, a *Attempt) (*Result, error)
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying: the delivery is dead-lettered
// at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// safeMessage is the message of err fit for the delivery log.
func safeMessage(err error) string {
	if err == nil {
		return ""
	}
	msg := rathaus.ErrorMessage(err)
	if msg == "" || msg == "internal error" || rathaus.ErrorCode(err) == rathaus.EINTERNAL {
		msg = err.Error()
	}
	return logText(msg)
}

// logText makes a text from a channel or a remote (error, rejection
// reason) fit for the delivery log: valid UTF-8 (PostgreSQL refuses
// anything else, and the log write would fail the whole step) and at most
// 1000 bytes, cut at a rune boundary.
func logText(msg string) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) > 1000 {
		msg = strings.ToValidUTF8(msg[:1000], "")
	}
	return msg
}
