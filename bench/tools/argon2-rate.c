/* SPDX-License-Identifier: Apache-2.0 */
/* argon2-rate.c - the sign-in ceiling of bench/run.sh: how many Argon2id hashes per second
 * THREADS threads compute for SECONDS seconds, with atriumd's parameters (core/identity/crypto.c,
 * identity-private.h: 19 MiB, t=2, p=1, 32-byte tag, libgcrypt). Prints "hashes/s".
 *
 *   cc -O2 -o argon2-rate bench/tools/argon2-rate.c $(pkg-config --cflags --libs libgcrypt) -lpthread
 *   ./argon2-rate 10 2 */
#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M_KIB 19456ul
#define T_COST 2ul
#define P_LANES 1ul
#define TAG_LEN 32ul

static double deadline;
static long counts[64];

static double
now (void)
{
        struct timespec ts;
        clock_gettime (CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void *
run (void *arg)
{
        long *count = arg;
        unsigned char salt[16] = "bench-salt-0123";
        unsigned char tag[TAG_LEN];
        unsigned long param[4] = {TAG_LEN, T_COST, M_KIB, P_LANES};
        const char *password = "correct horse battery";
        while (now () < deadline) {
                gcry_kdf_hd_t hd;
                if (gcry_kdf_open (&hd, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, param, 4, password,
                                   strlen (password), salt, sizeof salt, NULL, 0, NULL, 0) ||
                    gcry_kdf_compute (hd, NULL) || gcry_kdf_final (hd, TAG_LEN, tag)) {
                        fprintf (stderr, "argon2id failed\n");
                        exit (1);
                }
                gcry_kdf_close (hd);
                (*count)++;
        }
        return NULL;
}

int
main (int argc, char **argv)
{
        double seconds = argc > 1 ? strtod (argv[1], NULL) : 10;
        int threads = argc > 2 ? (int) strtol (argv[2], NULL, 10) : 2;
        if (threads < 1 || threads > 64 || seconds <= 0) {
                fprintf (stderr, "usage: argon2-rate SECONDS THREADS\n");
                return 2;
        }
        if (!gcry_check_version ("1.10.0")) {
                fprintf (stderr, "libgcrypt 1.10 or newer needed\n");
                return 1;
        }
        gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
        double start = now ();
        deadline = start + seconds;
        pthread_t t[64];
        for (int i = 0; i < threads; i++)
                pthread_create (&t[i], NULL, run, &counts[i]);
        long total = 0;
        for (int i = 0; i < threads; i++) {
                pthread_join (t[i], NULL);
                total += counts[i];
        }
        printf ("%.0f\n", (double) total / (now () - start));
        return 0;
}
