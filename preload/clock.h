/* The clock of partrace: CLOCK_MONOTONIC nanoseconds in every record on disk, shared by all
 * processes of a host, so traces of one host need no alignment.
 *
 * On the hot path, application threads read raw ticks (pt_ticks): the TSC where it is invariant
 * and the kernel itself uses it as clocksource (several times cheaper than clock_gettime),
 * else CLOCK_MONOTONIC itself. The writer thread turns ticks into nanoseconds before a record
 * reaches the file, with a tick→ns map it recalibrates against CLOCK_MONOTONIC on every pass. */
#ifndef PT_CLOCK_H
#define PT_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

extern int pt_clock_uses_tsc;

static inline uint64_t pt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t pt_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Timestamp for a record field; converted to CLOCK_MONOTONIC ns by the writer. */
static inline uint64_t pt_ticks(void)
{
#if defined(__x86_64__)
    if (pt_clock_uses_tsc)
        return __rdtsc();
#endif
    return pt_now_ns();
}

/* Chooses the tick source (setting: PARTRACE_CLOCK's PT_CLOCK_* in preload/config.h) and takes
 * the first calibration point. Constructor time. */
void pt_clock_init(int setting);

/* The writer's tick→ns map: slope from a calibration baseline of 1–2 s, offset from the
 * latest point, so records between two passes land within tens of ns of CLOCK_MONOTONIC. */
struct pt_tick_map {
    uint64_t ref_tick, ref_ns;      /* latest calibration point */
    uint64_t old_tick, old_ns;      /* baseline start for the slope */
    uint64_t new_tick, new_ns;      /* becomes the baseline once 1 s old */
    double ns_per_tick;
};

/* Takes a new calibration point (writer, once per pass). */
void pt_tick_map_update(struct pt_tick_map *m);

static inline uint64_t pt_tick_map_ns(const struct pt_tick_map *m, uint64_t ticks)
{
    if (!pt_clock_uses_tsc)
        return ticks;
    return m->ref_ns + (uint64_t)(int64_t)((double)(int64_t)(ticks - m->ref_tick) * m->ns_per_tick);
}

/* Rewrites the tick fields of the records in buf[0..bytes) as nanoseconds. */
void pt_records_ticks_to_ns(char *buf, size_t bytes, const struct pt_tick_map *m);

#endif
