/* SPDX-License-Identifier: Apache-2.0 */
/* fsync-rate.c - the disk's ceiling for what a files upload must do to be durable, without
 * HTTP, PostgreSQL or atriumd: THREADS threads for SECONDS seconds each store SIZE-byte files
 * the way plugins/files/blobstore.c does: create a temporary file, write it, fsync it, rename
 * it into a two-level fan-out directory named after its content's hash (here: a counter's
 * hex), and fsync that directory. Prints "files/s N".
 *
 *   fsync-rate DIR THREADS SECONDS SIZE
 *
 * bench/files/run.sh runs it with its PUT load's connection count, so an upload's rate can be
 * read against the rate the same disk allows for the same durable writes (issue #14: >= 0.8).
 * Not a test: it measures time. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *root;
static size_t size;
static double seconds;
static atomic_ulong stored;
static atomic_ulong counter;

static double
now (void)
{
        struct timespec ts;
        clock_gettime (CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die (const char *what, const char *path)
{
        fprintf (stderr, "fsync-rate: %s %s: %s\n", what, path, strerror (errno));
        exit (1);
}

static void
fsync_dir (const char *dir)
{
        int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync (fd) != 0)
                die ("fsync", dir);
        close (fd);
}

/* mkdir of a fan-out level, made durable in its parent, as blobstore.c's ensure_dir(). */
static void
ensure_dir (const char *dir, const char *parent)
{
        struct stat st;
        if (stat (dir, &st) == 0)
                return;
        if (mkdir (dir, 0700) != 0 && errno != EEXIST)
                die ("mkdir", dir);
        fsync_dir (parent);
}

static void *
worker (void *arg)
{
        (void) arg;
        char *buf = malloc (size);
        char tmp[4200], l1[4200], l2[4300], target[4400];
        double end = now () + seconds;
        while (now () < end) {
                unsigned long n = atomic_fetch_add (&counter, 1);
                memset (buf, (int) (n & 0xff), size);
                memcpy (buf, &n, sizeof n < size ? sizeof n : size);
                snprintf (tmp, sizeof tmp, "%s/tmp/%lu.part", root, n);
                int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0)
                        die ("create", tmp);
                for (size_t off = 0; off < size;) {
                        ssize_t w = write (fd, buf + off, size - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                die ("write", tmp);
                        off += (size_t) w;
                }
                if (fsync (fd) != 0)
                        die ("fsync", tmp);
                close (fd);
                /* A content hash spreads files evenly over 65,536 directories; so does this. */
                unsigned long h = n * 2654435761ul;
                snprintf (l1, sizeof l1, "%s/blobs/%02lx", root, (h >> 8) & 0xff);
                snprintf (l2, sizeof l2, "%s/%02lx", l1, (h >> 16) & 0xff);
                char blobs[4200];
                snprintf (blobs, sizeof blobs, "%s/blobs", root);
                ensure_dir (l1, blobs);
                ensure_dir (l2, l1);
                snprintf (target, sizeof target, "%s/%016lx", l2, n);
                if (rename (tmp, target) != 0)
                        die ("rename into", target);
                fsync_dir (l2);
                atomic_fetch_add (&stored, 1);
        }
        free (buf);
        return NULL;
}

int
main (int argc, char **argv)
{
        if (argc != 5) {
                fprintf (stderr, "usage: fsync-rate DIR THREADS SECONDS SIZE\n");
                return 2;
        }
        root = argv[1];
        int threads = atoi (argv[2]);
        seconds = atof (argv[3]);
        size = (size_t) atol (argv[4]);
        if (threads < 1 || threads > 1024 || seconds <= 0 || size < 1) {
                fprintf (stderr, "fsync-rate: bad arguments\n");
                return 2;
        }
        char dir[4096];
        snprintf (dir, sizeof dir, "%s/tmp", root);
        mkdir (dir, 0700);
        snprintf (dir, sizeof dir, "%s/blobs", root);
        mkdir (dir, 0700);
        pthread_t *t = calloc ((size_t) threads, sizeof *t);
        double start = now ();
        for (int i = 0; i < threads; i++)
                pthread_create (&t[i], NULL, worker, NULL);
        for (int i = 0; i < threads; i++)
                pthread_join (t[i], NULL);
        double took = now () - start;
        printf ("files/s %.0f\n", atomic_load (&stored) / took);
        free (t);
        return 0;
}
