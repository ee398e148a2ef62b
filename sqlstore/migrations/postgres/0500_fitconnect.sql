-- FIT-Connect delivery service hosted by rathaus (fitconnect.DeliveryStore).
CREATE TABLE fc_destination (
    tenant     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    doc        TEXT    NOT NULL, -- JSON: status, services, keys, metadata versions, callback
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE fc_client (
    id              TEXT NOT NULL PRIMARY KEY,
    tenant          TEXT NOT NULL,
    secret_hash     BYTEA NOT NULL,
    role            TEXT NOT NULL,
    destination_ids TEXT NOT NULL -- JSON array
);

CREATE TABLE fc_submission (
    tenant             TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    case_id            TEXT    NOT NULL,
    destination_id     TEXT    NOT NULL,
    sender_client_id   TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    encrypted_metadata TEXT    NOT NULL DEFAULT '',
    encrypted_data     TEXT    NOT NULL DEFAULT '',
    doc                TEXT    NOT NULL, -- JSON: public service, region, announced attachments, callback
    created_at         BIGINT NOT NULL,
    submitted_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX fc_submission_case ON fc_submission (tenant, case_id);
CREATE INDEX fc_submission_list ON fc_submission (tenant, destination_id, state, submitted_at);
CREATE INDEX fc_submission_due ON fc_submission (state, created_at, submitted_at);

CREATE TABLE fc_attachment (
    tenant        TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    jwe           TEXT NOT NULL,
    PRIMARY KEY (tenant, submission_id, attachment_id)
);

CREATE TABLE fc_event (
    tenant  TEXT    NOT NULL,
    case_id TEXT    NOT NULL,
    seq     BIGINT NOT NULL,
    token   TEXT    NOT NULL, -- the signed SET
    PRIMARY KEY (tenant, case_id, seq)
);
