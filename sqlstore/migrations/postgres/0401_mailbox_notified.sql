-- SPDX-License-Identifier: EUPL-1.2
-- When the e-mail notification of a message was sent (or claimed by the
-- node sending it); 0 = not yet. Lets a sweep notify without a job queue
-- and makes the notification at most once per message.

ALTER TABLE mailbox_messages ADD COLUMN notified_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX mailbox_messages_unnotified ON mailbox_messages (created_at) WHERE notified_at = 0 AND from_citizen = 0;
