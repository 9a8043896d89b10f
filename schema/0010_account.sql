-- SPDX-License-Identifier: Apache-2.0
-- 0010_account.sql - the sign-in lifecycle (issue #20): forced password changes and
-- activation codes.
--
-- core.users.must_change_password marks an account whose password someone else set (a
-- teacher's or an admin's reset): every session of that person may only change the password
-- until it is changed. The identity check returns the flag, so the host refuses everything
-- else in the same round trip it already makes (core/pipeline/handle.c); the two identity
-- functions are the 0007/0008 ones with one more column (a changed result type needs DROP).
--
-- core.activation_codes holds one-time codes an admin prints for a class, a group or a list
-- of people. Only SHA-256 of a code is stored: a code carries 80 random bits, so the hash
-- cannot be reversed by guessing, salted or not (docs/ACCOUNTS.md). Redeeming happens before
-- anyone is signed in, so it goes through the definer function core.activation_find().

ALTER TABLE core.users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
-- Set at sign-in when the school's policy wants a second factor for one of the person's roles
-- and they have none; cleared when they turn one on. Like must_change_password, the identity
-- check returns it and the host then lets only the enrolment through.
ALTER TABLE core.users ADD COLUMN must_enrol_totp boolean NOT NULL DEFAULT false;

-- A school's sign-in policy: the roles that must use a second factor.
CREATE TABLE core.account_policy (
    school_id   uuid PRIMARY KEY REFERENCES core.schools(id) ON DELETE CASCADE,
    totp_roles  text[] NOT NULL DEFAULT '{}'
                CHECK (totp_roles <@ ARRAY['admin','teacher','student','parent','staff']::text[]),
    -- "Remember this device": days a device that passed the second factor may skip it (0: never).
    remember_days integer NOT NULL DEFAULT 0 CHECK (remember_days BETWEEN 0 AND 90),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE core.account_policy ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.account_policy FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.account_policy
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

CREATE TABLE core.activation_codes (
    school_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL,
    code_hash   bytea NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, code_hash),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
CREATE INDEX activation_codes_by_user ON core.activation_codes (school_id, user_id);

ALTER TABLE core.activation_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.activation_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.activation_codes
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The unused, unexpired code @p_code_hash of @p_username in school @p_school_slug: its id and
-- the account, or no row. The school's id comes back alone (account NULL) when the school
-- exists but the code does not fit, so that the failure is audited in that school.
CREATE FUNCTION core.activation_find(p_school_slug text, p_username text, p_code_hash bytea)
RETURNS TABLE (school_id uuid, user_id uuid, code_id uuid, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, c.user_id, c.id, u.disabled_at IS NOT NULL
      FROM core.schools s
      LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
      LEFT JOIN core.activation_codes c
             ON c.school_id = s.id AND c.user_id = u.id AND c.code_hash = p_code_hash
            AND c.used_at IS NULL AND c.expires_at > now()
     WHERE s.slug = p_school_slug
$$;

-- Ends every session of a person but @p_keep (a password change ends the others).
CREATE FUNCTION core.revoke_other_sessions(p_school uuid, p_user uuid, p_keep uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    DELETE FROM core.sessions WHERE school_id = p_school AND user_id = p_user
       AND id IS DISTINCT FROM p_keep AND p_school = core.current_school()
$$;

DROP FUNCTION core.request_identity(bytea, text, text, bigint);
CREATE FUNCTION core.request_identity(p_token_hash bytea, p_school_slug text, p_module text,
                                      p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean,
               must_change boolean, must_enrol boolean)
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
           s.scopes, s.school_id, coalesce(u.must_change_password, false),
           coalesce(u.must_enrol_totp, false)
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch, v_scopes, v_home, must_change, must_enrol
      FROM (SELECT 1) AS one
      LEFT JOIN core.sessions s
             ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash AND s.expires_at > now()
            AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
            AND (s.user_id IS NULL OR NOT EXISTS (
                     SELECT 1 FROM core.users d
                      WHERE d.school_id = s.school_id AND d.id = s.user_id
                        AND d.disabled_at IS NOT NULL))
      LEFT JOIN core.users u ON s.user_id IS NOT NULL AND u.school_id = s.school_id AND u.id = s.user_id
      LEFT JOIN core.permission_epochs pe ON s.user_id IS NOT NULL AND pe.school_id = s.school_id
      LEFT JOIN core.schools sc ON p_school_slug IS NOT NULL AND sc.slug = p_school_slug
      CROSS JOIN LATERAL (
          SELECT CASE WHEN p_school_slug IS NULL THEN (CASE WHEN s.user_id IS NOT NULL THEN s.school_id END)
                      WHEN s.user_id IS NOT NULL AND s.school_id <> sc.id THEN NULL
                      ELSE sc.id END AS school_id,
                 CASE WHEN p_school_slug IS NULL THEN true
                      ELSE sc.id IS NOT NULL AND NOT (s.user_id IS NOT NULL AND s.school_id <> sc.id)
                 END AS school_found) v;

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

DROP FUNCTION core.request_identity_user(uuid, text, text, bigint);
CREATE FUNCTION core.request_identity_user(p_user uuid, p_school_slug text, p_module text,
                                           p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean,
               must_change boolean, must_enrol boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    SELECT sc.id, true,
           p_module IS NULL OR EXISTS (SELECT 1 FROM core.school_modules m
                                        WHERE m.school_id = sc.id AND m.module = p_module),
           NULL::uuid, u.id, NULL::uuid, coalesce(u.roles, '{}'), true,
           coalesce(pe.epoch, 0), false, u.must_change_password, u.must_enrol_totp
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch, must_change, must_enrol
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

-- A second factor: TOTP (RFC 6238). The shared secret must be readable to check a code, so
-- it cannot be hashed; the request role may not read it (no grant on the column) and reaches
-- it only through core.totp_secret(), for the caller's own school. last_step is the last time
-- step a code was accepted for: a code is never accepted twice (replay).
CREATE TABLE core.totp (
    school_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    secret      bytea NOT NULL CHECK (length(secret) = 20),
    enabled     boolean NOT NULL DEFAULT false,
    last_step   bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, user_id),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
ALTER TABLE core.totp ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.totp FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.totp
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Recovery codes: 80 random bits each, stored as SHA-256 (like activation codes).
CREATE TABLE core.totp_recovery (
    school_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    code_hash   bytea NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (school_id, user_id, code_hash),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
ALTER TABLE core.totp_recovery ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.totp_recovery FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.totp_recovery
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Between the password and the code: a short-lived pending sign-in, not a session (it opens
-- nothing but the second step). Only its token's SHA-256 is stored; reached through the
-- definer functions below (no grant).
CREATE TABLE core.login_pending (
    school_id   uuid NOT NULL,
    token_hash  bytea NOT NULL,
    user_id     uuid NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (school_id, token_hash),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
-- The second step knows only the token (its school comes from the row).
CREATE INDEX login_pending_by_token ON core.login_pending (token_hash);
CREATE INDEX login_pending_by_expiry ON core.login_pending (expires_at);
REVOKE ALL ON core.login_pending FROM PUBLIC;
ALTER TABLE core.login_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.login_pending FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.login_pending
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

CREATE FUNCTION core.totp_enabled(p_school uuid, p_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT coalesce((SELECT t.enabled FROM core.totp t
                      WHERE t.school_id = p_school AND t.user_id = p_user), false)
$$;

CREATE FUNCTION core.totp_secret(p_user uuid) RETURNS bytea
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT t.secret FROM core.totp t
     WHERE t.school_id = core.current_school() AND t.user_id = p_user
$$;

CREATE FUNCTION core.login_pending_create(p_token_hash bytea, p_school uuid, p_user uuid,
                                          p_life interval) RETURNS timestamptz
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    DELETE FROM core.login_pending WHERE expires_at < now();
    INSERT INTO core.login_pending (token_hash, school_id, user_id, expires_at)
    VALUES (p_token_hash, p_school, p_user, now() + p_life) RETURNING expires_at
$$;

-- The pending sign-in of @p_token_hash, if it has not expired: its school (id and slug),
-- person and username. With @p_consume, it is deleted (the second step succeeded).
CREATE FUNCTION core.login_pending_find(p_token_hash bytea, p_consume boolean)
RETURNS TABLE (school_id uuid, slug text, user_id uuid, username text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT p.school_id, s.slug, p.user_id, u.username
      FROM core.login_pending p
      JOIN core.schools s ON s.id = p.school_id
      JOIN core.users u ON u.school_id = p.school_id AND u.id = p.user_id
     WHERE p.token_hash = p_token_hash AND p.expires_at > now() AND u.disabled_at IS NULL;
    IF p_consume THEN
        DELETE FROM core.login_pending WHERE token_hash = p_token_hash;
    END IF;
END $$;

-- At a password sign-in of a person without a second factor: whether the school's policy wants
-- one for their roles; the answer is kept in core.users.must_enrol_totp.
CREATE FUNCTION core.totp_policy_apply(p_school uuid, p_user uuid) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    UPDATE core.users u SET must_enrol_totp = EXISTS (
               SELECT 1 FROM core.account_policy p
                WHERE p.school_id = p_school AND p.totp_roles && u.roles)
            AND NOT core.totp_enabled(p_school, p_user)
     WHERE u.school_id = p_school AND u.id = p_user
    RETURNING u.must_enrol_totp
$$;

-- Remembered devices: a device that passed the second factor with "remember this device" holds
-- a random token (a cookie, or kept by a bearer client); only its SHA-256 is stored. A new
-- password (own change, reset, activation) forgets them all.
CREATE TABLE core.totp_devices (
    school_id   uuid NOT NULL,
    token_hash  bytea NOT NULL,
    user_id     uuid NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (school_id, token_hash),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
CREATE INDEX totp_devices_by_user ON core.totp_devices (school_id, user_id);
ALTER TABLE core.totp_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.totp_devices FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.totp_devices
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Whether @p_token_hash is a live remembered device of that person, while the school still
-- allows remembering (sign-in, before the school is set).
CREATE FUNCTION core.totp_device_valid(p_school uuid, p_user uuid, p_token_hash bytea)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM core.totp_devices d
                     JOIN core.account_policy p ON p.school_id = d.school_id
                    WHERE d.school_id = p_school AND d.user_id = p_user
                      AND d.token_hash = p_token_hash AND d.expires_at > now()
                      AND p.remember_days > 0)
$$;
