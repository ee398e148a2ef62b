// SPDX-License-Identifier: EUPL-1.2

package mailbox

import (
	"context"
	"database/sql"

	"rathaus"
	"rathaus/casework/worker"
)

// WorkerAdapter lets the process worker post into the mailbox: it
// implements worker.Mailbox on top of Service.Post (same transaction,
// idempotent on the effect key).
type WorkerAdapter struct{ Service *Service }

var _ worker.Mailbox = WorkerAdapter{}

// Post implements worker.Mailbox.
func (a WorkerAdapter) Post(ctx context.Context, tx *sql.Tx, m worker.MailboxMessage) error {
	msg := Message{Tenant: m.Tenant, UserID: m.UserID, ApplicationID: m.ApplicationID, Kind: m.Kind,
		Subject: m.Subject, Body: m.Body, Key: m.Key}
	if !m.DueAt.IsZero() {
		d := m.DueAt.UTC()
		msg.DueAt = &d
	}
	for _, at := range m.Attachments {
		msg.Attachments = append(msg.Attachments, Attachment{Filename: at.Filename, MediaType: at.MediaType, Data: at.Data})
	}
	if msg.UserID == "" {
		// An application without an account has no mailbox: nothing to
		// post (the notice goes by other ways).
		return nil
	}
	_, err := a.Service.Post(ctx, tx, msg)
	return err
}

// AnsweredHook returns an OnReply that tells the process that the citizen
// answered (fn is e.g. worker.Worker.CitizenAnswered; it runs in the
// reply's transaction, which ctx carries). A reply to an application whose
// process waits for no answer (fn returns ECONFLICT, e.g. a question after
// the notice) is stored all the same; other errors roll the reply back.
func AnsweredHook(fn func(ctx context.Context, tenant, applicationID, userID string) error) func(ctx context.Context, tx *sql.Tx, r *Message) error {
	return func(ctx context.Context, tx *sql.Tx, r *Message) error {
		if r.ApplicationID == "" {
			return nil
		}
		err := fn(ctx, r.Tenant, r.ApplicationID, r.UserID)
		if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
			return nil
		}
		return err
	}
}
