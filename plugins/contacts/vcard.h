/* SPDX-License-Identifier: Apache-2.0 */
/* vcard.h - a small, strict vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) reader and writer for the
 * contacts plugin's CardDAV tree. GLib only, so tests/fuzz/fuzz-vcard.c links it alone.
 *
 * Debian has no C vCard library that fits: libvformat and libvc read vCard 2.1-era files and
 * are unmaintained, libbelcard is C++ with its own stack, libebook-contacts pulls in
 * evolution-data-server. What Atrium needs is little: check that a body is one vCard, index
 * UID, FN and EMAIL, and give a card back as 3.0 or 4.0. */
#pragma once

#include <glib.h>

/* Limits: a card with a photo is tens of KiB; more is not an address book entry. */
#define CONTACTS_VCARD_MAX_BYTES (256 * 1024)
#define CONTACTS_VCARD_MAX_PROPS 1000

/* The error domain of vcard_parse: the body is not an acceptable vCard. */
#define CONTACTS_VCARD_ERROR (contacts_vcard_error_quark ())
GQuark contacts_vcard_error_quark (void);
typedef enum {
        CONTACTS_VCARD_ERROR_TOO_LARGE,
        CONTACTS_VCARD_ERROR_INVALID,
} ContactsVcardError;

/* One content line: [group.]NAME;params:value, the value as written (escaped). */
typedef struct {
        char *group;  /* (nullable) */
        char *name;   /* upper case */
        char *params; /* (nullable) what lies between the name and ':', without the ';' first */
        char *value;
} ContactsVcardProp;

typedef struct {
        char *version;     /* "3.0" or "4.0" */
        GPtrArray *props;  /* ContactsVcardProp*, without BEGIN, END and VERSION, in order */
        char *uid;         /* unescaped */
        char *fn;          /* unescaped */
        GPtrArray *emails; /* char*, unescaped */
} ContactsVcard;

void contacts_vcard_free (ContactsVcard *card);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ContactsVcard, contacts_vcard_free)

/* Parses exactly one vCard 3.0 or 4.0 of at most CONTACTS_VCARD_MAX_BYTES (UTF-8, lines
 * folded or not, CRLF or LF) with a UID and an FN. Returns: (transfer full) (nullable). */
ContactsVcard *contacts_vcard_parse (const char *text, gsize len, GError **error);

/* A new card of @version with @uid and @fn set (as their properties too). */
ContactsVcard *contacts_vcard_new (const char *version, const char *uid, const char *fn);
/* Appends a property; @value is unescaped text (escaped here). */
void contacts_vcard_add_text (ContactsVcard *card, const char *name, const char *params,
                              const char *value);
/* Appends a property whose @value is written as it is (a structured value such as N). */
void contacts_vcard_add_raw (ContactsVcard *card, const char *name, const char *params,
                             const char *value);

/* The card as @version ("3.0" or "4.0"), CRLF lines folded at 75 octets. Converting changes
 * VERSION, PREF (4.0) against TYPE=pref (3.0), inline PHOTO/LOGO data (ENCODING=b against a
 * data: URI), and adds the N that 3.0 requires; every other property passes as it is.
 * Returns: (transfer full). */
char *contacts_vcard_write (const ContactsVcard *card, const char *version);

/* Escapes text for a vCard value (backslash, comma, semicolon, newline). */
char *contacts_vcard_escape (const char *text);
