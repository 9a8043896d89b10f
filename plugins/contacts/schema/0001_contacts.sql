-- SPDX-License-Identifier: Apache-2.0
-- contacts 0001: every person's personal address book (CardDAV, RFC 6352; issue #19;
-- plugins/contacts/README.md). The read-only "people" book is built from core.users and the
-- groups service at request time and keeps nothing here.
--
-- A book exists from its owner's first write (books); its cards are stored as the client sent
-- them (vcard), with what REPORTs and the UID rule read (uid, fn, emails).
--
-- Sync (RFC 6578) and getctag follow the calendar (calendar 0004): every book counts its
-- changes in sync_seq; a write of a card takes the next number under the book row's lock, so
-- numbers are handed out in commit order; a deleted card leaves a tombstone. Counter and
-- tombstones are in the database: tokens survive restarts and work on every host.
CREATE TABLE books (
    school_id   uuid NOT NULL,
    owner_id    uuid NOT NULL,
    sync_seq    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, owner_id),
    FOREIGN KEY (school_id, owner_id) REFERENCES core.users (school_id, id) ON DELETE CASCADE
);

CREATE TABLE cards (
    school_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL,
    name        text NOT NULL CHECK (name ~ '^[^/]{1,255}$'),
    uid         text NOT NULL CHECK (length(uid) BETWEEN 1 AND 500),
    fn          text NOT NULL,
    emails      text[] NOT NULL DEFAULT '{}',
    vcard       text NOT NULL CHECK (octet_length(vcard) <= 262144),
    sync_seq    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, owner_id, name),
    UNIQUE (school_id, owner_id, uid),
    FOREIGN KEY (school_id, owner_id) REFERENCES books (school_id, owner_id) ON DELETE CASCADE
);
CREATE INDEX cards_by_sync ON cards (school_id, owner_id, sync_seq);

CREATE TABLE tombstones (
    school_id   uuid NOT NULL,
    owner_id    uuid NOT NULL,
    name        text NOT NULL,
    sync_seq    bigint NOT NULL,
    PRIMARY KEY (school_id, owner_id, name),
    FOREIGN KEY (school_id, owner_id) REFERENCES books (school_id, owner_id) ON DELETE CASCADE
);
CREATE INDEX tombstones_by_sync ON tombstones (school_id, owner_id, sync_seq);

ALTER TABLE books ENABLE ROW LEVEL SECURITY;
ALTER TABLE books FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON books
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE cards ENABLE ROW LEVEL SECURITY;
ALTER TABLE cards FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON cards
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE tombstones FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON tombstones
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The triggers run as the caller (no SECURITY DEFINER): row-level security holds for them.
CREATE FUNCTION cards_sync_bump() RETURNS trigger
LANGUAGE plpgsql SET search_path = contacts, pg_temp AS $$
BEGIN
    UPDATE contacts.books b SET sync_seq = b.sync_seq + 1
     WHERE b.school_id = NEW.school_id AND b.owner_id = NEW.owner_id
    RETURNING b.sync_seq INTO NEW.sync_seq;
    DELETE FROM contacts.tombstones t
     WHERE t.school_id = NEW.school_id AND t.owner_id = NEW.owner_id AND t.name = NEW.name;
    RETURN NEW;
END $$;

CREATE FUNCTION cards_sync_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = contacts, pg_temp AS $$
DECLARE
    seq bigint;
BEGIN
    UPDATE contacts.books b SET sync_seq = b.sync_seq + 1
     WHERE b.school_id = OLD.school_id AND b.owner_id = OLD.owner_id
    RETURNING b.sync_seq INTO seq;
    IF FOUND THEN -- not when the book itself is being deleted
        INSERT INTO contacts.tombstones (school_id, owner_id, name, sync_seq)
        VALUES (OLD.school_id, OLD.owner_id, OLD.name, seq)
        ON CONFLICT (school_id, owner_id, name) DO UPDATE SET sync_seq = EXCLUDED.sync_seq;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER cards_sync_insert BEFORE INSERT ON cards
    FOR EACH ROW EXECUTE FUNCTION cards_sync_bump();
CREATE TRIGGER cards_sync_update BEFORE UPDATE ON cards
    FOR EACH ROW WHEN (OLD.vcard IS DISTINCT FROM NEW.vcard) EXECUTE FUNCTION cards_sync_bump();
CREATE TRIGGER cards_sync_delete AFTER DELETE ON cards
    FOR EACH ROW EXECUTE FUNCTION cards_sync_delete();
