// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"bytes"
	"context"
	"net/mail"
	"sort"
	"strings"

	"rathaus/form"
	"rathaus/receipt"
	"rathaus/submission"
)

// SubmissionSource loads applications from the intake and opens their
// answers and attachments for the receiver (no audit entry: the delivery
// log and the audit entry of the outcome record the disclosure).
type SubmissionSource struct {
	Intake *submission.Service
	// Model returns the form model of an application (XML structure,
	// receipt); nil or a nil model means none.
	Model func(ctx context.Context, app *submission.Application) (*form.Model, error)
	// Names returns the tenant's and the service's display names for the
	// receipt and the metadata; may be nil.
	Names func(ctx context.Context, app *submission.Application) (tenantName, serviceName string)
	// NoReceipt leaves out the PDF receipt (FIT-Connect "form"
	// attachment).
	NoReceipt bool
}

// Load implements Source.
func (s *SubmissionSource) Load(ctx context.Context, tenant, id string) (*Application, error) {
	app, err := s.Intake.Application(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	answers, err := s.Intake.OpenAnswers(ctx, app)
	if err != nil {
		return nil, err
	}
	out := &Application{Tenant: app.Tenant, ID: app.ID, Reference: app.Reference, ServiceKey: app.ServiceKey,
		FormID: app.FormID, FormVersion: app.FormVersion, SubmittedAt: app.SubmittedAt, LoA: int(app.LoA), IdP: app.IdP,
		Answers: answers, Attachments: []Attachment{}}
	for _, at := range app.Attachments {
		content, err := s.Intake.AttachmentContent(ctx, app, at.ID)
		if err != nil {
			return nil, err
		}
		out.Attachments = append(out.Attachments, Attachment{ID: at.ID, FieldPath: at.FieldPath, Filename: at.Filename,
			MediaType: at.MediaType, Size: at.Size, SHA256: at.SHA256, Content: content})
	}
	out.ReplyEmail = findEmail(map[string]any(answers), 0)
	if s.Model != nil {
		if out.Form, err = s.Model(ctx, app); err != nil {
			return nil, err
		}
	}
	tenantName, serviceName := app.Tenant, app.ServiceKey
	if s.Names != nil {
		tenantName, serviceName = s.Names(ctx, app)
		out.ServiceName = serviceName
	}
	if !s.NoReceipt {
		var buf bytes.Buffer
		if err := receipt.Render(&buf, receipt.FromApplication(app, out.Form, answers, tenantName, serviceName, "de")); err != nil {
			return nil, err
		}
		out.Receipt = buf.Bytes()
	}
	return out, nil
}

// findEmail returns the first valid address in a field named "email"
// (any case, "e_mail", "e-mail") of the answers, in key order.
func findEmail(v any, depth int) string {
	m, ok := v.(map[string]any)
	if !ok || depth > 8 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		norm := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
		if s, isStr := m[k].(string); isStr && norm == "email" {
			if a, err := mail.ParseAddress(s); err == nil && a.Name == "" {
				return a.Address
			}
		}
	}
	for _, k := range keys {
		if e := findEmail(m[k], depth+1); e != "" {
			return e
		}
	}
	return ""
}
