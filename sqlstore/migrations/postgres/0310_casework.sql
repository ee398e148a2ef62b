-- SPDX-License-Identifier: EUPL-1.2
-- Casework: one case per application (id = application id = process
-- instance id) and its history. Tenant first in every key; the inbox
-- indexes lead with tenant and the filter columns, ending in the sort keys.

CREATE TABLE casework_cases (
	tenant      TEXT   NOT NULL,
	id          TEXT   NOT NULL,
	reference   TEXT   NOT NULL DEFAULT '',
	service_key TEXT   NOT NULL DEFAULT '',
	title       TEXT   NOT NULL DEFAULT '',
	office      TEXT   NOT NULL DEFAULT '',
	role        TEXT   NOT NULL DEFAULT '',
	status      TEXT   NOT NULL,
	assignee    TEXT   NOT NULL DEFAULT '',
	applicant   TEXT   NOT NULL DEFAULT '',
	decision    TEXT   NOT NULL DEFAULT '',
	due_at      BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE INDEX casework_cases_office_created ON casework_cases (tenant, office, created_at, id);
CREATE INDEX casework_cases_office_status ON casework_cases (tenant, office, status, created_at, id);
CREATE INDEX casework_cases_office_due ON casework_cases (tenant, office, due_at, id);
CREATE INDEX casework_cases_assignee ON casework_cases (tenant, assignee, created_at, id);
CREATE INDEX casework_cases_created ON casework_cases (tenant, created_at, id);

CREATE TABLE casework_history (
	tenant  TEXT    NOT NULL,
	case_id TEXT    NOT NULL,
	seq     INTEGER NOT NULL,
	at      BIGINT  NOT NULL,
	actor   TEXT    NOT NULL DEFAULT '',
	kind    TEXT    NOT NULL,
	text    TEXT    NOT NULL,
	key     TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (tenant, case_id, seq)
);
CREATE UNIQUE INDEX casework_history_key ON casework_history (tenant, case_id, key) WHERE key <> '';
