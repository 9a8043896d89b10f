/* SPDX-License-Identifier: Apache-2.0 */
/* identity-private.h - schools, people, sign-in and permissions: the core's own REST routes
 * (schools.c, users.c, user-import.c, auth.c, roles.c, audit.c), the crypto they rest on
 * (crypto.c), and the request role row-level security runs under (request-role.c). */
#pragma once

#include "core-private.h"

/* One lane: the hash's cost is memory times passes, set by [auth] argon2_memory_kib and
 * argon2_iterations (config.c; OWASP's minimum by default). */
#define ATRIUM_ARGON2_P 1u

#define ATRIUM_PASSWORD_MIN 8
#define ATRIUM_PASSWORD_MAX 1024

/* crypto.c */
/* Sets the Argon2id cost of new hashes (and of the unknown-account burn); a verified hash
 * cheaper than this needs a re-hash. Call once, before any thread hashes. */
void atrium_password_cost_set (guint m_kib, guint t);
char *atrium_password_hash (const char *password);
gboolean atrium_password_verify (const char *password, const char *phc,
                                 gboolean *out_needs_rehash);
void atrium_password_burn (const char *password);
/* verify-cache.c: successes remembered for a minute, under an HMAC of @scope (whose secret:
 * a user's id, a link), the stored hash and the secret. _cached verifies through it; the
 * others are for a caller that decides between hit and hash itself (dav-auth.c). */
#define ATRIUM_VERIFY_CACHE_TTL (60 * G_USEC_PER_SEC)
#define ATRIUM_VERIFY_CACHE_MAX 20000 /* entries, a bound on memory */
char *atrium_verify_cache_key (const char *scope, const char *stored_hash, const char *secret);
gboolean atrium_verify_cache_hit (const char *key);
void atrium_verify_cache_store (char *key /* (transfer full) */);
gboolean atrium_password_verify_cached (const char *scope, const char *stored_hash,
                                        const char *secret);
/* The same at a given monotonic time, and the entries kept: for the unit tests. */
gboolean atrium_verify_cache_hit_at (const char *key, gint64 now);
void atrium_verify_cache_store_at (char *key /* (transfer full) */, gint64 now);
guint atrium_verify_cache_size (void);
char *atrium_token_new (void);
char *atrium_token_hash_literal (const char *token); /* "\x<sha256 hex>" for a bytea param */

/* identity.c: wiring */
void atrium_identity_register (AtriumCore *core);
int atrium_identity_operator_create (AtriumCore *core, const char *name);

/* request-role.c */
gboolean atrium_request_role_setup (AtriumCore *core, PGconn *owner, GError **error);
gboolean atrium_permission_defaults_sync (AtriumCore *core, PGconn *owner, GError **error);
/* Writes core.plugin_grants() from the registered permission sources (when they changed). */
gboolean atrium_plugin_grants_sync (AtriumCore *core, PGconn *owner, GError **error);
/* Feeds into @fp everything the three functions above would write (the grants, the permission
 * rows, the permission function's body): equal fingerprints, nothing to write. */
void atrium_grants_fingerprint (AtriumCore *core, PGconn *owner, GChecksum *fp);
/* Turns the permission cache on (core->perm_cache) when every permission source takes new
 * epochs; after migrations, on every start. */
#define ATRIUM_PERM_CACHE_ENTRIES 32768
gboolean atrium_perm_cache_setup (AtriumCore *core, PGconn *owner, GError **error);

/* model.c: small helpers shared by the core's route files. */
AtriumResult *atrium_sql (AtriumRequest *req, GError **error, const char *sql, int n, ...);
/* The school mail address of @username in the request's school, "username@domain", as the
 * mail plugin names mailboxes: only where the mail plugin runs and the school enabled it with
 * a domain; else *@out is NULL (and TRUE). For CalDAV's calendar-user-address-set and the
 * OpenID provider's email claim. */
gboolean atrium_school_mail_address (AtriumRequest *req, const char *username, char **out,
                                     GError **error);
void atrium_audit (AtriumRequest *req, const char *action, const char *target,
                   JsonNode *details /* (transfer full) (nullable) */);
gboolean atrium_require_operator (AtriumRequest *req, GError **error);
gboolean atrium_valid_uuid_or_404 (const char *id, const char *what, GError **error);
JsonNode *atrium_json_object_node (JsonObject *o); /* takes @o */
void atrium_respond_problem_commit (AtriumRequest *req, AtriumErrorCode code, const char *msg);

