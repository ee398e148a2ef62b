-- SPDX-License-Identifier: EUPL-1.2
-- Process engine: versioned definitions, instances (JSON state), their open
-- tasks and timers (derived, for inboxes and timer jobs), and the outbox of
-- effects. Tenant first in every key.

CREATE TABLE process_definitions (
	tenant     TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	process_id TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	source     BLOB    NOT NULL,
	actions    TEXT    NOT NULL DEFAULT '{}',
	created_at BIGINT  NOT NULL,
	PRIMARY KEY (tenant, key, version)
);

CREATE TABLE process_instances (
	tenant      TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	def_key     TEXT    NOT NULL,
	def_version INTEGER NOT NULL,
	status      TEXT    NOT NULL,
	rev         INTEGER NOT NULL,
	data        TEXT    NOT NULL, -- process.Instance as JSON
	started_at  BIGINT  NOT NULL,
	ended_at    BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant, id)
);

CREATE TABLE process_tasks (
	tenant      TEXT   NOT NULL,
	instance_id TEXT   NOT NULL,
	task_id     TEXT   NOT NULL,
	role        TEXT   NOT NULL DEFAULT '',
	created     BIGINT NOT NULL,
	data        TEXT   NOT NULL, -- process.Task as JSON
	PRIMARY KEY (tenant, instance_id, task_id)
);
CREATE INDEX process_tasks_role ON process_tasks (tenant, role, created);

CREATE TABLE process_timers (
	tenant      TEXT   NOT NULL,
	instance_id TEXT   NOT NULL,
	timer_id    TEXT   NOT NULL,
	due         BIGINT NOT NULL,
	PRIMARY KEY (tenant, instance_id, timer_id)
);
CREATE INDEX process_timers_due ON process_timers (due);

CREATE TABLE process_outbox (
	tenant      TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	ord         BIGINT  NOT NULL,
	instance_id TEXT    NOT NULL,
	data        TEXT    NOT NULL, -- process.Effect as JSON
	done        INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (tenant, id)
);
CREATE INDEX process_outbox_pending ON process_outbox (ord) WHERE done = 0;
