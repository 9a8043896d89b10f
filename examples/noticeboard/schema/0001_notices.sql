-- SPDX-License-Identifier: Apache-2.0
-- noticeboard 0001: notices, one table in the plugin's own schema, isolated per school by a
-- forced row-level-security policy on the transaction's tenant (core.current_school()).
CREATE TABLE notices (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    title       text NOT NULL,
    body        text NOT NULL,
    pinned      boolean NOT NULL DEFAULT false,
    author_id   uuid,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (school_id, id)
);
CREATE INDEX notices_newest ON notices (school_id, created_at DESC, id DESC);

ALTER TABLE notices ENABLE ROW LEVEL SECURITY;
ALTER TABLE notices FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON notices
    USING (school_id = core.current_school())
    WITH CHECK (school_id = core.current_school());
