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

#include "trace_context.h"
#include "trace_reader.h"

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

struct pt_source;

int pt_source_open(const char *path, uint32_t index, struct pt_source **out, char *err, size_t errlen);
/* Shifts every event's times by delta ns (another host's clock), from the next event on. */
void pt_source_set_shift(struct pt_source *s, int64_t delta);
/* 1 with the next event, 0 at the end. */
int pt_source_next(struct pt_source *s, struct pt_event *ev);
const struct pt_file_header *pt_source_header(const struct pt_source *s);
const struct pt_trace_ctx *pt_source_ctx(const struct pt_source *s);
const struct pt_reader_stats *pt_source_stats(const struct pt_source *s);
const char *pt_source_warning(const struct pt_source *s);
uint64_t pt_source_late(const struct pt_source *s);
/* The window now, in records: PT_FIRST_WINDOW to PT_REORDER_WINDOW. */
size_t pt_source_window(const struct pt_source *s);
/* Memory the reorder window holds now (records kept back, and what it keeps for reuse). */
size_t pt_source_window_bytes(const struct pt_source *s);
/* Environment attribute NAME=value of the process, or NULL. */
const char *pt_source_env(const struct pt_source *s, const char *name);
void pt_source_close(struct pt_source *s);

/* The time a record is ordered by; 0 for records that carry none. */
uint64_t pt_record_time(const struct pt_rec_hdr *h);

#endif
