-- SPDX-License-Identifier: Apache-2.0
-- 0003: groups the core's people import keeps (issue #21). A class or course named in an
-- import file is created (or adopted, when one of that name and type exists) with imported =
-- true; a re-import moves people only out of such groups, never out of groups made by hand,
-- and never changes owners.
ALTER TABLE groups ADD COLUMN imported boolean NOT NULL DEFAULT false;
CREATE INDEX groups_imported ON groups (school_id, type) WHERE imported;
