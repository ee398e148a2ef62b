-- SPDX-License-Identifier: EUPL-1.2
-- Automated rules per service and tenant (inherited down the tenant tree:
-- the nearest tenant with rules for the service wins).
CREATE TABLE casework_rules (
	tenant      TEXT   NOT NULL,
	service_key TEXT   NOT NULL,
	rules       TEXT   NOT NULL, -- []casework.Rule as JSON
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (tenant, service_key)
);
