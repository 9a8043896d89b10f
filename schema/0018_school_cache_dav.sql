-- SPDX-License-Identifier: Apache-2.0
-- 0018_school_cache_dav.sql - the kept school for WebDAV callers who sign in with a password.
--
-- A WebDAV client that sends a password (Finder, Windows, GNOME; dav-auth.c verifies it and
-- keeps the verification a minute) is checked by core.request_identity_user(), which joined
-- the schools and asked about the module on every request as core.request_identity() did
-- before 0017. core.request_identity_user_at() takes the school the host keeps for {school}
-- and the module with the school's epoch (core/pipeline/school-cache.c), uses them while the
-- epoch is still the school's and resolves the school anew otherwise, and returns the
-- school's epoch, as core.request_identity_at() does for tokens. A person no longer of the
-- school (or disabled) is no caller, as before. core.request_identity_user() stays for hosts
-- of the previous version.

CREATE FUNCTION core.request_identity_user_at(p_user uuid, p_school_slug text, p_module text,
                                              p_epoch bigint, p_school uuid,
                                              p_school_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean,
               must_change boolean, must_enrol boolean, username text,
               school_epoch bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    IF p_school IS NOT NULL THEN
        -- The school the host kept, its epoch now, and the person in it.
        SELECT u.id, coalesce(u.roles, '{}'), coalesce(u.must_change_password, false),
               coalesce(u.must_enrol_totp, false), u.username, t.epoch
          INTO user_id, roles, must_change, must_enrol, username, school_epoch
          FROM core.permission_epochs t
          LEFT JOIN core.users u
                 ON u.school_id = t.school_id AND u.id = p_user AND u.disabled_at IS NULL
         WHERE t.school_id = p_school;
    END IF;
    IF p_school IS NOT NULL AND school_epoch = p_school_epoch THEN
        IF user_id IS NULL THEN
            school_found := false;
            module_enabled := false;
            token_valid := false;
            RETURN NEXT;
            RETURN;
        END IF;
        school_id := p_school;
        school_found := true;
        module_enabled := true;
        token_valid := true;
        epoch := school_epoch;
        touch := false;
    ELSE
        SELECT sc.id, true,
               p_module IS NULL OR EXISTS (SELECT 1 FROM core.school_modules m
                                            WHERE m.school_id = sc.id AND m.module = p_module),
               NULL::uuid, u.id, NULL::uuid, coalesce(u.roles, '{}'), true,
               coalesce(pe.epoch, 0), false, u.must_change_password, u.must_enrol_totp,
               u.username
          INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
               token_valid, epoch, touch, must_change, must_enrol, username
          FROM core.schools sc
          JOIN core.users u ON u.school_id = sc.id AND u.id = p_user AND u.disabled_at IS NULL
          LEFT JOIN core.permission_epochs pe ON pe.school_id = sc.id
         WHERE sc.slug = p_school_slug;
        IF NOT FOUND THEN
            school_found := false;
            module_enabled := false;
            token_valid := false;
            school_epoch := NULL;
            RETURN NEXT;
            RETURN;
        END IF;
        -- The school's epoch, for the host to keep with the school (0017: every school has one).
        school_epoch := CASE WHEN module_enabled AND epoch > 0 THEN epoch END;
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
