-- SPDX-License-Identifier: Apache-2.0
-- 0002: what groups grant changes the school's permission epoch, so hosts may keep their
-- callers' permissions between requests (schema/0004_permission_cache.sql in the core). A
-- membership or a group's rights changing, or a group going (its rows cascade), each takes a
-- new epoch in the same transaction.

CREATE TRIGGER permissions_changed AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION core.permissions_changed_trigger();
CREATE TRIGGER permissions_changed AFTER INSERT OR UPDATE OR DELETE ON group_permissions
    FOR EACH ROW EXECUTE FUNCTION core.permissions_changed_trigger();

INSERT INTO core.permission_source_invalidation (source) VALUES ('groups.member_permissions');
