-- SPDX-License-Identifier: Apache-2.0
-- 0006: what a school-year import needs of people (issue #21): an e-mail address, whether the
-- person came from an import and what the last import said of their class and courses (so a
-- re-import can report moves and leavers without the groups module), a disabled state for
-- leavers, and the school's saved column mapping (core/identity/import-columns.c).
--
-- A disabled person keeps every row of theirs; they cannot sign in (core.login_account()) and
-- their sessions are deleted when they are disabled (core.revoke_user_sessions()).

ALTER TABLE core.users
    ADD COLUMN email text CHECK (email IS NULL OR (length(email) BETWEEN 3 AND 254
                                                   AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$')),
    ADD COLUMN disabled_at timestamptz,
    ADD COLUMN imported_at timestamptz,
    ADD COLUMN import_class text CHECK (length(import_class) BETWEEN 1 AND 200),
    ADD COLUMN import_courses text[];

-- The school's saved column mapping: a preset's name and/or the school's own header -> field
-- pairs, applied before the built-in column names.
CREATE TABLE core.import_profiles (
    school_id     uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    preset        text CHECK (preset ~ '^[a-z0-9-]{1,40}$'),
    columns       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(columns) = 'object'),
    default_role  text CHECK (default_role IN ('admin','teacher','student','parent','staff')),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id)
);
ALTER TABLE core.import_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.import_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.import_profiles
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Sign-in lookup with the account's disabled state. core.login_lookup() stays as it was for
-- hosts of the previous version (which therefore still let a disabled person sign in: upgrade
-- every host before disabling anyone).
CREATE FUNCTION core.login_account(p_school_slug text, p_username text)
RETURNS TABLE (school_id uuid, account_id uuid, password_hash text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, u.id, u.password_hash, u.disabled_at IS NOT NULL
      FROM core.schools s LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
     WHERE p_school_slug IS NOT NULL AND s.slug = p_school_slug
    UNION ALL
    SELECT NULL, o.id, o.password_hash, false FROM core.operators o
     WHERE p_school_slug IS NULL AND o.username = p_username
$$;
