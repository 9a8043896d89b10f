/* SPDX-License-Identifier: Apache-2.0 */
/* join.c - the way into a room: joins of members and guests, leaves, guest links, ending a
 * room, and the callbacks through which the engines report that people left.
 *
 * A join checks the room's rules (locked, schedule), records the visit in
 * conference.attendance, and answers with the URL that takes the person to the engine: a
 * Jitsi Meet link carrying a short-lived token, or BigBlueButton's signed join URL after an
 * idempotent create. The visit is written only after the engine said yes, so a join it refuses
 * leaves none behind; BigBlueButton's create runs with the request's connection given back
 * (request_tx_commit, ABI 1.4) on the host's outside pool (ATRIUM_ROUTE_OUTSIDE). A person who
 * joins a room again (a reconnect) ends their earlier open visit of it, so usage is not counted
 * twice. */
#include "conference-private.h"

#include <string.h>

#include "atrium/crypto.h"

/* Closes open visits of room $1 now. A leave, an end or an engine's callback is a real signal,
 * but not for a visit older than a school day: that one stays unknown (estimated at
 * typical_minutes) rather than lasting until now. */
#define CLOSE_VISITS                                                                            \
        "UPDATE conference.attendance SET left_at = greatest(now(), joined_at) "               \
        "WHERE room_id = $1::uuid AND left_at IS NULL AND joined_at > now() - interval '12 hours'"

/* "1b4e28ba2fa1..." (the engine's room name) <-> the room id */
static char *
room_name (const char *room_id)
{
        GString *s = g_string_new (NULL);
        for (const char *c = room_id; *c; c++)
                if (*c != '-')
                        g_string_append_c (s, *c);
        return g_string_free (s, FALSE);
}

static char *
room_id_from_name (const char *name)
{
        if (!name || strlen (name) != 32)
                return NULL;
        char *id = g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", name, name + 8, name + 12,
                                    name + 16, name + 20);
        if (!g_uuid_string_is_valid (id))
                g_clear_pointer (&id, g_free);
        return id;
}

static gboolean
run (AtriumRequest *req, GError **error, const char *sql, int n, ...)
{
        const char *params[4];
        va_list ap;
        va_start (ap, n);
        for (int i = 0; i < n; i++)
                params[i] = va_arg (ap, const char *);
        va_end (ap);
        AtriumResult *res = conf_host->query (conf_host->request_tx (req), sql, n, params, error);
        if (res)
                conf_host->result_free (res);
        return res != NULL;
}

/* Refuses a join the room's rules do not allow now (moderators may always join). */
static gboolean
check_open (JsonObject *room, gboolean moderator, GError **error)
{
        if (moderator)
                return TRUE;
        if (json_object_get_boolean_member_with_default (room, "locked", FALSE))
                return conf_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "the room is locked: only its moderators may join");
        g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
        const char *starts = json_object_get_string_member_with_default (room, "starts_at", NULL);
        const char *ends = json_object_get_string_member_with_default (room, "ends_at", NULL);
        g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
        g_autoptr (GDateTime) s = starts ? g_date_time_new_from_iso8601 (starts, utc) : NULL;
        g_autoptr (GDateTime) e = ends ? g_date_time_new_from_iso8601 (ends, utc) : NULL;
        if (s && g_date_time_difference (s, now) >
                         (GTimeSpan) conf_settings.early_minutes * G_TIME_SPAN_MINUTE)
                return conf_fail (error, ATRIUM_ERROR_CONFLICT,
                                  "the room opens %u minutes before %s", conf_settings.early_minutes,
                                  starts);
        if (e && g_date_time_compare (now, e) >= 0)
                return conf_fail (error, ATRIUM_ERROR_CONFLICT, "the room closed at %s", ends);
        return TRUE;
}

/* BigBlueButton's signed join URL, after its idempotent create. The request's transaction is
 * committed first (what the handler read; nothing is written yet) and its connection given
 * back, so a slow BigBlueButton holds no database connection, and the route runs on the
 * host's outside pool (ATRIUM_ROUTE_OUTSIDE), so it holds no ordinary worker either. */
