-- 0008_dav.sql - WebDAV (core/dav/README.md, issue #18): what HTTP Basic needs before any school is set.
--
-- core.dav_account() is the Basic sign-in lookup: the account of a username in a school, its
-- password hash and disabled state, and whether the secret given (its SHA-256, as tokens are
-- stored) is a live personal access token of that very account. Tokens are thus checked in
-- the database on every request: a revoked one fails at once.
CREATE FUNCTION core.dav_account(p_school_slug text, p_username text, p_token_hash bytea)
RETURNS TABLE (school_id uuid, account_id uuid, password_hash text, disabled boolean,
               token_valid boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, u.id, u.password_hash, u.disabled_at IS NOT NULL,
           u.id IS NOT NULL AND EXISTS (
               SELECT 1 FROM core.sessions t
                WHERE t.token_hash = p_token_hash AND t.kind = 'token' AND t.school_id = s.id
                  AND t.user_id = u.id AND t.expires_at > now())
      FROM core.schools s LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
     WHERE s.slug = p_school_slug
$$;

-- The identity check of a request whose caller the host authenticated with a password (HTTP
-- Basic): the same row as core.request_identity() gives for a token, for user @p_user of the
-- school @p_school_slug, with no session (nothing to touch) and no token scopes. The host
-- calls it only after it verified the password; the caller's statement sets the
-- row-level-security settings from its row, as for every request (core/pipeline/handle.c).
CREATE FUNCTION core.request_identity_user(p_user uuid, p_school_slug text, p_module text,
                                           p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    SELECT sc.id, true,
           p_module IS NULL OR EXISTS (SELECT 1 FROM core.school_modules m
                                        WHERE m.school_id = sc.id AND m.module = p_module),
           NULL::uuid, u.id, NULL::uuid, coalesce(u.roles, '{}'), true,
           coalesce(pe.epoch, 0), false
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch
      FROM core.schools sc
      JOIN core.users u ON u.school_id = sc.id AND u.id = p_user AND u.disabled_at IS NULL
      LEFT JOIN core.permission_epochs pe ON pe.school_id = sc.id
     WHERE sc.slug = p_school_slug;
    IF NOT FOUND THEN
        school_found := false;
        module_enabled := false;
        token_valid := false;
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_epoch IS NULL OR p_epoch <> epoch THEN
        permissions := ARRAY(SELECT DISTINCT x.g
                               FROM (SELECT r.g FROM core.role_grants(school_id, roles) r(g)
                                     UNION ALL
                                     SELECT p.g FROM core.plugin_grants(school_id, user_id) p(g)) x
                              ORDER BY 1);
    END IF;
    RETURN NEXT;
END $$;

-- Dead properties (PROPPATCH, RFC 4918 9.2): per resource of a tree, keyed on the stable id
-- the tree gives it (AtriumDavResource.id), so they follow a MOVE and a rename. @value is the
-- whole property element as XML, with the namespace declarations it needs, so namespaced and
-- mixed content, xml:lang and any Unicode come back exactly as they were set.
CREATE TABLE core.dav_properties (
    school_id    uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    tree         text NOT NULL,
    resource_id  text NOT NULL CHECK (length(resource_id) BETWEEN 1 AND 200),
    ns           text NOT NULL CHECK (length(ns) <= 1024),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 1024),
    value        text NOT NULL,
    PRIMARY KEY (school_id, tree, resource_id, ns, name)
);
ALTER TABLE core.dav_properties ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.dav_properties FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.dav_properties
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- WebDAV locks (RFC 4918 6-7), in the database so every host of an installation sees them.
-- A lock is on a path, not on a resource id: a path that does not exist yet can be locked
-- (davfs2 and Windows create files that way), and a MOVE leaves the lock behind (RFC 4918
-- 7.7). @path is the tree's canonical path (AtriumDavTree.canonical: "user:<id>/a/b.txt"
-- for a home, the same for every caller), @href the URL the lock was taken on (lockroot).
-- Expired locks are ignored by every query and deleted lazily.
CREATE TABLE core.dav_locks (
    school_id       uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    token           text NOT NULL CHECK (length(token) BETWEEN 1 AND 200),
    tree            text NOT NULL,
    path            text NOT NULL,
    href            text NOT NULL,
    depth_infinity  boolean NOT NULL,
    exclusive       boolean NOT NULL,
    owner_xml       text,
    user_id         uuid NOT NULL,
    timeout_seconds integer NOT NULL CHECK (timeout_seconds > 0),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, token),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
CREATE INDEX dav_locks_by_path ON core.dav_locks (school_id, tree, path);
ALTER TABLE core.dav_locks ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.dav_locks FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.dav_locks
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
