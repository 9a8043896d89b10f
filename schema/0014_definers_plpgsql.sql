-- 0014_definers_plpgsql.sql - the core's definer functions in PL/pgSQL, so their plans are kept.
--
-- A LANGUAGE sql function that PostgreSQL cannot inline (SECURITY DEFINER or a SET clause, as
-- every function below has) is parsed and planned again each time the statement calling it
-- runs: the plan lives only as long as that statement's executor, and the host's prepared
-- statements start a new one per request. PL/pgSQL keeps its plans for the connection's life.
-- Measured on the profiling host (pgbench -M prepared, two clients, PostgreSQL's CPU per
-- transaction from /proc): the sign-in's two throttle checks 201-216 -> 45 µs; the sign-in's
-- account lookup 217-234 -> 54-68 µs; an audit entry (in BEGIN ... ROLLBACK, 53-59 µs of it
-- the transaction) 186-196 -> 147 µs. A sign-in calls five of them, every audited write one.
--
-- Same names, arguments, results, volatility, owner and grants (CREATE OR REPLACE keeps the
-- last two); only the language and, where a query names a column its result also names, the
-- table alias or `#variable_conflict use_column` PL/pgSQL needs. A query that finds no row
-- still gives NULL (a scalar) or no row (a table), as the SQL functions did.

CREATE OR REPLACE FUNCTION core.activation_find(p_school_slug text, p_username text,
                                                p_code_hash bytea)
