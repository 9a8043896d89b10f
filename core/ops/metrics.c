/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c - Prometheus text exposition for /metrics: requests by route template, method
 * and status; one latency histogram per route template; pool and plugin gauges. Labels are
 * route templates, never raw paths, so a scanner cannot blow up the series count. */
#include "core-private.h"
#include "ops-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>
#include <sys/resource.h>

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
#define N_BUCKETS G_N_ELEMENTS (buckets)

typedef struct {
        guint64 counts[N_BUCKETS + 1]; /* last: +Inf */
        double sum;
        guint64 total;
} Histogram;

/* Counters of one thread (each front answers requests; a scrape sums the shards). Its lock
 * is only ever contended by a scrape. */
typedef struct {
        GMutex lock;
        GHashTable *requests;   /* "method\troute\tstatus" -> guint64* */
        GHashTable *histograms; /* route -> Histogram* */
} Shard;

struct _AtriumMetrics {
        gint connections;        /* open client connections (atomic) */
        gint waiting;            /* of those, in a front's park (atomic) */
        GMutex lock;             /* shards, accept_failures */
        guint64 accept_failures; /* accept() refused for want of descriptors */
        GPtrArray *shards;       /* Shard*, one per thread that answered requests */
        guint generation;        /* tells this object from an earlier one at the same address */
};

static Shard *
shard_new (void)
{
        Shard *sh = g_new0 (Shard, 1);
        g_mutex_init (&sh->lock);
        sh->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        sh->histograms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        return sh;
}

static void
shard_free (gpointer data)
{
        Shard *sh = data;
        g_hash_table_unref (sh->requests);
        g_hash_table_unref (sh->histograms);
        g_mutex_clear (&sh->lock);
        g_free (sh);
}

/* One GPrivate per metrics object would leak a key per object; there is one per process,
 * so a static key that remembers which object its shard belongs to is enough. */
typedef struct {
        guint generation;
        Shard *shard;
} Mine;
static gint generations;
static GPrivate mine_key = G_PRIVATE_INIT (g_free);

static Shard *
my_shard (AtriumMetrics *m)
{
        Mine *mine = g_private_get (&mine_key);
        if (mine && mine->generation == m->generation)
                return mine->shard;
        if (!mine) {
                mine = g_new0 (Mine, 1);
                g_private_set (&mine_key, mine);
        }
        mine->generation = m->generation;
        mine->shard = shard_new ();
        g_mutex_lock (&m->lock);
        g_ptr_array_add (m->shards, mine->shard);
        g_mutex_unlock (&m->lock);
        return mine->shard;
}

AtriumMetrics *
atrium_metrics_new (void)
{
        AtriumMetrics *m = g_new0 (AtriumMetrics, 1);
        g_mutex_init (&m->lock);
        m->shards = g_ptr_array_new_with_free_func (shard_free);
        m->generation = (guint) g_atomic_int_add (&generations, 1) + 1;
        return m;
}

void
atrium_metrics_free (AtriumMetrics *m)
{
        if (!m)
                return;
        g_ptr_array_unref (m->shards);
        g_mutex_clear (&m->lock);
        g_free (m);
}

void
atrium_metrics_connections (AtriumMetrics *m, int delta)
{
        g_atomic_int_add (&m->connections, delta);
}

void
atrium_metrics_connections_waiting (AtriumMetrics *m, int delta)
{
        g_atomic_int_add (&m->waiting, delta);
}

void
atrium_metrics_accept_failed (AtriumMetrics *m)
{
        g_mutex_lock (&m->lock);
        m->accept_failures++;
        g_mutex_unlock (&m->lock);
}

/* Descriptors open in this process, counted in /proc (-1 where there is none). */
static int
open_fds (void)
{
        g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
        if (!dir)
                return -1;
        int n = 0;
        while (g_dir_read_name (dir))
                n++;
        return n - 1; /* the directory's own descriptor */
}

void
atrium_metrics_observe (AtriumMetrics *m, const char *method, const char *route, guint status,
                        double seconds)
{
        Shard *sh = my_shard (m);
        char stack[256];
        g_autofree char *heap = NULL;
        const char *key = stack;
        if ((gsize) g_snprintf (stack, sizeof stack, "%s\t%s\t%u", method, route, status) >=
            sizeof stack)
                key = heap = g_strdup_printf ("%s\t%s\t%u", method, route, status);
        g_mutex_lock (&sh->lock);
        guint64 *count = g_hash_table_lookup (sh->requests, key);
        if (!count) {
                count = g_new0 (guint64, 1);
                g_hash_table_insert (sh->requests, g_strdup (key), count);
        }
        (*count)++;
        Histogram *h = g_hash_table_lookup (sh->histograms, route);
        if (!h) {
                h = g_new0 (Histogram, 1);
                g_hash_table_insert (sh->histograms, g_strdup (route), h);
        }
        gsize b = 0;
        while (b < N_BUCKETS && seconds > buckets[b])
                b++;
        h->counts[b]++;
        h->sum += seconds;
        h->total++;
        g_mutex_unlock (&sh->lock);
}