/* users.c: one person as the API shows it (roles, parents, children; never the hash), in the
 * request's school. */
JsonNode *atrium_user_json (AtriumRequest *req, const char *id, GError **error);
/* The caller (a user) with their school, for GET /api/v1/me, in one statement. */
/* NULL with no error: the caller is not a user. */
JsonNode *atrium_me_json (AtriumRequest *req, GError **error);

/* A person as the API shows them (users.c's USER_COLUMNS): the JSON Schema properties, for
 * the answers' response_schema (users.c, auth.c, browser-session.c, totp.c). */
#define ATRIUM_USER_PROPS                                                                              \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"username\":{\"type\":\"string\"},"         \
        "\"display_name\":{\"type\":\"string\"},"                                                      \
        "\"roles\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"                              \
        "\"external_id\":{\"type\":[\"string\",\"null\"]},\"email\":{\"type\":[\"string\",\"null\"]}," \
        "\"disabled_at\":{\"type\":[\"string\",\"null\"]},"                                            \
        "\"must_change_password\":{\"type\":\"boolean\"},\"must_enrol_totp\":{\"type\":"               \
        "\"boolean\"},\"totp_enabled\":{\"type\":\"boolean\"},"                                        \
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                               \
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                               \
        "\"parents\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"format\":\"uuid\"}},"        \
        "\"children\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"format\":\"uuid\"}}"
/* Who signed in: a person (ATRIUM_USER_PROPS) or an operator (id, username). */
#define ATRIUM_CALLER_PROPS                                                                        \
        ATRIUM_USER_PROPS ",\"kind\":{\"type\":\"string\",\"enum\":[\"user\",\"operator\"]}"
/* What a sign-in answers (auth.c, totp.c): a session, or the second step it needs first. */
#define ATRIUM_SIGN_IN_PROPS                                                                       \
        "\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"user\":{\"type\":\"object\",\"properties\":{" ATRIUM_CALLER_PROPS "}},"                 \
        "\"second_factor\":{\"type\":\"string\",\"enum\":[\"totp\"],\"description\":\"the "        \
        "password was right; send a code with pending_token to .../totp\"},"                       \
        "\"pending_token\":{\"type\":\"string\"},"                                                 \
        "\"device_token\":{\"type\":\"string\",\"description\":\"a remembered device's token, "    \
        "to send with the next sign-in\"}"
extern const char atrium_user_answer[];
extern const char atrium_sign_in_answer[];
/* The same with the CSRF token in the bearer token's place (browser-session.c). */
extern const char atrium_browser_session_answer[];

/* auth.c: POST /api/v1/auth/login's handler and body schema, which the browser's sign-in
 * (browser-session.c) wraps. */
gboolean atrium_auth_login (AtriumRequest *req, gpointer data, GError **error);
extern const char atrium_auth_login_schema[];
/* Signs @account in (a user of @school_id; an operator when it is NULL) and answers as the
 * sign-in does (200 {"token", "expires_at", "user"}); the request acts as them afterwards.
 * One call of core.session_start() (schema 0015), which also clears the throttle key
 * @clear_key (nullable) and writes the audit entry. With @out_totp, a person who has a second
 * factor gets no session: *@out_totp is set and nothing is answered (atrium_totp_challenge
 * next). */
gboolean atrium_auth_start_session (AtriumRequest *req, const char *school_id, const char *account,
                                    const char *username, const char *clear_key, gboolean *out_totp,
                                    GError **error);
/* Sign-in throttling (core.login_throttle): seconds until the account key and the client
 * address key may try again (0: now; -1 with @error when the query failed), in one round trip;
 * counting a failure on both (commits with the error answer); the 429 answer with
 * Retry-After (returns TRUE: the handler is done). Keys: "user:<school>/<name>" for sign-in,
 * "activate:..." and "totp:..." for the other secrets, "addr:<client>" shared by all. */
int atrium_throttle_wait (AtriumRequest *req, const char *account_key, const char *addr_key,
                          GError **error);
gboolean atrium_throttle_fail (AtriumRequest *req, const char *account_key, const char *addr_key,
                               GError **error);
gboolean atrium_throttle_refuse (AtriumRequest *req, int wait);
/* The address key of the request's client ("addr:<address>", transfer full). */
char *atrium_throttle_addr_key (AtriumRequest *req);

