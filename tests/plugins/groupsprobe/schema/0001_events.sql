-- SPDX-License-Identifier: Apache-2.0
-- groupsprobe 0001: the group events the probe received, one row each, with what the
-- subscriber's own transaction saw of the group at delivery time (proof of after-commit
-- delivery). Test tree only.
CREATE TABLE events (
    school_id  uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    event      text NOT NULL,
    group_id   uuid,
    user_id    uuid,
    -- group.member_added / group.member_removed: the member's role as is_member saw it in the
    -- subscriber's transaction ('none', 'member', 'owner').
    role_seen  text,
    -- every event: whether group_exists saw the group in the subscriber's transaction.
    group_seen boolean,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (school_id, seq)
);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON events
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
