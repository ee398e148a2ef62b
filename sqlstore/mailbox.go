// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"rathaus"
)

// MailboxRow is a stored mailbox message. Content (subject, body,
// attachment names) is sealed by the caller (package mailbox); the store
// never sees plain text.
type MailboxRow struct {
	Tenant, ID, UserID, ApplicationID string
	Kind                              string
	FromCitizen                       bool
	ReplyTo                           string
	Content                           []byte // vault-sealed
	Attachments                       int    // number of attachment blobs
	DueAt, CreatedAt, ReadAt          time.Time
	Key                               string
}

// MailboxStore keeps the citizens' mailbox messages on both dialects.
type MailboxStore struct{ db *DB }

// Mailbox returns the mailbox store of db.
func (db *DB) Mailbox() *MailboxStore { return &MailboxStore{db: db} }

// DB returns the database of the store (transactions, audit).
func (s *MailboxStore) DB() *DB { return s.db }

const mailboxCols = `tenant, id, user_id, application_id, kind, from_citizen, reply_to, content, attachments, due_at, key, created_at, read_at`

func scanMailbox(sc interface{ Scan(...any) error }) (*MailboxRow, error) {
	var m MailboxRow
	var from int
	var due, created, read int64
	if err := sc.Scan(&m.Tenant, &m.ID, &m.UserID, &m.ApplicationID, &m.Kind, &from, &m.ReplyTo, &m.Content, &m.Attachments,
		&due, &m.Key, &created, &read); err != nil {
		return nil, err
	}
	m.FromCitizen = from == 1
	m.DueAt, m.CreatedAt, m.ReadAt = fromMicros(due), fromMicros(created), fromMicros(read)
	return &m, nil
}

func (s *MailboxStore) many(ctx context.Context, q string, args ...any) ([]MailboxRow, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MailboxRow
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

func (s *MailboxStore) one(ctx context.Context, q string, args ...any) (*MailboxRow, error) {
	m, err := scanMailbox(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Nachricht nicht gefunden / message not found")
	}
	return m, err
}

// Insert stores m and its sealed attachment blobs inside tx. With a Key,
// a message with the same (tenant, key) already stored is returned instead
// and nothing is written (a replayed effect posts once).
func (s *MailboxStore) Insert(ctx context.Context, tx *sql.Tx, m *MailboxRow, blobs [][]byte) (existing *MailboxRow, err error) {
	if tx == nil {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "mailbox: Insert needs the caller's transaction")
	}
	if m.Tenant == "" || m.ID == "" || m.UserID == "" || m.Kind == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "mailbox message needs tenant, id, user and kind")
	}
	if m.Key != "" {
		old, err := scanMailbox(tx.QueryRowContext(ctx, s.db.Rebind(`SELECT `+mailboxCols+` FROM mailbox_messages WHERE tenant = ? AND key = ?`), m.Tenant, m.Key))
		if err == nil {
			return old, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	from := 0
	if m.FromCitizen {
		from = 1
	}
	m.Attachments = len(blobs)
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO mailbox_messages (`+mailboxCols+`) VALUES (`+placeholders(13)+`)`),
		m.Tenant, m.ID, m.UserID, m.ApplicationID, m.Kind, from, m.ReplyTo, m.Content, m.Attachments,
		micros(m.DueAt), m.Key, micros(m.CreatedAt), micros(m.ReadAt)); err != nil {
		if isUniqueViolation(err) {
			return nil, rathaus.Wrap(rathaus.ECONFLICT, err, "mailbox message %s exists", m.ID)
		}
		return nil, err
	}
	for i, b := range blobs {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO mailbox_attachments (tenant, message_id, n, data) VALUES (?, ?, ?, ?)`),
			m.Tenant, m.ID, i+1, b); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Message returns a message of tenant. Returns ENOTFOUND.
func (s *MailboxStore) Message(ctx context.Context, tenant, id string) (*MailboxRow, error) {
	return s.one(ctx, `SELECT `+mailboxCols+` FROM mailbox_messages WHERE tenant = ? AND id = ?`, tenant, id)
}

// MessageOf returns the message id only if it belongs to userID (in any
// tenant). Returns ENOTFOUND otherwise, the same as for a missing one.
func (s *MailboxStore) MessageOf(ctx context.Context, userID, id string) (*MailboxRow, error) {
	if userID == "" {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Nachricht nicht gefunden / message not found")
	}
	return s.one(ctx, `SELECT `+mailboxCols+` FROM mailbox_messages WHERE user_id = ? AND id = ?`, userID, id)
}

