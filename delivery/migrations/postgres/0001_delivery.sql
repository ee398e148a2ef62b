-- Delivery routes, deliveries (one per application × route) and their log.
CREATE TABLE delivery_route (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    service_key TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    config      BYTEA    NOT NULL,
    enabled     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX delivery_route_id ON delivery_route (id);

CREATE TABLE delivery (
    tenant         TEXT    NOT NULL,
    application_id TEXT    NOT NULL,
    route_id       TEXT    NOT NULL,
    route_tenant   TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    service_key    TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    next_at        BIGINT NOT NULL,
    lease_until    BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT    NOT NULL DEFAULT '',
    remote_id      TEXT    NOT NULL DEFAULT '',
    state          BYTEA,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant, application_id, route_id)
);
CREATE INDEX delivery_due ON delivery (status, next_at);

CREATE TABLE delivery_log (
    tenant         TEXT    NOT NULL,
    application_id TEXT    NOT NULL,
    route_id       TEXT    NOT NULL,
    seq            BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    attempt        BIGINT NOT NULL,
    status         TEXT    NOT NULL,
    message        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, application_id, route_id, seq)
);
