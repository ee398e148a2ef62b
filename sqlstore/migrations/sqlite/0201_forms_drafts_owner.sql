-- SPDX-License-Identifier: EUPL-1.2
-- "Meine Anträge und Entwürfe" lists a citizen's drafts across tenants.
CREATE INDEX drafts_owner_updated ON drafts (owner_user_id, updated_at);
