-- SPDX-License-Identifier: Apache-2.0
-- groups 0001: groups, members with a role, and permissions granted to a group's members.
CREATE TABLE groups (
    school_id    uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug         text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    type         text NOT NULL CHECK (type IN ('class', 'course', 'workgroup', 'staff', 'custom')),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    parent_id    uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, parent_id) REFERENCES groups (school_id, id) ON DELETE SET NULL (parent_id),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX groups_name_unique ON groups (school_id, lower(name));
CREATE UNIQUE INDEX groups_slug_unique ON groups (school_id, slug);
CREATE INDEX groups_by_name ON groups (school_id, lower(name), id);

CREATE TABLE members (
    school_id  uuid NOT NULL,
    group_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    role       text NOT NULL CHECK (role IN ('owner', 'member')),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, group_id, user_id),
    FOREIGN KEY (school_id, group_id) REFERENCES groups (school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, user_id) REFERENCES core.users (school_id, id) ON DELETE CASCADE
);
CREATE INDEX members_by_user ON members (school_id, user_id);

CREATE TABLE group_permissions (
    school_id   uuid NOT NULL,
    group_id    uuid NOT NULL,
    permission  text NOT NULL,
    PRIMARY KEY (school_id, group_id, permission),
    FOREIGN KEY (school_id, group_id) REFERENCES groups (school_id, id) ON DELETE CASCADE
);

ALTER TABLE groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE groups FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON groups
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE members FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON members
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE group_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_permissions FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON group_permissions
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Permission source (host: add_permission_source): what a user's groups grant them. Called by
-- core.begin_request() for every authenticated request, so it must stay one index lookup.
CREATE FUNCTION member_permissions(p_school uuid, p_user uuid) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT gp.permission
      FROM groups.members m
      JOIN groups.group_permissions gp
        ON gp.school_id = m.school_id AND gp.group_id = m.group_id
     WHERE m.school_id = p_school AND m.user_id = p_user
$$;
