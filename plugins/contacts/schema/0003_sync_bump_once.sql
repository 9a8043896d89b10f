-- SPDX-License-Identifier: Apache-2.0
-- contacts 0003: a transaction moves a book's change number once, not once per card, as
-- calendar 0007 does for calendars.
--
-- The triggers of 0001 and 0002 bumped books.sync_seq for every card written or deleted. Each
-- bump is an UPDATE of the book's one row, and within one transaction every UPDATE leaves a row
-- version the next one must walk past: a transaction writing or deleting n cards of one book
-- took time in n squared. A change number only has to order commits: the cards one
-- transaction writes may share one, since they become visible together. So the first write of
-- a transaction to a book bumps it and records the transaction (sync_xact); later writes of the
-- same transaction take that number without a new row version. The row lock the first UPDATE
-- took still serialises two writers of one book until commit. A savepoint rolled back takes
-- its bump with it (sync_xact goes back too), and the next write bumps again.
ALTER TABLE books ADD COLUMN sync_xact xid8;

-- The book's change number for a write by this transaction, bumped by its first write; NULL
-- when the book is gone (being deleted with its cards).
CREATE FUNCTION sync_bump(p_school uuid, p_owner uuid) RETURNS bigint
LANGUAGE plpgsql SET search_path = contacts, pg_temp AS $$
DECLARE
    seq bigint;
BEGIN
    UPDATE contacts.books b SET sync_seq = b.sync_seq + 1, sync_xact = pg_current_xact_id()
     WHERE b.school_id = p_school AND b.owner_id = p_owner
       AND b.sync_xact IS DISTINCT FROM pg_current_xact_id()
    RETURNING b.sync_seq INTO seq;
    IF NOT FOUND THEN
        SELECT b.sync_seq INTO seq FROM contacts.books b
         WHERE b.school_id = p_school AND b.owner_id = p_owner;
    END IF;
    RETURN seq;
END $$;

CREATE OR REPLACE FUNCTION cards_sync_bump() RETURNS trigger
LANGUAGE plpgsql SET search_path = contacts, pg_temp AS $$
BEGIN
    NEW.sync_seq := contacts.sync_bump(NEW.school_id, NEW.owner_id);
    DELETE FROM contacts.tombstones t
     WHERE t.school_id = NEW.school_id AND t.owner_id = NEW.owner_id AND t.name = NEW.name;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION cards_sync_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = contacts, pg_temp AS $$
DECLARE
    seq bigint := contacts.sync_bump(OLD.school_id, OLD.owner_id);
BEGIN
    IF seq IS NOT NULL THEN -- not when the book itself is being deleted
        INSERT INTO contacts.tombstones (school_id, owner_id, name, sync_seq)
        VALUES (OLD.school_id, OLD.owner_id, OLD.name, seq)
        ON CONFLICT (school_id, owner_id, name)
        DO UPDATE SET sync_seq = EXCLUDED.sync_seq, gone_at = now();
    END IF;
    RETURN OLD;
END $$;
