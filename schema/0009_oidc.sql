-- 0009_oidc.sql - the OpenID Connect provider (core/oidc/, docs/OIDC.md, issue #20).
--
-- Clients are registered per school by its admins; codes, grants and tokens belong to a school
-- and a person. Every secret (client secrets, codes, access and refresh tokens) is stored only
-- as its SHA-256, as sessions are: they are 256-bit random strings, so a fast hash is enough.
-- Row-level security per school as everywhere: a client of another school, its codes and its
-- tokens do not exist for an issuer, which is how "a client of another school" is refused.
--
-- The signing keys are installation-wide (every school's issuer publishes the same JWKS) and
-- are the one thing here the request role cannot read: core.oidc_keys has no grant for it.
-- The host reads the private keys with the owner's connection at start-up and signs in
-- memory; requests see the public half only, through core.oidc_jwks().

CREATE TABLE core.oidc_clients (
    school_id     uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id     text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9_-]{16,64}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    secret_hash   bytea,
    public        boolean NOT NULL,
    trusted       boolean NOT NULL DEFAULT false,
    redirect_uris text[] NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 20),
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    scopes        text[] NOT NULL,
    allowed_roles text[],   -- NULL: every role
    allowed_groups uuid[],  -- NULL: no group limit
    id_token_alg  text NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, client_id),
    CHECK (public = (secret_hash IS NULL))
);

-- A grant: what one sign-in of a person gave one client. Its tokens hang off it, so revoking
-- the grant (a reused code, a reused refresh token, a revoked refresh token) ends them all.
CREATE TABLE core.oidc_grants (
    school_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    client      uuid NOT NULL,
    user_id     uuid NOT NULL,
    scopes      text[] NOT NULL,
    auth_time   timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, client) REFERENCES core.oidc_clients(school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);

-- Authorization codes: single use, short-lived. A redeemed code keeps its row (used_at,
-- grant_id) until it expires, so that a second use is recognised and revokes the grant.
CREATE TABLE core.oidc_codes (
    school_id       uuid NOT NULL,
    code_hash       bytea NOT NULL,
    client          uuid NOT NULL,
    user_id         uuid NOT NULL,
    redirect_uri    text NOT NULL,
    scopes          text[] NOT NULL,
    nonce           text,
    code_challenge  text,
    auth_time       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    grant_id        uuid,
    PRIMARY KEY (school_id, code_hash),
    FOREIGN KEY (school_id, client) REFERENCES core.oidc_clients(school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
CREATE INDEX oidc_codes_expiry ON core.oidc_codes (school_id, expires_at);

-- Access and refresh tokens. A refresh token is rotated: its use marks it used_at and issues
-- a new one in the same grant; a second use of a rotated one revokes the grant.
CREATE TABLE core.oidc_tokens (
    school_id   uuid NOT NULL,
    token_hash  bytea NOT NULL,
    grant_id    uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (school_id, token_hash),
    FOREIGN KEY (school_id, grant_id) REFERENCES core.oidc_grants(school_id, id) ON DELETE CASCADE
);
CREATE INDEX oidc_tokens_by_grant ON core.oidc_tokens (school_id, grant_id);
CREATE INDEX oidc_tokens_expiry ON core.oidc_tokens (school_id, expires_at);

-- What a person agreed a non-trusted client may see; asked again when the client wants more.
CREATE TABLE core.oidc_consents (
    school_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    client      uuid NOT NULL,
    scopes      text[] NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, user_id, client),
    FOREIGN KEY (school_id, client) REFERENCES core.oidc_clients(school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);

ALTER TABLE core.oidc_clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.oidc_clients FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.oidc_clients
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE core.oidc_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.oidc_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.oidc_grants
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE core.oidc_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.oidc_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.oidc_codes
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE core.oidc_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.oidc_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.oidc_tokens
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE core.oidc_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.oidc_consents FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.oidc_consents
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Signing keys. Owner only: no grant to the request role, no row-level security needed.
-- @private_key is libgcrypt's S-expression of the key pair; @public_jwk its JWK (RFC 7517).
-- A key signs from created_at until a newer one of its algorithm exists; it stays published
-- until retired_at (set when a host made a newer one) plus the host's keep interval (91 days:
-- other hosts sign with it until they restart).
CREATE TABLE core.oidc_keys (
    kid          text PRIMARY KEY,
    alg          text NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    public_jwk   jsonb NOT NULL,
    private_key  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz
);
REVOKE ALL ON core.oidc_keys FROM PUBLIC;

-- The published keys (the issuer's jwks_uri): every key still signing, and retired ones whose
-- tokens may still be live.
CREATE FUNCTION core.oidc_jwks(p_keep interval)
RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT public_jwk FROM core.oidc_keys
     WHERE retired_at IS NULL OR retired_at + p_keep > now()
     ORDER BY created_at DESC, kid
$$;

-- The provider's browser session: the Atrium session behind the atrium_session cookie, in the
-- request's school, with the same validity rules as core.request_identity() (expiry, idle
-- limit, a disabled person has none). Sign-in sessions only: a personal access token is not a
-- browser's sign-in.
CREATE FUNCTION core.oidc_browser_session(p_token_hash bytea)
RETURNS TABLE (session_id uuid, user_id uuid, auth_time timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, s.user_id, s.created_at
      FROM core.sessions s
      JOIN core.users u ON u.school_id = s.school_id AND u.id = s.user_id
     WHERE s.token_hash = p_token_hash AND s.kind = 'session'
       AND s.school_id = core.current_school() AND s.expires_at > now()
       AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
       AND u.disabled_at IS NULL
$$;

-- RP-initiated logout ends the browser session the cookie names (the request has no signed-in
-- caller, so core.sessions' own-sessions policy would hide it).
CREATE FUNCTION core.oidc_end_browser_session(p_token_hash bytea) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = core, pg_temp AS $$
    DELETE FROM core.sessions
     WHERE token_hash = p_token_hash AND kind = 'session' AND school_id = core.current_school()
$$;