/* The shards summed into @requests and @histograms (tables like a shard's). */
static void
merge_shards (AtriumMetrics *m, GHashTable *requests, GHashTable *histograms)
{
        g_mutex_lock (&m->lock);
        for (guint i = 0; i < m->shards->len; i++) {
                Shard *sh = m->shards->pdata[i];
                GHashTableIter it;
                gpointer key, value;
                g_mutex_lock (&sh->lock);
                g_hash_table_iter_init (&it, sh->requests);
                while (g_hash_table_iter_next (&it, &key, &value)) {
                        guint64 *sum = g_hash_table_lookup (requests, key);
                        if (!sum) {
                                sum = g_new0 (guint64, 1);
                                g_hash_table_insert (requests, g_strdup (key), sum);
                        }
                        *sum += *(guint64 *) value;
                }
                g_hash_table_iter_init (&it, sh->histograms);
                while (g_hash_table_iter_next (&it, &key, &value)) {
                        Histogram *from = value;
                        Histogram *to = g_hash_table_lookup (histograms, key);
                        if (!to) {
                                to = g_new0 (Histogram, 1);
                                g_hash_table_insert (histograms, g_strdup (key), to);
                        }
                        for (gsize b = 0; b <= N_BUCKETS; b++)
                                to->counts[b] += from->counts[b];
                        to->sum += from->sum;
                        to->total += from->total;
                }
                g_mutex_unlock (&sh->lock);
        }
        g_mutex_unlock (&m->lock);
}

