-- SPDX-License-Identifier: Apache-2.0
-- contacts 0002: the tombstones of deleted cards are pruned (issue #19; prune.c), as the
-- calendar's are (calendar 0005).
--
-- A tombstone (0001) tells a client that synced before a deletion that the card is gone. It
-- need not be kept for ever: a client that has not synced for tombstone_days (prune.c) gets
-- 403 valid-sync-token for its old token and syncs afresh (RFC 6578 3.2), which loses it
-- nothing. Each book keeps the highest change number pruned as its sync_floor: a token below
-- it may have missed a deletion, so it is refused; tokens at or above it are answered as
-- before.
ALTER TABLE tombstones ADD COLUMN gone_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX tombstones_by_age ON tombstones (school_id, gone_at);
ALTER TABLE books ADD COLUMN sync_floor bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION cards_sync_delete() RETURNS trigger
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
        ON CONFLICT (school_id, owner_id, name)
        DO UPDATE SET sync_seq = EXCLUDED.sync_seq, gone_at = now();
    END IF;
    RETURN OLD;
END $$;

-- The pruning runs outside any school first: which schools have tombstones older than
-- p_before. Then each school's are pruned in a transaction of that school (prune.c).
CREATE FUNCTION schools_with_old_tombstones(p_before timestamptz) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = contacts, pg_temp AS $$
    SELECT DISTINCT t.school_id FROM contacts.tombstones t WHERE t.gone_at < p_before
$$;

-- Prunes the current school's tombstones older than p_before (at most p_limit of them) and
-- raises their books' sync_floor; returns how many went. Runs as the caller, under
-- row-level security.
CREATE FUNCTION prune_tombstones(p_before timestamptz, p_limit integer) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = contacts, pg_temp AS $$
    WITH gone AS (
        DELETE FROM contacts.tombstones t
         WHERE t.ctid IN (SELECT o.ctid FROM contacts.tombstones o
                           WHERE o.school_id = core.current_school() AND o.gone_at < p_before
                           ORDER BY o.gone_at LIMIT p_limit)
        RETURNING t.school_id, t.owner_id, t.sync_seq
    ), floors AS (
        UPDATE contacts.books b SET sync_floor = greatest(b.sync_floor, f.top)
          FROM (SELECT school_id, owner_id, max(sync_seq) AS top FROM gone
                 GROUP BY school_id, owner_id) f
         WHERE b.school_id = f.school_id AND b.owner_id = f.owner_id
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
