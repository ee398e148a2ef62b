-- SPDX-License-Identifier: EUPL-1.2
-- Inbox indexes for every sort order and the common filters without an
-- office, so a page of 50 is read in index order and stops early.
CREATE INDEX casework_cases_due ON casework_cases (tenant, due_at, id);
CREATE INDEX casework_cases_updated ON casework_cases (tenant, updated_at, id);
CREATE INDEX casework_cases_reference ON casework_cases (tenant, reference, id);
CREATE INDEX casework_cases_service ON casework_cases (tenant, service_key, created_at, id);
CREATE INDEX casework_cases_status ON casework_cases (tenant, status, created_at, id);
