/* SPDX-License-Identifier: Apache-2.0 */
/* offsets.c - the current public headers (api/) against the layout ABI 1.0 had.
 *
 * frozen-layout-1.0.h is generated at build time from the frozen copy in tests/abi/1.0 (see
 * frozen-layout.c). Every member a 1.0 plugin or host may touch must keep its offset and its
 * size; structs that start with an AtriumStructHeader may only grow, the others not at all;
 * public constants keep their values. Nearly all of it is _Static_assert: a breaking change
 * to api/ stops the build, naming the member. The two strings are compared when the test
 * runs. abidiff (check-abi.sh) covers what this cannot see, such as a slot keeping its size
 * but changing its signature. */
#include <atrium/atrium.h>
#include <stdio.h>
#include <string.h>

#include "abi-1.0-layout.h"
#include "frozen-layout-1.0.h"

#define MEMBER(T, m)                                                                            \
        _Static_assert (offsetof (T, m) == ATRIUM_1_0_OFFSET_##T##_##m,                        \
                        #T "." #m " moved: ABI 1.0 plugins expect it where 1.0 had it");       \
        _Static_assert (sizeof (((T *) 0)->m) == ATRIUM_1_0_MSIZE_##T##_##m,                   \
                        #T "." #m " changed size since ABI 1.0");
#define STRUCT(T, LIST, growable)                                                               \
        LIST (MEMBER)                                                                          \
        _Static_assert (growable ? sizeof (T) >= ATRIUM_1_0_SIZE_##T                           \
                                 : sizeof (T) == ATRIUM_1_0_SIZE_##T,                          \
                        #T ": size changed since ABI 1.0 (only structs with a header may "     \
                           "grow, and only at the end)");
#define CONSTANT(c)                                                                             \
        _Static_assert ((long long) (c) == ATRIUM_1_0_VALUE_##c,                               \
                        #c " changed its ABI 1.0 value");

ATRIUM_ABI_1_0_STRUCTS (STRUCT)
ATRIUM_ABI_1_0_CONSTANTS (CONSTANT)

/* A minor may only grow within the major. */
_Static_assert (ATRIUM_ABI_MAJOR == ATRIUM_1_0_VALUE_ATRIUM_ABI_MAJOR && ATRIUM_ABI_MINOR >= 0,
                "ABI major changed: that locks out every plugin built so far");
/* The loader's lower bound is the 1.0 descriptor, whatever the descriptor grows to. */
_Static_assert (ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0 == ATRIUM_1_0_SIZE_AtriumPluginDescriptor,
                "ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0 no longer is the size of the 1.0 descriptor");

int
main (void)
{
        int failed = 0;
        if (strcmp (ATRIUM_PLUGIN_SYMBOL, ATRIUM_1_0_PLUGIN_SYMBOL) != 0) {
                fprintf (stderr, "ATRIUM_PLUGIN_SYMBOL is \"%s\", ABI 1.0 plugins export \"%s\"\n",
                         ATRIUM_PLUGIN_SYMBOL, ATRIUM_1_0_PLUGIN_SYMBOL);
                failed = 1;
        }
        if (strcmp (g_quark_to_string (ATRIUM_ERROR), ATRIUM_1_0_ERROR_DOMAIN) != 0) {
                fprintf (stderr, "ATRIUM_ERROR is \"%s\", ABI 1.0 plugins use \"%s\"\n",
                         g_quark_to_string (ATRIUM_ERROR), ATRIUM_1_0_ERROR_DOMAIN);
                failed = 1;
        }
        if (!failed)
                printf ("ABI 1.0 layout kept: every member, size and constant checked at "
                        "compile time\n");
        return failed;
}
