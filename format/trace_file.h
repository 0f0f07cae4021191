/* A trace file written outside the recorder, by partrace's own tools (the metrics scraper of
 * `partrace record`, the trace generator of the tests): the file header, then records staged
 * and written as packed, zstd-compressed frames of the format writers write. One thread. */
#ifndef PT_FORMAT_TRACE_FILE_H
#define PT_FORMAT_TRACE_FILE_H

#include <stddef.h>
#include <stdio.h>

#include <partrace/format.h>

struct pt_trace_file {
    FILE *f;
    char *frame, *packed, *out; /* staged records; packed; compressed */
    size_t len, cap;
    int plain;                  /* format 1.x: frames hold the records unpacked */
    int failed;                 /* a write failed: nothing more is written */
};

/* Creates path (refusing one that exists) and writes header h (pt_file_header_init'd by the
 * caller, its fields filled). plain: frames of format 1.x, h's major set by the caller.
 * frame_bytes: records staged before a frame is written (at most 1 MiB). Returns 0, or -1 with
 * the reason in err. */
int pt_trace_file_create(struct pt_trace_file *t, const char *path, const struct pt_file_header *h,
                         int plain, size_t frame_bytes, char *err, size_t errlen);

/* Stages a whole record (its header's size set); writes a frame first when it would not fit.
 * Returns 0, or -1 once a write failed. */
int pt_trace_file_put(struct pt_trace_file *t, const void *rec, size_t bytes);

/* Writes the staged records as one frame (none when nothing is staged) and flushes the file. */
int pt_trace_file_flush(struct pt_trace_file *t);

/* Writes what is staged and closes the file. Returns 0, or -1 when anything failed. */
int pt_trace_file_close(struct pt_trace_file *t);

#endif
