-- SPDX-License-Identifier: EUPL-1.2
-- rathaus schema v1 (SQLite). Times are INTEGER microseconds since the epoch (UTC).
-- The tenant (ARS) is the first column of every tenant table's primary key.

CREATE TABLE tenants (
	ars        TEXT PRIMARY KEY,
	parent     TEXT NOT NULL DEFAULT '',
	level      INTEGER NOT NULL,
	name       TEXT NOT NULL,
	fold_ae    TEXT NOT NULL, -- folded name, ä → ae
	fold_a     TEXT NOT NULL, -- folded name, ä → a
	ags        TEXT NOT NULL DEFAULT '',
	plz        TEXT NOT NULL DEFAULT '',
	population INTEGER NOT NULL DEFAULT 0,
	area       REAL NOT NULL DEFAULT 0,
	lat        REAL NOT NULL DEFAULT 0,
	lon        REAL NOT NULL DEFAULT 0,
	inhabited  INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX tenants_parent ON tenants (parent, fold_ae);
CREATE INDEX tenants_level_plz ON tenants (level, plz);

CREATE TABLE services (
	tenant        TEXT NOT NULL,
	key           TEXT NOT NULL,
	leika         TEXT NOT NULL DEFAULT '',
	source        TEXT NOT NULL DEFAULT '',
	source_id     TEXT NOT NULL DEFAULT '',
	name          TEXT NOT NULL,
	summary       TEXT NOT NULL DEFAULT '',
	description   TEXT NOT NULL DEFAULT '',
	prerequisites TEXT NOT NULL DEFAULT '',
	documents     TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	fees          TEXT NOT NULL DEFAULT '',
	deadlines     TEXT NOT NULL DEFAULT '',
	duration      TEXT NOT NULL DEFAULT '',
	legal_basis   TEXT NOT NULL DEFAULT '',
	typisierung   TEXT NOT NULL DEFAULT '',
	ozg_id        TEXT NOT NULL DEFAULT '',
	ozg_name      TEXT NOT NULL DEFAULT '',
	lebenslagen   TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	themenfeld    TEXT NOT NULL DEFAULT '',
	keywords      TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	url           TEXT NOT NULL DEFAULT '',
	online_url    TEXT NOT NULL DEFAULT '',
	form_id       TEXT NOT NULL DEFAULT '',
	updated_at    INTEGER NOT NULL DEFAULT 0,
	name_fold     TEXT NOT NULL, -- folded name (both umlaut variants)
	search_fold   TEXT NOT NULL, -- folded name, keywords, summary (both variants)
	PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE INDEX services_key ON services (key, tenant);

CREATE TABLE offices (
	tenant        TEXT NOT NULL,
	id            TEXT NOT NULL,
	name          TEXT NOT NULL DEFAULT '',
	organization  TEXT NOT NULL DEFAULT '',
	street        TEXT NOT NULL DEFAULT '',
	house_number  TEXT NOT NULL DEFAULT '',
	postal_code   TEXT NOT NULL DEFAULT '',
	city          TEXT NOT NULL DEFAULT '',
	phone         TEXT NOT NULL DEFAULT '',
	email         TEXT NOT NULL DEFAULT '',
	url           TEXT NOT NULL DEFAULT '',
	opening_hours TEXT NOT NULL DEFAULT '',
	lat           REAL NOT NULL DEFAULT 0,
	lon           REAL NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE offers (
	tenant      TEXT NOT NULL,
	service_key TEXT NOT NULL,
	office_id   TEXT NOT NULL,
	url         TEXT NOT NULL DEFAULT '',
	online_url  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant, service_key, office_id)
) WITHOUT ROWID;
CREATE INDEX offers_key ON offers (service_key, tenant);

CREATE TABLE lebenslagen (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	themenfeld TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	profile    TEXT NOT NULL DEFAULT '{}', -- JSON of identity.Profile
	created_at INTEGER NOT NULL,
	UNIQUE (issuer, subject)
) WITHOUT ROWID;

CREATE TABLE grants (
	tenant  TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT NOT NULL,
	PRIMARY KEY (tenant, user_id, role)
) WITHOUT ROWID;
CREATE INDEX grants_user ON grants (user_id);

CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	loa        INTEGER NOT NULL DEFAULT 0,
	idp        TEXT NOT NULL DEFAULT '',
	auth_time  INTEGER NOT NULL DEFAULT 0,
	expires_at INTEGER NOT NULL,
	tenant     TEXT NOT NULL DEFAULT '',
	lang       TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE audit_log (
	seq     INTEGER PRIMARY KEY,
	time    INTEGER NOT NULL,
	tenant  TEXT NOT NULL DEFAULT '',
	actor   TEXT NOT NULL DEFAULT '',
	action  TEXT NOT NULL,
	object  TEXT NOT NULL DEFAULT '',
	details TEXT NOT NULL DEFAULT '{}', -- JSON object of strings
	prev    TEXT NOT NULL,
	hash    TEXT NOT NULL
);

-- One row: the last sequence number and hash, updated with every append, so
-- that deleting the last entries of the chain is detected.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
