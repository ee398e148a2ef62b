-- SPDX-License-Identifier: EUPL-1.2
-- The next outbox position is MAX(ord) + 1 on SQLite: an index on ord keeps
-- that a lookup instead of a scan of the whole outbox.
CREATE INDEX process_outbox_ord ON process_outbox (ord);
