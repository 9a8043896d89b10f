/* SPDX-License-Identifier: Apache-2.0 */
/* mail-private.h - shared by the mail plugin's sources:
 *
 *   plugin.c         the wiring: descriptor, init, start/stop of the LMTP listener
 *   model.c          reactions (user.deleted), GDPR export
 *   settings-routes.c  /settings and /aliases
 *   mime.c           every GMime call: reading stored messages, composing new ones
 *   html.c           HTML sanitising for display (libxml2's HTML parser, an allowlist)
 *   deliver.c        addresses -> local mailboxes or the outbox; storing and delivering
 *   quota.c          the mailbox cap and the home quota shared with files; GET /usage
 *   message-routes.c /messages, /drafts, /search, /threads
 *   folder-routes.c  /folders
 *   group-routes.c   /groups/{id}: who may write to a group's address from outside
 *   outbox.c         the outbound worker: sendmail, retries, bounces
 *   lmtp.c           the inbound LMTP listener (RFC 2033)
 */
#pragma once

#include <atrium/atrium.h>
#include <atrium/groups.h>

extern const AtriumHost *mail_host;
extern const AtriumGroupsService *mail_groups;
extern AtriumPlugin *mail_self;

#define mail_tx_sql(tx, error, ...) atrium_queryv (mail_host, (tx), (error), __VA_ARGS__)
#define mail_sql(...) atrium_request_queryv (mail_host, __VA_ARGS__)
#define mail_fail atrium_fail

/* ---- mime.c ---- */

/* What the API lists and searches, extracted once from a stored message. Strings are valid
 * UTF-8 without NUL; absent headers are "" (subject, addresses) or NULL. */
typedef struct {
        char *subject;
        char *from;
        char *to;
        char *cc;
        gint64 date; /* unix seconds, -1 when the message has no (valid) Date */
        char *message_id;  /* without <> */
        char *in_reply_to; /* without <> */
        char **references; /* without <>, oldest first */
        char *preview;     /* first ~200 characters of the text */
        char *text;        /* the text (or HTML) body, cut to 64 KiB, for search */
        gboolean has_attachments;
} MailMeta;

typedef struct {
        char *filename;
        char *content_type;
        GBytes *data;
} MailAttachment;

typedef struct {
        const char *from_name;
        const char *from_addr;
        char **to;
        char **cc;
        const char *subject;
        const char *text; /* (nullable) */
        const char *html; /* (nullable) */
        GPtrArray *attachments; /* (nullable) MailAttachment* */
        const char *message_id;  /* without <> */
        const char *in_reply_to; /* (nullable) */
        char **references;       /* (nullable) */
} MailCompose;

void mail_mime_init (void);
MailMeta *mail_meta_from_raw (GBytes *raw); /* never NULL */
void mail_meta_free (MailMeta *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MailMeta, mail_meta_free)
/* {"text", "html" (sanitised), "attachments": [{index, filename, content_type, size}]} */
JsonObject *mail_mime_render (GBytes *raw);
/* The decoded content of attachment @index, or NULL. */
GBytes *mail_mime_attachment (GBytes *raw, guint index, char **out_type, char **out_name);
GBytes *mail_mime_compose (const MailCompose *c);
/* "Name <a@B.org>" or "a@b.org" -> "a@b.org" (lower case); NULL unless exactly one mailbox. */
char *mail_address_parse (const char *text);

/* ---- html.c ---- */

/* HTML safe to show inside a page: only an allowlist of elements and attributes survives
 * (no script, style, event handlers, forms, frames, remote images; links http(s)/mailto
 * only). Always returns a string. */
char *mail_html_sanitize (const char *html);

/* ---- deliver.c ---- */

/* Where a list of addresses goes. */
typedef struct {
        GPtrArray *users;    /* char*: local user ids, each once */
        GPtrArray *named;    /* char*: those of them addressed themselves (their username or
                              * an alias of theirs), not only as a member of a group */
        GPtrArray *external; /* char*: addresses outside the school's domain */
        GPtrArray *groups;   /* char*: group ids written to (for permission checks) */
} MailRecipients;

void mail_recipients_clear (MailRecipients *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MailRecipients, mail_recipients_clear)

/* One message of a list (message-routes.c's SUMMARY_COLUMNS), for response_schema. */
#define MAIL_SUMMARY_PROPS                                                                          \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"                                         \
        "\"folder\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"},"                       \
        "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"cc\":{\"type\":\"string\"}," \
        "\"date\":{\"type\":[\"string\",\"null\"],\"description\":\"the Date header\"},"            \
        "\"received_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"seen\":{\"type\":\"boolean\"},\"flagged\":{\"type\":\"boolean\"},"                       \
        "\"answered\":{\"type\":\"boolean\"},\"has_attachments\":{\"type\":\"boolean\"},"           \
        "\"preview\":{\"type\":\"string\"},\"size\":{\"type\":\"integer\"},"                        \
        "\"thread_id\":{\"type\":[\"string\",\"null\"]}"