static char *
bbb_way_in (AtriumRequest *req, ConfBackend *b, JsonObject *room, gboolean moderator,
            const char *user_id, const char *guest_id, const char *name, GError **error)
{
        const char *room_id = json_object_get_string_member (room, "id");
        g_autofree char *callback = NULL;
        if (conf_settings.public_url) {
                const char *school = conf_host->request_school_id (req);
                g_autofree char *sig = conf_callback_sig (b, "bbb-end", school, room_id);
                if (sig)
                        callback = g_strdup_printf ("%s/api/v1/schools/%s/conference/callbacks/"
                                                    "bbb-end/%s?sig=%s",
                                                    conf_settings.public_url,
                                                    conf_host->request_school_slug (req), room_id,
                                                    sig);
        }
        ConfBbbMeeting m = {
                .meeting_id = room_id,
                .name = json_object_get_string_member (room, "name"),
                .max_participants = (guint) json_object_get_int_member_with_default (
                        room, "max_participants", 0),
                .lobby = json_object_get_boolean_member_with_default (room, "lobby", FALSE),
                .end_callback_url = callback,
        };
        if (ATRIUM_HOST_HAS (conf_host, request_tx_commit) &&
            !conf_host->request_tx_commit (req, error))
                return NULL;
        if (!conf_bbb_create (b, &m, error))
                return NULL;
        return conf_bbb_join_url (b, room_id, name, user_id ? user_id : guest_id, moderator,
                                  guest_id != NULL);
}

/* Records the visit and answers with the way in. @user_id or @guest_id names the person. A
 * visit is recorded only once the engine said yes: a join it refuses leaves none behind. */
static gboolean
join (AtriumRequest *req, JsonObject *room, gboolean moderator, const char *user_id,
      const char *guest_id, const char *name, GError **error)
{
        if (!check_open (room, moderator, error))
                return FALSE;
        AtriumTx *tx = conf_host->request_tx (req);
        g_autoptr (ConfBackend) b = conf_backend_load (tx, error);
        if (!b)
                return FALSE;
        const char *room_id = json_object_get_string_member (room, "id");
        g_autofree char *engine_room = room_name (room_id);
        g_autofree char *bbb_url = NULL;
        if (b->type != CONF_BACKEND_JITSI) {
                bbb_url = bbb_way_in (req, b, room, moderator, user_id, guest_id, name, error);
                if (!bbb_url)
                        return FALSE;
        }
        /* A reconnect ends the person's earlier visit of the room if it would still count as
         * open (joined less than typical_minutes ago): the two would overlap. An older visit
         * keeps its estimate; closing it now would make it last until the reconnect (the
         * benchmark found 21-hour visits that way). */
        g_autofree char *typical = g_strdup_printf ("%u minutes", conf_settings.typical_minutes);
        if (!run (req, error,
                  "UPDATE conference.attendance SET left_at = greatest(now(), joined_at) "
                  "WHERE room_id = $1::uuid AND left_at IS NULL AND "
                  "joined_at > now() - $4::interval AND "
                  "user_id IS NOT DISTINCT FROM $2::uuid AND guest_id IS NOT DISTINCT FROM $3::uuid",
                  4, room_id, user_id, guest_id, typical))
                return FALSE;
        AtriumResult *res = conf_sql (
                req, error,
                "INSERT INTO conference.attendance (school_id, room_id, user_id, guest_id, "
                "moderator) VALUES (core.current_school(), $1::uuid, $2::uuid, $3::uuid, $4) "
                "RETURNING id",
                4, room_id, user_id, guest_id, moderator ? "true" : "false");
        if (!res)
                return FALSE;
        g_autofree char *visit = g_strdup (conf_host->result_value (res, 0, 0));
        conf_host->result_free (res);

        JsonObject *ev = json_object_new ();
        json_object_set_string_member (ev, "room_id", room_id);
        json_object_set_string_member (ev, user_id ? "user_id" : "guest_id",
                                       user_id ? user_id : guest_id);
        json_object_set_boolean_member (ev, "moderator", moderator);
        if (!conf_host->publish (tx, "conference.joined", atrium_object_node (ev), error))
                return FALSE;

        JsonObject *o = json_object_new ();
        if (b->type == CONF_BACKEND_JITSI) {
                gint64 now = g_get_real_time () / G_USEC_PER_SEC;
                ConfJitsiClaims c = {.room = engine_room,
                                     .user_id = user_id ? user_id : guest_id,
                                     .name = name,
                                     .moderator = moderator,
                                     .now = now,
                                     .ttl = conf_settings.join_ttl};
                g_autofree char *jwt = conf_jitsi_token (b, &c);
                g_autofree char *url = g_strdup_printf ("%s/%s?jwt=%s", b->url, engine_room, jwt);
                g_autoptr (GDateTime) exp = g_date_time_new_from_unix_utc (now + c.ttl);
                g_autofree char *expires = g_date_time_format_iso8601 (exp);
                json_object_set_string_member (o, "url", url);
                json_object_set_string_member (o, "expires_at", expires);
                json_object_set_string_member (o, "backend", "jitsi");
        } else {
                json_object_set_string_member (o, "url", bbb_url);
                json_object_set_null_member (o, "expires_at");
                json_object_set_string_member (o, "backend", "bigbluebutton");
        }
        json_object_set_boolean_member (o, "moderator", moderator);
        json_object_set_string_member (o, "room_id", room_id);
        json_object_set_int_member (o, "attendance_id", g_ascii_strtoll (visit, NULL, 10));
        conf_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

/* ---- members ---- */

static gboolean
handle_join (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = conf_host->request_user_id (req);
        if (!me)
                return conf_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "operators do not join rooms; sign in as a person of the "
                                  "school");
        gboolean moderator = FALSE;
        g_autoptr (JsonObject) room = conf_room_for_caller (
                req, conf_host->request_param (req, "id"), &moderator, error);
        if (!room)
                return FALSE;
        AtriumResult *res = conf_sql (req, error,
                                      "SELECT coalesce(nullif(display_name, ''), username) "
                                      "FROM core.users WHERE id = $1::uuid",
                                      1, me);
        if (!res)
                return FALSE;
        g_autofree char *name = g_strdup (conf_host->result_n_rows (res)
                                                  ? conf_host->result_value (res, 0, 0)
                                                  : "?");
        conf_host->result_free (res);
        return join (req, room, moderator, me, NULL, name, error);
}

