/* The run's order of events (run_merge.h): by time, equal times by file. Also what orders the
 * things the report lists by their first event, so that they come out the same whatever order
 * the files' events were read in (pt_run_take_turns). */
#ifndef PT_RUN_KEY_H
#define PT_RUN_KEY_H

#include <stdint.h>

struct pt_run_key {
    uint64_t ts;
    uint32_t source; /* the file */
};

static inline int pt_run_key_earlier(struct pt_run_key a, struct pt_run_key b)
{
    return a.ts < b.ts || (a.ts == b.ts && a.source < b.source);
}

#endif
