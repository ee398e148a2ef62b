// SPDX-License-Identifier: EUPL-1.2

// Package submission is the durable intake of applications: drafts (save and
// resume, for logged-in citizens by owner, for anonymous ones by a one-time
// resume token), and the submission itself — validated against the form
// model, sealed with the vault, stored with its audit entry and its follow-up
// jobs (process.start, delivery.send) in one transaction, idempotent per
// (tenant, idempotency key), durable before it is acknowledged, with a
// human-friendly reference number.
//
// The package is storage-agnostic: it describes what must commit together
// (an Intake) and a Store commits it (sqlstore.SubmissionStore on SQLite and
// PostgreSQL). By default the Service batches concurrent Submit calls into
// one transaction (group commit: one fsync for many submissions, and on
// SQLite the single writer is never contended) and acknowledges each caller
// only after that transaction committed.
//
// Typical use (web handlers):
//
//	svc := submission.New(store, vault, submission.Options{})
//	defer svc.Close()
//	d, token, err := svc.SaveDraft(ctx, submission.DraftInput{…})
//	rc, err := svc.Submit(ctx, submission.SubmitRequest{…})
//	// rc.Application.Reference is shown on the receipt page.
package submission

import (
	"context"
	"time"

	"rathaus/audit"
	"rathaus/form"
	"rathaus/identity"
)

// Status of an application.
const (
	// StatusSubmitted: received and stored; the jobs process.start and
	// delivery.send have been enqueued with it.
	StatusSubmitted = "submitted"
)

// Job kinds enqueued with every application (their handlers are registered
// by the process and delivery packages).
const (
	JobProcessStart = "process.start"
	JobDeliverySend = "delivery.send"
)

// JobArgs are the arguments of the jobs enqueued with an application.
type JobArgs struct {
	Tenant        string `json:"tenant"`
	ApplicationID string `json:"application_id"`
	ServiceKey    string `json:"service_key"`
}

// Draft is a form in progress. Answers are sealed at rest; a Store sees only
// SealedAnswers.
type Draft struct {
	Tenant      string
	ID          string // UUIDv7
	ServiceKey  string
	FormID      string
	FormVersion string
	// OwnerUserID is the logged-in citizen who owns the draft; "" for an
	// anonymous draft, which is resumed only with its one-time token.
	OwnerUserID string
	// ResumeTokenHash is the hex SHA-256 of the current resume token
	// (anonymous drafts only). The token itself is never stored.
	ResumeTokenHash string
	Answers         form.Answers `json:"-"`
	SealedAnswers   []byte       `json:"-"`
	Step            string       // id of the step the citizen is on
	UpdatedAt       time.Time
	ExpiresAt       time.Time
}

// Attachment is the metadata of an uploaded file of an application; its
// content is sealed and stored apart (Store.AttachmentContent).
type Attachment struct {
	ID        string `json:"id"`
	FieldPath string `json:"field_path"` // path of the file field in the answers ("" for free uploads)
	Filename  string `json:"filename"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"` // hex, of the plain content
}

// Application is a submitted application. Answers are sealed at rest; use
// Service.OpenAnswers to read them.
type Application struct {
	Tenant          string
	ID              string // UUIDv7
	Reference       string // e.g. "DA-2026-7K3M-9QXT", unique per tenant
	ServiceKey      string
	FormID          string
	FormVersion     string // the version the citizen filled in
	ApplicantUserID string // "" for anonymous applications
	LoA             identity.LoA
	IdP             string
	SealedAnswers   []byte `json:"-"`
	Attachments     []Attachment
	Status          string
	SubmittedAt     time.Time
	IdempotencyKey  string
}

// Job is a follow-up job committed with an application.
type Job struct {
	Kind string
	Args any // marshalled to JSON by the store's enqueuer
}

// Intake is everything one submission commits together: the application,
// the sealed contents of its attachments (aligned with App.Attachments), its
// audit entry and its jobs.
type Intake struct {
	App   *Application
	Blobs [][]byte
	Audit audit.Entry
	Jobs  []Job
	// Existing is set by the Store when an application with the same
	// (tenant, idempotency key) already exists; nothing else of this intake
	// was stored then.
	Existing *Application
}

// Store keeps drafts and applications. Every method takes the tenant
// explicitly; a record of another tenant is never returned (ENOTFOUND).
// Stores do not authorise: the Service checks ownership and grants before
// it returns data to a caller.
type Store interface {
	// CreateApplications commits the whole batch in ONE transaction: per
	// intake the application, its blobs, its audit entry and its jobs. An
	// intake whose (tenant, idempotency key) already exists (committed
	// earlier, or earlier in the same batch) stores nothing and gets
	// Existing set. When the reference is taken by another application the
	// store may draw a new one itself (RedrawReference, updating App and
	// the audit entry's "reference"); it returns ECONFLICT when the id or
	// reference is taken and it did not (the caller draws new ones and
	// retries). On any error nothing of the batch is stored.
	CreateApplications(ctx context.Context, batch []*Intake) error
	// Application returns an application. Returns ENOTFOUND.
	Application(ctx context.Context, tenant, id string) (*Application, error)
	// ApplicationByReference returns an application by its reference
	// number (normalised). Returns ENOTFOUND.
	ApplicationByReference(ctx context.Context, tenant, reference string) (*Application, error)
	// ApplicationsOf lists the applications of one applicant in a tenant,
	// newest first, at most limit (0: 100). userID "" gives none.
	ApplicationsOf(ctx context.Context, tenant, userID string, limit int) ([]Application, error)
	// AttachmentContent returns the sealed content of an attachment.
	// Returns ENOTFOUND.
	AttachmentContent(ctx context.Context, tenant, applicationID, attachmentID string) ([]byte, error)

	// PutDraft inserts or replaces a draft (by tenant and id).
	PutDraft(ctx context.Context, d *Draft) error
	// Draft returns an unexpired draft. Returns ENOTFOUND.
	Draft(ctx context.Context, tenant, id string) (*Draft, error)
	// DraftByResumeHash returns the unexpired draft whose current resume
	// token hashes to hash. Returns ENOTFOUND.
	DraftByResumeHash(ctx context.Context, tenant, hash string) (*Draft, error)
	// SwapResumeHash replaces the resume token hash of a draft only if it
	// is still oldHash (compare and swap, so a token is used at most once
	// even by concurrent requests). Returns ENOTFOUND otherwise.
	SwapResumeHash(ctx context.Context, tenant, id, oldHash, newHash string) error
	// DeleteDraft removes a draft; a missing draft is not an error.
	DeleteDraft(ctx context.Context, tenant, id string) error
}

// GroupCommitter is implemented by stores that say whether the Service
// should batch concurrent submissions into one transaction by default
// (GroupAuto). The SQL store says yes on both dialects: SQLite has a single
// writer, and on PostgreSQL one commit per batch measured 2× faster on two
// cores (bench/RESULTS.md).
type GroupCommitter interface {
	PreferGroupCommit() bool
}

// Sealer encrypts and decrypts tenant data (implemented by *vault.Vault).
type Sealer interface {
	Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, sealed, aad []byte) ([]byte, error)
}