/* password.c: the password policy (length, not the username), and setting a person's
 * password: the hash, must_change_password, and the end of their sessions (all, or all but
 * @keep_session). _store_hash takes the PHC string already made, for a handler that hashes
 * while no transaction of its holds a connection (the hash takes tens of milliseconds). */
gboolean atrium_password_policy (const char *password, const char *username, GError **error);
gboolean atrium_password_store (AtriumRequest *req, const char *user_id, const char *password,
                                gboolean must_change, const char *keep_session, GError **error);
/* The caller's own current password (@given) before they set @fresh: @fresh against the
 * policy, the check throttled like a sign-in (per account and client address) and hashed with
 * no transaction open; a wrong one is counted, audited (user.password_change_failed) and
 * answered 403, committed (429 while throttled). 1: right; 0: answered (the handler returns
 * TRUE); -1: @error set. For POST /me/password and PATCH .../users/{id} of oneself. */
int atrium_password_check_own (AtriumRequest *req, const char *given, const char *fresh,
                               GError **error);
gboolean atrium_password_store_hash (AtriumRequest *req, const char *user_id, const char *hash,
                                     gboolean must_change, const char *keep_session,
                                     GError **error);
void atrium_password_routes (AtriumCore *core);

/* activation.c: activation codes (docs/ACCOUNTS.md). */
#define ATRIUM_CODE_ALPHABET "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
/* A new code: 16 symbols of ATRIUM_CODE_ALPHABET (80 bits) as XXXX-XXXX-XXXX-XXXX. */
char *atrium_activation_code_new (void);
/* Issues one code per person of @user_ids, valid @days, superseding their unused ones; writes
 * the codes (transfer full, in order) and their expiry to the out parameters. */
gboolean atrium_activation_issue (AtriumRequest *req, GPtrArray *user_ids, int days,
                                  GPtrArray **out_codes, char **out_expires, GError **error);
void atrium_activation_routes (AtriumCore *core);
void atrium_reset_mail_routes (AtriumCore *core);

/* code-letters.c: the codes of one request, answered once, in three forms. @people's rows:
 * id, username, display_name, import_class; @codes in the same order. */
typedef struct {
        const char *school_slug;
        const char *school_name;
        const char *portal_url; /* (nullable) [http] public_url */
        const AtriumResult *people;
        GPtrArray *codes;
        const char *expires_at;
} AtriumCodeLetters;
/* {"school", "expires_at", "items": [{"user_id", "username", "display_name", "class",
 * "code"}]} (transfer full) */
JsonNode *atrium_code_letters_json (const AtriumCodeLetters *l);
/* RFC 4180, a header line; cells that a spreadsheet would run as formulas are quoted with a
 * leading apostrophe. */
GBytes *atrium_code_letters_csv (const AtriumCodeLetters *l);
/* A self-contained page, one letter per person and printed page (CSS @media print). */
GBytes *atrium_code_letters_html (const AtriumCodeLetters *l);

/* totp.c: the second factor (RFC 6238). */
/* User @account of @school_id has a second factor: unless the request names a device they
 * had remembered, the sign-in's answer is the pending state (200 {"second_factor": "totp",
 * "pending_token", "expires_at"}) and *@out_asked is TRUE. */
gboolean atrium_totp_challenge (AtriumRequest *req, const char *school_id, const char *account,
                                gboolean *out_asked, GError **error);
gboolean atrium_totp_enabled (AtriumRequest *req, const char *school_id, const char *account,
                              gboolean *out_enabled, GError **error);
void atrium_totp_routes (AtriumCore *core);
/* account-policy.c: GET|PUT /api/v1/schools/{school}/account-policy. */
void atrium_account_policy_routes (AtriumCore *core);

/* reset.c: POST /api/v1/schools/{school}/users/{id}/password-reset. */
void atrium_reset_routes (AtriumCore *core);

/* browser-session.c: the atrium_session cookie and its CSRF token (docs/PORTAL.md). */
/* The cookie's token, or NULL without one (transfer full). */
/* The value of cookie @name of the request, or NULL (browser-session.c). */
char *atrium_request_cookie (AtriumRequest *req, const char *name);
/* Sets cookie @name: Path=/, HttpOnly, SameSite=@same_site, Secure when the request came over
 * TLS (an https public_url, or a trusted proxy's X-Forwarded-Proto); @expire ends it. The
 * caller says Cache-Control: no-store (once) for the answer. */
