/* SPDX-License-Identifier: Apache-2.0 */
/* ops-private.h - what operators see of a host: the log (log.c), Prometheus metrics
 * (metrics.c), the OpenAPI document (openapi.c) and the operational routes (core-routes.c:
 * /healthz, /readyz, /metrics, /openapi.json). The configuration is config-private.h. */
#pragma once

#include "core-private.h"

/* core-routes.c */
void atrium_core_register_builtin_routes (AtriumCore *core);

/* openapi.c */
JsonNode *atrium_openapi_document (AtriumCore *core);

/* metrics.c */
AtriumMetrics *atrium_metrics_new (void);
void atrium_metrics_free (AtriumMetrics *m);
void atrium_metrics_observe (AtriumMetrics *m, const char *method, const char *route,
                             guint status, double seconds);
char *atrium_metrics_render (AtriumMetrics *m, AtriumCore *core);
/* Open client connections go up or down by @delta (any thread). */
void atrium_metrics_connections (AtriumMetrics *m, int delta);
void atrium_metrics_connections_waiting (AtriumMetrics *m, int delta);
/* An accept() failed for want of descriptors. */
void atrium_metrics_accept_failed (AtriumMetrics *m);

/* sendmail.c: AtriumHost.send_mail, and the host's defaults ([sendmail] command, timeout) */
void atrium_sendmail_configure (const char *command, guint timeout);
AtriumSendMailOutcome atrium_sendmail (const char *command, guint timeout, const char *from,
                                       const char *const *rcpts, GBytes *message,
                                       char **out_reason);

/* log.c */
void atrium_log_setup (void);
/* Request log lines on (the default) or off ([http] access_log). */
void atrium_log_set_access (gboolean enabled);
/* Writes out this thread's buffered request log lines (before exit). */
void atrium_log_flush (void);
void atrium_log_request (const char *request_id, const char *method, const char *route,
                         guint status, double ms);
