/* SPDX-License-Identifier: Apache-2.0 */
/* body-pipe-private.h - a streamed request body between the main loop and a worker
 * (body-pipe.c). */
#pragma once

#include <gio/gio.h>

typedef struct _AtriumBodyPipe AtriumBodyPipe;

/* Invoked from the consumer's thread, with the pipe locked: arrange (without blocking) for
 * the main loop to call atrium_body_pipe_resumed() and unpause the producer. */
typedef void (*AtriumPipeDemandFunc) (AtriumBodyPipe *pipe, gpointer data);
/* Invoked on the consumer's thread before its first read is served. */
typedef gboolean (*AtriumPipeFirstReadFunc) (gpointer data, GError **error);

AtriumBodyPipe *atrium_body_pipe_new (AtriumPipeDemandFunc demand, gpointer demand_data,
                                      GDestroyNotify demand_data_free);
AtriumBodyPipe *atrium_body_pipe_ref (AtriumBodyPipe *p);
void atrium_body_pipe_unref (AtriumBodyPipe *p);
void atrium_body_pipe_set_first_read (AtriumBodyPipe *p, AtriumPipeFirstReadFunc func,
                                      gpointer data);
/* The producer runs before the consumer's first read (the front collects a small body before
 * a worker takes the request): the message is not paused, so the idle check applies. */
void atrium_body_pipe_set_flowing (AtriumBodyPipe *p);

/* Producer (main loop). push() returns TRUE when the producer must pause. */
gboolean atrium_body_pipe_push (AtriumBodyPipe *p, GBytes *chunk);
void atrium_body_pipe_finish (AtriumBodyPipe *p);
void atrium_body_pipe_close (AtriumBodyPipe *p, const char *why);
/* From any thread: closes every pipe whose body is still coming, so that its reader fails
 * with @why (a drain that ran out of time). Returns: how many. */
guint atrium_body_pipe_close_all (const char *why);
gboolean atrium_body_pipe_resumed (AtriumBodyPipe *p);
gboolean atrium_body_pipe_started (AtriumBodyPipe *p);
guint64 atrium_body_pipe_progress (AtriumBodyPipe *p, gboolean *out_paused);

/* Consumer: a blocking GInputStream over the pipe (holds a reference to it). */
GInputStream *atrium_body_pipe_stream_new (AtriumBodyPipe *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumBodyPipe, atrium_body_pipe_unref)
