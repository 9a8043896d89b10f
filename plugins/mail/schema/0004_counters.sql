-- SPDX-License-Identifier: Apache-2.0
-- mail 0004: what the requests used to count, kept up to date instead.
--
-- usage: the bytes of each mailbox (Trash included). The quota check of every delivery
-- (deliver.c) reads and locks this one row, where it used to sum the whole mailbox under an
-- advisory lock (the mail benchmark: a delivery got slower as the mailbox grew). The row
-- lock still serialises the deliveries to one mailbox, which an exact quota needs.
-- folders.total / unread: what GET /folders answers, where it used to count every message
-- of the mailbox on each call (~23 ms for 10,000 messages; a mail client polls this).
--
-- Both are kept by triggers on messages, in the transaction that changes the messages, so
-- every path is covered: deliveries, moves, flags, expunges, and the cascades when a folder or
-- a person is deleted. What comes one message at a time (a delivery, a flag, a move) is
-- counted row by row, in PL/pgSQL with its plans cached: 0.07 ms per delivery, where
-- statement triggers over transition tables cost 0.17 ms and calling SQL functions from them
-- 0.5 ms (EXPLAIN ANALYZE of one INSERT, median of 350). Deletes can be many at once (a
-- person's erasure), so they are counted once per statement, per mailbox and folder; a
-- mailbox's usage row is always taken before its folders' rows, and several in key order,
-- so two transactions that change the same mailboxes cannot deadlock on them. The price of
-- counting row by row: an INSERT of thousands of one mailbox's messages in one transaction
-- (an import by SQL) updates its counter rows once per message, each time a little slower
-- (one transaction's row versions cannot be pruned): import in transactions of ~1,000.

CREATE TABLE usage (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    bytes       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, user_id)
);
ALTER TABLE usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON usage
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

ALTER TABLE folders ADD COLUMN total integer NOT NULL DEFAULT 0,
                    ADD COLUMN unread integer NOT NULL DEFAULT 0;

CREATE FUNCTION message_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mail.usage AS u (school_id, user_id, bytes)
    VALUES (NEW.school_id, NEW.user_id, NEW.size)
    ON CONFLICT (school_id, user_id) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes;
    UPDATE mail.folders f SET total = f.total + 1, unread = f.unread + (NOT NEW.seen)::int
     WHERE f.school_id = NEW.school_id AND f.id = NEW.folder_id;
    RETURN NULL;
END $$;

-- Only for a change that counts (see the trigger's WHEN): a move, a seen flag, a size.
CREATE FUNCTION message_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.user_id, OLD.size) IS DISTINCT FROM (NEW.user_id, NEW.size) THEN
        UPDATE mail.usage u SET bytes = u.bytes - OLD.size
         WHERE u.school_id = OLD.school_id AND u.user_id = OLD.user_id;
        INSERT INTO mail.usage AS u (school_id, user_id, bytes)
        VALUES (NEW.school_id, NEW.user_id, NEW.size)
        ON CONFLICT (school_id, user_id) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes;
    END IF;
    IF OLD.folder_id = NEW.folder_id THEN
        UPDATE mail.folders f SET unread = f.unread - (NOT OLD.seen)::int + (NOT NEW.seen)::int
         WHERE f.school_id = NEW.school_id AND f.id = NEW.folder_id;
    ELSE
        -- The two folders in key order.
        UPDATE mail.folders f
           SET total = f.total + CASE WHEN f.id = NEW.folder_id THEN 1 ELSE -1 END,
               unread = f.unread + CASE WHEN f.id = NEW.folder_id THEN (NOT NEW.seen)::int
                                        ELSE -(NOT OLD.seen)::int END
         WHERE f.school_id = NEW.school_id AND f.id = least(OLD.folder_id, NEW.folder_id);
        UPDATE mail.folders f
           SET total = f.total + CASE WHEN f.id = NEW.folder_id THEN 1 ELSE -1 END,
               unread = f.unread + CASE WHEN f.id = NEW.folder_id THEN (NOT NEW.seen)::int
                                        ELSE -(NOT OLD.seen)::int END
         WHERE f.school_id = NEW.school_id AND f.id = greatest(OLD.folder_id, NEW.folder_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT school_id, user_id, sum(size)::bigint AS bytes FROM old_rows
              GROUP BY 1, 2 ORDER BY 1, 2 LOOP
        UPDATE mail.usage u SET bytes = u.bytes - r.bytes
         WHERE u.school_id = r.school_id AND u.user_id = r.user_id;
    END LOOP;
    -- A folder deleted with its messages (a person's erasure) is already gone: no row.
    FOR r IN SELECT school_id, folder_id, count(*)::int AS n,
                    (count(*) FILTER (WHERE NOT seen))::int AS unread
               FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2 LOOP
        UPDATE mail.folders f SET total = f.total - r.n, unread = f.unread - r.unread
         WHERE f.school_id = r.school_id AND f.id = r.folder_id;
    END LOOP;
    RETURN NULL;
END $$;

-- The triggers first: creating them locks out writers of messages (old hosts still serving
-- during an upgrade) until this migration commits, so the counts below are not overtaken.
CREATE TRIGGER message_inserted AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION message_inserted();
CREATE TRIGGER message_updated AFTER UPDATE ON messages FOR EACH ROW
    WHEN ((OLD.folder_id, OLD.seen, OLD.user_id, OLD.size) IS DISTINCT FROM
          (NEW.folder_id, NEW.seen, NEW.user_id, NEW.size))
    EXECUTE FUNCTION message_updated();
CREATE TRIGGER messages_deleted AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION messages_deleted();

-- Backfill: the mail that arrived before this migration.
INSERT INTO usage (school_id, user_id, bytes)
SELECT school_id, user_id, sum(size) FROM messages GROUP BY 1, 2;
UPDATE folders f SET total = c.n, unread = c.u
  FROM (SELECT school_id, folder_id, count(*) AS n, count(*) FILTER (WHERE NOT seen) AS u
          FROM messages GROUP BY 1, 2) c
 WHERE f.school_id = c.school_id AND f.id = c.folder_id;
