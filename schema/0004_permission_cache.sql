-- SPDX-License-Identifier: Apache-2.0
-- 0004_permission_cache.sql - the identity check as one query, and what the hosts may cache.
--
-- Computing a caller's permissions (role grants plus the plugins' permission sources) was
-- most of PostgreSQL's work on an authenticated read. It changes rarely, so hosts keep it per
-- session, valid as long as the school's *permission epoch* is the one they saw it at. Every
-- change to what grants permissions in a school takes a new epoch in the same transaction
-- (core.permissions_changed()), and core.request_identity() computes the permissions only when
-- the host's epoch is not the school's current one. The check reads the epoch and the data in
-- one snapshot, so a withdrawn right is gone on the very next request, on every host. The
-- session itself (token, expiry, revocation) is checked on every request; only the
-- permission list is cached.
--
-- begin_request() of 0003 stays, unused by this version, for hosts of the previous version
-- during a rolling upgrade.

CREATE SEQUENCE core.permission_epoch_seq;

-- A school without a row is at epoch 0.
CREATE TABLE core.permission_epochs (
    school_id  uuid PRIMARY KEY REFERENCES core.schools(id) ON DELETE CASCADE,
    epoch      bigint NOT NULL
);
ALTER TABLE core.permission_epochs ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.permission_epochs FORCE ROW LEVEL SECURITY;
-- The request role has no grant on it; it moves only through core.permissions_changed().
CREATE POLICY school_isolation ON core.permission_epochs
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The permission sources whose plugins call core.permissions_changed() whenever what they
-- grant changes (a plugin's migration adds its source here, next to its triggers). Hosts
-- cache permissions only when every registered source is listed.
CREATE TABLE core.permission_source_invalidation (
    source  text PRIMARY KEY CHECK (source ~ '^[a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*$')
);

-- Takes a new permission epoch for @p_school in the calling transaction: the hosts' cached
-- permissions of that school are stale once it commits. Once per school and transaction,
-- however many rows change.
CREATE FUNCTION core.permissions_changed(p_school uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
DECLARE
    mark text := 'atrium.epoch_' || replace(p_school::text, '-', '');
BEGIN
    IF p_school IS NULL OR current_setting(mark, true) = 't' THEN
        RETURN;
    END IF;
    INSERT INTO core.permission_epochs AS e (school_id, epoch)
    SELECT sc.id, nextval('core.permission_epoch_seq') FROM core.schools sc WHERE sc.id = p_school
    ON CONFLICT (school_id) DO UPDATE SET epoch = excluded.epoch;
    PERFORM set_config(mark, 't', true);
END $$;

-- Row trigger for tables with a school_id column whose rows grant permissions; plugins use
-- it for the tables behind their permission sources.
CREATE FUNCTION core.permissions_changed_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM core.permissions_changed(OLD.school_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM core.permissions_changed(NEW.school_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER permissions_changed AFTER INSERT OR UPDATE OR DELETE ON core.role_permissions
    FOR EACH ROW EXECUTE FUNCTION core.permissions_changed_trigger();
CREATE TRIGGER permissions_changed AFTER INSERT OR UPDATE OR DELETE ON core.role_permission_sets
    FOR EACH ROW EXECUTE FUNCTION core.permissions_changed_trigger();
-- A user's roles, or the user gone (a session outliving its user must not keep its rights).
CREATE TRIGGER permissions_changed AFTER UPDATE OF roles, school_id OR DELETE ON core.users
    FOR EACH ROW EXECUTE FUNCTION core.permissions_changed_trigger();

-- The defaults hold for every school without its own set: a change there is every school's.
CREATE FUNCTION core.permission_defaults_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    INSERT INTO core.permission_epochs AS e (school_id, epoch)
    SELECT sc.id, nextval('core.permission_epoch_seq') FROM core.schools sc
    ON CONFLICT (school_id) DO UPDATE SET epoch = excluded.epoch;
    RETURN NULL;
END $$;
CREATE TRIGGER permissions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON core.permission_defaults
    FOR EACH STATEMENT EXECUTE FUNCTION core.permission_defaults_changed();

-- The first statement of every authenticated request: the token, the school, the module, the
-- caller's roles and, unless @p_epoch is the school's current permission epoch, the caller's
-- permissions (NULL when the host's copy is current). The caller's statement sets the
-- row-level-security settings from its row (core/pipeline/handle.c). It only reads, so a read
-- can run READ ONLY: `touch` says the session's last use is over a minute old, and the host
-- then records it with core.session_touch() (a write per request would cost more than it
-- tells). One query, parameters only from the arguments: its plan is cached per connection.
CREATE FUNCTION core.request_identity(p_token_hash bytea, p_school_slug text, p_module text,
                                      p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_scopes text[];
    v_home uuid;
BEGIN
    SELECT v.school_id, v.school_found,
           p_module IS NULL OR (v.school_id IS NOT NULL AND EXISTS (
               SELECT 1 FROM core.school_modules m
                WHERE m.school_id = v.school_id AND m.module = p_module)),
           s.id, s.user_id, s.operator_id,
           CASE WHEN s.user_id IS NOT NULL THEN coalesce(u.roles, '{}') END,
           s.id IS NOT NULL,
           CASE WHEN s.user_id IS NOT NULL THEN coalesce(pe.epoch, 0) END,
           coalesce(s.last_used_at < now() - interval '60 seconds', false),
           s.scopes, s.school_id
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch, v_scopes, v_home
      FROM (SELECT 1) AS one
      LEFT JOIN core.sessions s
             ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash AND s.expires_at > now()
            AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
      LEFT JOIN core.users u ON s.user_id IS NOT NULL AND u.school_id = s.school_id AND u.id = s.user_id
      LEFT JOIN core.permission_epochs pe ON s.user_id IS NOT NULL AND pe.school_id = s.school_id
      LEFT JOIN core.schools sc ON p_school_slug IS NOT NULL AND sc.slug = p_school_slug
      CROSS JOIN LATERAL (
          -- A user of another school must not learn that this one exists.
          SELECT CASE WHEN p_school_slug IS NULL THEN (CASE WHEN s.user_id IS NOT NULL THEN s.school_id END)
                      WHEN s.user_id IS NOT NULL AND s.school_id <> sc.id THEN NULL
                      ELSE sc.id END AS school_id,
                 CASE WHEN p_school_slug IS NULL THEN true
                      ELSE sc.id IS NOT NULL AND NOT (s.user_id IS NOT NULL AND s.school_id <> sc.id)
                 END AS school_found) v;

    IF operator_id IS NOT NULL THEN
        permissions := '{}';
    ELSIF user_id IS NOT NULL AND (p_epoch IS NULL OR p_epoch <> epoch) THEN
        -- The roles' grants and the plugins' (e.g. rights of a group's members), within the
        -- token's scopes. The user's own school: the session's, whatever the slug said.
        permissions := ARRAY(SELECT DISTINCT x.g
                               FROM (SELECT r.g FROM core.role_grants(v_home, roles) r(g)
                                     UNION ALL
                                     SELECT p.g FROM core.plugin_grants(v_home, user_id) p(g)) x
                              WHERE v_scopes IS NULL OR x.g = ANY (v_scopes)
                              ORDER BY 1);
    END IF;
    RETURN NEXT;
END $$;

-- Records a session's use (core.request_identity()'s `touch`), at most once a minute.
CREATE FUNCTION core.session_touch(p_session uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    UPDATE core.sessions SET last_used_at = now()
     WHERE id = p_session AND last_used_at < now() - interval '60 seconds'
$$;
