/* `partrace check FILE.pftrace`: reads a Perfetto trace (plain or gzip) packet by packet and
 * reports what trace_processor would count as errors: a packet without a sequence id, a track
 * event without a timestamp or on an undefined track, timestamps going back on a sequence,
 * interned names used before they were defined (or before the sequence was cleared), an END
 * without a BEGIN or before it, a flow that ends without having started, a track whose parent is
 * undefined, parent loops. */
#ifndef PT_PERFETTO_CHECK_H
#define PT_PERFETTO_CHECK_H

#include <stdint.h>
#include <stdio.h>

struct pt_check_stats {
    uint64_t packets, tracks, slices, instants, counters, flows, errors, open_slices;
};

/* Prints each error (at most 20, then a count) to msgs. Returns 0 when valid, 1 when not, 2 when
 * the file cannot be read. */
int pt_perfetto_check(const char *path, FILE *msgs, struct pt_check_stats *st);

#endif
