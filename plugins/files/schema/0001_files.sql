-- SPDX-License-Identifier: Apache-2.0
-- files 0001: folder trees of people ("user" spaces, their home) and groups, the trash,
-- quotas and usage, and share links. File contents live on disk, content-addressed by
-- SHA-256 (blobstore.c); a row names its blob by hash, and a blob no row names is an orphan
-- that "atriumd files gc" removes.

-- One row per file or folder. The full path is kept on every row (materialised path) so a
-- lookup, a listing and a permission check are one indexed statement each; moving a folder
-- rewrites the paths below it in the same transaction. Paths are Unicode NFC, without
-- leading or trailing '/', compared bytewise (COLLATE "C"): "" is the root of a space.
CREATE TABLE nodes (
    school_id    uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Whose tree: a user's home or a group's folder. No foreign key (a user or another
    -- plugin's group); user.deleted and group.deleted clean up.
    space_type   text NOT NULL CHECK (space_type IN ('user', 'group')),
    space_id     uuid NOT NULL,
    path         text COLLATE "C" NOT NULL CHECK (path <> '' AND octet_length(path) <= 4096),
    parent       text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL CHECK (name <> '' AND octet_length(name) <= 255),
    kind         text NOT NULL CHECK (kind IN ('file', 'folder')),
    sha256       text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    content_type text,
    created_by   uuid,
    modified_by  uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_at  timestamptz NOT NULL DEFAULT now(),
    -- Set while the node is in the trash (deleted itself or with a folder above it).
    trash_id     uuid,
    PRIMARY KEY (school_id, id),
    CHECK ((kind = 'file') = (sha256 IS NOT NULL))
);
CREATE UNIQUE INDEX nodes_live_path ON nodes (school_id, space_type, space_id, path)
    WHERE trash_id IS NULL;
CREATE INDEX nodes_listing ON nodes (school_id, space_type, space_id, parent, name)
    WHERE trash_id IS NULL;
CREATE INDEX nodes_by_trash ON nodes (school_id, trash_id) WHERE trash_id IS NOT NULL;
-- The orphan sweep asks "does any row of any school name this blob?"
CREATE INDEX nodes_by_blob ON nodes (sha256) WHERE sha256 IS NOT NULL;

-- What DELETE put in the trash: one row per deleted file or folder (its subtree carries
-- the same trash_id), restorable to its old path until purged or expired.
CREATE TABLE trash (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    space_type  text NOT NULL CHECK (space_type IN ('user', 'group')),
    space_id    uuid NOT NULL,
    path        text COLLATE "C" NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('file', 'folder')),
    size        bigint NOT NULL DEFAULT 0,
    deleted_by  uuid,
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id)
);
CREATE INDEX trash_by_space ON trash (school_id, space_type, space_id, deleted_at DESC, id);
CREATE INDEX trash_by_age ON trash (deleted_at);

-- Bytes stored per space, trash included (it still takes disk until purged). Updated in the
-- same transaction as the rows, under the row lock, so concurrent uploads cannot both fit.
CREATE TABLE usage (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    space_type  text NOT NULL CHECK (space_type IN ('user', 'group')),
    space_id    uuid NOT NULL,
    bytes       bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    PRIMARY KEY (school_id, space_type, space_id)
);

-- Limits: a row without space_id is the school's default for that kind of space; a row with
-- one overrides it. Without any row, the plugin's configured default applies.
CREATE TABLE quotas (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    space_type  text NOT NULL CHECK (space_type IN ('user', 'group')),
    space_id    uuid,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    UNIQUE NULLS NOT DISTINCT (school_id, space_type, space_id)
);

-- Read-only links to one file, usable without an account until they expire or are revoked.
CREATE TABLE shares (
    school_id     uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    node_id       uuid NOT NULL,
    -- SHA-256 (hex) of the secret token; the token is shown once and never stored.
    token_hash    text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    password_hash text,
    expires_at    timestamptz NOT NULL,
    created_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, node_id) REFERENCES nodes (school_id, id) ON DELETE CASCADE
);
CREATE INDEX shares_by_node ON shares (school_id, node_id);
CREATE INDEX shares_by_creator ON shares (school_id, created_by);

ALTER TABLE nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE nodes FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON nodes
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE trash ENABLE ROW LEVEL SECURITY;
ALTER TABLE trash FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON trash
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON usage
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE quotas FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON quotas
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE shares FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON shares
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The public share route has no school and no user: this resolves a token hash to its link,
-- if unexpired and the school still has the module, and enters that school for the rest of
-- the transaction (like calendar.enter_feed). SECURITY DEFINER: only the owner looks across
-- schools.
CREATE FUNCTION enter_share(p_token_hash text)
RETURNS TABLE (school_id uuid, share_id uuid, node_id uuid, password_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = files, pg_temp AS $$
DECLARE
    s files.shares%ROWTYPE;
BEGIN
    SELECT * INTO s FROM files.shares ss WHERE ss.token_hash = p_token_hash;
    IF NOT FOUND OR s.expires_at <= now() OR NOT EXISTS (
            SELECT 1 FROM core.school_modules m
             WHERE m.school_id = s.school_id AND m.module = 'files') THEN
        RETURN;
    END IF;
    PERFORM set_config('atrium.school_id', s.school_id::text, true);
    school_id := s.school_id;
    share_id := s.id;
    node_id := s.node_id;
    password_hash := s.password_hash;
    RETURN NEXT;
END $$;

-- The orphan sweep runs outside any school: which of these blobs no school's row (trash
-- included) names any more. Reveals one bit per hash and nothing else.
-- VOLATILE: evaluated with a snapshot taken after the caller's advisory lock (gc.c).
CREATE FUNCTION blobs_unused(p_sha256 text[]) RETURNS SETOF text
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = files, pg_temp AS $$
    SELECT h FROM unnest(p_sha256) h
     WHERE NOT EXISTS (SELECT 1 FROM files.nodes n WHERE n.sha256 = h)
$$;

-- The trash expiry runs outside any school too: the schools with trash older than the limit.
CREATE FUNCTION schools_with_old_trash(p_before timestamptz) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = files, pg_temp AS $$
    SELECT DISTINCT t.school_id FROM files.trash t WHERE t.deleted_at < p_before
$$;