void atrium_browser_cookie_set (AtriumRequest *req, const char *name, const char *value,
                                const char *same_site, gboolean expire);
char *atrium_browser_session_token (AtriumRequest *req);
/* A lasting cookie (Path=/, HttpOnly, SameSite=Lax, Max-Age @days, Secure over TLS): the
 * remembered device (totp.c). */
void atrium_browser_cookie_set_days (AtriumRequest *req, const char *name, const char *value,
                                     int days);
/* Turns a sign-in's 200 answer with a "token" into the browser's: the token goes into the
 * cookie, the answer carries "csrf_token" instead; any other answer is left as it is. */
gboolean atrium_browser_session_hand_over (AtriumRequest *req, GError **error);
/* The CSRF token bound to session @token (transfer full). */
char *atrium_browser_session_csrf (const char *token);
/* A request authenticated by the cookie that may change something must carry the session's
 * X-CSRF-Token: ATRIUM_ERROR_FORBIDDEN otherwise. */
gboolean atrium_browser_session_check (AtriumRequest *req, const char *token, GError **error);

/* Route registration per area */
void atrium_auth_routes (AtriumCore *core);
void atrium_browser_session_routes (AtriumCore *core);
void atrium_school_routes (AtriumCore *core);
void atrium_user_routes (AtriumCore *core);
void atrium_import_routes (AtriumCore *core);
void atrium_role_routes (AtriumCore *core);
void atrium_audit_routes (AtriumCore *core);

/* user-import.c: CSV parsing (RFC 4180, ',' or ';', BOM, Windows-1252 fallback) */
typedef struct {
        GPtrArray *header; /* char* */
        GPtrArray *rows;   /* GPtrArray* of char* */
        GArray *lines;     /* guint: the line each row starts on (for error reports) */
} AtriumCsv;
AtriumCsv *atrium_csv_parse (const char *data, gsize len, GError **error);
void atrium_csv_free (AtriumCsv *csv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumCsv, atrium_csv_free)

/* import-columns.c: which column of an import file is which, usernames from names, and the
 * school's saved mapping (GET|PUT /api/v1/schools/{school}/users/import/profile). */
typedef enum {
        ATRIUM_IMPORT_USERNAME,
        ATRIUM_IMPORT_DISPLAY,
        ATRIUM_IMPORT_FIRST,
        ATRIUM_IMPORT_LAST,
        ATRIUM_IMPORT_ROLES,
        ATRIUM_IMPORT_EXTERNAL,
        ATRIUM_IMPORT_CLASS,
        ATRIUM_IMPORT_COURSES,
        ATRIUM_IMPORT_EMAIL,
        ATRIUM_IMPORT_N_FIELDS,
        ATRIUM_IMPORT_IGNORE = ATRIUM_IMPORT_N_FIELDS, /* a mapping's "ignore" */
} AtriumImportField;
/* The fields' names in mappings and answers ("external_id", "class", ...), NULL-terminated. */
extern const char *const atrium_import_field_names[ATRIUM_IMPORT_N_FIELDS + 1];
int atrium_import_field_from_name (const char *name);
/* Writes to @col the column of each field (-1: none) and appends to @ignored the headers no
 * field uses: the school's @custom mapping (nullable) first, then @preset's (nullable), then
 * the built-in names. */
void atrium_import_columns (GPtrArray *header, const char *preset, JsonObject *custom,
                            int col[ATRIUM_IMPORT_N_FIELDS], JsonArray *ignored);
/* An ICU transliterator (translit.c; ICU is loaded at the first); one per request (ICU's are
 * not meant to be shared between threads). */
typedef struct _AtriumTranslit AtriumTranslit;
AtriumTranslit *atrium_translit_new (GError **error);
void atrium_translit_free (AtriumTranslit *t);
/* @s in ASCII; NULL when ICU fails (an over-long name). */
char *atrium_translit_ascii (AtriumTranslit *t, const char *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumTranslit, atrium_translit_free)
/* "Jürgen" + "Müller" -> "juergen.mueller" (transfer full; may be empty or short: the caller
 * checks it like any username). */
char *atrium_import_username (AtriumTranslit *t, const char *first, const char *last);
void atrium_import_profile_routes (AtriumCore *core);

/* Core permissions and their default roles. */
extern const AtriumPermission atrium_core_permissions[];