#define MAIL_SUMMARY_ANSWER "{\"type\":\"object\",\"properties\":{" MAIL_SUMMARY_PROPS "}}"

/* The school's mail domain (transfer full), or NULL with @error (CONFLICT: not configured). */
char *mail_domain (AtriumTx *tx, GError **error);
/* Resolves addr-specs (lower case, from mail_address_parse) against @domain: users by
 * username, groups by slug (all members, at this moment), aliases. An unknown local address
 * is NOT_FOUND naming it ("no mailbox x@d"). Appends to @out. */
gboolean mail_resolve (AtriumTx *tx, const char *domain, const char *addr, MailRecipients *out,
                       GError **error);
/* message-routes.c, for folder-routes.c: the caller's user id (a NOT_FOUND for an operator,
 * who has no mailbox), and a keyset page of message summaries matching @where ($1.. are
 * @params). */
const char *mail_me (AtriumRequest *req, GError **error);
gboolean mail_respond_summary_page (AtriumRequest *req, const char *where, int n_params,
                                    const char *const *params, GError **error);
/* Stores @raw once; returns its id (transfer full). */
char *mail_store_raw (AtriumTx *tx, GBytes *raw, GError **error);
/* The id of the user's special folder ("inbox", "sent", "drafts", "trash"), creating the four
 * special folders on first use. */
char *mail_special_folder (AtriumTx *tx, const char *user_id, const char *special,
                           GError **error);
typedef enum {
        MAIL_DELIVER_SEEN = 1 << 0,     /* stored as read (the sender's copy, drafts) */
        MAIL_DELIVER_NO_QUOTA = 1 << 1, /* counted but never refused (bounces: refusing one
                                         * would hand the failed mail to sendmail again) */
} MailDeliverFlags;

/* Puts the stored message @raw_id into @user_id's folder @folder_id; returns the new message
 * id (transfer full). Threads by In-Reply-To / References within that mailbox. A message
 * that does not fit is INSUFFICIENT_STORAGE (mail_quota_charge: the mailbox cap or the home
 * quota shared with files). */
char *mail_deliver (AtriumTx *tx, const char *raw_id, gint64 size, const MailMeta *meta,
                    const char *user_id, const char *folder_id, MailDeliverFlags flags,
                    GError **error);
/* Queues @raw_id for @recipients (external addresses) in the outbox. */
gboolean mail_enqueue (AtriumTx *tx, const char *raw_id, const char *sender_id,
                       const char *envelope_from, GPtrArray *recipients, GError **error);
/* The mailbox address of @user_id ("username@domain"), transfer full. */
char *mail_user_address (AtriumTx *tx, const char *user_id, const char *domain,
                         char **out_display_name, GError **error);

/* ---- quota.c ---- */

/* Locks the mailboxes of @user_ids (char*, duplicates allowed) until the end of @tx, in one
 * sorted order: a send takes all of its mailboxes' locks at once, before any delivery, so
 * two sends that write to the same people cannot each hold one and wait for the other. */
gboolean mail_usage_lock (AtriumTx *tx, GPtrArray *user_ids, GError **error);
/* Makes room for @size more bytes in @user_id's mailbox (locking it): refuses with
 * INSUFFICIENT_STORAGE what passes the school's mailbox_quota_bytes or, with the files
 * module, the person's home quota (files and mail together), unless @enforce is FALSE. */
gboolean mail_quota_charge (AtriumTx *tx, const char *user_id, gint64 size, gboolean enforce,
                            GError **error);
/* After messages left @user_id's mailbox: the files module learns its new size. */
gboolean mail_quota_release (AtriumTx *tx, const char *user_id, GError **error);
/* A person's mailbox is erased: its usage row goes, and its share of the home quota. */
gboolean mail_quota_forget (AtriumTx *tx, const char *user_id, GError **error);

/* ---- group-routes.c ---- */

/* Whether mail from outside, from envelope sender @sender ("" for the null sender), may go
 * to the address of group @group_id: @out_refusal is NULL if so, else the LMTP reply (a
 * static string). FALSE only on a database error. */
gboolean mail_group_takes_external (AtriumTx *tx, const char *domain, const char *group_id,
                                    const char *sender, const char **out_refusal,
                                    GError **error);
/* group.deleted: the group's setting goes. */
gboolean mail_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload,
                                gpointer data, GError **error);

/* ---- routes, workers ---- */
gboolean mail_register_settings_routes (AtriumPlugin *self, GError **error);
gboolean mail_register_message_routes (AtriumPlugin *self, GError **error);
gboolean mail_register_folder_routes (AtriumPlugin *self, GError **error);
gboolean mail_register_quota_routes (AtriumPlugin *self, GError **error);
gboolean mail_register_group_routes (AtriumPlugin *self, GError **error);
gboolean mail_outbox_register (AtriumPlugin *self, GError **error);
gboolean mail_lmtp_start (AtriumPlugin *self, GError **error);
void mail_lmtp_stop (void);

/* model.c: what plugin.c registers (the reaction to user.deleted, the GDPR export). */
gboolean mail_on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                               GError **error);
gboolean mail_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                           GError **error);
