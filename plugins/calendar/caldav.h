/* SPDX-License-Identifier: Apache-2.0 */
/* caldav.h - what caldav.c (the tree: paths, PROPFIND's resources, GET, PUT, DELETE,
 * MKCALENDAR) and caldav-report.c (REPORT) share. docs/CALDAV.md describes the protocol side. */
#pragma once

#include "calendar-private.h"

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CALDAV_APPLE_NS "http://apple.com/ns/ical/"
#define CALDAV_CS_NS "http://calendarserver.org/ns/"
/* The resource name of an event in SQL: what the client PUT it as, or "<id>.ics". */
#define CALDAV_NAME_SQL "coalesce(e.dav_name, e.id::text || '.ics')"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CalImportItem, cal_import_item_free)

/* Where a tree path points. */
typedef enum {
        CALDAV_ROOT,     /* "" */
        CALDAV_HOME,     /* "<username>" */
        CALDAV_CALENDAR, /* "<username>/<calendar>" */
        CALDAV_OBJECT,   /* "<username>/<calendar>/<name>.ics" */
} CalDavDepth;

typedef struct {
        CalDavDepth depth;
        char *user;        /* the caller's username */
        char *segment;     /* (nullable) the calendar's segment */
        CalCalendar *cal;  /* (nullable) the calendar, opened for the caller */
        char *object;      /* (nullable) the resource name in the calendar */
        gint64 sync_seq;   /* the calendar's change counter */
        gint64 sync_floor; /* tokens below it may have missed a pruned deletion */
} CalDavPlace;

void cal_dav_place_clear (CalDavPlace *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CalDavPlace, cal_dav_place_clear)

/* Resolves @path for the caller: NOT_FOUND for what they may not see (another person's home,
 * a calendar of another group or school); with @edit, FORBIDDEN for a calendar they see but
 * may not change. The object itself is not looked up. */
gboolean cal_dav_resolve (AtriumRequest *req, const char *path, gboolean edit, CalDavPlace *out,
                          GError **error);
/* "urn:atrium:sync:<calendar id>:<n>" */
char *cal_dav_sync_token (const char *calendar_id, gint64 seq);
/* The caller's username, or NULL with an error (403 when they may not read calendars). */
char *cal_dav_my_username (AtriumRequest *req, GError **error);
/* Emits one event resource: @name, its stored @ical (for the ETag and length; @data is sent as
 * calendar-data when non-NULL), its id and times. */
void cal_dav_emit_object (const char *path_prefix, const char *name, const char *id,
                          const char *etag_md5, gint64 length, gint64 modified, gint64 created,
                          const char *data, AtriumDavEmitFunc emit, gpointer emit_data);

/* ---- to-dos (todos.c) ---- */

/* If-Match and If-None-Match of a PUT or DELETE against the current ETag (NULL: none). */
gboolean cal_dav_preconditions (AtriumRequest *req, const char *etag, GError **error);
/* PUT of the to-do @t at @p (a resource of a calendar opened for editing). */
gboolean cal_dav_put_todo (AtriumRequest *req, const CalDavPlace *p, const CalTodo *t,
                           gboolean *out_created, AtriumDavEmitFunc emit, gpointer emit_data,
                           GError **error);
/* DELETE of the to-do at @p, if there is one (*out_found FALSE: none, nothing done). */
gboolean cal_dav_remove_todo (AtriumRequest *req, const CalDavPlace *p, gboolean *out_found,
                              GError **error);
