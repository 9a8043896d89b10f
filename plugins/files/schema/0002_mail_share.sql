-- SPDX-License-Identifier: Apache-2.0
-- files 0002: a person's home quota counts their mailbox too. The mail module reports what
-- a mailbox holds through the service table (atrium/files.h, set_mail_usage) and the figure
-- is kept here, beside the bytes of the home's files: the quota of a "user" space is checked
-- against bytes + mail_bytes, so files and mail share one limit. Only "user" spaces have it.
ALTER TABLE usage ADD COLUMN mail_bytes bigint NOT NULL DEFAULT 0
    CHECK (mail_bytes >= 0 AND (mail_bytes = 0 OR space_type = 'user'));
