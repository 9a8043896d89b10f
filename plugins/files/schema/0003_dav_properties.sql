-- 0003_dav_properties.sql - dead WebDAV properties go with the files they belong to.
--
-- PROPPATCH keeps a resource's dead properties in core.dav_properties under tree 'files' and
-- the node's id (core/dav/dav-dead.c). A node leaves for good in several places: a trash item
-- purged by hand or by expiry, a person's home erased with them (GDPR), a school deleted.
-- One trigger covers them all, so no property outlives its file (nor a person's comments in
-- it). Moving to the trash only marks rows (trash_id), so a restored file keeps its own.
-- Statement-level with a transition table: one DELETE however many rows went.
CREATE FUNCTION forget_dav_properties() RETURNS trigger
LANGUAGE plpgsql SET search_path = files, pg_temp AS $$
BEGIN
    DELETE FROM core.dav_properties p USING gone g
     WHERE p.school_id = g.school_id AND p.tree = 'files' AND p.resource_id = g.id::text;
    RETURN NULL;
END $$;

CREATE TRIGGER nodes_forget_dav_properties AFTER DELETE ON nodes
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION forget_dav_properties();
