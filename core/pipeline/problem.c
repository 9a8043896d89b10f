/* SPDX-License-Identifier: Apache-2.0 */
/* problem.c - the one table that turns an AtriumError code into an HTTP status and an RFC 9457
 * problem "type". Plugins report errors; only this file decides what a client sees. */
#include "core-private.h"
#include "pipeline-private.h"

#include <libsoup/soup.h>

typedef struct {
        AtriumErrorCode code;
        guint status;
        const char *type;
} ProblemKind;

/* RFC 9110 reason phrases; libsoup 3.2 does not know 429 and a few others. */
static const char *
title_for (guint status)
{
        switch (status) {
        case 413:
                return "Content Too Large";
        case 415:
                return "Unsupported Media Type";
        case 422:
                return "Unprocessable Content";
        case 429:
                return "Too Many Requests";
        case 507:
                return "Insufficient Storage";
        default:
                return soup_status_get_phrase (status);
        }
}

static const ProblemKind kinds[] = {
        {ATRIUM_ERROR_INVALID, 400, "invalid-request"},
        {ATRIUM_ERROR_UNAUTHENTICATED, 401, "unauthenticated"},
        {ATRIUM_ERROR_FORBIDDEN, 403, "forbidden"},
        {ATRIUM_ERROR_NOT_FOUND, 404, "not-found"},
        {ATRIUM_ERROR_METHOD_NOT_ALLOWED, 405, "method-not-allowed"},
        {ATRIUM_ERROR_CONFLICT, 409, "conflict"},
        {ATRIUM_ERROR_PRECONDITION_FAILED, 412, "precondition-failed"},
        {ATRIUM_ERROR_TOO_LARGE, 413, "payload-too-large"},
        {ATRIUM_ERROR_UNSUPPORTED_MEDIA, 415, "unsupported-media-type"},
        {ATRIUM_ERROR_UNPROCESSABLE, 422, "unprocessable"},
        {ATRIUM_ERROR_RATE_LIMITED, 429, "rate-limited"},
        {ATRIUM_ERROR_INTERNAL, 500, "internal"},
        {ATRIUM_ERROR_BAD_GATEWAY, 502, "bad-gateway"},
        {ATRIUM_ERROR_UNAVAILABLE, 503, "unavailable"},
        {ATRIUM_ERROR_INSUFFICIENT_STORAGE, 507, "insufficient-storage"},
        {ATRIUM_ERROR_RANGE_NOT_SATISFIABLE, 416, "range-not-satisfiable"},
        {ATRIUM_ERROR_LOCKED, 423, "locked"},
        /* core-only (core-private.h) */
        {ATRIUM_ERROR_PASSWORD_CHANGE_REQUIRED, 403, "password-change-required"},
        {ATRIUM_ERROR_SECOND_FACTOR_REQUIRED, 403, "second-factor-required"},
};

static const ProblemKind *
kind_of (const GError *error)
{
        if (error && error->domain == ATRIUM_ERROR)
                for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
                        if (kinds[i].code == (AtriumErrorCode) error->code)
                                return &kinds[i];
        return &kinds[11]; /* internal */
}

guint
atrium_error_status (const GError *error)
{
        return kind_of (error)->status;
}

const char *
atrium_error_type (const GError *error)
{
        return kind_of (error)->type;
}

char *
atrium_problem_type_uri (const char *type)
{
        return g_strconcat ("https://atrium.dev/problems/", type, NULL);
}

GBytes *
atrium_problem_body (guint status, const char *type, const char *detail, const char *instance)
{
        g_autoptr (JsonBuilder) b = json_builder_new ();
        g_autofree char *uri = atrium_problem_type_uri (type);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "type");
        json_builder_add_string_value (b, uri);
        json_builder_set_member_name (b, "title");
        json_builder_add_string_value (b, title_for (status));
        json_builder_set_member_name (b, "status");
        json_builder_add_int_value (b, status);
        if (detail) {
                json_builder_set_member_name (b, "detail");
                json_builder_add_string_value (b, detail);
        }
        if (instance) {
                json_builder_set_member_name (b, "instance");
                json_builder_add_string_value (b, instance);
        }
        json_builder_end_object (b);
        g_autoptr (JsonNode) root = json_builder_get_root (b);
        gsize len;
        char *text = json_to_string (root, FALSE);
        len = strlen (text);
        return g_bytes_new_take (text, len);
}
