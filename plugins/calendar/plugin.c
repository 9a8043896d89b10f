/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c - the calendar plugin: calendars of a person, a group or the whole school, with
 * events and recurring series in iCalendar form (libical), .ics import and export, and secret
 * subscription URLs for phone calendar apps.
 *
 * This file holds the descriptor and lifecycle. model.c holds the one place that decides who
 * may see and change a calendar, the events it publishes (calendar.event_created / _updated /
 * _deleted, calendar.calendar_deleted), its reactions to user.deleted and group.deleted, and
 * its part of the GDPR export. Group membership comes from the groups plugin's service table,
 * never from its tables.
 *
 * Who may do what (README.md has the table):
 *   - a personal calendar: its owner only (not even admins see it);
 *   - a group's calendar: its members see it; its owners, and members holding calendar.write,
 *     change it; holders of calendar.manage see and change every group's calendar;
 *   - a school calendar: everyone with calendar.read sees it; calendar.manage changes it.
 *
 * This file is the wiring (descriptor, settings, init); what the other files share is in
 * model.c. */
#include "calendar-private.h"

#include <atrium/resources.h>
#include <string.h>

#include "calendar-resources.h"

const AtriumHost *cal_host;
const AtriumGroupsService *cal_groups;

/* ---- lifecycle ---- */

AtriumPlugin *cal_self;

/* The calendar area of the browser portal (portal/page.js; docs/PORTAL.md). */
static gboolean
add_page (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (cal_host, add_portal_page))
                return TRUE;
        const AtriumPortalPage page = {
                ATRIUM_PORTAL_PAGE_INIT,
                .resource = calendar_get_resource (),
                .folder = "/dev/atrium/calendar/portal",
                .module = "page.js",
                .id = "calendar",
                .label = "Calendar",
                .label_de = "Kalender",
                .permission = "calendar.read",
                .order = 200,
        };
        return cal_host->add_portal_page (self, &page, error);
}

static gboolean
cal_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        cal_host = host;
        cal_self = self;
        if (!ATRIUM_HOST_HAS (host, request_body_stream))
                return cal_fail (error, ATRIUM_ERROR_INTERNAL,
                                 "the host is too old: calendar needs ABI 1.2 (streamed import)");
        cal_groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, 1);
        if (!cal_groups ||
            cal_groups->header.struct_size <
                    offsetof (AtriumGroupsService, groups_of) + sizeof (cal_groups->groups_of))
                return cal_fail (error, ATRIUM_ERROR_INTERNAL,
                                 "calendar needs the groups service (version 1)");
        return cal_register_calendar_routes (self, error) &&
               cal_register_event_routes (self, error) && cal_register_todo_routes (self, error) &&
               cal_register_import_routes (self, error) &&
               cal_register_subscription_routes (self, error) &&
               cal_register_caldav (self, error) && cal_register_prune (error) &&
               host->subscribe (self, "user.deleted", cal_on_user_deleted, NULL, error) &&
               host->subscribe (self, "group.deleted", cal_on_group_deleted, NULL, error) &&
               atrium_add_migrations_from_resource (host, self, calendar_get_resource (),
                                                    "/dev/atrium/calendar/schema", error) &&
               add_page (self, error);
}

static gboolean
cal_start (AtriumPlugin *self, GError **error)
{
        return cal_ical_init (error);
}

static void
cal_fini (AtriumPlugin *self)
{
        cal_ical_fini ();
}

static const AtriumPermission permissions[] = {
        {"calendar.read",
         "Use calendars: see the school's calendars, your groups' and your own; keep personal "
         "calendars",
         "admin,teacher,student,parent,staff"},
        {"calendar.write", "Change the calendars of the groups you are a member of",
         "admin,teacher,staff"},
        {"calendar.manage",
         "Create and change school calendars; see and change every group's calendar", "admin"},
        {NULL, NULL, NULL},
};

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "calendar", .version = "1.0.0",
                      .description = "Calendars of people, groups and the school (iCalendar)",
                      .license = "Apache-2.0", .dependencies = dependencies,
                      .permissions = permissions, .init = cal_init, .start = cal_start,
                      .fini = cal_fini, .user_export = cal_user_export)