/* Label values escape backslash, double quote and newline (the exposition format's rule). */
static void
append_label (GString *out, const char *v)
{
        for (const char *p = v; *p; p++) {
                if (*p == '\\' || *p == '"')
                        g_string_append_c (out, '\\');
                if (*p == '\n') {
                        g_string_append (out, "\\n");
                        continue;
                }
                g_string_append_c (out, *p);
        }
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
        return strcmp (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
sorted_keys (GHashTable *table)
{
        GPtrArray *out = g_ptr_array_new ();
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init (&it, table);
        while (g_hash_table_iter_next (&it, &key, NULL))
                g_ptr_array_add (out, key);
        g_ptr_array_sort (out, cmp_str);
        return out;
}

char *
atrium_metrics_render (AtriumMetrics *m, AtriumCore *core)
{
        GString *out = g_string_new (NULL);
        g_autoptr (GHashTable) requests =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr (GHashTable) histograms =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        merge_shards (m, requests, histograms);

        g_string_append (out, "# HELP atrium_http_requests_total HTTP requests answered.\n"
                              "# TYPE atrium_http_requests_total counter\n");
        g_autoptr (GPtrArray) keys = sorted_keys (requests);
        for (guint i = 0; i < keys->len; i++) {
                g_auto (GStrv) parts = g_strsplit (keys->pdata[i], "\t", 3);
                g_string_append (out, "atrium_http_requests_total{method=\"");
                append_label (out, parts[0]);
                g_string_append (out, "\",route=\"");
                append_label (out, parts[1]);
                g_string_append_printf (out, "\",status=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                        parts[2],
                                        *(guint64 *) g_hash_table_lookup (requests,
                                                                          keys->pdata[i]));
        }

        g_string_append (out,
                         "# HELP atrium_http_request_duration_seconds Time from request read "
                         "to answer ready.\n"
                         "# TYPE atrium_http_request_duration_seconds histogram\n");
        g_autoptr (GPtrArray) routes = sorted_keys (histograms);
        for (guint i = 0; i < routes->len; i++) {
                const char *route = routes->pdata[i];
                Histogram *h = g_hash_table_lookup (histograms, route);
                guint64 cum = 0;
                for (gsize b = 0; b <= N_BUCKETS; b++) {
                        cum += h->counts[b];
                        g_string_append (out, "atrium_http_request_duration_seconds_bucket{route=\"");
                        append_label (out, route);
                        if (b < N_BUCKETS) {
                                char le[G_ASCII_DTOSTR_BUF_SIZE];
                                g_ascii_formatd (le, sizeof le, "%g", buckets[b]);
                                g_string_append_printf (out, "\",le=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                                        le, cum);
                        } else {
                                g_string_append_printf (out, "\",le=\"+Inf\"} %" G_GUINT64_FORMAT "\n",
                                                        cum);
                        }
                }
                char sum[G_ASCII_DTOSTR_BUF_SIZE];
                g_ascii_dtostr (sum, sizeof sum, h->sum);
                g_string_append (out, "atrium_http_request_duration_seconds_sum{route=\"");
                append_label (out, route);
                g_string_append_printf (out, "\"} %s\n", sum);
                g_string_append (out, "atrium_http_request_duration_seconds_count{route=\"");
                append_label (out, route);
                g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", h->total);
        }
        g_mutex_lock (&m->lock);
        guint64 accept_failures = m->accept_failures;
        g_mutex_unlock (&m->lock);

        struct rlimit nofile = {0};
        getrlimit (RLIMIT_NOFILE, &nofile);
        g_string_append_printf (
                out,
                "# HELP atrium_http_connections Client connections open now.\n"
                "# TYPE atrium_http_connections gauge\n"
                "atrium_http_connections %d\n"
                "# HELP atrium_http_connections_waiting Of those, connections waiting for a "
                "request outside the main loop: new ones until their request head is in, and "
                "kept-alive ones idle for 2 s or more.\n"
                "# TYPE atrium_http_connections_waiting gauge\n"
                "atrium_http_connections_waiting %d\n"
                "# HELP atrium_http_accept_failures_total Connections not accepted for want of "
                "file descriptors (accepting pauses, then resumes).\n"
                "# TYPE atrium_http_accept_failures_total counter\n"
                "atrium_http_accept_failures_total %" G_GUINT64_FORMAT "\n"
                "# HELP atrium_open_fds File descriptors open in the process.\n"
                "# TYPE atrium_open_fds gauge\n"
                "atrium_open_fds %d\n"
                "# HELP atrium_max_fds The process's limit on open file descriptors.\n"
                "# TYPE atrium_max_fds gauge\n"
                "atrium_max_fds %" G_GUINT64_FORMAT "\n",
                g_atomic_int_get (&m->connections), g_atomic_int_get (&m->waiting), accept_failures,
                open_fds (), (guint64) nofile.rlim_cur);

        guint in_use, idle;
        atrium_db_pool_stats (core->pool, &in_use, &idle);
        guint running = 0, failed = 0;
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state == ATRIUM_PLUGIN_RUNNING)
                        running++;
                else if (p->state == ATRIUM_PLUGIN_FAILED)
                        failed++;
        }
        g_string_append_printf (
                out,
                "# HELP atrium_db_pool_connections Database connections by state.\n"
                "# TYPE atrium_db_pool_connections gauge\n"
                "atrium_db_pool_connections{state=\"in_use\"} %u\n"
                "atrium_db_pool_connections{state=\"idle\"} %u\n"
                "# HELP atrium_db_pool_size Connections the pool may open (workers + slow workers).\n"
                "# TYPE atrium_db_pool_size gauge\n"
                "atrium_db_pool_size %u\n"
                "# HELP atrium_plugins Plugins by state.\n"
                "# TYPE atrium_plugins gauge\n"
                "atrium_plugins{state=\"running\"} %u\n"
                "atrium_plugins{state=\"failed\"} %u\n",
                in_use, idle, core->config->pool_size + core->config->slow_workers, running,
                failed);
        g_string_append_printf (
                out,
                "# HELP atrium_leader 1 while this host holds the installation's leader lock "
                "(it runs the timers and event retries).\n"
                "# TYPE atrium_leader gauge\n"
                "atrium_leader %d\n"
                "# HELP atrium_event_deliveries_total Event deliveries to a subscribing plugin "
                "by this host, by outcome (retried: a delivery of an outbox row again).\n"
                "# TYPE atrium_event_deliveries_total counter\n"
                "atrium_event_deliveries_total{result=\"delivered\"} %" G_GSIZE_FORMAT "\n"
                "atrium_event_deliveries_total{result=\"failed\"} %" G_GSIZE_FORMAT "\n"
                "atrium_event_deliveries_total{result=\"given_up\"} %" G_GSIZE_FORMAT "\n"
                "atrium_event_deliveries_total{result=\"retried\"} %" G_GSIZE_FORMAT "\n",
                g_atomic_int_get (&core->is_leader),
                (gsize) g_atomic_pointer_get (&core->event_deliveries),
                (gsize) g_atomic_pointer_get (&core->event_failures),
                (gsize) g_atomic_pointer_get (&core->event_given_up),
                (gsize) g_atomic_pointer_get (&core->event_retries));
        AtriumPoolStats pools[ATRIUM_POOLS];
        guint collecting = 0;
        if (atrium_serve_pool_stats (core, pools, &collecting)) {
                g_string_append (out, "# HELP atrium_pool_threads Threads a request pool may run.\n"
                                      "# TYPE atrium_pool_threads gauge\n");
                for (guint i = 0; i < ATRIUM_POOLS; i++)
                        g_string_append_printf (out, "atrium_pool_threads{pool=\"%s\"} %u\n",
                                                pools[i].name, pools[i].size);
                g_string_append (out, "# HELP atrium_pool_busy Requests running on a pool now.\n"
                                      "# TYPE atrium_pool_busy gauge\n");
                for (guint i = 0; i < ATRIUM_POOLS; i++)
                        g_string_append_printf (out, "atrium_pool_busy{pool=\"%s\"} %u\n",
                                                pools[i].name, pools[i].busy);
                g_string_append (out, "# HELP atrium_pool_waiting Requests waiting for a thread "
                                      "of a pool (stream: large uploads beyond stream_workers).\n"
                                      "# TYPE atrium_pool_waiting gauge\n");
                for (guint i = 0; i < ATRIUM_POOLS; i++)
                        g_string_append_printf (out, "atrium_pool_waiting{pool=\"%s\"} %u\n",
                                                pools[i].name, pools[i].waiting);
                g_string_append_printf (out,
                                        "# HELP atrium_uploads_collecting Upload bodies of up to "
                                        "256 KiB being read before a worker takes them.\n"
                                        "# TYPE atrium_uploads_collecting gauge\n"
                                        "atrium_uploads_collecting %u\n",
                                        collecting);
        }
        if (core->replica) {
                guint64 reads, fallbacks;
                int lag_ms;
                gboolean usable;
                atrium_replica_stats (core->replica, &reads, &fallbacks, &lag_ms, &usable);
                char lag[G_ASCII_DTOSTR_BUF_SIZE] = "NaN"; /* not measured yet, or cannot be */
                if (lag_ms >= 0)
                        g_ascii_dtostr (lag, sizeof lag, lag_ms / 1000.0);
                g_string_append_printf (
                        out,
                        "# HELP atrium_replica_reads_total Requests of routes that may read "
                        "from the replica, by where they read: the replica, or the primary "
                        "(fallback: the replica down, too far behind, or failing).\n"
                        "# TYPE atrium_replica_reads_total counter\n"
                        "atrium_replica_reads_total{result=\"replica\"} %" G_GUINT64_FORMAT "\n"
                        "atrium_replica_reads_total{result=\"fallback\"} %" G_GUINT64_FORMAT "\n"
                        "# HELP atrium_replica_up 1 while reads may go to the replica (up, a "
                        "standby, at most replica_max_lag behind).\n"
                        "# TYPE atrium_replica_up gauge\n"
                        "atrium_replica_up %d\n"
                        "# HELP atrium_replica_lag_seconds How far the replica is behind the "
                        "primary at most, as last measured (once a second).\n"
                        "# TYPE atrium_replica_lag_seconds gauge\n"
                        "atrium_replica_lag_seconds %s\n",
                        reads, fallbacks, usable ? 1 : 0, lag);
        }
        if (core->school_cache) {
                guint64 kept, resolved;
                guint n = atrium_school_cache_stats (core->school_cache, &kept, &resolved);
                g_string_append_printf (
                        out,
                        "# HELP atrium_school_cache_schools Schools (with a module) this host "
                        "keeps for the {school} of a path.\n"
                        "# TYPE atrium_school_cache_schools gauge\n"
                        "atrium_school_cache_schools %u\n"
                        "# HELP atrium_school_cache_checks_total Identity checks of school "
                        "routes, by whether the kept school held or the school was resolved.\n"
                        "# TYPE atrium_school_cache_checks_total counter\n"
                        "atrium_school_cache_checks_total{result=\"kept\"} %" G_GUINT64_FORMAT "\n"
                        "atrium_school_cache_checks_total{result=\"resolved\"} %" G_GUINT64_FORMAT
                        "\n",
                        n, kept, resolved);
        }
        if (core->perm_cache) { /* absent: a permission source takes no epochs */
                guint64 current, computed;
                guint kept = atrium_perm_cache_stats (core->perm_cache, &current, &computed);
                g_string_append_printf (
                        out,
                        "# HELP atrium_permission_cache_sessions Sessions whose permissions "
                        "this host keeps between requests.\n"
                        "# TYPE atrium_permission_cache_sessions gauge\n"
                        "atrium_permission_cache_sessions %u\n"
                        "# HELP atrium_permission_cache_checks_total Identity checks of users, "
                        "by whether the kept permissions were current or had to be computed.\n"
                        "# TYPE atrium_permission_cache_checks_total counter\n"
                        "atrium_permission_cache_checks_total{result=\"current\"} %" G_GUINT64_FORMAT
                        "\n"
                        "atrium_permission_cache_checks_total{result=\"computed\"} %" G_GUINT64_FORMAT
                        "\n",
                        kept, current, computed);
        }
        return g_string_free (out, FALSE);
}
