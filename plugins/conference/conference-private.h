/* SPDX-License-Identifier: Apache-2.0 */
/* conference-private.h - shared by the conference plugin's sources:
 *
 *   plugin.c       the wiring: descriptor, settings, init (routes, subscriptions, timers), fini
 *   model.c        who may join or moderate a room, the reaction to group.deleted, the GDPR
 *                  export
 *   backend.c      PUT/GET/DELETE /backend; the effective backend of a school (its own, else
 *                  the installation's [conference] section); secrets sealed with AES-256-GCM
 *   rooms.c        /rooms CRUD
 *   join.c         joins (members and guests), leaves, guest links, ending a room, the
 *                  backends' callbacks (BigBlueButton's end callback, Jitsi's webhook)
 *   jitsi.c        HS256 JSON Web Tokens for Jitsi Meet (libgcrypt HMAC)
 *   bbb.c          the BigBlueButton API client (checksums, create, join URL, end; libsoup)
 *   bbb-xml.c      parsing BigBlueButton's XML answers (libxml2); fuzzed on its own
 *   stats.c        GET /stats and the operator-wide GET /api/v1/conference/stats
 *   purge.c        deleting guest links long ended (timer and `atriumd conference purge`)
 *   rollup.c       the daily roll-ups of the figures (timer and `atriumd conference rollup`)
 */
#pragma once

#include <atrium/atrium.h>
#include <atrium/groups.h>

#include "bbb-xml.h"

extern const AtriumHost *conf_host;
extern const AtriumGroupsService *conf_groups;
extern AtriumPlugin *conf_self;

#define conf_tx_sql(tx, error, ...) atrium_queryv (conf_host, (tx), (error), __VA_ARGS__)
#define conf_sql(...) atrium_request_queryv (conf_host, __VA_ARGS__)
#define conf_fail atrium_fail

/* Settings of the installation ([conference] in the config file, ATRIUM_CONFERENCE_*),
 * read once in init. */
typedef struct {
        guint join_ttl;        /* join_ttl_seconds: lifetime of a Jitsi token (300) */
        guint typical_minutes; /* typical_minutes: assumed length of a visit whose leave is
                                * unknown, for the usage estimate (25) */
        guint early_minutes;   /* early_minutes: a scheduled room opens this much before its
                                * start for non-moderators (15) */
        guint bbb_timeout;     /* bbb_timeout_seconds: per HTTP call to BigBlueButton (3) */
        guint bbb_retries;     /* bbb_retries: further attempts after a failed call (1) */
        guint bbb_cooldown;    /* bbb_cooldown_seconds: fail fast this long after a server
                                * did not answer (10; 0: off) */
        guint guest_keep_days; /* guest_keep_days: ended guest links are deleted after (30) */
        guint rollup_batch_days; /* rollup_batch_days: school days one run of the roll-up
                                  * timer does at most (500) */
        char *public_url;      /* public_url: how the backends reach this host, for callbacks
                                * ("https://atrium.example.org"); NULL: no callbacks */
} ConfSettings;
extern ConfSettings conf_settings;

/* ---- backend.c ---- */

typedef enum {
        CONF_BACKEND_JITSI = 1,
        CONF_BACKEND_BBB = 2,
} ConfBackendType;

typedef struct {
        ConfBackendType type;
        char *url;     /* jitsi: "https://meet.example.org"; bbb: the API base,
                        * "https://bbb.example.org/bigbluebutton/api" (never a trailing '/') */
        char *app_id;  /* jitsi: the token's iss; NULL for bbb */
        char *secret;  /* in memory only, never logged */
        gboolean sha1; /* bbb: checksums with SHA-1 instead of SHA-256 */
} ConfBackend;

void conf_backend_free (ConfBackend *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfBackend, conf_backend_free)
/* The school's backend, else the installation's; ATRIUM_ERROR_UNAVAILABLE when neither. */
ConfBackend *conf_backend_load (AtriumTx *tx, GError **error);
/* The same, but a school (and installation) without a backend is no failure: NULL with
 * *out_none set and no error. */
