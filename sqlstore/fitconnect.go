// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"rathaus"
	"rathaus/fitconnect"
)

// FITConnectStore is the fitconnect.DeliveryStore of the delivery service
// hosted by rathaus, on both dialects. Submissions hold only ciphertext.
type FITConnectStore struct{ db *DB }

// FITConnectStore returns the delivery service's store over db.
func (db *DB) FITConnectStore() *FITConnectStore { return &FITConnectStore{db: db} }

var _ fitconnect.DeliveryStore = (*FITConnectStore)(nil)

// fcDestDoc is the JSON column of a destination.
type fcDestDoc struct {
	Status           string                     `json:"status"`
	Services         []fitconnect.PublicService `json:"services"`
	MetadataVersions []string                   `json:"metadataVersions"`
	EncryptionKid    string                     `json:"encryptionKid"`
	Keys             []fitconnect.Key           `json:"keys"`
	Callback         *fitconnect.CallbackConfig `json:"callback,omitempty"`
}

// fcSubDoc is the JSON column of a submission.
type fcSubDoc struct {
	PublicService        fitconnect.PublicService   `json:"publicService"`
	Region               string                     `json:"region,omitempty"`
	AnnouncedAttachments []string                   `json:"announcedAttachments"`
	Callback             *fitconnect.CallbackConfig `json:"callback,omitempty"`
}

func isUnique(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "unique") || strings.Contains(s, "duplicate key")
}

// PutDestination implements fitconnect.DeliveryStore.
func (s *FITConnectStore) PutDestination(ctx context.Context, d *fitconnect.Destination) error {
	doc, err := json.Marshal(fcDestDoc{Status: d.Status, Services: d.Services, MetadataVersions: d.MetadataVersions,
		EncryptionKid: d.EncryptionKid, Keys: d.Keys, Callback: d.Callback})
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "destination")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO fc_destination (tenant, id, doc, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant, id) DO UPDATE SET doc = excluded.doc, created_at = excluded.created_at`), d.Tenant, d.ID, string(doc), micros(d.CreatedAt))
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "destination")
		}
		return nil
	})
}

// Destination implements fitconnect.DeliveryStore.
func (s *FITConnectStore) Destination(ctx context.Context, ars, id string) (*fitconnect.Destination, error) {
	var doc string
	var created int64
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT doc, created_at FROM fc_destination WHERE tenant = ? AND id = ?`), ars, id).Scan(&doc, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "destination %s not found", id)
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "destination")
	}
	var dd fcDestDoc
	if err := json.Unmarshal([]byte(doc), &dd); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "destination %s: stored document", id)
	}
	return &fitconnect.Destination{Tenant: ars, ID: id, Status: dd.Status, Services: dd.Services, MetadataVersions: dd.MetadataVersions,
		EncryptionKid: dd.EncryptionKid, Keys: dd.Keys, Callback: dd.Callback, CreatedAt: fromMicros(created)}, nil
}

// CreateClient implements fitconnect.DeliveryStore.
func (s *FITConnectStore) CreateClient(ctx context.Context, c *fitconnect.APIClient) error {
	ids, _ := json.Marshal(nonNil(c.DestinationIDs))
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO fc_client (id, tenant, secret_hash, role, destination_ids) VALUES (?, ?, ?, ?, ?)`),
			c.ID, c.Tenant, c.SecretHash, c.Role, string(ids))
		if err != nil {
			if isUnique(err) {
				return rathaus.Errorf(rathaus.ECONFLICT, "client %s exists", c.ID)
			}
			return rathaus.Wrap(rathaus.EINTERNAL, err, "client")
		}
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ClientByID implements fitconnect.DeliveryStore.
func (s *FITConnectStore) ClientByID(ctx context.Context, id string) (*fitconnect.APIClient, error) {
	c := &fitconnect.APIClient{ID: id}
	var ids string
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT tenant, secret_hash, role, destination_ids FROM fc_client WHERE id = ?`), id).
		Scan(&c.Tenant, &c.SecretHash, &c.Role, &ids)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "client not found")
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "client")
	}
	if err := json.Unmarshal([]byte(ids), &c.DestinationIDs); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "client")
	}
	if len(c.DestinationIDs) == 0 {
		c.DestinationIDs = nil
	}
	return c, nil
}

func subDoc(sub *fitconnect.Submission) (string, error) {
	b, err := json.Marshal(fcSubDoc{PublicService: sub.PublicService, Region: sub.Region, AnnouncedAttachments: nonNil(sub.AnnouncedAttachments), Callback: sub.Callback})
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "submission")
	}
	return string(b), nil
}

