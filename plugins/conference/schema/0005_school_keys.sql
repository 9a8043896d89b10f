-- SPDX-License-Identifier: Apache-2.0
-- conference 0005: school_id in every key, so the schema can be distributed by school
-- (tests/integration/test_schema_keys.py checks every table from the catalog). A visit is
-- found by its school and id; a guest link's token is looked up within its school (the join
-- URL names the school), so its hash need only be unique there.
ALTER TABLE attendance DROP CONSTRAINT attendance_pkey, ADD PRIMARY KEY (school_id, id);
ALTER TABLE guests DROP CONSTRAINT guests_token_hash_key, ADD UNIQUE (school_id, token_hash);
