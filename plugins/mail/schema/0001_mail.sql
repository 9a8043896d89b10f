-- SPDX-License-Identifier: Apache-2.0
-- mail 0001: a school's mail domain and aliases, every user's mailbox (folders and messages),
-- the stored MIME of each message, and the durable outbound queue.

-- One mail domain per school; inbound mail finds its school by domain.
CREATE TABLE settings (
    school_id   uuid PRIMARY KEY REFERENCES core.schools(id) ON DELETE CASCADE,
    domain      text NOT NULL CHECK (domain ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'),
    max_message_bytes bigint NOT NULL DEFAULT 26214400 CHECK (max_message_bytes > 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX settings_domain ON settings (domain);

-- Extra local parts: "sekretariat@" -> a user or a group.
CREATE TABLE aliases (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    local_part  text NOT NULL CHECK (local_part ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    target_type text NOT NULL CHECK (target_type IN ('user', 'group')),
    target_id   uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, local_part)
);
CREATE INDEX aliases_by_target ON aliases (school_id, target_type, target_id);

-- The bytes of a message exactly as received or built, stored once however many mailboxes
-- hold it (a mail to a class of 30 is one row here).
CREATE TABLE raws (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    data        bytea NOT NULL,
    size        bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id)
);

CREATE TABLE folders (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name !~ '[/[:cntrl:]]'),
    special     text CHECK (special IN ('inbox', 'sent', 'drafts', 'trash')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, user_id, name)
);
CREATE UNIQUE INDEX folders_special ON folders (school_id, user_id, special)
    WHERE special IS NOT NULL;

-- One row per message in one mailbox. What the API lists and searches is extracted once, at
-- delivery, with GMime; the MIME itself stays in raws.
CREATE TABLE messages (
    school_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL,
    folder_id    uuid NOT NULL,
    raw_id       uuid NOT NULL,
    size         bigint NOT NULL,
    subject      text NOT NULL DEFAULT '',
    from_addr    text NOT NULL DEFAULT '',
    to_addrs     text NOT NULL DEFAULT '',
    cc_addrs     text NOT NULL DEFAULT '',
    sent_at      timestamptz,
    message_id   text,
    in_reply_to  text,
    refs         text[] NOT NULL DEFAULT '{}',
    thread_id    uuid NOT NULL,
    preview      text NOT NULL DEFAULT '',
    has_attachments boolean NOT NULL DEFAULT false,
    seen         boolean NOT NULL DEFAULT false,
    flagged      boolean NOT NULL DEFAULT false,
    answered     boolean NOT NULL DEFAULT false,
    received_at  timestamptz NOT NULL DEFAULT now(),
    search       tsvector NOT NULL,
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, folder_id) REFERENCES folders (school_id, id) ON DELETE CASCADE,
    FOREIGN KEY (school_id, raw_id) REFERENCES raws (school_id, id)
);
CREATE INDEX messages_listing ON messages (school_id, folder_id, received_at DESC, id DESC);
CREATE INDEX messages_unread ON messages (school_id, folder_id) WHERE NOT seen;
CREATE INDEX messages_search ON messages USING gin (search);
CREATE INDEX messages_thread ON messages (school_id, user_id, thread_id);
CREATE INDEX messages_by_message_id ON messages (school_id, user_id, message_id);
CREATE INDEX messages_by_raw ON messages (school_id, raw_id);

-- Outbound mail to other domains, handed to the system's sendmail command by a worker.
-- A row is the durable promise: it is written in the sending transaction and deleted (or
-- marked failed, with a bounce to the sender) only after sendmail accepted or refused it.
CREATE TABLE outbox (
    school_id    uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    raw_id       uuid NOT NULL,
    sender_id    uuid,
    envelope_from text NOT NULL,
    recipients   text[] NOT NULL CHECK (cardinality(recipients) > 0),
    attempts     int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'failed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, raw_id) REFERENCES raws (school_id, id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'queued';

ALTER TABLE settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE settings FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON settings
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE aliases ENABLE ROW LEVEL SECURITY;
ALTER TABLE aliases FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON aliases
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE raws ENABLE ROW LEVEL SECURITY;
ALTER TABLE raws FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON raws
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE folders ENABLE ROW LEVEL SECURITY;
ALTER TABLE folders FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON folders
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON messages
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON outbox
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Inbound mail (LMTP) arrives without a school: this finds the school of a domain, if the
-- school has the module, and enters it for the rest of the transaction. SECURITY DEFINER:
-- only the owner looks across schools.
CREATE FUNCTION enter_domain(p_domain text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = mail, pg_temp AS $$
DECLARE
    s uuid;
BEGIN
    SELECT st.school_id INTO s FROM mail.settings st WHERE st.domain = lower(p_domain);
    IF s IS NULL OR NOT EXISTS (SELECT 1 FROM core.school_modules m
                                 WHERE m.school_id = s AND m.module = 'mail') THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('atrium.school_id', s::text, true);
    RETURN s;
END $$;

-- The outbound worker runs without a school: the schools with mail due now.
CREATE FUNCTION schools_with_due_mail() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = mail, pg_temp AS $$
    SELECT DISTINCT o.school_id FROM mail.outbox o
     WHERE o.state = 'queued' AND o.next_attempt_at <= now()
$$;