ConfBackend *conf_backend_find (AtriumTx *tx, gboolean *out_none, GError **error);
gboolean conf_backend_register (GError **error);
gboolean conf_backend_init (GError **error); /* reads the sealing key */
void conf_backend_fini (void);
/* The signature in a callback URL the engines call (they carry no session): HMAC-SHA256 with
 * the backend secret over "<what>:<school id>:<id>", base64url. (transfer full) (nullable):
 * NULL only if libgcrypt fails. */
char *conf_callback_sig (const ConfBackend *b, const char *what, const char *school_id,
                         const char *id);

/* ---- jitsi.c ---- */

typedef struct {
        const char *room;      /* the Jitsi room name */
        const char *user_id;   /* user or guest id */
        const char *name;      /* display name */
        const char *email;     /* (nullable) */
        gboolean moderator;
        gint64 now;            /* unix seconds */
        guint ttl;             /* seconds */
} ConfJitsiClaims;

/* "<header>.<payload>.<signature>" (transfer full) */
char *conf_jitsi_token (const ConfBackend *b, const ConfJitsiClaims *c);

/* ---- bbb.c ---- */

typedef struct {
        const char *meeting_id;       /* the room's id */
        const char *name;             /* the room's name */
        guint max_participants;       /* 0: no limit */
        gboolean lobby;               /* guests wait for a moderator (guestPolicy) */
        const char *end_callback_url; /* (nullable) meta_endCallbackUrl */
} ConfBbbMeeting;

/* @cooldown_seconds: after a call gave up without an answer, calls to that server fail at once
 * (503) for this long; 0: never. */
void conf_bbb_init (guint timeout_seconds, guint retries, guint cooldown_seconds);
void conf_bbb_fini (void);
/* "<call><query><secret>" hashed with the backend's algorithm, lower-case hex (full). */
char *conf_bbb_checksum (const ConfBackend *b, const char *call, const char *query);
/* The password BigBlueButton knows a room's moderators (or attendees) by: derived from the
 * backend secret and the meeting id, so every host computes the same one without storing it. */
char *conf_bbb_password (const ConfBackend *b, const char *meeting_id, gboolean moderator);
/* create (idempotent: an existing meeting is success). Transport failures and 5xx are retried
 * (conf_bbb_init's retries, with a short backoff); no answer: ATRIUM_ERROR_UNAVAILABLE (503);
 * an answer that is not SUCCESS or not XML: ATRIUM_ERROR_BAD_GATEWAY (502). */
gboolean conf_bbb_create (const ConfBackend *b, const ConfBbbMeeting *m, GError **error);
/* The signed join URL a browser opens (no call is made). @guest: someone joining through a
 * guest link; BigBlueButton applies the meeting's guestPolicy (the lobby) only to joins that
 * say guest=true. (transfer full) */
char *conf_bbb_join_url (const ConfBackend *b, const char *meeting_id, const char *full_name,
                         const char *user_id, gboolean moderator, gboolean guest);
/* end; a meeting BigBlueButton does not know (notFound) counts as ended. */
gboolean conf_bbb_end (const ConfBackend *b, const char *meeting_id, GError **error);

/* ---- join.c, rooms.c, stats.c ---- */

gboolean conf_rooms_register (GError **error);
gboolean conf_join_register (GError **error);
gboolean conf_stats_register (GError **error);
gboolean conf_purge_register (GError **error);  /* purge.c */
gboolean conf_rollup_register (GError **error); /* rollup.c */

/* model.c: subscribed to group.deleted, and the descriptor's GDPR export hook (plugin.c). */
gboolean conf_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                                GError **error);
gboolean conf_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                           GError **error);

/* The room @room_id as the caller may see it (NULL and NOT_FOUND when it does not exist or the
 * caller may not join it); *out_moderator tells whether the caller moderates it. */
JsonObject *conf_room_for_caller (AtriumRequest *req, const char *room_id,
                                  gboolean *out_moderator, GError **error);
/* The room of the request's {id} if the caller moderates it; NULL with NOT_FOUND (as
 * conf_room_for_caller) or FORBIDDEN otherwise. (transfer full) */
JsonObject *conf_moderated_room (AtriumRequest *req, GError **error);
/* SQL select list of a room, for JSON answers. */
#define CONF_ROOM_COLUMNS                                                                       \
        "r.id, r.name, r.description, r.group_id, r.created_by, r.starts_at, r.ends_at, "      \
        "r.max_participants, r.lobby, r.locked, r.created_at, r.updated_at"
