/* SPDX-License-Identifier: Apache-2.0 */
/* park-private.h - connections waiting for a request, kept outside GLib's main loop
 * (park.c says why). One park per front, used from that front's thread only. */
#pragma once

#include <gio/gio.h>

typedef struct _AtriumPark AtriumPark;

/* A parked connection's request head is complete (or as long as the park keeps): @fd is
 * the caller's now, with @head (nullable: never empty) the bytes read from it so far. */
typedef void (*AtriumParkReadyFunc) (int fd, GBytes *head, gpointer data);

/* A parked connection was closed: its client left, or its deadline passed. */
typedef void (*AtriumParkDroppedFunc) (gpointer data);

AtriumPark *atrium_park_new (GMainContext *context, AtriumParkReadyFunc ready,
                             AtriumParkDroppedFunc dropped, gpointer data, GError **error);

/* Takes @fd (a non-blocking stream socket) and watches it until a request head is complete
 * (ready), the client closes or @deadline (monotonic microseconds) passes (dropped). With
 * @read_now it first reads what is there, and either callback may run inside this call. */
void atrium_park_add (AtriumPark *p, int fd, gint64 deadline, gboolean read_now);

/* Closes the connections whose deadline is not after @now. */
void atrium_park_sweep (AtriumPark *p, gint64 now);

guint atrium_park_count (AtriumPark *p);

/* Closes every parked connection (each one dropped) and stops watching. */
void atrium_park_close_all (AtriumPark *p);

void atrium_park_free (AtriumPark *p);
