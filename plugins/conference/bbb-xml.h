/* SPDX-License-Identifier: Apache-2.0 */
/* bbb-xml.h - BigBlueButton's API answers ("<response><returncode>SUCCESS</returncode>
 * <messageKey>...</messageKey><message>...</message>...</response>"), parsed with libxml2.
 * Standalone (no host types) so the fuzz target links it alone. */
#pragma once

#include <glib.h>

typedef struct {
        gboolean success;  /* returncode is SUCCESS */
        char *return_code; /* as sent ("SUCCESS", "FAILED") */
        char *message_key; /* (nullable) "duplicateWarning", "notFound", "idNotUnique", ... */
        char *message;     /* (nullable) */
        char *meeting_id;  /* (nullable) */
} ConfBbbAnswer;

/* FALSE (and *out untouched) when @xml is not a well-formed <response> with a returncode.
 * Never loads external entities or DTDs; at most 64 KiB is looked at. */
gboolean conf_bbb_parse_answer (const char *xml, gsize len, ConfBbbAnswer *out);
void conf_bbb_answer_clear (ConfBbbAnswer *a);
