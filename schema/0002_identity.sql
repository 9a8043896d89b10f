-- SPDX-License-Identifier: Apache-2.0
-- 0002: people, sessions, modules per school, role permissions, audit, sign-in throttling.
--
-- Every school-scoped table carries school_id (first in its primary key, so the schema can be
-- distributed by school later) and a FORCEd row-level-security policy on the transaction's
-- tenant, core.current_school(). The request role reaches the tables that are not school
-- scoped (sessions, operators, throttling) only through the SECURITY DEFINER functions below.

CREATE FUNCTION core.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('atrium.user_id', true), '')::uuid
$$;

CREATE FUNCTION core.is_operator() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('atrium.operator', true), ''), 'false')::boolean
$$;

CREATE TABLE core.operators (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{2,64}$'),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.users (
    school_id      uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    username       text NOT NULL CHECK (username ~ '^[a-z0-9._-]{2,64}$'),
    display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    password_hash  text,
    roles          text[] NOT NULL DEFAULT '{}'
                   CHECK (roles <@ ARRAY['admin','teacher','student','parent','staff']::text[]),
    external_id    text CHECK (length(external_id) BETWEEN 1 AND 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, username),
    UNIQUE (school_id, external_id)
);
CREATE INDEX users_by_name ON core.users (school_id, lower(display_name), id);

CREATE TABLE core.parent_links (
    school_id   uuid NOT NULL,
    parent_id   uuid NOT NULL,
    student_id  uuid NOT NULL,
    PRIMARY KEY (school_id, parent_id, student_id),
    FOREIGN KEY (school_id, parent_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, student_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE,
    CHECK (parent_id <> student_id)
);
CREATE INDEX parent_links_student ON core.parent_links (school_id, student_id);

-- Sign-in sessions and personal access tokens. Only the SHA-256 of a token is stored.
CREATE TABLE core.sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash    bytea NOT NULL UNIQUE,
    kind          text NOT NULL CHECK (kind IN ('session', 'token')),
    school_id     uuid REFERENCES core.schools(id) ON DELETE CASCADE,
    user_id       uuid,
    operator_id   uuid REFERENCES core.operators(id) ON DELETE CASCADE,
    name          text,
    scopes        text[],               -- NULL: everything the account may do
    client        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    idle_timeout  interval,             -- NULL: no idle limit (tokens)
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (operator_id IS NULL)),
    CHECK ((user_id IS NULL) = (school_id IS NULL))
);
CREATE INDEX sessions_by_user ON core.sessions (school_id, user_id);

CREATE TABLE core.school_modules (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    module      text NOT NULL,
    enabled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, module)
);

-- Permission defaults declared by the core and the loaded plugins; refreshed by the host at
-- start (under the migration lock). Not school-scoped.
CREATE TABLE core.permission_defaults (
    permission  text NOT NULL,
    role        text NOT NULL,
    PRIMARY KEY (permission, role)
);
CREATE TABLE core.permissions_known (
    permission  text PRIMARY KEY,
    owner       text NOT NULL,
    description text NOT NULL
);

-- A school that edited a role keeps its own set (role_permission_sets marks the role as
-- customised, so an empty set means "nothing", not "defaults").
CREATE TABLE core.role_permission_sets (
    school_id  uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    role       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, role)
);
CREATE TABLE core.role_permissions (
    school_id   uuid NOT NULL,
    role        text NOT NULL,
    permission  text NOT NULL,
    PRIMARY KEY (school_id, role, permission),
    FOREIGN KEY (school_id, role) REFERENCES core.role_permission_sets(school_id, role)
        ON DELETE CASCADE
);

