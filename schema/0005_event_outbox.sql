-- SPDX-License-Identifier: Apache-2.0
-- 0005_event_outbox.sql - durable events: what each subscriber still has to receive.
--
-- A transaction that publishes an event with subscribers writes one row per subscribing
-- plugin here, in the same transaction, so the event exists exactly when the change that
-- caused it does. Right after the commit the publishing host delivers each row: the
-- subscriber's transaction locks its row (FOR UPDATE SKIP LOCKED), runs the handlers and
-- deletes the row, so the delivery and the subscriber's own writes commit together. A row
-- that is still here later (its host died, or the subscriber failed) is delivered again by
-- whichever host holds the installation's leader lock (core/plugin-host/leader.c), at
-- next_attempt_at, with the same event id; a row that failed max_attempts times keeps
-- failed_at and last_error for the operator.

CREATE TABLE core.event_outbox (
    school_id       uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id              uuid NOT NULL,          -- the event's id, the same for every subscriber
    subscriber      text NOT NULL,          -- the subscribing plugin's name
    name            text NOT NULL,          -- <plugin>.<what>
    payload         jsonb NOT NULL,
    actor_id        uuid,                   -- the user whose transaction published it
    depth           integer NOT NULL DEFAULT 0 CHECK (depth >= 0),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    failed_at       timestamptz,            -- gave up: attempts reached the host's limit
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id, subscriber)
);

-- The leader's question: what is due, across schools.
CREATE INDEX event_outbox_due ON core.event_outbox (next_attempt_at) WHERE failed_at IS NULL;

ALTER TABLE core.event_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.event_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.event_outbox
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The due rows of every school, oldest first, for the leader's retry pass (which runs as the
-- request role, so it cannot read other schools' rows directly). Only the keys: each delivery
-- then runs in a transaction of the row's school and reads the row there.
CREATE FUNCTION core.event_outbox_due(p_limit integer)
RETURNS TABLE (school_id uuid, id uuid, subscriber text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT o.school_id, o.id, o.subscriber FROM core.event_outbox o
     WHERE o.failed_at IS NULL AND o.next_attempt_at <= now()
     ORDER BY o.next_attempt_at LIMIT p_limit
$$;

-- Seconds until the next row falls due (NULL: none pending), so the leader sleeps that long.
CREATE FUNCTION core.event_outbox_next_due() RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT extract(epoch FROM min(next_attempt_at) - now())::double precision
      FROM core.event_outbox WHERE failed_at IS NULL
$$;

-- Pending and given-up rows per school, for the operator (metrics).
CREATE FUNCTION core.event_outbox_counts(OUT pending bigint, OUT failed bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT count(*) FILTER (WHERE failed_at IS NULL), count(*) FILTER (WHERE failed_at IS NOT NULL)
      FROM core.event_outbox
$$;