RETURNS TABLE (school_id uuid, user_id uuid, code_id uuid, disabled boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, c.user_id, c.id, u.disabled_at IS NOT NULL
      FROM core.schools s
      LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
      LEFT JOIN core.activation_codes c
             ON c.school_id = s.id AND c.user_id = u.id AND c.code_hash = p_code_hash
            AND c.used_at IS NULL AND c.expires_at > now()
     WHERE s.slug = p_school_slug;
END $$;

CREATE OR REPLACE FUNCTION core.audit(p_school uuid, p_actor uuid, p_kind text, p_action text,
                                      p_target text, p_details jsonb, p_client text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    INSERT INTO core.audit_log (school_id, actor_id, actor_kind, action, target, details, client)
    VALUES (p_school, p_actor, p_kind, p_action, p_target, coalesce(p_details, '{}'), p_client);
END $$;

CREATE OR REPLACE FUNCTION core.audit_forget(p_school uuid, p_user uuid, p_username text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
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
END $$;

CREATE OR REPLACE FUNCTION core.dav_account(p_school_slug text, p_username text,
                                            p_token_hash bytea)
RETURNS TABLE (school_id uuid, account_id uuid, password_hash text, disabled boolean,
               token_valid boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, u.id, u.password_hash, u.disabled_at IS NOT NULL,
           u.id IS NOT NULL AND EXISTS (
               SELECT 1 FROM core.sessions t
                WHERE t.token_hash = p_token_hash AND t.kind = 'token' AND t.school_id = s.id
                  AND t.user_id = u.id AND t.expires_at > now())
      FROM core.schools s LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
     WHERE s.slug = p_school_slug;
END $$;

CREATE OR REPLACE FUNCTION core.event_outbox_counts(OUT pending bigint, OUT failed bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    SELECT count(*) FILTER (WHERE o.failed_at IS NULL),
           count(*) FILTER (WHERE o.failed_at IS NOT NULL)
      INTO pending, failed
      FROM core.event_outbox o;
END $$;

CREATE OR REPLACE FUNCTION core.event_outbox_due(p_limit integer)
RETURNS TABLE (school_id uuid, id uuid, subscriber text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT o.school_id, o.id, o.subscriber FROM core.event_outbox o
     WHERE o.failed_at IS NULL AND o.next_attempt_at <= now()
     ORDER BY o.next_attempt_at LIMIT p_limit;
END $$;

CREATE OR REPLACE FUNCTION core.event_outbox_next_due()
RETURNS double precision
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN (SELECT extract(epoch FROM min(o.next_attempt_at) - now())::double precision
              FROM core.event_outbox o WHERE o.failed_at IS NULL);
END $$;

CREATE OR REPLACE FUNCTION core.login_account(p_school_slug text, p_username text)
RETURNS TABLE (school_id uuid, account_id uuid, password_hash text, disabled boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, u.id, u.password_hash, u.disabled_at IS NOT NULL
      FROM core.schools s LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
     WHERE p_school_slug IS NOT NULL AND s.slug = p_school_slug
    UNION ALL
    SELECT NULL, o.id, o.password_hash, false FROM core.operators o
     WHERE p_school_slug IS NULL AND o.username = p_username;
END $$;

-- (For hosts older than 0006; the school's id comes back even for an unknown username, so
-- that failed sign-ins are audited in the school they aimed at.)
CREATE OR REPLACE FUNCTION core.login_lookup(p_school_slug text, p_username text)
RETURNS TABLE (school_id uuid, account_id uuid, password_hash text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, u.id, u.password_hash
      FROM core.schools s LEFT JOIN core.users u ON u.school_id = s.id AND u.username = p_username
     WHERE p_school_slug IS NOT NULL AND s.slug = p_school_slug
    UNION ALL
    SELECT NULL, o.id, o.password_hash FROM core.operators o
     WHERE p_school_slug IS NULL AND o.username = p_username;
END $$;

CREATE OR REPLACE FUNCTION core.login_pending_create(p_token_hash bytea, p_school uuid,
                                                     p_user uuid, p_life interval)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
DECLARE
    v_expires timestamptz;
BEGIN
    DELETE FROM core.login_pending WHERE expires_at < now();
    INSERT INTO core.login_pending (token_hash, school_id, user_id, expires_at)
    VALUES (p_token_hash, p_school, p_user, now() + p_life) RETURNING expires_at INTO v_expires;
    RETURN v_expires;
END $$;

CREATE OR REPLACE FUNCTION core.oidc_browser_session(p_token_hash bytea)
RETURNS TABLE (session_id uuid, user_id uuid, auth_time timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, s.user_id, s.created_at
      FROM core.sessions s
      JOIN core.users u ON u.school_id = s.school_id AND u.id = s.user_id
     WHERE s.token_hash = p_token_hash AND s.kind = 'session'
       AND s.school_id = core.current_school() AND s.expires_at > now()
       AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
       AND u.disabled_at IS NULL;
END $$;

CREATE OR REPLACE FUNCTION core.oidc_end_browser_session(p_token_hash bytea)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    DELETE FROM core.sessions
     WHERE token_hash = p_token_hash AND kind = 'session' AND school_id = core.current_school();
END $$;

CREATE OR REPLACE FUNCTION core.oidc_jwks(p_keep interval)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT k.public_jwk FROM core.oidc_keys k
     WHERE k.retired_at IS NULL OR k.retired_at + p_keep > now()
     ORDER BY k.created_at DESC, k.kid;
END $$;

CREATE OR REPLACE FUNCTION core.reset_accounts(p_school_slug text, p_login text)
RETURNS TABLE (school_id uuid, school_name text, user_id uuid, username text,
               display_name text, email text, disabled boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, s.name, u.id, u.username, u.display_name, u.email, u.disabled_at IS NOT NULL
      FROM core.schools s
      LEFT JOIN LATERAL (
            SELECT * FROM core.users u
             WHERE u.school_id = s.id AND u.email IS NOT NULL
               AND (u.username = p_login OR lower(u.email) = lower(p_login))
             ORDER BY u.username LIMIT 10) u ON true
     WHERE s.slug = p_school_slug;
END $$;

CREATE OR REPLACE FUNCTION core.reset_link_find(p_school_slug text, p_token_hash bytea)
RETURNS TABLE (school_id uuid, link_id uuid, user_id uuid, username text, disabled boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, l.id, u.id, u.username, u.disabled_at IS NOT NULL
      FROM core.schools s
      JOIN core.reset_links l ON l.school_id = s.id AND l.token_hash = p_token_hash
                             AND l.used_at IS NULL AND l.expires_at > now()
      JOIN core.users u ON u.school_id = s.id AND u.id = l.user_id
     WHERE s.slug = p_school_slug;
END $$;

CREATE OR REPLACE FUNCTION core.revoke_other_sessions(p_school uuid, p_user uuid, p_keep uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    DELETE FROM core.sessions WHERE school_id = p_school AND user_id = p_user
       AND id IS DISTINCT FROM p_keep AND p_school = core.current_school();
END $$;

CREATE OR REPLACE FUNCTION core.revoke_user_sessions(p_school uuid, p_user uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    DELETE FROM core.sessions WHERE school_id = p_school AND user_id = p_user
       AND p_school = core.current_school();
END $$;

CREATE OR REPLACE FUNCTION core.session_create(p_token_hash bytea, p_kind text, p_school uuid,
                                               p_user uuid, p_operator uuid, p_name text,
                                               p_scopes text[], p_client text,
                                               p_expires timestamptz, p_idle interval)
RETURNS TABLE (id uuid, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    INSERT INTO core.sessions AS s (token_hash, kind, school_id, user_id, operator_id, name,
                                    scopes, client, expires_at, idle_timeout)
    VALUES (p_token_hash, p_kind, p_school, p_user, p_operator, p_name, p_scopes, p_client,
            p_expires, p_idle)
    RETURNING s.id, s.expires_at INTO id, expires_at;
    RETURN NEXT;
END $$;

CREATE OR REPLACE FUNCTION core.session_touch(p_session uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    UPDATE core.sessions SET last_used_at = now()
     WHERE id = p_session AND last_used_at < now() - interval '60 seconds';
END $$;

CREATE OR REPLACE FUNCTION core.set_account_hash(p_school uuid, p_account uuid, p_hash text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    UPDATE core.users SET password_hash = p_hash WHERE p_school IS NOT NULL
       AND school_id = p_school AND id = p_account;
    UPDATE core.operators SET password_hash = p_hash WHERE p_school IS NULL AND id = p_account;
END $$;

CREATE OR REPLACE FUNCTION core.throttle_check(p_key text, p_limit integer, p_window interval)
RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN coalesce((
        SELECT greatest(1, ceil(extract(epoch FROM (t.window_start + p_window - now())))::int)
          FROM core.login_throttle t
         WHERE t.key = p_key AND t.failures >= p_limit AND t.window_start + p_window > now()), 0);
END $$;

CREATE OR REPLACE FUNCTION core.throttle_clear(p_key text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    DELETE FROM core.login_throttle WHERE key = p_key;
END $$;

CREATE OR REPLACE FUNCTION core.throttle_fail(p_key text, p_window interval)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    INSERT INTO core.login_throttle AS t (key, window_start, failures)
    VALUES (p_key, now(), 1)
    ON CONFLICT (key) DO UPDATE
       SET failures = CASE WHEN t.window_start + p_window > now() THEN t.failures + 1 ELSE 1 END,
           window_start = CASE WHEN t.window_start + p_window > now() THEN t.window_start
                               ELSE now() END;
END $$;

CREATE OR REPLACE FUNCTION core.totp_device_valid(p_school uuid, p_user uuid, p_token_hash bytea)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM core.totp_devices d
                     JOIN core.account_policy p ON p.school_id = d.school_id
                    WHERE d.school_id = p_school AND d.user_id = p_user
                      AND d.token_hash = p_token_hash AND d.expires_at > now()
                      AND p.remember_days > 0);
END $$;

CREATE OR REPLACE FUNCTION core.totp_enabled(p_school uuid, p_user uuid)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN coalesce((SELECT t.enabled FROM core.totp t
                      WHERE t.school_id = p_school AND t.user_id = p_user), false);
END $$;

CREATE OR REPLACE FUNCTION core.totp_policy_apply(p_school uuid, p_user uuid)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
DECLARE
    v_must boolean;
BEGIN
    UPDATE core.users u SET must_enrol_totp = EXISTS (
               SELECT 1 FROM core.account_policy p
                WHERE p.school_id = p_school AND p.totp_roles && u.roles)
            AND NOT core.totp_enabled(p_school, p_user)
     WHERE u.school_id = p_school AND u.id = p_user
    RETURNING u.must_enrol_totp INTO v_must;
    RETURN v_must;
END $$;

CREATE OR REPLACE FUNCTION core.totp_secret(p_user uuid)
RETURNS bytea
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
BEGIN
    RETURN (SELECT t.secret FROM core.totp t
             WHERE t.school_id = core.current_school() AND t.user_id = p_user);
END $$;

CREATE OR REPLACE FUNCTION core.user_sessions(p_user uuid)
RETURNS TABLE (id uuid, kind text, name text, client text, created_at timestamptz,
               last_used_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.id, s.kind, s.name, s.client, s.created_at, s.last_used_at, s.expires_at
      FROM core.sessions s WHERE s.school_id = core.current_school() AND s.user_id = p_user;
END $$;