// CreateSubmission implements fitconnect.DeliveryStore.
func (s *FITConnectStore) CreateSubmission(ctx context.Context, sub *fitconnect.Submission) error {
	doc, err := subDoc(sub)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO fc_submission (tenant, id, case_id, destination_id, sender_client_id, state,
			encrypted_metadata, encrypted_data, doc, created_at, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			sub.Tenant, sub.ID, sub.CaseID, sub.DestinationID, sub.SenderClientID, sub.State, sub.EncryptedMetadata, sub.EncryptedData, doc,
			micros(sub.CreatedAt), micros(sub.SubmittedAt))
		if err != nil {
			if isUnique(err) {
				return rathaus.Errorf(rathaus.ECONFLICT, "submission %s exists", sub.ID)
			}
			return rathaus.Wrap(rathaus.EINTERNAL, err, "submission")
		}
		return nil
	})
}

const fcSubCols = `tenant, id, case_id, destination_id, sender_client_id, state, encrypted_metadata, encrypted_data, doc, created_at, submitted_at`

func scanFCSubmission(sc interface{ Scan(...any) error }) (*fitconnect.Submission, error) {
	var sub fitconnect.Submission
	var doc string
	var created, submitted int64
	if err := sc.Scan(&sub.Tenant, &sub.ID, &sub.CaseID, &sub.DestinationID, &sub.SenderClientID, &sub.State,
		&sub.EncryptedMetadata, &sub.EncryptedData, &doc, &created, &submitted); err != nil {
		return nil, err
	}
	var d fcSubDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	sub.PublicService, sub.Region, sub.AnnouncedAttachments, sub.Callback = d.PublicService, d.Region, d.AnnouncedAttachments, d.Callback
	if len(sub.AnnouncedAttachments) == 0 {
		sub.AnnouncedAttachments = nil
	}
	sub.CreatedAt, sub.SubmittedAt = fromMicros(created), fromMicros(submitted)
	return &sub, nil
}

func (s *FITConnectStore) oneSubmission(ctx context.Context, where string, args ...any) (*fitconnect.Submission, error) {
	sub, err := scanFCSubmission(s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT `+fcSubCols+` FROM fc_submission WHERE `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "submission not found")
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "submission")
	}
	return sub, nil
}

// Submission implements fitconnect.DeliveryStore.
func (s *FITConnectStore) Submission(ctx context.Context, ars, id string) (*fitconnect.Submission, error) {
	sub, err := s.oneSubmission(ctx, `tenant = ? AND id = ?`, ars, id)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", id)
	}
	return sub, err
}

// SubmissionByCase implements fitconnect.DeliveryStore.
func (s *FITConnectStore) SubmissionByCase(ctx context.Context, ars, caseID string) (*fitconnect.Submission, error) {
	sub, err := s.oneSubmission(ctx, `tenant = ? AND case_id = ?`, ars, caseID)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", caseID)
	}
	return sub, err
}

// UpdateSubmission implements fitconnect.DeliveryStore.
func (s *FITConnectStore) UpdateSubmission(ctx context.Context, sub *fitconnect.Submission) error {
	doc, err := subDoc(sub)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE fc_submission SET case_id = ?, destination_id = ?, sender_client_id = ?, state = ?,
			encrypted_metadata = ?, encrypted_data = ?, doc = ?, created_at = ?, submitted_at = ? WHERE tenant = ? AND id = ?`),
			sub.CaseID, sub.DestinationID, sub.SenderClientID, sub.State, sub.EncryptedMetadata, sub.EncryptedData, doc,
			micros(sub.CreatedAt), micros(sub.SubmittedAt), sub.Tenant, sub.ID)
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "submission")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", sub.ID)
		}
		return nil
	})
}

// PutAttachment implements fitconnect.DeliveryStore.
func (s *FITConnectStore) PutAttachment(ctx context.Context, ars, submissionID, attachmentID, jwe string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM fc_submission WHERE tenant = ? AND id = ?`), ars, submissionID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return rathaus.Errorf(rathaus.ENOTFOUND, "submission %s not found", submissionID)
		}
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "attachment")
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO fc_attachment (tenant, submission_id, attachment_id, jwe) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant, submission_id, attachment_id) DO UPDATE SET jwe = excluded.jwe`), ars, submissionID, attachmentID, jwe); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "attachment")
		}
		return nil
	})
}

// Attachment implements fitconnect.DeliveryStore.
func (s *FITConnectStore) Attachment(ctx context.Context, ars, submissionID, attachmentID string) (string, error) {
	var jwe string
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT jwe FROM fc_attachment WHERE tenant = ? AND submission_id = ? AND attachment_id = ?`),
		ars, submissionID, attachmentID).Scan(&jwe)
	if errors.Is(err, sql.ErrNoRows) {
		return "", rathaus.Errorf(rathaus.ENOTFOUND, "attachment %s not found", attachmentID)
	}
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "attachment")
	}
	return jwe, nil
}

// AttachmentIDs implements fitconnect.DeliveryStore.
func (s *FITConnectStore) AttachmentIDs(ctx context.Context, ars, submissionID string) ([]string, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT attachment_id FROM fc_attachment WHERE tenant = ? AND submission_id = ? ORDER BY attachment_id`), ars, submissionID)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "attachments")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "attachments")
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeleteContent implements fitconnect.DeliveryStore.
func (s *FITConnectStore) DeleteContent(ctx context.Context, ars, submissionID string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE fc_submission SET encrypted_metadata = '', encrypted_data = '' WHERE tenant = ? AND id = ?`), ars, submissionID); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "delete content")
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM fc_attachment WHERE tenant = ? AND submission_id = ?`), ars, submissionID); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "delete content")
		}
		return nil
	})
}

