/* SPDX-License-Identifier: Apache-2.0 */
/* plugin-tasks.c - work a plugin does outside requests (ABI 1.2): command-line commands
 * ("atriumd files gc"), periodic timers on a serving host, transactions of their own
 * (run_tx) and the plugin's private data directory. */
#include "core-private.h"
#include "plugin-host-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

struct _AtriumTask {
        AtriumPlugin *owner;
        char *name; /* commands */
        char *summary;
        AtriumCommandFunc command;
        guint interval; /* timers */
        AtriumTimerFunc timer;
        gpointer user_data;
        gint running; /* timers: a run is queued or in progress */
};

void
atrium_task_free (AtriumTask *t)
{
        g_free (t->name);
        g_free (t->summary);
        g_free (t);
}

void
atrium_tasks_drop (AtriumCore *core, AtriumPlugin *owner)
{
        for (guint i = core->tasks->len; i > 0; i--)
                if (((AtriumTask *) core->tasks->pdata[i - 1])->owner == owner)
                        g_ptr_array_remove_index (core->tasks, i - 1);
}

gboolean
atrium_host_add_command (AtriumPlugin *self, const char *name, const char *summary,
                         AtriumCommandFunc func, gpointer user_data, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        if (!name || !func || !g_regex_match_simple ("^[a-z][a-z0-9-]*\\z", name, 0, 0)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "a command needs a function and a name of [a-z0-9-]");
                return FALSE;
        }
        for (guint i = 0; i < self->core->tasks->len; i++) {
                AtriumTask *t = self->core->tasks->pdata[i];
                if (t->owner == self && g_strcmp0 (t->name, name) == 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "command %s %s registered twice", self->desc.name, name);
                        return FALSE;
                }
        }
        AtriumTask *t = g_new0 (AtriumTask, 1);
        t->owner = self;
        t->name = g_strdup (name);
        t->summary = g_strdup (summary ? summary : "");
        t->command = func;
        t->user_data = user_data;
        g_ptr_array_add (self->core->tasks, t);
        return TRUE;
}

gboolean
atrium_host_add_timer (AtriumPlugin *self, guint interval_seconds, AtriumTimerFunc func,
                       gpointer user_data, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        if (!func || interval_seconds < 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "a timer needs a function and an interval of at least 1 s");
                return FALSE;
        }
        AtriumTask *t = g_new0 (AtriumTask, 1);
        t->owner = self;
        t->interval = interval_seconds;
        t->timer = func;
        t->user_data = user_data;
        g_ptr_array_add (self->core->tasks, t);
        return TRUE;
}

gboolean
atrium_host_run_tx (AtriumPlugin *self, const char *school_id, AtriumTxFunc func,
                    gpointer user_data, GError **error)
{
        g_return_val_if_fail (self != NULL && func != NULL, FALSE);
        AtriumCore *core = self->core;
        g_autoptr (AtriumTx) tx = atrium_tx_new (core->pool, school_id, NULL);
        /* Timers and commands: a roll-up of a large installation's day may take longer than
         * any request may ([database] statement_timeout bounds requests only). */
        tx->unbounded = TRUE;
        gboolean ok = func (tx, user_data, error) && atrium_events_persist (core, tx, 0, error);
        if (ok)
                ok = atrium_tx_commit (tx, error);
        else
                atrium_tx_rollback (tx);
        if (!ok)
                return FALSE;
        g_autoptr (GPtrArray) events = atrium_tx_steal_events (tx);
        if (events->len)
                atrium_events_deliver (core, school_id, NULL, events);
        return TRUE;
}

const char *
atrium_host_data_dir (AtriumPlugin *self)
{
        g_return_val_if_fail (self != NULL, NULL);
        G_LOCK_DEFINE_STATIC (data_dir);
        G_LOCK (data_dir);
        if (!self->data_dir) {
                char *dir = g_build_filename (self->core->config->data_dir, self->desc.name, NULL);
                if (g_mkdir_with_parents (dir, 0700) != 0) {
                        g_warning ("plugin %s: cannot create %s: %s", self->desc.name, dir,
                                   g_strerror (errno));
                        g_free (dir);
                } else {
                        self->data_dir = dir;
                }
        }
        G_UNLOCK (data_dir);
        return self->data_dir;
}

/* ---- commands: "atriumd <plugin> <command> [args]" ---- */

static AtriumTask *
find_command (AtriumCore *core, int argc, char **argv)
{
        /* argv[0] is the plugin, argv[1] the command */
        for (guint i = 0; argc >= 2 && i < core->tasks->len; i++) {
                AtriumTask *t = core->tasks->pdata[i];
                if (t->command && t->owner->state != ATRIUM_PLUGIN_FAILED &&
                    g_str_equal (t->owner->desc.name, argv[0]) && g_str_equal (t->name, argv[1]))
                        return t;
        }
        return NULL;
}

gboolean
atrium_tasks_has_command (AtriumCore *core, int argc, char **argv)
{
        if (find_command (core, argc, argv))
                return TRUE;
        g_printerr ("atriumd: unknown command \"%s%s%s\"; plugin commands:\n", argv[0],
                    argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
        for (guint i = 0; i < core->tasks->len; i++) {
                AtriumTask *t = core->tasks->pdata[i];
                if (t->command && t->owner->state != ATRIUM_PLUGIN_FAILED)
                        g_printerr ("  %s %-16s %s\n", t->owner->desc.name, t->name, t->summary);
        }
        return FALSE;
}

int
atrium_tasks_run_command (AtriumCore *core, int argc, char **argv)
{
        AtriumTask *t = find_command (core, argc, argv);
        if (!t || t->owner->state != ATRIUM_PLUGIN_RUNNING)
                return 2;
        return t->command (t->owner, argc - 2, argv + 2, t->user_data);
}

/* ---- timers on a serving host ---- */

static void
run_timer (gpointer data, gpointer user_data)
{
        AtriumTask *t = data;
        (void) user_data;
        if (t->owner->state == ATRIUM_PLUGIN_RUNNING)
                t->timer (t->owner, t->user_data);
        g_atomic_int_set (&t->running, 0);
}

static gboolean
on_timer (gpointer data)
{
        AtriumTask *t = data;
        /* Timers run once per installation, on the leader (leader.c). Never two runs of one
         * timer: skip a tick while the last run is still going. */
        if (atrium_leader_is (t->owner->core) &&
            g_atomic_int_compare_and_exchange (&t->running, 0, 1))
                g_thread_pool_push (t->owner->core->task_pool, t, NULL);
        return G_SOURCE_CONTINUE;
}

void
atrium_tasks_start_timers (AtriumCore *core, GMainContext *context)
{
        for (guint i = 0; i < core->tasks->len; i++) {
                AtriumTask *t = core->tasks->pdata[i];
                if (!t->timer)
                        continue;
                if (!core->task_pool)
                        core->task_pool = g_thread_pool_new (run_timer, NULL, 2, FALSE, NULL);
                GSource *src = g_timeout_source_new_seconds (t->interval);
                g_source_set_callback (src, on_timer, t, NULL);
                g_source_attach (src, context);
                g_source_unref (src);
        }
}

/* Before the plugins stop: wait for running timers. The sources die with the context. */
void
atrium_tasks_stop_timers (AtriumCore *core)
{
        if (core->task_pool) {
                g_thread_pool_free (core->task_pool, FALSE, TRUE);
                core->task_pool = NULL;
        }
}
