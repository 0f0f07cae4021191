#include "preload/clock.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <partrace/format.h>

#include "preload/config.h"
#include "format/record_kinds.h"

#include "preload/log.h"

int pt_clock_uses_tsc;
static uint64_t start_tick, start_ns;

/* One calibration point: CLOCK_MONOTONIC read between two TSC reads, the tightest pair of a few
 * tries. A thread preempted between the reads would place the point off by the time it was away
 * (milliseconds on a loaded machine), and every call of the next interval with it. */
static void sample(uint64_t *tick, uint64_t *ns)
{
#if defined(__x86_64__)
    uint64_t best = UINT64_MAX;
    *tick = *ns = 0; /* the first try always sets both */
    for (int i = 0; i < 8 && best > 4000; i++) { /* 4000 ticks: about a microsecond or two */
        uint64_t t1 = __rdtsc();
        uint64_t n = pt_now_ns();
        uint64_t t2 = __rdtsc();
        if (t2 - t1 < best) {
            best = t2 - t1;
            *ns = n;
            *tick = t1 + (t2 - t1) / 2;
        }
    }
#else
    *ns = pt_now_ns();
    *tick = *ns;
#endif
}

static int tsc_is_trustworthy(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8)))
        return 0; /* no invariant TSC */
    /* The kernel uses the TSC for CLOCK_MONOTONIC only when it found it stable and in sync. */
    char src[32] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
                  O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, src, sizeof src - 1);
    close(fd);
    return n >= 3 && strncmp(src, "tsc", 3) == 0;
#else
    return 0;
#endif
}

void pt_clock_init(int setting)
{
    /* tsc is auto: the TSC only where it is trustworthy */
    pt_clock_uses_tsc = setting != PT_CLOCK_MONOTONIC && tsc_is_trustworthy();
    sample(&start_tick, &start_ns);
}

void pt_tick_map_update(struct pt_tick_map *m)
{
    uint64_t tick, ns;
    sample(&tick, &ns);
    if (!m->old_tick) {
        m->old_tick = m->new_tick = start_tick;
        m->old_ns = m->new_ns = start_ns;
    }
    if (ns - m->new_ns >= 1000000000u) {
        m->old_tick = m->new_tick;
        m->old_ns = m->new_ns;
        m->new_tick = tick;
        m->new_ns = ns;
    }
    if (tick > m->old_tick && ns > m->old_ns + 1000000u)
        m->ns_per_tick = (double)(ns - m->old_ns) / (double)(tick - m->old_tick);
    else if (m->ns_per_tick == 0.0 && tick > m->old_tick)
        m->ns_per_tick = (double)(ns - m->old_ns) / (double)(tick - m->old_tick);
    m->ref_tick = tick;
    m->ref_ns = ns;
}

static uint64_t tick_to_ns(uint64_t tick, const void *map)
{
    return pt_tick_map_ns(map, tick);
}

void pt_records_ticks_to_ns(char *buf, size_t bytes, const struct pt_tick_map *m)
{
    if (!pt_clock_uses_tsc)
        return;
    for (size_t off = 0; off + sizeof(struct pt_rec_hdr) <= bytes;) {
        struct pt_rec_hdr *h = (void *)(buf + off);
        if (h->size < sizeof *h)
            return;
        if (pt_rec_stamped_in_ticks(h->kind))
            pt_rec_map_times(h, tick_to_ns, m);
        off += h->size;
    }
}
