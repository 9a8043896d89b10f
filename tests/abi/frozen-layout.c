/* SPDX-License-Identifier: Apache-2.0 */
/* frozen-layout.c - compiled against the frozen headers of one released minor
 * (tests/abi/1.0 to 1.4; meson builds one program per folder) and run at build time:
 * prints, as a C header (frozen-layout-1.N.h), where that release put every public struct
 * member, how big each member and struct was, and the value of every public constant, as
 * ATRIUM_1_N_... macros. offsets.c compares the current headers against each such header with
 * _Static_assert.
 *
 * Computing the numbers from the frozen copy, rather than writing them down once, keeps them
 * right on every target the build runs on (32-bit ARM lays out AtriumHost differently from
 * x86_64, and both must keep their own layout).
 *
 * The members of a struct are the 1.0 list (abi-1.0-layout.h) followed by what each later
 * minor up to the frozen one appended (abi-1.N-layout.h). Before printing, it checks that
 * those lists cover each frozen struct without a gap: a member missing from a list would
 * otherwise never be checked. */
#include <atrium/atrium.h>
#include <stdio.h>
#include <string.h>

#include "abi-1.0-layout.h"
#include "abi-1.1-layout.h"
#include "abi-1.2-layout.h"
#include "abi-1.3-layout.h"
#include "abi-1.4-layout.h"

/* meson says which folder it meant (-DATRIUM_FROZEN_MINOR=N); a mix-up of include folders
 * would otherwise print one release's layout under another's name. */
_Static_assert(ATRIUM_ABI_MAJOR == 1 && ATRIUM_ABI_MINOR == ATRIUM_FROZEN_MINOR,
               "frozen-layout.c must be built against tests/abi/1.<ATRIUM_FROZEN_MINOR>");
/* A new release adds its abi-1.N-layout.h and expands it below; until then this stops the
 * build rather than leave the new minor's members unaccounted for. */
#if ATRIUM_ABI_MINOR > 4
#error "no abi-1.N-layout.h for this minor yet: add one (tests/abi/README.md)"
#endif

typedef struct {
        const char *type;
        const char *name;
        size_t offset, size, align;
} Member;

typedef struct {
        const char *type;
        size_t size, align;
        int growable;
} Struct;

#define MEMBER(T, m)                                                                               \
        {#T, #m, offsetof (T, m), sizeof (((T *) 0)->m), _Alignof(__typeof__ (((T *) 0)->m))},
#define STRUCT_MEMBERS(T, LIST, growable) LIST (MEMBER)
#define APPENDED(LIST) LIST (MEMBER)

/* In declaration order: what 1.0 had, then what each minor appended. */
static const Member members[] = {ATRIUM_ABI_1_0_STRUCTS (STRUCT_MEMBERS)
#if ATRIUM_ABI_MINOR >= 1
                                         ATRIUM_ABI_1_1_APPENDED (APPENDED)
#endif
#if ATRIUM_ABI_MINOR >= 2
                                                 ATRIUM_ABI_1_2_APPENDED (APPENDED)
#endif
#if ATRIUM_ABI_MINOR >= 3
                                                         ATRIUM_ABI_1_3_APPENDED (APPENDED)
#endif
#if ATRIUM_ABI_MINOR >= 4
                                                                 ATRIUM_ABI_1_4_APPENDED (APPENDED)
#endif
};

#define STRUCT(T, LIST, growable) {#T, sizeof (T), _Alignof(T), growable},
static const Struct structs[] = {ATRIUM_ABI_1_0_STRUCTS (STRUCT)};

static char prefix[32]; /* "ATRIUM_1_N" */
static int failed;

static size_t
align_up (size_t n, size_t align)
{
        return (n + align - 1) / align * align;
}

static void
walk (const Struct *s)
{
        size_t member_end = 0; /* end of the previous member */
        for (size_t i = 0; i < G_N_ELEMENTS (members); i++) {
                const Member *m = &members[i];
                if (strcmp (m->type, s->type) != 0)
                        continue;
                if (m->offset != align_up (member_end, m->align)) {
                        fprintf (stderr,
                                 "frozen-layout: the abi-1.N-layout.h lists miss a member of %s "
                                 "before %s (bytes %zu..%zu are unaccounted for)\n",
                                 s->type, m->name, member_end, m->offset);
                        failed = 1;
                }
                member_end = m->offset + m->size;
                printf ("#define %s_OFFSET_%s_%s %zu\n", prefix, s->type, m->name, m->offset);
                printf ("#define %s_MSIZE_%s_%s %zu\n", prefix, s->type, m->name, m->size);
        }
        if (align_up (member_end, s->align) != s->size) {
                fprintf (stderr,
                         "frozen-layout: the abi-1.N-layout.h lists miss members at the end of "
                         "%s (bytes %zu..%zu are unaccounted for)\n",
                         s->type, member_end, s->size);
                failed = 1;
        }
        printf ("#define %s_SIZE_%s %zu\n", prefix, s->type, s->size);
        printf ("#define %s_GROWABLE_%s %d\n\n", prefix, s->type, s->growable);
}

#define CONSTANT(c) printf ("#define %s_VALUE_%s %lldLL\n", prefix, #c, (long long) (c));

int
main (void)
{
        snprintf (prefix, sizeof prefix, "ATRIUM_%d_%d", ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
        printf ("/* Generated by tests/abi/frozen-layout.c from tests/abi/%d.%d: do not edit. */\n"
                "#pragma once\n\n",
                ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
        for (size_t i = 0; i < G_N_ELEMENTS (structs); i++)
                walk (&structs[i]);
        ATRIUM_ABI_1_0_CONSTANTS (CONSTANT)
#if ATRIUM_ABI_MINOR >= 1
        ATRIUM_ABI_1_1_CONSTANTS (CONSTANT)
#endif
#if ATRIUM_ABI_MINOR >= 2
        ATRIUM_ABI_1_2_CONSTANTS (CONSTANT)
#endif
#if ATRIUM_ABI_MINOR >= 3
        ATRIUM_ABI_1_3_CONSTANTS (CONSTANT)
#endif
#if ATRIUM_ABI_MINOR >= 4
        ATRIUM_ABI_1_4_CONSTANTS (CONSTANT)
#endif
        printf ("#define %s_VALUE_ATRIUM_ABI_MINOR %dLL\n", prefix, ATRIUM_ABI_MINOR);
        printf ("#define %s_PLUGIN_SYMBOL \"%s\"\n", prefix, ATRIUM_PLUGIN_SYMBOL);
        printf ("#define %s_ERROR_DOMAIN \"%s\"\n", prefix, g_quark_to_string (ATRIUM_ERROR));
        return failed;
}
