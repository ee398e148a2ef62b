// SPDX-License-Identifier: EUPL-1.2

package worker

import (
	"context"
	"sync"

	"rathaus/casework"
	"rathaus/form"
	"rathaus/submission"
)

// SubmissionApplications reads submitted applications through the intake
// service: answers and attachments are opened with the vault on access.
type SubmissionApplications struct {
	Service *submission.Service
	// Title names a service for the desk (optional).
	Title func(ctx context.Context, tenant, serviceKey string) string
	// Form returns the form version the application was made with, so
	// the desk shows the answers as the form showed them (optional).
	Form func(ctx context.Context, app *submission.Application) (*form.Model, error)
}

// Application implements Applications.
func (s SubmissionApplications) Application(ctx context.Context, tenant, id string) (*Application, error) {
	app, err := s.Service.Application(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	answers, err := s.Service.OpenAnswers(ctx, app)
	if err != nil {
		return nil, err
	}
	out := &Application{Tenant: app.Tenant, ID: app.ID, Reference: app.Reference, ServiceKey: app.ServiceKey, ApplicantUserID: app.ApplicantUserID,
		SubmittedAt: app.SubmittedAt, Answers: answers}
	if s.Title != nil {
		out.Title = s.Title(ctx, app.Tenant, app.ServiceKey)
	}
	if s.Form != nil {
		if m, err := s.Form(ctx, app); err == nil {
			out.Lines = casework.FormLines(m, answers)
		}
	}
	for _, a := range app.Attachments {
		out.Attachments = append(out.Attachments, casework.DocumentInfo{ID: a.ID, Filename: a.Filename, MediaType: a.MediaType, Size: a.Size})
	}
	return out, nil
}

// Attachment implements AttachmentSource.
func (s SubmissionApplications) Attachment(ctx context.Context, tenant, applicationID, attachmentID string) (*casework.File, error) {
	app, err := s.Service.Application(ctx, tenant, applicationID)
	if err != nil {
		return nil, err
	}
	data, err := s.Service.AttachmentContent(ctx, app, attachmentID)
	if err != nil {
		return nil, err
	}
	f := &casework.File{Data: data}
	for _, a := range app.Attachments {
		if a.ID == attachmentID {
			f.Filename, f.MediaType = a.Filename, a.MediaType
		}
	}
	return f, nil
}

// Sources tries several application sources in order (e.g. the demo
// applications, then the intake).
type Sources []Applications

// Application implements Applications.
func (ss Sources) Application(ctx context.Context, tenant, id string) (*Application, error) {
	var last error
	for _, s := range ss {
		app, err := s.Application(ctx, tenant, id)
		if err == nil {
			return app, nil
		}
		last = err
	}
	return nil, last
}

// Attachment implements AttachmentSource.
func (ss Sources) Attachment(ctx context.Context, tenant, applicationID, attachmentID string) (*casework.File, error) {
	var last error
	for _, s := range ss {
		if as, ok := s.(AttachmentSource); ok {
			f, err := as.Attachment(ctx, tenant, applicationID, attachmentID)
			if err == nil {
				return f, nil
			}
			last = err
		}
	}
	if last == nil {
		last = errNoAttachment
	}
	return nil, last
}

var errNoAttachment = casework.ErrNotFound("Anhang nicht gefunden / attachment not found")

// MemApplications is an in-memory application source (demo content,
// tests).
type MemApplications struct {
	mu sync.Mutex
	m  map[string]*Application
}

// Add adds or replaces an application.
func (m *MemApplications) Add(app *Application) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]*Application{}
	}
	m.m[app.Tenant+"/"+app.ID] = app
}

// Application implements Applications.
func (m *MemApplications) Application(ctx context.Context, tenant, id string) (*Application, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if app := m.m[tenant+"/"+id]; app != nil {
		return app, nil
	}
	return nil, casework.ErrNotFound("Antrag nicht gefunden / application not found")
}
