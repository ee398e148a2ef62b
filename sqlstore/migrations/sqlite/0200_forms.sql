-- SPDX-License-Identifier: EUPL-1.2
-- Online applications: imported form definitions (versioned per tenant),
-- their binding to services for a tenant subtree (Einer für Alle: the
-- nearest binding up the ARS lineage wins), uploads of drafts (sealed by
-- the vault) and the idempotency keys and sealed receipt tokens of
-- submitted applications.

CREATE TABLE form_defs (
	tenant      TEXT   NOT NULL,  -- ARS of the tenant subtree the form was imported for
	id          TEXT   NOT NULL,  -- S… (or rathaus-universal)
	version     TEXT   NOT NULL,
	name        TEXT   NOT NULL DEFAULT '',
	title       TEXT   NOT NULL DEFAULT '',
	format      TEXT   NOT NULL DEFAULT '',
	model       TEXT   NOT NULL,  -- form.Model as JSON (with its code lists)
	imported_at BIGINT NOT NULL,
	PRIMARY KEY (tenant, id, version)
);

CREATE TABLE form_bindings (
	tenant       TEXT   NOT NULL,  -- root of the subtree the binding applies to
	service_key  TEXT   NOT NULL,
	form_id      TEXT   NOT NULL,
	form_version TEXT   NOT NULL,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant, service_key)
);

CREATE TABLE form_uploads (
	tenant     TEXT   NOT NULL,
	draft_id   TEXT   NOT NULL,
	id         TEXT   NOT NULL,
	field_path TEXT   NOT NULL,
	filename   TEXT   NOT NULL,
	media_type TEXT   NOT NULL,
	size       BIGINT NOT NULL,
	sha256     TEXT   NOT NULL,
	content    BLOB   NOT NULL,  -- vault-sealed, aad = "upload/" draft_id "/" id
	created_at BIGINT NOT NULL,
	PRIMARY KEY (tenant, draft_id, id)
);

CREATE TABLE form_receipts (
	tenant          TEXT   NOT NULL,
	application_id  TEXT   NOT NULL,
	idempotency_key TEXT   NOT NULL,
	token           TEXT   NOT NULL DEFAULT '',  -- anonymous applicant's receipt token, vault-sealed (hex); '' when logged in
	created_at      BIGINT NOT NULL,
	PRIMARY KEY (tenant, application_id)
);
CREATE UNIQUE INDEX form_receipts_idempotency ON form_receipts (tenant, idempotency_key);