CREATE TABLE core.audit_log (
    school_id   uuid REFERENCES core.schools(id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id    uuid,
    actor_kind  text NOT NULL CHECK (actor_kind IN ('user', 'operator', 'anonymous', 'system')),
    action      text NOT NULL,
    target      text,
    details     jsonb NOT NULL DEFAULT '{}',
    client      text,
    PRIMARY KEY (id)
);
CREATE INDEX audit_by_school ON core.audit_log (school_id, id DESC);

CREATE TABLE core.login_throttle (
    key           text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL
);

-- Row-level security. Operators (core.is_operator()) see every school's audit; everything else
-- is keyed on the tenant of the transaction.
ALTER TABLE core.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.users FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.users
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

ALTER TABLE core.parent_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.parent_links FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.parent_links
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

ALTER TABLE core.school_modules ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.school_modules FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.school_modules
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

ALTER TABLE core.role_permission_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.role_permission_sets FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.role_permission_sets
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

ALTER TABLE core.role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.role_permissions FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.role_permissions
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

ALTER TABLE core.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.sessions FORCE ROW LEVEL SECURITY;
-- A signed-in person sees and revokes only their own sessions.
CREATE POLICY own_sessions ON core.sessions
    USING ((user_id IS NOT NULL AND school_id = core.current_school()
            AND user_id = core.current_user_id())
        OR (operator_id IS NOT NULL AND core.is_operator()
            AND operator_id = nullif(current_setting('atrium.operator_id', true), '')::uuid));

ALTER TABLE core.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.audit_log
    USING (school_id = core.current_school() OR core.is_operator())
    WITH CHECK (school_id IS NOT DISTINCT FROM core.current_school() OR core.is_operator());

ALTER TABLE core.schools ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.schools FORCE ROW LEVEL SECURITY;
-- Schools: operators manage all; a school's own people see their school.
CREATE POLICY operators_all ON core.schools
    USING (core.is_operator()) WITH CHECK (core.is_operator());
CREATE POLICY own_school ON core.schools FOR SELECT
    USING (id = core.current_school());
-- Renaming by the school's admins (the host checks school.manage first).
CREATE POLICY own_school_update ON core.schools FOR UPDATE
    USING (id = core.current_school()) WITH CHECK (id = core.current_school());

-- Effective permissions of a user in the current school: the role sets (customised or
-- default), plus what permission sources (plugins) grant. Intersected with token scopes by
-- the caller.
-- Neither SECURITY DEFINER nor SET: either would stop PostgreSQL from inlining it into
-- core.begin_request() (measured: half the throughput of an authenticated request). It reads
-- the caller's school's role sets (RLS) and the defaults, both granted to the request role.
CREATE FUNCTION core.role_grants(p_school uuid, p_roles text[]) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT rp.permission FROM core.role_permissions rp
     WHERE rp.school_id = p_school AND rp.role = ANY (p_roles)
    UNION
    SELECT d.permission FROM core.permission_defaults d
     WHERE d.role = ANY (p_roles)
       AND NOT EXISTS (SELECT 1 FROM core.role_permission_sets s
                        WHERE s.school_id = p_school AND s.role = d.role)
$$;

-- The first statement of every authenticated request (pipelined with BEGIN): resolves the
-- token, the school, the module and the caller's permissions, and sets the transaction-local
-- settings row-level security keys on. One round trip for all of it.
CREATE FUNCTION core.begin_request(p_token_hash bytea, p_school_slug text, p_module text,
                                   p_sources text[])
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
DECLARE
    s core.sessions%ROWTYPE;
    v_school uuid;
    v_roles text[];
    v_perms text[] := '{}';
    v_extra text[];
    v_src text;
BEGIN
    token_valid := false;
    IF p_token_hash IS NOT NULL THEN
        SELECT * INTO s FROM core.sessions ss
         WHERE ss.token_hash = p_token_hash AND ss.expires_at > now()
           AND (ss.idle_timeout IS NULL OR ss.last_used_at + ss.idle_timeout > now());
        IF FOUND THEN
            token_valid := true;
            -- Touch at most once a minute: a write per request would cost more than it tells.
            IF s.last_used_at < now() - interval '60 seconds' THEN
                UPDATE core.sessions SET last_used_at = now() WHERE id = s.id;
            END IF;
        END IF;
    END IF;

    IF p_school_slug IS NOT NULL THEN
        SELECT sc.id INTO v_school FROM core.schools sc WHERE sc.slug = p_school_slug;
        school_found := v_school IS NOT NULL;
        -- A user of another school must not learn that this one exists.
        IF school_found AND token_valid AND s.user_id IS NOT NULL AND s.school_id <> v_school THEN
            school_found := false;
            v_school := NULL;
        END IF;
    ELSE
        school_found := true;
        IF token_valid AND s.user_id IS NOT NULL THEN
            v_school := s.school_id;
        END IF;
    END IF;
    school_id := v_school;

    module_enabled := p_module IS NULL OR (v_school IS NOT NULL AND EXISTS (
        SELECT 1 FROM core.school_modules m WHERE m.school_id = v_school AND m.module = p_module));

    IF token_valid THEN
        session_id := s.id;
        user_id := s.user_id;
        operator_id := s.operator_id;
        IF s.user_id IS NOT NULL THEN
            SELECT u.roles INTO v_roles FROM core.users u
             WHERE u.school_id = s.school_id AND u.id = s.user_id;
            roles := coalesce(v_roles, '{}');
            SELECT coalesce(array_agg(g), '{}') INTO v_perms
              FROM core.role_grants(s.school_id, roles) g;
            PERFORM set_config('atrium.user_id', s.user_id::text, true);
        ELSE
            roles := '{}';
            PERFORM set_config('atrium.operator', 'true', true);
            PERFORM set_config('atrium.operator_id', s.operator_id::text, true);
        END IF;
    END IF;
    IF v_school IS NOT NULL THEN
        PERFORM set_config('atrium.school_id', v_school::text, true);
    END IF;

    -- Plugins' permission sources (e.g. rights granted to the members of a group). Names
    -- come from the host's registry, never from a client; quoted anyway.
    IF token_valid AND s.user_id IS NOT NULL AND v_school IS NOT NULL AND p_sources IS NOT NULL THEN
        FOREACH v_src IN ARRAY p_sources LOOP
            EXECUTE format('SELECT coalesce(array_agg(x), ''{}'') FROM %I.%I($1, $2) x',
                           split_part(v_src, '.', 1), split_part(v_src, '.', 2))
               INTO v_extra USING v_school, s.user_id;
            v_perms := v_perms || v_extra;
        END LOOP;
    END IF;

    IF token_valid AND s.scopes IS NOT NULL THEN
        SELECT coalesce(array_agg(p), '{}') INTO v_perms
          FROM unnest(v_perms) p WHERE p = ANY (s.scopes);
    END IF;
    permissions := v_perms;
    RETURN NEXT;
END $$;

-- Sign-in lookups that must work before any school is set.
CREATE FUNCTION core.login_lookup(p_school_slug text, p_username text)
RETURNS TABLE (school_id uuid, account_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    -- The school's id comes back even for an unknown username, so that failed sign-ins are
    -- audited in the school they aimed at.
    SELECT s.id, u.id, u.password_hash
      FROM core.schools s LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
     WHERE p_school_slug IS NOT NULL AND s.slug = p_school_slug
    UNION ALL
    SELECT NULL, o.id, o.password_hash FROM core.operators o
     WHERE p_school_slug IS NULL AND o.username = p_username
$$;

CREATE FUNCTION core.session_create(p_token_hash bytea, p_kind text, p_school uuid,
                                    p_user uuid, p_operator uuid, p_name text, p_scopes text[],
                                    p_client text, p_expires timestamptz, p_idle interval)
RETURNS TABLE (id uuid, expires_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    INSERT INTO core.sessions (token_hash, kind, school_id, user_id, operator_id, name, scopes,
                               client, expires_at, idle_timeout)
    VALUES (p_token_hash, p_kind, p_school, p_user, p_operator, p_name, p_scopes, p_client,
            p_expires, p_idle)
    RETURNING id, expires_at
$$;

CREATE FUNCTION core.set_account_hash(p_school uuid, p_account uuid, p_hash text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    UPDATE core.users SET password_hash = p_hash WHERE p_school IS NOT NULL
       AND school_id = p_school AND id = p_account;
    UPDATE core.operators SET password_hash = p_hash WHERE p_school IS NULL AND id = p_account;
$$;

-- Sign-in throttling: returns seconds to wait (0 = go ahead). Counts failures per key in a
-- fixed window; the key is "user:<school>/<name>" or "addr:<client address>".
CREATE FUNCTION core.throttle_check(p_key text, p_limit integer, p_window interval)
RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT coalesce((
        SELECT greatest(1, ceil(extract(epoch FROM (t.window_start + p_window - now())))::int)
          FROM core.login_throttle t
         WHERE t.key = p_key AND t.failures >= p_limit AND t.window_start + p_window > now()), 0)
$$;

CREATE FUNCTION core.throttle_fail(p_key text, p_window interval) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    INSERT INTO core.login_throttle AS t (key, window_start, failures)
    VALUES (p_key, now(), 1)
    ON CONFLICT (key) DO UPDATE
       SET failures = CASE WHEN t.window_start + p_window > now() THEN t.failures + 1 ELSE 1 END,
           window_start = CASE WHEN t.window_start + p_window > now() THEN t.window_start
                               ELSE now() END
$$;

CREATE FUNCTION core.throttle_clear(p_key text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    DELETE FROM core.login_throttle WHERE key = p_key
$$;

-- Revocation that must reach sessions the caller cannot see (password change by an admin,
-- user deletion).
CREATE FUNCTION core.revoke_user_sessions(p_school uuid, p_user uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    DELETE FROM core.sessions WHERE school_id = p_school AND user_id = p_user
       AND p_school = core.current_school()
$$;

-- Audit entries are written through this function so that events outside any school
-- (operator actions, failed sign-ins of unknown schools) can be recorded too.
CREATE FUNCTION core.audit(p_school uuid, p_actor uuid, p_kind text, p_action text,
                           p_target text, p_details jsonb, p_client text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    INSERT INTO core.audit_log (school_id, actor_id, actor_kind, action, target, details, client)
    VALUES (p_school, p_actor, p_kind, p_action, p_target, coalesce(p_details, '{}'), p_client)
$$;

-- GDPR erasure of a person's traces in the audit log: the entries stay (what happened), the
-- person does not (who did it / to whom).
CREATE FUNCTION core.audit_forget(p_school uuid, p_user uuid, p_username text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    UPDATE core.audit_log SET actor_id = NULL, actor_kind = 'anonymous'
     WHERE school_id = p_school AND actor_id = p_user AND p_school = core.current_school();
    UPDATE core.audit_log SET target = 'erased'
     WHERE school_id = p_school AND target = p_user::text AND p_school = core.current_school();
    UPDATE core.audit_log SET details = details - 'username'
     WHERE school_id = p_school AND details->>'username' = p_username
       AND p_school = core.current_school();
    DELETE FROM core.login_throttle
     WHERE key = 'user:' || (SELECT slug FROM core.schools WHERE id = p_school) || '/' || p_username
       AND p_school = core.current_school();
$$;

-- A person's sessions for their GDPR export (the own_sessions policy hides them from admins).
CREATE FUNCTION core.user_sessions(p_user uuid)
RETURNS TABLE (id uuid, kind text, name text, client text, created_at timestamptz,
               last_used_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, s.kind, s.name, s.client, s.created_at, s.last_used_at, s.expires_at
      FROM core.sessions s WHERE s.school_id = core.current_school() AND s.user_id = p_user
$$;