// Messages returns the newest messages of userID (all tenants), newest
// first; limit <= 0 means 500.
func (s *MailboxStore) Messages(ctx context.Context, userID string, limit int) ([]MailboxRow, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.many(ctx, `SELECT `+mailboxCols+` FROM mailbox_messages WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, userID, limit)
}

// Thread returns the messages of an application in order.
func (s *MailboxStore) Thread(ctx context.Context, tenant, applicationID string) ([]MailboxRow, error) {
	return s.many(ctx, `SELECT `+mailboxCols+` FROM mailbox_messages WHERE tenant = ? AND application_id = ? ORDER BY created_at, id`, tenant, applicationID)
}

// Unread counts the unread messages to userID (all tenants).
func (s *MailboxStore) Unread(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM mailbox_messages WHERE user_id = ? AND read_at = 0 AND from_citizen = 0`), userID).Scan(&n)
	return n, err
}

// MarkRead sets read_at of an unread message; it reports whether this call
// marked it (false: already read).
func (s *MailboxStore) MarkRead(ctx context.Context, tenant, id string, at time.Time) (bool, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE mailbox_messages SET read_at = ? WHERE tenant = ? AND id = ? AND read_at = 0`), micros(at), tenant, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// Attachment returns the sealed data of attachment n (1-based). Returns
// ENOTFOUND.
func (s *MailboxStore) Attachment(ctx context.Context, tenant, messageID string, n int) ([]byte, error) {
	var b []byte
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT data FROM mailbox_attachments WHERE tenant = ? AND message_id = ? AND n = ?`), tenant, messageID, n).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Anhang nicht gefunden / attachment not found")
	}
	return b, err
}

// CitizenApplication is a citizen's application with its case state, if a
// case exists (Status "" otherwise).
type CitizenApplication struct {
	Tenant, ID, Reference, ServiceKey string
	SubmittedAt                       time.Time
	// From the case (empty without one).
	Title, Status, Decision string
	DueAt, UpdatedAt        time.Time
}

const citizenAppSelect = `SELECT a.tenant, a.id, a.reference, a.service_key, a.submitted_at,
	COALESCE(c.title, ''), COALESCE(c.status, ''), COALESCE(c.decision, ''), COALESCE(c.due_at, 0), COALESCE(c.updated_at, 0)
	FROM applications a LEFT JOIN casework_cases c ON c.tenant = a.tenant AND c.id = a.id `

func scanCitizenApp(sc interface{ Scan(...any) error }) (*CitizenApplication, error) {
	var a CitizenApplication
	var sub, due, upd int64
	if err := sc.Scan(&a.Tenant, &a.ID, &a.Reference, &a.ServiceKey, &sub, &a.Title, &a.Status, &a.Decision, &due, &upd); err != nil {
		return nil, err
	}
	a.SubmittedAt, a.UpdatedAt = fromMicros(sub), fromMicros(upd)
	if due != noDue {
		a.DueAt = fromMicros(due)
	}
	return &a, nil
}

// CitizenApplications returns the applications userID submitted (all
// tenants), newest first.
func (s *MailboxStore) CitizenApplications(ctx context.Context, userID string) ([]CitizenApplication, error) {
	if userID == "" {
		return nil, nil
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(citizenAppSelect+`WHERE a.applicant_user_id = ? ORDER BY a.submitted_at DESC, a.id DESC LIMIT 500`), userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CitizenApplication
	for rows.Next() {
		a, err := scanCitizenApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// CitizenApplicationOf returns application id only if userID submitted it.
// Returns ENOTFOUND otherwise.
func (s *MailboxStore) CitizenApplicationOf(ctx context.Context, userID, id string) (*CitizenApplication, error) {
	if userID == "" {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	a, err := scanCitizenApp(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(citizenAppSelect+`WHERE a.applicant_user_id = ? AND a.id = ?`), userID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	return a, err
}

// ClaimNotification marks message id as notified at `at` unless it was
// already; it reports whether this call claimed it (so that one node sends
// the e-mail once).
func (s *MailboxStore) ClaimNotification(ctx context.Context, tenant, id string, at time.Time) (bool, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE mailbox_messages SET notified_at = ? WHERE tenant = ? AND id = ? AND notified_at = 0`), micros(at), tenant, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ReleaseNotification undoes a claim whose e-mail could not be sent, so a
// later attempt sends it.
func (s *MailboxStore) ReleaseNotification(ctx context.Context, tenant, id string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE mailbox_messages SET notified_at = 0 WHERE tenant = ? AND id = ?`), tenant, id)
		return err
	})
}

// Unnotified returns up to limit messages to citizens created before
// `before` whose notification is not sent yet, oldest first.
func (s *MailboxStore) Unnotified(ctx context.Context, before time.Time, limit int) ([]MailboxRow, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.many(ctx, `SELECT `+mailboxCols+` FROM mailbox_messages WHERE notified_at = 0 AND from_citizen = 0 AND created_at < ? ORDER BY created_at, id LIMIT ?`, micros(before), limit)
}
