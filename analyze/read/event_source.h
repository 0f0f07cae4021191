/* One trace file as a stream of records in time order. Records in a file are only nearly sorted
 * (each frame holds several threads' rings and GPU activity that finished late), so a bounded
 * reorder window sorts them: whole frames are read while fewer records are held than the window
 * (below), and the earliest held comes out next. Memory grows with the window, never with the
 * file. A record older than one already delivered comes out anyway and is counted as late.
 * Records that come in order are delivered from the frame they were unpacked into, without a
 * copy.
 * Records that carry no time (strings, attributes, correlations, modules, ...) are learnt into
 * the file's context when read and not delivered. */
#ifndef PT_EVENT_SOURCE_H
#define PT_EVENT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

#include "read/trace_context.h"
#include "read/trace_reader.h"

/* Records held back, per file: PT_REORDER_WINDOW while the first PT_REORDER_WINDOW records are
 * read, then PT_FIRST_WINDOW if no record read out of order reached back more than a quarter of
 * it (it was earlier than held records read that many records before it), and PT_REORDER_WINDOW
 * again from when one reaches back more than half of it. A small window keeps a file's held
 * records in the CPU's caches (with 65 536 records held per file, a generated run's report took
 * a sixth longer); a file whose records come further out of order keeps the large one. */
#define PT_FIRST_WINDOW 4096
#define PT_REORDER_WINDOW 65536

struct pt_event {
    uint64_t ts_ns;
    uint32_t source;              /* index of the file in its run */
    uint32_t seq;                 /* read order, to keep equal times stable */
    const struct pt_rec_hdr *rec; /* valid until the next pt_source_next on this source */
};

/* A record held in a file's reorder window: its time, read order and where it is. */
struct pt_held {
    uint64_t ts;
    uint32_t seq;
    struct pt_rec_hdr *rec;
};

/* The held records [next, end) that a source hands out next with no checks (in order, from the
 * frame they were unpacked into), for a caller that steps through them itself. */
struct pt_held_range {
    const struct pt_held *next, *end;
};

/* The record was written a window ago, out of cache by now: asks for those a few ahead of it
 * (a prefetch past the frame's end does no harm). */
static inline void pt_held_prefetch(const struct pt_held *h)
{
    __builtin_prefetch((const char *)h->rec + 512); /* about 5 records */
}

struct pt_source;

int pt_source_open(const char *path, uint32_t index, struct pt_source **out, char *err, size_t errlen);
/* Shifts every event's times by delta ns (another host's clock), from the next event on. */
void pt_source_set_shift(struct pt_source *s, int64_t delta);
/* 1 with the next event, 0 at the end. */
int pt_source_next(struct pt_source *s, struct pt_event *ev);
/* The source's ready records: a caller may take them by moving next on (each is an event of
 * this source with seq and rec as held, valid until the next pt_source_next), and must stop at
 * end; pt_source_next goes on after those taken. Empty when the next event needs checks. The
 * pointer stays the source's for its life. */
struct pt_held_range *pt_source_ready(struct pt_source *s);
const struct pt_file_header *pt_source_header(const struct pt_source *s);
const struct pt_trace_ctx *pt_source_ctx(const struct pt_source *s);
const struct pt_reader_stats *pt_source_stats(const struct pt_source *s);
const char *pt_source_warning(const struct pt_source *s);
/* Records that came out earlier than one before them (counted up to the last pt_source_next). */
uint64_t pt_source_late(const struct pt_source *s);
/* The window now, in records: PT_FIRST_WINDOW to PT_REORDER_WINDOW. */
size_t pt_source_window(const struct pt_source *s);
/* Memory the reorder window holds now (records kept back, and what it keeps for reuse). */
size_t pt_source_window_bytes(const struct pt_source *s);
/* Environment attribute NAME=value of the process, or NULL. */
const char *pt_source_env(const struct pt_source *s, const char *name);
void pt_source_close(struct pt_source *s);

#endif
