/* SPDX-License-Identifier: Apache-2.0 */
/* version-check.c - ATRIUM_ABI_AT_LEAST (abi.h), the compile-time version check, against the
 * current headers: true for the current minor and every older one, false for any newer minor
 * or major. Checked three ways, because plugins use it three ways: in #if (where a mistake in
 * the macro is either an error or silently false), in _Static_assert, and at run time with
 * arguments that are not constants. */
#include <atrium/atrium.h>
#include <stdio.h>

/* In the preprocessor, with literals: what a plugin writes. These stay true for all of ABI 1. */
#if !ATRIUM_ABI_AT_LEAST(1, 0) || !ATRIUM_ABI_AT_LEAST(1, 1) || !ATRIUM_ABI_AT_LEAST(1, 2)
#error "ATRIUM_ABI_AT_LEAST is false for a released minor the headers include"
#endif
#if !ATRIUM_ABI_AT_LEAST(ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR)
#error "ATRIUM_ABI_AT_LEAST is false for the headers' own version"
#endif
#if ATRIUM_ABI_AT_LEAST(ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR + 1)
#error "ATRIUM_ABI_AT_LEAST is true for the next minor"
#endif
#if ATRIUM_ABI_AT_LEAST(ATRIUM_ABI_MAJOR + 1, 0)
#error "ATRIUM_ABI_AT_LEAST is true for the next major"
#endif
#if !ATRIUM_ABI_AT_LEAST(ATRIUM_ABI_MAJOR - 1, 99)
#error "ATRIUM_ABI_AT_LEAST is false for an older major with a larger minor"
#endif

/* The guarded use the documentation shows: the slot named exists exactly when the check says
 * the headers are 1.2 or newer. */
#if ATRIUM_ABI_AT_LEAST(1, 2)
_Static_assert(sizeof (((AtriumHost *) 0)->password_verify) == sizeof (void *),
               "a 1.2 slot must be declared when ATRIUM_ABI_AT_LEAST (1, 2)");
#endif

/* As a constant expression in C. */
_Static_assert(ATRIUM_ABI_AT_LEAST (ATRIUM_ABI_MAJOR, 0), "minor 0 of this major");
_Static_assert(!ATRIUM_ABI_AT_LEAST (ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR + 1), "next minor");

int
main (void)
{
        int failed = 0;
        /* At run time, over ranges the preprocessor cannot loop over. volatile: the compiler
         * must not fold the loop away into whatever it believes the answer is. */
        for (volatile int minor = 0; minor <= ATRIUM_ABI_MINOR + 5; minor++) {
                int want = minor <= ATRIUM_ABI_MINOR;
                if ((ATRIUM_ABI_AT_LEAST (ATRIUM_ABI_MAJOR, minor) ? 1 : 0) != want) {
                        printf ("ATRIUM_ABI_AT_LEAST (%d, %d) is %s, headers are %d.%d\n",
                                ATRIUM_ABI_MAJOR, minor, want ? "false" : "true", ATRIUM_ABI_MAJOR,
                                ATRIUM_ABI_MINOR);
                        failed = 1;
                }
        }
        for (volatile int major = 0; major <= ATRIUM_ABI_MAJOR + 2; major++) {
                int want = major < ATRIUM_ABI_MAJOR;
                if (major != ATRIUM_ABI_MAJOR &&
                    (ATRIUM_ABI_AT_LEAST (major, 1000) ? 1 : 0) != want) {
                        printf ("ATRIUM_ABI_AT_LEAST (%d, 1000) is %s, headers are %d.%d\n", major,
                                want ? "false" : "true", ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
                        failed = 1;
                }
        }
        if (!failed)
                printf ("ATRIUM_ABI_AT_LEAST: true for %d.0 to %d.%d, false past them\n",
                        ATRIUM_ABI_MAJOR, ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
        return failed;
}
