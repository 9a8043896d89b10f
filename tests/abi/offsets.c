/* SPDX-License-Identifier: Apache-2.0 */
/* offsets.c - the current public headers (api/) against the layout of every released minor
 * (1.0, 1.1, 1.2, 1.3, 1.4).
 *
 * frozen-layout-1.N.h is generated at build time from the frozen copy in tests/abi/1.N (see
 * frozen-layout.c). Every member a plugin or host of a released minor may touch must keep
 * its offset and its size; structs that start with an AtriumStructHeader may only grow, the
 * others not at all; public constants keep their values. Each minor is checked for what it
 * added (abi-1.N-layout.h) and for the size of every struct it had; 1.0's members are
 * checked against 1.0. Nearly all of it is _Static_assert: a breaking change to api/ stops
 * the build, naming the member and the release it breaks. The strings are compared when the
 * test runs. abidiff (check-abi.sh) covers what this cannot see, such as a slot keeping its
 * size but changing its signature. */
#include <atrium/atrium.h>
#include <stdio.h>
#include <string.h>

#include "abi-1.0-layout.h"
#include "abi-1.1-layout.h"
#include "abi-1.2-layout.h"
#include "abi-1.3-layout.h"
#include "abi-1.4-layout.h"
#include "frozen-layout-1.0.h"
#include "frozen-layout-1.1.h"
#include "frozen-layout-1.2.h"
#include "frozen-layout-1.3.h"
#include "frozen-layout-1.4.h"

