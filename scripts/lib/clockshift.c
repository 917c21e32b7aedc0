/* A wall clock that runs ahead or behind: LD_PRELOAD into a process (a redis-server) with
 * CLOCKSHIFT_FILE naming a file that holds the shift in microseconds (negative: behind).
 * gettimeofday, clock_gettime(CLOCK_REALTIME) and time read through it; the monotonic clock does
 * not, as an NTP step leaves it. It calls the kernel directly and allocates nothing: Debian's
 * libfaketime deadlocks in redis-server, whose jemalloc reads the clock while libfaketime is
 * still starting (libfaketime issue #130). Used by the Swift tests (ClockShift) and scripts/chaos. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The shift in microseconds, read from CLOCKSHIFT_FILE at most every 2 ms. */
static long long shift_us(void) {
    static long long cached, checked_ns;
    struct timespec mono;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &mono);
    long long now_ns = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
    if (now_ns - __atomic_load_n(&checked_ns, __ATOMIC_RELAXED) < 2000000LL) return __atomic_load_n(&cached, __ATOMIC_RELAXED);
    const char *path = getenv("CLOCKSHIFT_FILE");
    long long value = 0;
    if (path) {
        int fd = (int)syscall(SYS_open, path, O_RDONLY);
        if (fd >= 0) {
            char text[32];
            long n = syscall(SYS_read, fd, text, sizeof text - 1);
            syscall(SYS_close, fd);
            if (n > 0) { text[n] = 0; value = strtoll(text, 0, 10); }
        }
    }
    __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    __atomic_store_n(&checked_ns, now_ns, __ATOMIC_RELAXED);
    return value;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int result = (int)syscall(SYS_clock_gettime, id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift_us() * 1000LL;
        ts->tv_sec = ns / 1000000000LL;
        ts->tv_nsec = ns % 1000000000LL;
    }
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    (void)tz;
    struct timespec ts;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    if (result == 0 && tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    return result;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}

