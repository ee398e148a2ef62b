-- SPDX-License-Identifier: EUPL-1.2
-- applications_applicant (tenant, applicant_user_id, submitted_at) is not
-- needed: every query by applicant (ApplicationsOf, the mailbox's
-- "my applications") is served by mailbox_applications_applicant
-- (applicant_user_id, submitted_at); one citizen has few applications, so
-- the tenant is a cheap filter. One b-tree less per submitted application.
DROP INDEX applications_applicant;
