-- SPDX-License-Identifier: Apache-2.0
-- mail 0006: who may write to a group's address from outside the school (LMTP), a right of
-- the group kept per group. Without a row a group takes no mail from outside ('nobody');
-- 'members' takes it when the envelope sender is one of the group's members' addresses,
-- 'anyone' from everybody. Senders inside the school (POST /messages) are governed by
-- mail.send_to_group and the group's owners as before.
CREATE TABLE group_settings (
    school_id        uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    group_id         uuid NOT NULL,
    external_senders text NOT NULL DEFAULT 'nobody'
                     CHECK (external_senders IN ('nobody', 'members', 'anyone')),
    updated_by       uuid,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, group_id)
);
ALTER TABLE group_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON group_settings
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
