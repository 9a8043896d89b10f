/* SPDX-License-Identifier: Apache-2.0 */
/* files-path.h - the files plugin's rules for user-supplied paths and names (issue #5): what a
 * path in a URL or a JSON body (a move target, a new name) may be, and the one normalised
 * spelling (Unicode NFC, no leading or trailing '/') under which it is stored and compared.
 * Pure: no I/O, no host calls; tests/unit/test-files-path.c and tests/fuzz/fuzz-files-path.c
 * compile it directly. */
#pragma once

#include <atrium/atrium.h>

G_BEGIN_DECLS

#define FILES_NAME_MAX 255  /* bytes of one component, after NFC */
#define FILES_PATH_MAX 4096 /* bytes of a whole normalised path (no leading/trailing '/') */
#define FILES_DEPTH_MAX 64  /* components of a path */

/**
 * files_path_normalize:
 * @raw: (array length=raw_len): the path as received; need not be NUL-terminated, and a NUL
 *   byte anywhere in the first @raw_len bytes is refused
 * @raw_len: bytes at @raw
 * @out_dir: (out) (optional): set, on success only, to TRUE when @raw ended in '/' or was
 *   empty or "/" (the root), FALSE otherwise
 *
 * Normalises @raw: an optional leading '/', components separated by single '/', an optional
 * trailing '/'. Each component is put into Unicode NFC on its own and must be non-empty, valid
 * UTF-8, free of control characters (U+0000-U+001F, U+007F-U+009F) and backslashes, neither
 * "." nor "..", at most FILES_NAME_MAX bytes, and must not end in ' ' or '.' (Windows clients
 * cannot open such names). The whole result is at most FILES_PATH_MAX bytes and
 * FILES_DEPTH_MAX components. Percent-escapes are not decoded: "%2e%2e" is a legal name.
 *
 * Returns: (transfer full) (nullable): the NFC path without leading or trailing '/' ("" for
 * the root), or NULL with @error set to ATRIUM_ERROR / ATRIUM_ERROR_INVALID and a message
 * that names the problem.
 */
char *files_path_normalize (const char *raw, gsize raw_len, gboolean *out_dir, GError **error);

/**
 * files_name_normalize:
 * @raw: one component, NUL-terminated (a new name for rename)
 *
 * The rules of files_path_normalize for a single component; '/' is refused.
 *
 * Returns: (transfer full) (nullable): the NFC name, or NULL with @error set to ATRIUM_ERROR /
 * ATRIUM_ERROR_INVALID.
 */
char *files_name_normalize (const char *raw, GError **error);

/**
 * files_path_split:
 * @path: a normalised path (as files_path_normalize returns it)
 * @out_parent: (out) (transfer full) (optional): everything before the last '/', "" if none
 * @out_name: (out) (transfer full) (optional): the last component
 *
 * "a/b/c" gives parent "a/b" and name "c"; "c" gives "" and "c"; the root "" gives "" and "".
 */
void files_path_split (const char *path, char **out_parent, char **out_name);

G_END_DECLS
