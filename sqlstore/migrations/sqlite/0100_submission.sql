-- SPDX-License-Identifier: EUPL-1.2
-- Intake: applications (answers sealed by the vault), their sealed attachment
-- contents, drafts, and the vault's wrapped data keys. Tenant first in every key.

CREATE TABLE applications (
	tenant            TEXT    NOT NULL,
	id                TEXT    NOT NULL,  -- UUIDv7
	reference         TEXT    NOT NULL,  -- human-friendly, unique per tenant
	service_key       TEXT    NOT NULL,
	form_id           TEXT    NOT NULL,
	form_version      TEXT    NOT NULL,
	applicant_user_id TEXT    NOT NULL DEFAULT '',
	loa               INTEGER NOT NULL DEFAULT 0,
	idp               TEXT    NOT NULL DEFAULT '',
	answers           BLOB    NOT NULL,  -- vault-sealed JSON, aad = id
	attachments       TEXT    NOT NULL DEFAULT '[]', -- JSON metadata (no content)
	status            TEXT    NOT NULL,
	submitted_at      BIGINT  NOT NULL,
	idempotency_key   TEXT    NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX applications_reference ON applications (tenant, reference);
CREATE UNIQUE INDEX applications_idempotency ON applications (tenant, idempotency_key);
CREATE INDEX applications_applicant ON applications (tenant, applicant_user_id, submitted_at);

CREATE TABLE application_blobs (
	tenant         TEXT NOT NULL,
	application_id TEXT NOT NULL,
	attachment_id  TEXT NOT NULL,
	content        BLOB NOT NULL,  -- vault-sealed, aad = application id "/" attachment id
	PRIMARY KEY (tenant, application_id, attachment_id),
	FOREIGN KEY (tenant, application_id) REFERENCES applications (tenant, id) ON DELETE CASCADE
);

CREATE TABLE drafts (
	tenant            TEXT   NOT NULL,
	id                TEXT   NOT NULL,
	service_key       TEXT   NOT NULL,
	form_id           TEXT   NOT NULL,
	form_version      TEXT   NOT NULL,
	owner_user_id     TEXT   NOT NULL DEFAULT '',
	resume_token_hash TEXT   NOT NULL DEFAULT '', -- hex SHA-256 of the one-time token
	answers           BLOB   NOT NULL,            -- vault-sealed JSON, aad = "draft/" id
	step              TEXT   NOT NULL DEFAULT '',
	updated_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX drafts_resume ON drafts (tenant, resume_token_hash) WHERE resume_token_hash <> '';
CREATE INDEX drafts_owner ON drafts (tenant, owner_user_id);
CREATE INDEX drafts_expires ON drafts (expires_at);

CREATE TABLE vault_data_keys (
	tenant     TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	master_id  TEXT    NOT NULL,
	wrapped    BLOB    NOT NULL,
	active     INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT  NOT NULL,
	PRIMARY KEY (tenant, id)
);
-- One active key per tenant, enforced by the database.
CREATE UNIQUE INDEX vault_data_keys_active ON vault_data_keys (tenant) WHERE active = 1;
