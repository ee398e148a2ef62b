// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/form"
	"rathaus/submission"
	"rathaus/tenant"
)

// FormStore implements submission.FormStore on db (tables form_defs,
// form_bindings, form_uploads, form_receipts).
type FormStore struct{ db *DB }

// Forms returns the form-definition store.
func (db *DB) Forms() *FormStore { return &FormStore{db: db} }

var _ submission.FormStore = (*FormStore)(nil)

// PutForm implements submission.FormStore.
func (s *FormStore) PutForm(ctx context.Context, ten string, m *form.Model) error {
	if !tenant.ValidARS(ten) || m == nil || m.ID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "Formular: Mandant (ARS) und Formular-ID sind nötig / form: tenant and id are required")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "form model to JSON")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO form_defs (tenant, id, version, name, title, format, model, imported_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id, version) DO UPDATE SET name = excluded.name, title = excluded.title,
			format = excluded.format, model = excluded.model, imported_at = excluded.imported_at`),
			ten, m.ID, m.Version, m.Name, m.Title, m.Format, string(b), micros(time.Now()))
		return err
	})
}

// FormFor implements submission.FormStore.
func (s *FormStore) FormFor(ctx context.Context, ars, id, version string) (*form.Model, error) {
	for _, a := range tenant.Lineage(ars) {
		var js string
		err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT model FROM form_defs WHERE tenant = ? AND id = ? AND version = ?`), a, id, version).Scan(&js)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var m form.Model
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "stored form %s %s is not a model", id, version)
		}
		return &m, nil
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Formular %s (Version %s) nicht gefunden / form not found", id, version)
}

// Bind implements submission.FormStore. A catalog service described at
// exactly that tenant also gets its FormID set.
func (s *FormStore) Bind(ctx context.Context, ten, serviceKey, formID, version string) error {
	if !tenant.ValidARS(ten) || serviceKey == "" || formID == "" {
		return rathaus.Errorf(rathaus.EINVALID, "Formular-Zuordnung: Mandant, Leistung und Formular sind nötig / binding: tenant, service and form are required")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO form_bindings (tenant, service_key, form_id, form_version, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, service_key) DO UPDATE SET form_id = excluded.form_id,
			form_version = excluded.form_version, updated_at = excluded.updated_at`),
			ten, serviceKey, formID, version, micros(time.Now())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE services SET form_id = ? WHERE tenant = ? AND key = ?`), formID, ten, serviceKey)
		return err
	})
}

// Binding implements submission.FormStore.
func (s *FormStore) Binding(ctx context.Context, ars, serviceKey string) (*submission.FormRef, error) {
	for _, a := range tenant.Lineage(ars) {
		ref := submission.FormRef{Tenant: a}
		err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT form_id, form_version FROM form_bindings WHERE tenant = ? AND service_key = ?`), a, serviceKey).Scan(&ref.ID, &ref.Version)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &ref, nil
	}
	return nil, rathaus.Errorf(rathaus.ENOTFOUND, "kein Formular für Leistung %s / no form for service", serviceKey)
}

// PutUpload implements submission.FormStore.
func (s *FormStore) PutUpload(ctx context.Context, u *submission.StagedUpload) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO form_uploads (tenant, draft_id, id, field_path, filename, media_type, size, sha256, content, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.Tenant, u.DraftID, u.ID, u.FieldPath, u.Filename, u.MediaType, u.Size, u.SHA256, u.Sealed, micros(u.CreatedAt))
		return err
	})
}

// Uploads implements submission.FormStore.
func (s *FormStore) Uploads(ctx context.Context, ten, draftID string) ([]submission.StagedUpload, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT id, field_path, filename, media_type, size, sha256, content, created_at
		FROM form_uploads WHERE tenant = ? AND draft_id = ? ORDER BY created_at, id`), ten, draftID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []submission.StagedUpload
	for rows.Next() {
		u := submission.StagedUpload{Tenant: ten, DraftID: draftID}
		var at int64
		if err := rows.Scan(&u.ID, &u.FieldPath, &u.Filename, &u.MediaType, &u.Size, &u.SHA256, &u.Sealed, &at); err != nil {
			return nil, err
		}
		u.CreatedAt = fromMicros(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteUpload implements submission.FormStore.
func (s *FormStore) DeleteUpload(ctx context.Context, ten, draftID, id string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM form_uploads WHERE tenant = ? AND draft_id = ? AND id = ?`), ten, draftID, id)
		return err
	})
}

// DeleteUploads implements submission.FormStore.
func (s *FormStore) DeleteUploads(ctx context.Context, ten, draftID string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM form_uploads WHERE tenant = ? AND draft_id = ?`), ten, draftID)
		return err
	})
}