/* v is the macro infix of a release (1_1), vs its name ("1.1"). */
#define MEMBER_AT(v, vs, T, m)                                                                     \
        _Static_assert(offsetof (T, m) == ATRIUM_##v##_OFFSET_##T##_##m,                           \
                       #T "." #m " moved: ABI " vs " plugins expect it where " vs " had it");      \
        _Static_assert(sizeof (((T *) 0)->m) == ATRIUM_##v##_MSIZE_##T##_##m,                      \
                       #T "." #m " changed size since ABI " vs);
#define SIZE_AT(v, vs, T, growable)                                                                \
        _Static_assert(growable ? sizeof (T) >= ATRIUM_##v##_SIZE_##T                              \
                                : sizeof (T) == ATRIUM_##v##_SIZE_##T,                             \
                       #T ": size changed since ABI " vs " (only structs with a header may "       \
                          "grow, and only at the end)");
/* Constants are macros themselves, so each release spells this out: forwarded through another
 * macro, c would be expanded (ATRIUM_MAGIC to 0x41545231u) before it could be pasted. */
#define CONSTANT_1_0(c)                                                                            \
        _Static_assert((long long) (c) == ATRIUM_1_0_VALUE_##c, #c " changed its ABI 1.0 value");
#define CONSTANT_1_1(c)                                                                            \
        _Static_assert((long long) (c) == ATRIUM_1_1_VALUE_##c, #c " changed its ABI 1.1 value");
#define CONSTANT_1_2(c)                                                                            \
        _Static_assert((long long) (c) == ATRIUM_1_2_VALUE_##c, #c " changed its ABI 1.2 value");
#define CONSTANT_1_3(c)                                                                            \
        _Static_assert((long long) (c) == ATRIUM_1_3_VALUE_##c, #c " changed its ABI 1.3 value");
#define CONSTANT_1_4(c)                                                                            \
        _Static_assert((long long) (c) == ATRIUM_1_4_VALUE_##c, #c " changed its ABI 1.4 value");

/* 1.0: every member, every struct, every constant. */
#define MEMBER_1_0(T, m) MEMBER_AT (1_0, "1.0", T, m)
#define STRUCT_1_0(T, LIST, growable) LIST (MEMBER_1_0) SIZE_AT (1_0, "1.0", T, growable)
ATRIUM_ABI_1_0_STRUCTS (STRUCT_1_0)
ATRIUM_ABI_1_0_CONSTANTS (CONSTANT_1_0)

/* 1.1 to 1.4: what each appended, and the size each gave every struct. */
#define MEMBER_1_1(T, m) MEMBER_AT (1_1, "1.1", T, m)
#define APPENDED_1_1(LIST) LIST (MEMBER_1_1)
#define SIZE_1_1(T, LIST, growable) SIZE_AT (1_1, "1.1", T, growable)
ATRIUM_ABI_1_1_APPENDED (APPENDED_1_1)
ATRIUM_ABI_1_0_STRUCTS (SIZE_1_1)
ATRIUM_ABI_1_1_CONSTANTS (CONSTANT_1_1)

#define MEMBER_1_2(T, m) MEMBER_AT (1_2, "1.2", T, m)
#define APPENDED_1_2(LIST) LIST (MEMBER_1_2)
#define SIZE_1_2(T, LIST, growable) SIZE_AT (1_2, "1.2", T, growable)
ATRIUM_ABI_1_2_APPENDED (APPENDED_1_2)
ATRIUM_ABI_1_0_STRUCTS (SIZE_1_2)
ATRIUM_ABI_1_2_CONSTANTS (CONSTANT_1_2)

#define MEMBER_1_3(T, m) MEMBER_AT (1_3, "1.3", T, m)
#define APPENDED_1_3(LIST) LIST (MEMBER_1_3)
#define SIZE_1_3(T, LIST, growable) SIZE_AT (1_3, "1.3", T, growable)
ATRIUM_ABI_1_3_APPENDED (APPENDED_1_3)
ATRIUM_ABI_1_0_STRUCTS (SIZE_1_3)
ATRIUM_ABI_1_3_CONSTANTS (CONSTANT_1_3)

#define MEMBER_1_4(T, m) MEMBER_AT (1_4, "1.4", T, m)
#define APPENDED_1_4(LIST) LIST (MEMBER_1_4)
#define SIZE_1_4(T, LIST, growable) SIZE_AT (1_4, "1.4", T, growable)
ATRIUM_ABI_1_4_APPENDED (APPENDED_1_4)
ATRIUM_ABI_1_0_STRUCTS (SIZE_1_4)
ATRIUM_ABI_1_4_CONSTANTS (CONSTANT_1_4)

/* A minor may only grow within the major. */
_Static_assert(ATRIUM_ABI_MAJOR == ATRIUM_1_0_VALUE_ATRIUM_ABI_MAJOR,
               "ABI major changed: that locks out every plugin built so far");
_Static_assert(ATRIUM_ABI_MINOR >= ATRIUM_1_4_VALUE_ATRIUM_ABI_MINOR,
               "ABI minor went below the last released one (1.4)");
/* The loader's lower bound is the 1.0 descriptor, whatever the descriptor grows to. */
_Static_assert (ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0 == ATRIUM_1_0_SIZE_AtriumPluginDescriptor,
                "ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0 no longer is the size of the 1.0 descriptor");

static int
same_string (const char *what, const char *now, const char *release, const char *then)
{
        if (strcmp (now, then) == 0)
                return 1;
        fprintf (stderr, "%s is \"%s\", ABI %s plugins use \"%s\"\n", what, now, release, then);
        return 0;
}

int
main (void)
{
        const char *domain = g_quark_to_string (ATRIUM_ERROR);
        int ok = same_string ("ATRIUM_PLUGIN_SYMBOL", ATRIUM_PLUGIN_SYMBOL, "1.0",
                              ATRIUM_1_0_PLUGIN_SYMBOL) &
                 same_string ("ATRIUM_PLUGIN_SYMBOL", ATRIUM_PLUGIN_SYMBOL, "1.1",
                              ATRIUM_1_1_PLUGIN_SYMBOL) &
                 same_string ("ATRIUM_PLUGIN_SYMBOL", ATRIUM_PLUGIN_SYMBOL, "1.2",
                              ATRIUM_1_2_PLUGIN_SYMBOL) &
                 same_string ("ATRIUM_PLUGIN_SYMBOL", ATRIUM_PLUGIN_SYMBOL, "1.3",
                              ATRIUM_1_3_PLUGIN_SYMBOL) &
                 same_string ("ATRIUM_PLUGIN_SYMBOL", ATRIUM_PLUGIN_SYMBOL, "1.4",
                              ATRIUM_1_4_PLUGIN_SYMBOL) &
                 same_string ("ATRIUM_ERROR", domain, "1.0", ATRIUM_1_0_ERROR_DOMAIN) &
                 same_string ("ATRIUM_ERROR", domain, "1.1", ATRIUM_1_1_ERROR_DOMAIN) &
                 same_string ("ATRIUM_ERROR", domain, "1.2", ATRIUM_1_2_ERROR_DOMAIN) &
                 same_string ("ATRIUM_ERROR", domain, "1.3", ATRIUM_1_3_ERROR_DOMAIN) &
                 same_string ("ATRIUM_ERROR", domain, "1.4", ATRIUM_1_4_ERROR_DOMAIN);
        if (ok)
                printf ("ABI 1.0, 1.1, 1.2, 1.3 and 1.4 layouts kept: every member, size and constant "
                        "checked at compile time\n");
        return !ok;
}
