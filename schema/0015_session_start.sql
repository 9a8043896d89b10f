-- 0015_session_start.sql - what a sign-in writes once the password is verified, in one call.
--
-- After the hash a sign-in cleared the account's throttle, asked whether the person uses a
-- second factor, created the session, set the transaction's school and caller, applied the
-- school's second-factor policy and wrote the audit entry: six statements, each a round trip
-- in which the hashing thread waited for PostgreSQL on cores that two hashes keep busy, where a
-- round trip costs far more than its CPU. core.session_start() does all of it in one; the
-- host then reads the person's row and commits. The statements are the ones of
-- core.throttle_clear(), core.totp_enabled(), core.session_create(),
-- core.totp_policy_apply() and core.audit(), which stay for their other callers.
--
-- p_clear_key: the throttle key to clear (NULL: none). p_unless_totp: when the person has a
-- second factor, create nothing and answer totp_needed (the host then asks for the code);
-- the throttle is cleared either way, as before. A session's settings are transaction-local,
-- as core.request_identity() sets them.

CREATE FUNCTION core.session_start(p_token_hash bytea, p_school uuid, p_user uuid,
                                   p_operator uuid, p_client text, p_expires timestamptz,
                                   p_idle interval, p_clear_key text, p_unless_totp boolean)
RETURNS TABLE (id uuid, expires_at timestamptz, totp_needed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    IF (p_user IS NULL) = (p_operator IS NULL) OR (p_user IS NOT NULL AND p_school IS NULL) THEN
        RAISE EXCEPTION 'a session is a person''s of a school or an operator''s'
              USING ERRCODE = '22023';
    END IF;
    IF p_clear_key IS NOT NULL THEN
        DELETE FROM core.login_throttle WHERE key = p_clear_key;
    END IF;
    totp_needed := p_unless_totp AND p_user IS NOT NULL AND coalesce((
        SELECT t.enabled FROM core.totp t WHERE t.school_id = p_school AND t.user_id = p_user),
        false);
    IF totp_needed THEN
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO core.sessions AS s (token_hash, kind, school_id, user_id, operator_id, client,
                                    expires_at, idle_timeout)
    VALUES (p_token_hash, 'session', p_school, p_user, p_operator, p_client, p_expires, p_idle)
    RETURNING s.id, s.expires_at INTO id, expires_at;
    PERFORM set_config('atrium.school_id', coalesce(p_school::text, ''), true),
            set_config('atrium.user_id', coalesce(p_user::text, ''), true);
    IF p_user IS NOT NULL THEN
        PERFORM core.totp_policy_apply(p_school, p_user);
    END IF;
    INSERT INTO core.audit_log (school_id, actor_id, actor_kind, action, target, details, client)
    VALUES (p_school, coalesce(p_user, p_operator),
            CASE WHEN p_user IS NOT NULL THEN 'user' ELSE 'operator' END, 'auth.login', NULL,
            '{}', p_client);
    RETURN NEXT;
END $$;
