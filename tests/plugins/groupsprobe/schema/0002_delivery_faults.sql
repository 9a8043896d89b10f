-- SPDX-License-Identifier: Apache-2.0
-- groupsprobe 0002: each delivery's event id (the outbox's, from atrium.event_id), and faults
-- the tests inject into the subscriber (tests/integration/test_events_durable.py):
--   'fail'  the subscriber fails (its delivery is rolled back and retried later);
--   'block' the subscriber waits while the row exists (up to 60 s), so a test can kill its
--           host between the publishing commit and the delivery.
-- Not school-scoped: one switch for the whole test installation. Test tree only.
ALTER TABLE events ADD COLUMN event_id uuid;

CREATE TABLE faults (
    kind text PRIMARY KEY CHECK (kind IN ('fail', 'block'))
);