// DraftsOf implements submission.FormStore.
func (s *FormStore) DraftsOf(ctx context.Context, userID string) ([]submission.Draft, error) {
	if userID == "" {
		return nil, nil
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT tenant, id, service_key, form_id, form_version, step, updated_at, expires_at
		FROM drafts WHERE owner_user_id = ? AND expires_at > ? ORDER BY updated_at DESC LIMIT 100`), userID, micros(time.Now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []submission.Draft
	for rows.Next() {
		d := submission.Draft{OwnerUserID: userID}
		var up, exp int64
		if err := rows.Scan(&d.Tenant, &d.ID, &d.ServiceKey, &d.FormID, &d.FormVersion, &d.Step, &up, &exp); err != nil {
			return nil, err
		}
		d.UpdatedAt, d.ExpiresAt = fromMicros(up), fromMicros(exp)
		out = append(out, d)
	}
	return out, rows.Err()
}

// PutReceipt implements submission.FormStore.
func (s *FormStore) PutReceipt(ctx context.Context, ten, applicationID, idempotencyKey, sealedToken string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO form_receipts (tenant, application_id, idempotency_key, token, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			ten, applicationID, idempotencyKey, sealedToken, micros(time.Now()))
		return err
	})
}

// ReceiptByKey implements submission.FormStore.
func (s *FormStore) ReceiptByKey(ctx context.Context, ten, idempotencyKey string) (string, error) {
	var id string
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT application_id FROM form_receipts WHERE tenant = ? AND idempotency_key = ?`), ten, idempotencyKey).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	return id, err
}

// ReceiptToken implements submission.FormStore.
func (s *FormStore) ReceiptToken(ctx context.Context, ten, applicationID string) (string, error) {
	var h string
	err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT token FROM form_receipts WHERE tenant = ? AND application_id = ?`), ten, applicationID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	return h, err
}

// PurgeUploads deletes staged uploads whose draft is gone or expired
// (abandoned applications; submitted ones delete theirs at once) and
// returns how many it removed. Call it now and then (serve does hourly).
func (s *FormStore) PurgeUploads(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM form_uploads WHERE NOT EXISTS (SELECT 1 FROM drafts d
			WHERE d.tenant = form_uploads.tenant AND d.id = form_uploads.draft_id AND d.expires_at > ?)`), micros(time.Now()))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// FormBinding is a service's form attachment at one tenant of a lineage
// (read by the designers' forms page).
type FormBinding struct {
	Tenant      string // ARS of the subtree root the binding was made for
	ServiceKey  string
	FormID      string
	FormVersion string // the version new applications get
	UpdatedAt   time.Time
}

