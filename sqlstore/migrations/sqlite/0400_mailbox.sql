-- SPDX-License-Identifier: EUPL-1.2
-- The citizen's mailbox (Postfach): messages and notices per citizen
-- (owner = identity user id), threads per application, unread markers.
-- Subject, body and attachment names are vault-sealed in content
-- (aad = "mailbox/" id); attachment data in mailbox_attachments
-- (aad = "mailbox/" id "/" n). Tenant first in every key.

CREATE TABLE mailbox_messages (
	tenant         TEXT    NOT NULL,
	id             TEXT    NOT NULL,  -- UUIDv7
	user_id        TEXT    NOT NULL,  -- the citizen the message belongs to
	application_id TEXT    NOT NULL DEFAULT '',
	kind           TEXT    NOT NULL,  -- message | notice | request | reply
	from_citizen   INTEGER NOT NULL DEFAULT 0,
	reply_to       TEXT    NOT NULL DEFAULT '',
	content        BLOB   NOT NULL,
	attachments    INTEGER NOT NULL DEFAULT 0,
	due_at         BIGINT  NOT NULL DEFAULT 0,
	key            TEXT    NOT NULL DEFAULT '',  -- stable id of the posting effect (idempotency)
	created_at     BIGINT  NOT NULL,
	read_at        BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX mailbox_messages_key ON mailbox_messages (tenant, key) WHERE key <> '';
CREATE INDEX mailbox_messages_user ON mailbox_messages (user_id, created_at);
CREATE INDEX mailbox_messages_thread ON mailbox_messages (tenant, application_id, created_at);

CREATE TABLE mailbox_attachments (
	tenant     TEXT    NOT NULL,
	message_id TEXT    NOT NULL,
	n          INTEGER NOT NULL,  -- 1-based position
	data       BLOB   NOT NULL,
	PRIMARY KEY (tenant, message_id, n)
);

-- The citizen's applications across municipalities (status page).
CREATE INDEX mailbox_applications_applicant ON applications (applicant_user_id, submitted_at);
