/* A run: every trace file of one job, merged into one time-ordered stream of events (k-way
 * merge of the files' own ordered streams). Memory grows with the number of files. Files of one
 * host share a clock; other hosts' files are shifted by their offsets (clock_align.h). */
#ifndef PT_RUN_MERGE_H
#define PT_RUN_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "read/event_source.h"
#include "read/run_key.h"

struct pt_run {
    struct pt_source **sources;
    int32_t *rank;          /* global rank of each file's process, -1 when unknown */
    size_t n;
    struct pt_run_key *order; /* the heads (time, source) of the sources not at their end,
                               * sorted (run_key.h): order[lo, hi) */
    size_t lo, hi, room;    /* room: 64n + 2, so that both ends can grow (run_merge.c) */
    struct pt_event *head;  /* each source's next event (valid while the source is in order) */
    size_t due;             /* 1 + the source of the event last returned, to move on next time */
    uint64_t turn_ns;       /* 0: in time order; else turns of this length (pt_run_take_turns) */
    uint64_t turn_end;      /* the current turn: a file's events before it come without a search */
                            /* (in turns, the head of the file being read is out of the order) */
};

/* Opens every file; a file that cannot be opened is skipped with a message in warn (called once
 * per file; warn may be NULL). shift_ns (may be NULL): per path, the clock offset to add to its times.
 * Returns 0, or -1 when no file could be opened. */
int pt_run_open(char **paths, size_t n, const int64_t *shift_ns, struct pt_run *run,
                void (*warn)(const char *msg, void *arg), void *arg);
/* From now on, the events come in turns rather than in strict time order: the earliest file
 * starts a turn of ns, and each file, in time order of its next event, gives all its events of
 * the turn at once. Each file's events stay in their order, and an event comes at most ns after
 * an event of another file that is later than it. A pass whose results do not depend on the
 * order of different files' events that close in time runs faster this way: it takes one file
 * at a time, with its state and records still in cache (the report; docs/METRICS.md). */
void pt_run_take_turns(struct pt_run *run, uint64_t ns);
/* 1 with the next event of the whole run, 0 at the end. */
int pt_run_next(struct pt_run *run, struct pt_event *ev);
void pt_run_close(struct pt_run *run);

#endif