// ListSubmissions implements fitconnect.DeliveryStore.
func (s *FITConnectStore) ListSubmissions(ctx context.Context, ars, destinationID string, states []string, offset, limit int) ([]*fitconnect.Submission, int, error) {
	if len(states) == 0 {
		return nil, 0, nil
	}
	args := []any{ars, destinationID}
	for _, st := range states {
		args = append(args, st)
	}
	where := `tenant = ? AND destination_id = ? AND state IN (` + placeholders(len(states)) + `)`
	var total int
	if err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM fc_submission WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, rathaus.Wrap(rathaus.EINTERNAL, err, "submissions")
	}
	if limit <= 0 || offset >= total {
		return nil, total, nil
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT `+fcSubCols+` FROM fc_submission WHERE `+where+` ORDER BY submitted_at, id LIMIT ? OFFSET ?`),
		append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, 0, rathaus.Wrap(rathaus.EINTERNAL, err, "submissions")
	}
	defer rows.Close()
	var page []*fitconnect.Submission
	for rows.Next() {
		sub, err := scanFCSubmission(rows)
		if err != nil {
			return nil, 0, rathaus.Wrap(rathaus.EINTERNAL, err, "submissions")
		}
		page = append(page, sub)
	}
	return page, total, rows.Err()
}

func (s *FITConnectStore) caseExists(ctx context.Context, q queryer, ars, caseID string) error {
	var one int
	err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM fc_submission WHERE tenant = ? AND case_id = ?`), ars, caseID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "case %s not found", caseID)
	}
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "case")
	}
	return nil
}

// AppendEvent implements fitconnect.DeliveryStore.
func (s *FITConnectStore) AppendEvent(ctx context.Context, ars, caseID, set string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.caseExists(ctx, tx, ars, caseID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO fc_event (tenant, case_id, seq, token)
			VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM fc_event WHERE tenant = ? AND case_id = ?), ?)`), ars, caseID, ars, caseID, set); err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "event")
		}
		return nil
	})
}

// UpdateSubmissionEvent implements fitconnect.DeliveryStore: both writes
// in one transaction.
func (s *FITConnectStore) UpdateSubmissionEvent(ctx context.Context, sub *fitconnect.Submission, set string) error {
	return s.db.Atomic(ctx, func(ctx context.Context, _ *sql.Tx) error {
		if err := s.UpdateSubmission(ctx, sub); err != nil {
			return err
		}
		return s.AppendEvent(ctx, sub.Tenant, sub.CaseID, set)
	})
}

// Events implements fitconnect.DeliveryStore.
func (s *FITConnectStore) Events(ctx context.Context, ars, caseID string, offset, limit int) ([]string, int, error) {
	q := s.db.rd(ctx)
	if err := s.caseExists(ctx, q, ars, caseID); err != nil {
		return nil, 0, err
	}
	var total int
	if err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM fc_event WHERE tenant = ? AND case_id = ?`), ars, caseID).Scan(&total); err != nil {
		return nil, 0, rathaus.Wrap(rathaus.EINTERNAL, err, "events")
	}
	if limit <= 0 || offset >= total {
		return []string{}, total, nil
	}
	rows, err := q.QueryContext(ctx, s.db.Rebind(`SELECT token FROM fc_event WHERE tenant = ? AND case_id = ? ORDER BY seq LIMIT ? OFFSET ?`), ars, caseID, limit, max(offset, 0))
	if err != nil {
		return nil, 0, rathaus.Wrap(rathaus.EINTERNAL, err, "events")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			return nil, 0, rathaus.Wrap(rathaus.EINTERNAL, err, "events")
		}
		out = append(out, tok)
	}
	return out, total, rows.Err()
}

// DueSubmissions implements fitconnect.DeliveryStore.
func (s *FITConnectStore) DueSubmissions(ctx context.Context, state string, t time.Time) ([]*fitconnect.Submission, error) {
	col := "submitted_at"
	if state == fitconnect.StateIncomplete {
		col = "created_at"
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT `+fcSubCols+` FROM fc_submission WHERE state = ? AND `+col+` <= ? ORDER BY id`), state, micros(t))
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "due submissions")
	}
	defer rows.Close()
	var out []*fitconnect.Submission
	for rows.Next() {
		sub, err := scanFCSubmission(rows)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "due submissions")
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}
