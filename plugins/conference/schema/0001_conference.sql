-- SPDX-License-Identifier: Apache-2.0
-- conference 0001: a school's videoconference backend, its rooms, guest links, and the
-- attendance every usage figure is computed from.

-- The engine a school's rooms run on. The secret is sealed (AES-256-GCM, key from the host's
-- configuration, the school's id as associated data): this table never holds it in clear.
CREATE TABLE backends (
    school_id   uuid PRIMARY KEY REFERENCES core.schools(id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('jitsi', 'bigbluebutton')),
    url         text NOT NULL CHECK (url ~ '^https?://[^/?#[:space:]]+(/[^?#[:space:]]*)?$'
                                     AND length(url) <= 2000),
    app_id      text CHECK (length(app_id) BETWEEN 1 AND 200),
    checksum    text NOT NULL DEFAULT 'sha256' CHECK (checksum IN ('sha256', 'sha1')),
    secret_sealed bytea NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'jitsi') = (app_id IS NOT NULL))
);

CREATE TABLE rooms (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    group_id    uuid,
    created_by  uuid,
    starts_at   timestamptz,
    ends_at     timestamptz,
    max_participants integer CHECK (max_participants BETWEEN 2 AND 10000),
    lobby       boolean NOT NULL DEFAULT false,
    locked      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, created_by) REFERENCES core.users (school_id, id)
        ON DELETE SET NULL (created_by),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX rooms_listing ON rooms (school_id, created_at DESC, id DESC);
CREATE INDEX rooms_by_group ON rooms (school_id, group_id) WHERE group_id IS NOT NULL;

-- Personal links for people without an account (parents, external speakers). Only the
-- SHA-256 of the token is kept.
CREATE TABLE guests (
    school_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    room_id     uuid NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    expires_at  timestamptz NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, room_id) REFERENCES rooms (school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, created_by) REFERENCES core.users (school_id, id)
        ON DELETE SET NULL (created_by)
);
CREATE INDEX guests_by_room ON guests (school_id, room_id, created_at);

-- One row per join: append-only but for left_at. No foreign key to rooms: the figures outlive
-- a deleted room. A deleted user's rows stay, without the person (SET NULL in the deleting
-- transaction). guest_id is kept as given (guest links go with their room).
CREATE TABLE attendance (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    room_id     uuid NOT NULL,
    user_id     uuid,
    guest_id    uuid,
    moderator   boolean NOT NULL DEFAULT false,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    left_at     timestamptz,
    FOREIGN KEY (school_id, user_id) REFERENCES core.users (school_id, id)
        ON DELETE SET NULL (user_id),
    CHECK (left_at IS NULL OR left_at >= joined_at)
);
-- Statistics of a school read a time range; a room's and a person's open visits are found
-- by the other two. The operator-wide figures scan by time alone (BRIN: rows arrive in time
-- order, the index stays tiny).
CREATE INDEX attendance_by_time ON attendance (school_id, joined_at);
CREATE INDEX attendance_by_room ON attendance (school_id, room_id, joined_at);
CREATE INDEX attendance_by_user ON attendance (school_id, user_id, joined_at)
    WHERE user_id IS NOT NULL;
CREATE INDEX attendance_time_brin ON attendance USING brin (joined_at);

ALTER TABLE backends ENABLE ROW LEVEL SECURITY;
ALTER TABLE backends FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON backends
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE rooms ENABLE ROW LEVEL SECURITY;
ALTER TABLE rooms FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON rooms
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE guests ENABLE ROW LEVEL SECURITY;
ALTER TABLE guests FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON guests
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE attendance ENABLE ROW LEVEL SECURITY;
ALTER TABLE attendance FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON attendance
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
