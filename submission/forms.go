// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"context"
	"time"

	"rathaus/form"
)

// FormRef names a stored form version and the tenant it was imported for.
type FormRef struct {
	Tenant  string // ARS of the subtree root the form (or binding) belongs to
	ID      string
	Version string
}

// StagedUpload is a file uploaded into a draft, kept sealed until the
// application is submitted (then it becomes an Attachment).
type StagedUpload struct {
	Tenant    string
	DraftID   string
	ID        string
	FieldPath string // path of the file field in the answers, e.g. "G1[0].F2[1]"
	Filename  string
	MediaType string
	Size      int64
	SHA256    string // hex, of the plain content
	Sealed    []byte // vault-sealed content, aad = "upload/" + DraftID + "/" + ID
	CreatedAt time.Time
}

// UploadAAD is the associated data a staged upload's content is sealed with.
func UploadAAD(draftID, id string) []byte { return []byte("upload/" + draftID + "/" + id) }

// FormStore keeps the form definitions of the online applications, their
// binding to services per tenant subtree, the staged uploads of drafts and
// the receipt tokens of anonymous applicants (implemented by
// sqlstore.FormStore). Every method takes the tenant explicitly.
type FormStore interface {
	// PutForm stores a form version for a tenant subtree (replacing the
	// same tenant, id and version).
	PutForm(ctx context.Context, tenant string, m *form.Model) error
	// FormFor returns the form id/version as visible from ars: the
	// definition of the nearest tenant up the lineage. ENOTFOUND if none.
	FormFor(ctx context.Context, ars, id, version string) (*form.Model, error)
	// Bind attaches a form version to a service for the subtree of tenant.
	Bind(ctx context.Context, tenant, serviceKey, formID, version string) error
	// Binding returns the form attached to a service as seen from ars (the
	// nearest binding up the lineage wins). ENOTFOUND if none.
	Binding(ctx context.Context, ars, serviceKey string) (*FormRef, error)

	// PutUpload stores a staged upload of a draft.
	PutUpload(ctx context.Context, u *StagedUpload) error
	// Uploads returns the staged uploads of a draft with their sealed content.
	Uploads(ctx context.Context, tenant, draftID string) ([]StagedUpload, error)
	// DeleteUpload removes one staged upload; missing is not an error.
	DeleteUpload(ctx context.Context, tenant, draftID, id string) error
	// DeleteUploads removes all staged uploads of a draft.
	DeleteUploads(ctx context.Context, tenant, draftID string) error

	// DraftsOf lists the unexpired drafts of a logged-in citizen, newest
	// first, without their answers.
	DraftsOf(ctx context.Context, userID string) ([]Draft, error)

	// PutReceipt records the idempotency key of a submitted application
	// and (anonymous applicants) their vault-sealed receipt token; the
	// first call for an application (or key) wins, later ones change
	// nothing, so concurrent double submits agree on one token.
	PutReceipt(ctx context.Context, tenant, applicationID, idempotencyKey, sealedToken string) error
	// ReceiptByKey returns the application id submitted with an
	// idempotency key. ENOTFOUND if none.
	ReceiptByKey(ctx context.Context, tenant, idempotencyKey string) (string, error)
	// ReceiptToken returns the sealed receipt token of an application
	// ("" for logged-in applicants). ENOTFOUND if none.
	ReceiptToken(ctx context.Context, tenant, applicationID string) (string, error)
}
