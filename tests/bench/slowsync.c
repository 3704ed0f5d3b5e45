/* A slow disk for benchmarks: every fdatasync(2) takes at least
 * SLOW_SYNC_US microseconds more (default 1300, the slowest sync measured
 * on a machine that ran the benchmarks). Preloaded into `dauys serve`:
 *
 *   cc -shared -fPIC -O2 -o target/slowsync.so tests/bench/slowsync.c -ldl
 *   LD_PRELOAD=$PWD/target/slowsync.so target/release/dauys-bench ingest 64 100000
 *
 * Only for BENCHMARKS.md: the node never loads it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static int (*real_fdatasync)(int);
static long delay_us = -1;

int fdatasync(int fd) {
    if (!real_fdatasync) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (delay_us < 0) {
        const char *text = getenv("SLOW_SYNC_US");
        delay_us = text ? atol(text) : 1300;
    }
    int result = real_fdatasync(fd);
    struct timespec pause = { delay_us / 1000000, (delay_us % 1000000) * 1000 };
    nanosleep(&pause, NULL);
    return result;
}
