-- SPDX-License-Identifier: Apache-2.0
-- 0017_school_cache.sql - hosts keep which school a {school} names and that its module is on.
--
-- Every request under /api/v1/schools/{school}/ (and every WebDAV one) resolved the slug and
-- asked whether the route's module is enabled: a join of core.schools and an EXISTS on
-- core.school_modules in the identity check, built and run per request for an answer that
-- changes a few times a year. A host now keeps it (core/pipeline/school-cache.c) with the
-- school's epoch it saw, and sends both: core.request_identity_at() uses them when the epoch
-- is still the school's, and resolves the school anew otherwise. Every change to a school's
-- slug or modules takes a new epoch in its transaction (the permission epoch of 0004, which
-- already moves with every change of rights), so a module switched off is gone on the very
-- next request, on every host; a school deleted takes its epoch row with it. Every school
-- has an epoch row from now on, so that the row confirms a host's school.
--
-- Measured with pgbench on the check alone (a pipeline of BEGIN READ ONLY, the call and
-- COMMIT, -M prepared, four clients, PostgreSQL's CPU per transaction from /proc, four
-- alternating pairs, a school route's slug and module): 77-102 µs resolving the school,
-- 59-81 confirming the host's.
--
-- core.request_identity() stays, for hosts of the previous version during an upgrade.

INSERT INTO core.permission_epochs (school_id, epoch)
SELECT id, nextval('core.permission_epoch_seq') FROM core.schools
ON CONFLICT (school_id) DO NOTHING;

-- A new school, a slug changed, a module switched on or off: a new epoch for the school.
CREATE FUNCTION core.school_changed_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM core.permissions_changed(NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER school_changed AFTER INSERT OR UPDATE OF slug ON core.schools
    FOR EACH ROW EXECUTE FUNCTION core.school_changed_trigger();
CREATE TRIGGER permissions_changed AFTER INSERT OR UPDATE OR DELETE ON core.school_modules
    FOR EACH ROW EXECUTE FUNCTION core.permissions_changed_trigger();

CREATE FUNCTION core.request_identity_at(p_token_hash bytea, p_school_slug text,
                                         p_module text, p_epoch bigint, p_school uuid,
                                         p_school_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean,
               must_change boolean, must_enrol boolean, username text,
               school_epoch bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_scopes text[];
    v_home uuid;
    v_school uuid;
    v_other boolean;
BEGIN
    IF p_school IS NOT NULL AND p_school_slug IS NOT NULL THEN
        -- The school the host resolved {school} and the module to before, with the school's
        -- epoch then: the session, its person, and the school's epoch now, which is also the
        -- caller's permission epoch (a person of another school is refused below).
        SELECT s.id, s.user_id, s.operator_id,
               CASE WHEN s.user_id IS NOT NULL THEN coalesce(u.roles, '{}') END,
               s.id IS NOT NULL,
               CASE WHEN s.user_id IS NOT NULL THEN coalesce(t.epoch, 0) END,
               coalesce(s.last_used_at < now() - interval '60 seconds', false),
               s.scopes, s.school_id, coalesce(u.must_change_password, false),
               coalesce(u.must_enrol_totp, false), u.username, t.epoch
          INTO session_id, user_id, operator_id, roles, token_valid, epoch, touch, v_scopes,
               v_home, must_change, must_enrol, username, school_epoch
          FROM (SELECT 1) AS one
          LEFT JOIN (core.sessions s
                     LEFT JOIN core.users u ON u.school_id = s.school_id AND u.id = s.user_id)
                 ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash
                AND s.expires_at > now()
                AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
                AND (s.user_id IS NULL OR u.disabled_at IS NULL)
          LEFT JOIN core.permission_epochs t ON t.school_id = p_school;
    END IF;
    IF p_school IS NOT NULL AND p_school_slug IS NOT NULL AND school_epoch = p_school_epoch THEN
        -- Nothing about the school changed since: the slug still names it, the module is
        -- still on. A person of another school finds no such school, as below.
        v_other := user_id IS NOT NULL AND v_home <> p_school;
        school_id := CASE WHEN v_other THEN NULL ELSE p_school END;
        school_found := NOT v_other;
        module_enabled := p_module IS NULL OR NOT v_other;
    ELSIF p_school_slug IS NULL AND p_module IS NULL THEN
        -- No {school} and no module (GET /api/v1/me, the operator's routes): the session, its
        -- person and the school's epoch; what the query below adds is constant here.
        SELECT CASE WHEN s.user_id IS NOT NULL THEN s.school_id END, true, true,
               s.id, s.user_id, s.operator_id,
               CASE WHEN s.user_id IS NOT NULL THEN coalesce(u.roles, '{}') END,
               s.id IS NOT NULL,
               CASE WHEN s.user_id IS NOT NULL THEN coalesce(pe.epoch, 0) END,
               coalesce(s.last_used_at < now() - interval '60 seconds', false),
               s.scopes, s.school_id, coalesce(u.must_change_password, false),
               coalesce(u.must_enrol_totp, false), u.username
          INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
               token_valid, epoch, touch, v_scopes, v_home, must_change, must_enrol, username
          FROM (SELECT 1) AS one
          LEFT JOIN (core.sessions s
                     LEFT JOIN core.users u ON u.school_id = s.school_id AND u.id = s.user_id)
                 ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash
                AND s.expires_at > now()
                AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
                AND (s.user_id IS NULL OR u.disabled_at IS NULL)
          LEFT JOIN core.permission_epochs pe
                 ON s.user_id IS NOT NULL AND pe.school_id = s.school_id;
        school_epoch := NULL;
    ELSE
        SELECT v.school_id, v.school_found,
               p_module IS NULL OR (v.school_id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM core.school_modules m
                    WHERE m.school_id = v.school_id AND m.module = p_module)),
               s.id, s.user_id, s.operator_id,
               CASE WHEN s.user_id IS NOT NULL THEN coalesce(u.roles, '{}') END,
               s.id IS NOT NULL,
               CASE WHEN s.user_id IS NOT NULL THEN coalesce(pe.epoch, 0) END,
               coalesce(s.last_used_at < now() - interval '60 seconds', false),
               s.scopes, s.school_id, coalesce(u.must_change_password, false),
               coalesce(u.must_enrol_totp, false), u.username
          INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
               token_valid, epoch, touch, v_scopes, v_home, must_change, must_enrol, username
          FROM (SELECT 1) AS one
          LEFT JOIN (core.sessions s
                     LEFT JOIN core.users u ON u.school_id = s.school_id AND u.id = s.user_id)
                 ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash AND s.expires_at > now()
                AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
                AND (s.user_id IS NULL OR u.disabled_at IS NULL)
          LEFT JOIN core.permission_epochs pe ON s.user_id IS NOT NULL AND pe.school_id = s.school_id
          LEFT JOIN core.schools sc ON p_school_slug IS NOT NULL AND sc.slug = p_school_slug
          CROSS JOIN LATERAL (
              SELECT CASE WHEN p_school_slug IS NULL THEN (CASE WHEN s.user_id IS NOT NULL THEN s.school_id END)
                          WHEN s.user_id IS NOT NULL AND s.school_id <> sc.id THEN NULL
                          ELSE sc.id END AS school_id,
                     CASE WHEN p_school_slug IS NULL THEN true
                          ELSE sc.id IS NOT NULL AND NOT (s.user_id IS NOT NULL AND s.school_id <> sc.id)
                     END AS school_found) v;
        -- The school's epoch, for the host to keep with the school.
        v_school := school_id;
        school_epoch := (SELECT t.epoch FROM core.permission_epochs t
                          WHERE school_found AND module_enabled AND t.school_id = v_school);
    END IF;

    IF operator_id IS NOT NULL THEN
        permissions := '{}';
    ELSIF user_id IS NOT NULL AND (p_epoch IS NULL OR p_epoch <> epoch) THEN
        permissions := ARRAY(SELECT DISTINCT x.g
                               FROM (SELECT r.g FROM core.role_grants(v_home, roles) r(g)
                                     UNION ALL
                                     SELECT p.g FROM core.plugin_grants(v_home, user_id) p(g)) x
                              WHERE v_scopes IS NULL OR x.g = ANY (v_scopes)
                              ORDER BY 1);
    END IF;
    RETURN NEXT;
END $$;
