-- SPDX-License-Identifier: EUPL-1.2
-- rathaus schema v1 (PostgreSQL). Times are BIGINT microseconds since the epoch (UTC).
-- The tenant (ARS) is the first column of every tenant table's primary key.
-- Text that is sorted uses COLLATE "C" so that both dialects order alike.

CREATE TABLE tenants (
	ars        TEXT PRIMARY KEY,
	parent     TEXT NOT NULL DEFAULT '',
	level      INTEGER NOT NULL,
	name       TEXT COLLATE "C" NOT NULL,
	fold_ae    TEXT COLLATE "C" NOT NULL,
	fold_a     TEXT COLLATE "C" NOT NULL,
	ags        TEXT NOT NULL DEFAULT '',
	plz        TEXT COLLATE "C" NOT NULL DEFAULT '',
	population BIGINT NOT NULL DEFAULT 0,
	area       DOUBLE PRECISION NOT NULL DEFAULT 0,
	lat        DOUBLE PRECISION NOT NULL DEFAULT 0,
	lon        DOUBLE PRECISION NOT NULL DEFAULT 0,
	inhabited  BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX tenants_parent ON tenants (parent, fold_ae);
CREATE INDEX tenants_level_plz ON tenants (level, plz);

CREATE TABLE services (
	tenant        TEXT NOT NULL,
	key           TEXT NOT NULL,
	leika         TEXT NOT NULL DEFAULT '',
	source        TEXT NOT NULL DEFAULT '',
	source_id     TEXT NOT NULL DEFAULT '',
	name          TEXT COLLATE "C" NOT NULL,
	summary       TEXT NOT NULL DEFAULT '',
	description   TEXT NOT NULL DEFAULT '',
	prerequisites TEXT NOT NULL DEFAULT '',
	documents     TEXT NOT NULL DEFAULT '[]',
	fees          TEXT NOT NULL DEFAULT '',
	deadlines     TEXT NOT NULL DEFAULT '',
	duration      TEXT NOT NULL DEFAULT '',
	legal_basis   TEXT NOT NULL DEFAULT '',
	typisierung   TEXT NOT NULL DEFAULT '',
	ozg_id        TEXT NOT NULL DEFAULT '',
	ozg_name      TEXT NOT NULL DEFAULT '',
	lebenslagen   TEXT NOT NULL DEFAULT '[]',
	themenfeld    TEXT NOT NULL DEFAULT '',
	keywords      TEXT NOT NULL DEFAULT '[]',
	url           TEXT NOT NULL DEFAULT '',
	online_url    TEXT NOT NULL DEFAULT '',
	form_id       TEXT NOT NULL DEFAULT '',
	updated_at    BIGINT NOT NULL DEFAULT 0,
	name_fold     TEXT COLLATE "C" NOT NULL,
	search_fold   TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, key)
);
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
	lat           DOUBLE PRECISION NOT NULL DEFAULT 0,
	lon           DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant, id)
);

CREATE TABLE offers (
	tenant      TEXT NOT NULL,
	service_key TEXT NOT NULL,
	office_id   TEXT COLLATE "C" NOT NULL,
	url         TEXT NOT NULL DEFAULT '',
	online_url  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant, service_key, office_id)
);
CREATE INDEX offers_key ON offers (service_key, tenant);

CREATE TABLE lebenslagen (
	id         TEXT PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL,
	themenfeld TEXT COLLATE "C" NOT NULL DEFAULT ''
);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	profile    TEXT NOT NULL DEFAULT '{}',
	created_at BIGINT NOT NULL,
	UNIQUE (issuer, subject)
);

CREATE TABLE grants (
	tenant  TEXT COLLATE "C" NOT NULL,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, user_id, role)
);
CREATE INDEX grants_user ON grants (user_id);

CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	loa        INTEGER NOT NULL DEFAULT 0,
	idp        TEXT NOT NULL DEFAULT '',
	auth_time  BIGINT NOT NULL DEFAULT 0,
	expires_at BIGINT NOT NULL,
	tenant     TEXT NOT NULL DEFAULT '',
	lang       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE audit_log (
	seq     BIGINT PRIMARY KEY,
	time    BIGINT NOT NULL,
	tenant  TEXT NOT NULL DEFAULT '',
	actor   TEXT NOT NULL DEFAULT '',
	action  TEXT NOT NULL,
	object  TEXT NOT NULL DEFAULT '',
	details TEXT NOT NULL DEFAULT '{}',
	prev    TEXT NOT NULL,
	hash    TEXT NOT NULL
);

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
