-- 0012_dav_username.sql - the WebDAV identity check names the caller (core/pipeline/handle.c).
--
-- A DAV client sends HTTP Basic with a username and, mostly, an app token as its password. The
-- host takes such a token like a Bearer token, in the request's own identity check, instead of
-- a lookup of the account in a transaction of its own (one round trip and a connection less on
-- every request of a sync client); the check's row then carries the token owner's username,
-- which must be the one the client sent, and which DAV answers need anyway (the principal's
-- URL). Nobody is signed in when the check runs, so the name comes through this definer
-- function, for one school's person only.
CREATE FUNCTION core.username_of(p_user uuid, p_school uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT username FROM core.users WHERE id = p_user AND school_id = p_school
$$;