// FormBindingsIn returns the bindings of ars and of all its ancestors
// (Einer für Alle), nearest tenant first, then by service key.
func (s *FormStore) FormBindingsIn(ctx context.Context, ars string) ([]FormBinding, error) {
	lin := tenant.Lineage(ars)
	if len(lin) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Mandant %q ist kein 12-stelliger Regionalschlüssel / not an ARS", ars)
	}
	args := make([]any, len(lin))
	rank := map[string]int{}
	for i, a := range lin {
		args[i] = a
		rank[a] = i
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT tenant, service_key, form_id, form_version, updated_at
		FROM form_bindings WHERE tenant IN (`+placeholders(len(lin))+`)`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FormBinding
	for rows.Next() {
		var b FormBinding
		var at int64
		if err := rows.Scan(&b.Tenant, &b.ServiceKey, &b.FormID, &b.FormVersion, &at); err != nil {
			return nil, err
		}
		b.UpdatedAt = fromMicros(at)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Lineage is the node itself first, then up to Bund.
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank[out[i].Tenant], rank[out[j].Tenant]; ri != rj {
			return ri < rj
		}
		return out[i].ServiceKey < out[j].ServiceKey
	})
	return out, nil
}

// FormVersionInfo is one stored version of a form (without its model).
type FormVersionInfo struct {
	Tenant     string
	ID         string
	Version    string
	Name       string
	Title      string
	Format     string
	ImportedAt time.Time
}

// FormVersionsAt returns the versions of form id stored for tenant ten,
// newest import first.
func (s *FormStore) FormVersionsAt(ctx context.Context, ten, id string) ([]FormVersionInfo, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT version, name, title, format, imported_at
		FROM form_defs WHERE tenant = ? AND id = ? ORDER BY imported_at DESC, version DESC`), ten, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FormVersionInfo
	for rows.Next() {
		v := FormVersionInfo{Tenant: ten, ID: id}
		var at int64
		if err := rows.Scan(&v.Version, &v.Name, &v.Title, &v.Format, &at); err != nil {
			return nil, err
		}
		v.ImportedAt = fromMicros(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// FormIn returns form id in version as ars sees it: stored for ars or the
// nearest ancestor, with the tenant that holds it and its import time.
func (s *FormStore) FormIn(ctx context.Context, ars, id, version string) (*form.Model, FormVersionInfo, error) {
	holder, js, at, err := s.formRow(ctx, ars, id, version)
	if err != nil {
		return nil, FormVersionInfo{}, err
	}
	var m form.Model
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return nil, FormVersionInfo{}, rathaus.Wrap(rathaus.EINTERNAL, err, "stored form %s %s is not a model", id, version)
	}
	return &m, FormVersionInfo{Tenant: holder, ID: id, Version: version, Name: m.Name, Title: m.Title, Format: m.Format, ImportedAt: fromMicros(at)}, nil
}

// formRow finds form id in version as ars sees it (stored for ars or the
// nearest ancestor; through the transaction of an Atomic ctx): the tenant
// holding it, the model's JSON and its import time. ENOTFOUND when none.
func (s *FormStore) formRow(ctx context.Context, ars, id, version string) (holder, js string, at int64, err error) {
	for _, a := range tenant.Lineage(ars) {
		err := s.db.rd(ctx).QueryRowContext(ctx, s.db.Rebind(`SELECT model, imported_at FROM form_defs WHERE tenant = ? AND id = ? AND version = ?`),
			a, id, version).Scan(&js, &at)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", "", 0, err
		}
		return a, js, at, nil
	}
	return "", "", 0, rathaus.Errorf(rathaus.ENOTFOUND, "Formular %s (Version %s) nicht gefunden / form not found", id, version)
}

// AttachForm stores m as a form version for the subtree ten, binds it to
// the service (new applications get this version) and appends the audit
// entry (action form.import, by actor) — all in one transaction. replaced
// reports that ten already held this id and version (it is overwritten;
// the audit entry says so).
func (s *FormStore) AttachForm(ctx context.Context, actor, ten, serviceKey string, m *form.Model) (replaced bool, err error) {
	err = s.db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		switch err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM form_defs WHERE tenant = ? AND id = ? AND version = ?`), ten, m.ID, m.Version).Scan(&one); {
		case err == nil:
			replaced = true
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := s.PutForm(ctx, ten, m); err != nil {
			return err
		}
		if err := s.Bind(ctx, ten, serviceKey, m.ID, m.Version); err != nil {
			return err
		}
		details := map[string]string{"service": serviceKey, "format": m.Format}
		if replaced {
			details["replaced"] = "true"
		}
		_, err := s.db.AppendAudit(ctx, tx, audit.Entry{Tenant: ten, Actor: actor, Action: "form.import", Object: "form/" + m.ID + ":" + m.Version, Details: details})
		return err
	})
	return replaced, err
}

// ActivateForm makes version of form id the one new applications for the
// service get in the subtree ten (a rollback to an older version, or
// pinning an inherited one), with its audit entry (action form.activate),
// in one transaction. The version must be visible from ten (stored for ten
// or an ancestor).
func (s *FormStore) ActivateForm(ctx context.Context, actor, ten, serviceKey, id, version string) error {
	return s.db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, _, _, err := s.formRow(ctx, ten, id, version); err != nil {
			return err
		}
		if err := s.Bind(ctx, ten, serviceKey, id, version); err != nil {
			return err
		}
		_, err := s.db.AppendAudit(ctx, tx, audit.Entry{Tenant: ten, Actor: actor, Action: "form.activate", Object: "form/" + id + ":" + version,
			Details: map[string]string{"service": serviceKey}})
		return err
	})
}
