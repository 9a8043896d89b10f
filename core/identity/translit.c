/* SPDX-License-Identifier: Apache-2.0 */
/* translit.c - any script to ASCII, through ICU's "Any-Latin; Latin-ASCII" transliterator, for
 * the usernames of the people import (import-columns.c).
 *
 * ICU is loaded when the first import needs it, not when atriumd starts: libicui18n, libicuuc
 * and the libstdc++ they pull in are three of the largest libraries a host would map and
 * relocate at every start, for a feature used a few times a year. The headers still type every
 * call; the symbols are looked up by the names the headers give them (ICU appends its major
 * version to each, utrans_openU_72). */
#include "identity-private.h"

#include <dlfcn.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#define ICU_LIBRARY "libicui18n.so." U_ICU_VERSION_SHORT /* it brings libicuuc with it */
#define ICU_NAME(sym) ICU_QUOTE (sym) /* the versioned name the headers' macro gives @sym */
#define ICU_QUOTE(sym) #sym

typedef struct {
        __typeof__ (utrans_openU) *open_u;
        __typeof__ (utrans_close) *close;
        __typeof__ (utrans_transUChars) *trans_uchars;
        __typeof__ (u_strFromUTF8) *from_utf8;
        __typeof__ (u_strToUTF8) *to_utf8;
        __typeof__ (u_uastrcpy) *uastrcpy;
        __typeof__ (u_errorName) *error_name;
} Icu;

static Icu icu;
static char *icu_failure; /* why ICU could not be loaded, or NULL */

static gpointer
load_icu (gpointer unused)
{
        (void) unused;
        void *lib = dlopen (ICU_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
                icu_failure = g_strdup (dlerror ());
                return NULL;
        }
        struct {
                const char *name;
                void **slot;
        } syms[] = {
                {ICU_NAME (utrans_openU), (void **) &icu.open_u},
                {ICU_NAME (utrans_close), (void **) &icu.close},
                {ICU_NAME (utrans_transUChars), (void **) &icu.trans_uchars},
                {ICU_NAME (u_strFromUTF8), (void **) &icu.from_utf8},
                {ICU_NAME (u_strToUTF8), (void **) &icu.to_utf8},
                {ICU_NAME (u_uastrcpy), (void **) &icu.uastrcpy},
                {ICU_NAME (u_errorName), (void **) &icu.error_name},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (syms); i++) {
                *syms[i].slot = dlsym (lib, syms[i].name);
                if (!*syms[i].slot) {
                        icu_failure = g_strdup_printf ("%s: no %s", ICU_LIBRARY, syms[i].name);
                        return NULL;
                }
        }
        return &icu; /* the library stays loaded for the life of the process */
}

struct _AtriumTranslit {
        UTransliterator *trans;
};

AtriumTranslit *
atrium_translit_new (GError **error)
{
        static GOnce once = G_ONCE_INIT;
        if (!g_once (&once, load_icu, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "usernames cannot be made without ICU: %s", icu_failure);
                return NULL;
        }
        static const char id[] = "Any-Latin; Latin-ASCII";
        UChar uid[sizeof id];
        icu.uastrcpy (uid, id);
        UErrorCode status = U_ZERO_ERROR;
        UTransliterator *t = icu.open_u (uid, -1, UTRANS_FORWARD, NULL, 0, NULL, &status);
        if (U_FAILURE (status)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "ICU transliterator %s: %s", id, icu.error_name (status));
                return NULL;
        }
        AtriumTranslit *out = g_new0 (AtriumTranslit, 1);
        out->trans = t;
        return out;
}

void
atrium_translit_free (AtriumTranslit *t)
{
        if (!t)
                return;
        icu.close (t->trans);
        g_free (t);
}

char *
atrium_translit_ascii (AtriumTranslit *t, const char *s)
{
        UErrorCode status = U_ZERO_ERROR;
        int32_t len = 0;
        icu.from_utf8 (NULL, 0, &len, s, -1, &status);
        if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE (status))
                return NULL;
        /* Transliteration may lengthen the text (ß -> ss, one letter -> "kh"): room for four
         * times the input, the longest expansion of Latin-ASCII in practice. */
        int32_t cap = len * 4 + 16;
        g_autofree UChar *buf = g_new (UChar, cap);
        status = U_ZERO_ERROR;
        icu.from_utf8 (buf, cap, &len, s, -1, &status);
        if (U_FAILURE (status))
                return NULL;
        int32_t limit = len;
        icu.trans_uchars (t->trans, buf, &len, cap, 0, &limit, &status);
        if (U_FAILURE (status))
                return NULL;
        int32_t out_len = 0;
        status = U_ZERO_ERROR;
        icu.to_utf8 (NULL, 0, &out_len, buf, len, &status);
        if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE (status))
                return NULL;
        char *out = g_malloc (out_len + 1);
        status = U_ZERO_ERROR;
        icu.to_utf8 (out, out_len + 1, NULL, buf, len, &status);
        if (U_FAILURE (status)) {
                g_free (out);
                return NULL;
        }
        return out;
}
