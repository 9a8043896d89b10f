-- SPDX-License-Identifier: Apache-2.0
-- mail 0002: a size limit per mailbox (the bytes of its messages, Trash included).
ALTER TABLE settings ADD COLUMN mailbox_quota_bytes bigint NOT NULL DEFAULT 1073741824
    CHECK (mailbox_quota_bytes > 0);
-- Summing a mailbox's sizes reads its messages by user.
CREATE INDEX messages_by_user ON messages (school_id, user_id) INCLUDE (size);