static gboolean
handle_leave (AtriumRequest *req, gpointer data, GError **error)
{
        gboolean moderator = FALSE;
        const char *id = conf_host->request_param (req, "id");
        g_autoptr (JsonObject) room = conf_room_for_caller (req, id, &moderator, error);
        if (!room)
                return FALSE;
        if (!run (req, error, CLOSE_VISITS " AND user_id = $2::uuid", 2, id,
                  conf_host->request_user_id (req)))
                return FALSE;
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

static gboolean
handle_end (AtriumRequest *req, gpointer data, GError **error)
{
        gboolean moderator = FALSE;
        const char *id = conf_host->request_param (req, "id");
        g_autoptr (JsonObject) room = conf_room_for_caller (req, id, &moderator, error);
        if (!room)
                return FALSE;
        if (!moderator)
                return conf_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "only the room's moderators may end it");
        g_autoptr (ConfBackend) b = conf_backend_load (conf_host->request_tx (req), error);
        if (!b)
                return FALSE;
        /* Jitsi Meet has no call to end a room from outside: its visits are closed here, and
         * the tokens already given expire after join_ttl_seconds. BigBlueButton's end is
         * called with the connection given back, as a join's create is. */
        if (b->type == CONF_BACKEND_BBB && ((ATRIUM_HOST_HAS (conf_host, request_tx_commit) &&
                                             !conf_host->request_tx_commit (req, error)) ||
                                            !conf_bbb_end (b, id, error)))
                return FALSE;
        if (!run (req, error, CLOSE_VISITS, 1, id))
                return FALSE;
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

/* ---- guests ---- */

#define GUEST_COLUMNS "id, name, expires_at, created_by, created_at, revoked_at"
#define GUEST_PROPS                                                                                \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"name\":{\"type\":\"string\"},"         \
        "\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"created_by\":{\"type\":[\"string\",\"null\"]},"                                         \
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"revoked_at\":{\"type\":[\"string\",\"null\"]}"

static gboolean
handle_guest_create (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (JsonObject) room = conf_moderated_room (req, error);
        if (!room)
                return FALSE;
        JsonObject *body = json_node_get_object (conf_host->request_json (req));
        const char *expires = json_object_get_string_member_with_default (body, "expires_at",
                                                                          NULL);
        if (expires) {
                g_autoptr (GDateTime) e = g_date_time_new_from_iso8601 (expires, NULL);
                g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
                if (!e || g_date_time_compare (e, now) <= 0 ||
                    g_date_time_difference (e, now) > 90 * G_TIME_SPAN_DAY)
                        return conf_fail (error, ATRIUM_ERROR_INVALID,
                                          "expires_at must be in the future and at most 90 days "
                                          "ahead");
        }
        g_autofree char *token = atrium_random_token (32);
        g_autofree char *hash = atrium_digest_hex (GCRY_MD_SHA256, token, strlen (token));
        AtriumResult *res = conf_sql (
                req, error,
                "INSERT INTO conference.guests (school_id, room_id, name, token_hash, expires_at, "
                "created_by) VALUES (core.current_school(), $1::uuid, $2, $3, "
                "coalesce($4::timestamptz, now() + interval '7 days'), $5::uuid) "
                "RETURNING " GUEST_COLUMNS,
                5, json_object_get_string_member (room, "id"),
                json_object_get_string_member (body, "name"), hash, expires,
                conf_host->request_user_id (req));
        if (!res)
                return FALSE;
        JsonNode *row = conf_host->result_row_json (res, 0);
        conf_host->result_free (res);
        JsonObject *o = json_node_get_object (row);
        json_object_set_string_member (o, "token", token);
        g_autofree char *path = g_strdup_printf ("/api/v1/schools/%s/conference/guest/%s/join",
                                                 conf_host->request_school_slug (req), token);
        json_object_set_string_member (o, "join_path", path);
        conf_host->respond_json (req, 201, row);
        return TRUE;
}

static gboolean
handle_guest_list (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (JsonObject) room = conf_moderated_room (req, error);
        if (!room)
                return FALSE;
        AtriumResult *res = conf_sql (req, error,
                                      "SELECT " GUEST_COLUMNS " FROM conference.guests "
                                      "WHERE room_id = $1::uuid ORDER BY created_at, id",
                                      1, json_object_get_string_member (room, "id"));
        if (!res)
                return FALSE;
        /* A whole list, in a page's shape as every list (docs/REST.md). */
        conf_host->respond_page (req, conf_host->result_rows_json (res), NULL);
        conf_host->result_free (res);
        return TRUE;
}

static gboolean
handle_guest_revoke (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (JsonObject) room = conf_moderated_room (req, error);
        if (!room)
                return FALSE;
        const char *guest = conf_host->request_param (req, "guest_id");
        if (!g_uuid_string_is_valid (guest))
                return conf_fail (error, ATRIUM_ERROR_NOT_FOUND, "no guest link %s", guest);
        AtriumResult *res = conf_sql (req, error,
                                      "UPDATE conference.guests SET revoked_at = now() "
                                      "WHERE room_id = $1::uuid AND id = $2::uuid AND "
                                      "revoked_at IS NULL RETURNING 1",
                                      2, json_object_get_string_member (room, "id"), guest);
        if (!res)
                return FALSE;
        int n = conf_host->result_n_rows (res);
        conf_host->result_free (res);
        if (!n)
                return conf_fail (error, ATRIUM_ERROR_NOT_FOUND, "no live guest link %s", guest);
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

static gboolean
handle_guest_join (AtriumRequest *req, gpointer data, GError **error)
{
        const char *token = conf_host->request_param (req, "token");
        if (!token || strlen (token) < 20 || strlen (token) > 100)
                return conf_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such guest link");
        g_autofree char *hash = atrium_digest_hex (GCRY_MD_SHA256, token, strlen (token));
        AtriumResult *res = conf_sql (
                req, error,
                "SELECT g.id, g.name, " CONF_ROOM_COLUMNS " FROM conference.guests g "
                "JOIN conference.rooms r ON r.school_id = g.school_id AND r.id = g.room_id "
                "WHERE g.token_hash = $1 AND g.revoked_at IS NULL AND g.expires_at > now()",
                1, hash);
        if (!res)
                return FALSE;
        if (conf_host->result_n_rows (res) == 0) {
                conf_host->result_free (res);
                return conf_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                  "no such guest link (it may have expired or been revoked)");
        }
        g_autofree char *guest = g_strdup (conf_host->result_value (res, 0, 0));
        g_autofree char *name = g_strdup (conf_host->result_value (res, 0, 1));
        JsonNode *row = conf_host->result_row_json (res, 0);
        conf_host->result_free (res);
        g_autoptr (JsonObject) room = json_object_ref (json_node_get_object (row));
        json_node_unref (row);
        return join (req, room, FALSE, NULL, guest, name, error);
}

/* ---- the engines' callbacks ---- */

/* The backend whose secret signs a callback. Without one nothing can have signed it: the
 * callback is refused as unsigned (401), not answered "try again later" (503), which an
 * engine would take as a reason to repeat it. */
static ConfBackend *
callback_backend (AtriumRequest *req, GError **error)
{
        gboolean none = FALSE;
        ConfBackend *b = conf_backend_find (conf_host->request_tx (req), &none, error);
        if (none)
                conf_fail (error, ATRIUM_ERROR_UNAUTHENTICATED,
                           "the callback's signature does not match: no videoconference "
                           "backend is configured for this school");
        return b;
}

static gboolean
handle_bbb_end (AtriumRequest *req, gpointer data, GError **error)
{
        const char *room = conf_host->request_param (req, "room_id");
        g_autoptr (ConfBackend) b = callback_backend (req, error);
        if (!b)
                return FALSE;
        g_autofree char *want =
                conf_callback_sig (b, "bbb-end", conf_host->request_school_id (req), room);
        if (b->type != CONF_BACKEND_BBB || !g_uuid_string_is_valid (room) ||
            !atrium_ct_streq (want, conf_host->request_query (req, "sig")))
                return conf_fail (error, ATRIUM_ERROR_UNAUTHENTICATED,
                                  "the callback's signature does not match");
        if (!run (req, error, CLOSE_VISITS, 1, room))
                return FALSE;
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

/* The URL Jitsi's event module posts to (docs: OPERATIONS.md), signed like the BigBlueButton
 * callback because the request carries no session. */
static gboolean
handle_jitsi_event (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (ConfBackend) b = callback_backend (req, error);
        if (!b)
                return FALSE;
        g_autofree char *want =
                conf_callback_sig (b, "jitsi-events", conf_host->request_school_id (req), NULL);
        if (b->type != CONF_BACKEND_JITSI ||
            !atrium_ct_streq (want, conf_host->request_param (req, "sig")))
                return conf_fail (error, ATRIUM_ERROR_UNAUTHENTICATED,
                                  "the callback's signature does not match");
        JsonObject *body = json_node_get_object (conf_host->request_json (req));
        const char *event = json_object_get_string_member (body, "event_name");
        g_autofree char *room =
                room_id_from_name (json_object_get_string_member_with_default (body, "room_name",
                                                                               NULL));
        JsonObject *occupant = json_object_get_member (body, "occupant") &&
                                               JSON_NODE_HOLDS_OBJECT (
                                                       json_object_get_member (body, "occupant"))
                                       ? json_object_get_object_member (body, "occupant")
                                       : NULL;
        const char *who = occupant ? json_object_get_string_member_with_default (occupant, "id",
                                                                                 NULL)
                                   : NULL;
        gboolean ok = TRUE;
        if (!room)
                ok = TRUE; /* a room that is not ours (a lobby, a breakout): nothing to close */
        else if (g_str_equal (event, "muc-room-destroyed"))
                ok = run (req, error, CLOSE_VISITS, 1, room);
        else if (g_str_equal (event, "muc-occupant-left") && who && g_uuid_string_is_valid (who))
                ok = run (req, error,
                          CLOSE_VISITS " AND (user_id = $2::uuid OR guest_id = $2::uuid)", 2,
                          room, who);
        if (!ok)
                return FALSE;
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

#define GUEST_BODY                                                                              \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\"],"          \
        "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"     \
        "\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}"
/* Jitsi sends more than we read (room_jid, is_breakout, the occupant's jid, times): allowed. */
#define JITSI_EVENT_BODY                                                                        \
        "{\"type\":\"object\",\"additionalProperties\":true,\"required\":[\"event_name\"],"        \
        "\"properties\":{"                                                                     \
        "\"event_name\":{\"type\":\"string\",\"maxLength\":100},"                               \
        "\"room_name\":{\"type\":\"string\",\"maxLength\":200},"                                \
        "\"occupant\":{\"type\":\"object\",\"additionalProperties\":true}}}"
#define JOIN_ANSWER                                                                             \
        "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"},"                   \
        "\"expires_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"             \
        "\"moderator\":{\"type\":\"boolean\"},\"backend\":{\"enum\":[\"jitsi\","                \
        "\"bigbluebutton\"]},\"room_id\":{\"type\":\"string\"},"                                \
        "\"attendance_id\":{\"type\":\"integer\"}}}"

gboolean
conf_join_register (GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/rooms/{id}/join",
                 .permission = "conference.join", .flags = ATRIUM_ROUTE_OUTSIDE,
                 .summary = "Join a room: the URL that takes the caller to the engine",
                 .response_schema = JOIN_ANSWER, .handler = handle_join},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/rooms/{id}/leave",
                 .permission = "conference.join", .summary = "Tell that the caller left the room",
                 .success_status = 204, .handler = handle_leave},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/rooms/{id}/end",
                 .permission = "conference.join", .flags = ATRIUM_ROUTE_OUTSIDE,
                 .summary = "End the room's meeting (its moderators)", .success_status = 204,
                 .handler = handle_end},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/rooms/{id}/guests",
                 .permission = "conference.join",
                 .summary = "A personal guest link, shown once (the room's moderators)",
                 .request_schema = GUEST_BODY,
                 .response_schema = "{\"type\":\"object\",\"properties\":{" GUEST_PROPS ","
                                    "\"token\":{\"type\":\"string\",\"description\":\"shown "
                                    "only here\"},\"join_path\":{\"type\":\"string\","
                                    "\"description\":\"what the guest POSTs to join\"}}}",
                 .success_status = 201, .handler = handle_guest_create},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/rooms/{id}/guests",
                 .permission = "conference.join",
                 .summary = "The room's guest links, without tokens (its moderators)",
                 .response_schema =
                         "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":"
                         "\"array\",\"items\":{\"type\":\"object\",\"properties\":{" GUEST_PROPS
                         "}}},\"next_cursor\":{\"type\":\"null\"}}}",
                 .handler = handle_guest_list},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/rooms/{id}/guests/{guest_id}",
                 .permission = "conference.join",
                 .summary = "Revoke a guest link (the room's moderators)", .success_status = 204,
                 .handler = handle_guest_revoke},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/guest/{token}/join",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OUTSIDE,
                 .summary = "Join as the guest a personal link names",
                 .response_schema = JOIN_ANSWER, .handler = handle_guest_join},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/callbacks/bbb-end/{room_id}",
                 .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "BigBlueButton's meeting-ended callback (signed ?sig=)",
                 /* Not required: a callback without its signature is a 401, as a wrong
                  * one is. */
                 .query_schema = "{\"type\": \"object\", \"properties\": {\"sig\": "
                                 "{\"type\": \"string\", \"description\": \"the signature "
                                 "the callback URL was handed out with\"}}}",
                 .success_status = 204, .handler = handle_bbb_end},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/callbacks/jitsi/{sig}",
                 .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "Jitsi Meet's occupant and room events (signed URL)",
                 .request_schema = JITSI_EVENT_BODY, .success_status = 204,
                 .handler = handle_jitsi_event},
        };
        return atrium_add_routes (conf_host, conf_self, routes, G_N_ELEMENTS (routes), error);
}
