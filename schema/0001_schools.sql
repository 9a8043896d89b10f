-- SPDX-License-Identifier: Apache-2.0
-- 0001: schools (tenants) and the function every school-scoped request starts with.

CREATE TABLE core.schools (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,63}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Resolves a school slug and sets the transaction-local tenant for row-level security in one
-- statement. SECURITY DEFINER: the request role cannot read core.schools freely; it can only
-- enter a school by name. Returns NULL for an unknown slug.
CREATE FUNCTION core.enter_school(p_slug text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    SELECT id INTO v_id FROM core.schools WHERE slug = p_slug;
    IF v_id IS NOT NULL THEN
        PERFORM set_config('atrium.school_id', v_id::text, true);
    END IF;
    RETURN v_id;
END $$;

-- The tenant of the current transaction, for RLS policies: NULL outside a school.
CREATE FUNCTION core.current_school() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('atrium.school_id', true), '')::uuid
$$;
