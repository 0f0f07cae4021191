/* Streaming reader of one partrace trace file. Every command reads traces through it.
 * Memory stays bounded: the compressed input and two decompressed frames (the next frame of a
 * file of 1 MiB or more is decompressed ahead on a helper thread, PARTRACE_READ_AHEAD). Read
 * record by record, a packed frame stays packed and each record is unpacked only when it is asked
 * for, into the last record of its kind (record_unpack.h); read frame by frame, a frame is
 * unpacked whole into the caller's buffer. Format 1.x, 2.x and 3.x files read alike. A file cut at any
 * byte reads back to its last whole frame; the cut is reported as a warning, not an error. */
#ifndef PT_TRACE_READER_H
#define PT_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

struct pt_reader;

struct pt_reader_stats {
    uint64_t frames;           /* whole frames read */
    uint64_t records;          /* records returned */
    uint64_t unknown_records;  /* records of kinds this reader does not know (skipped) */
    uint64_t bytes_on_disk;    /* bytes consumed so far */
    int truncated;             /* the file ends inside a frame */
    int corrupt;               /* a frame or record could not be decoded */
    uint64_t stop_offset;      /* where reading stopped early (truncated or corrupt) */
};

/* Opens path and checks its header. Only a regular file is opened (O_NONBLOCK, then fstat): a
 * FIFO, device or directory is refused at once, never waited on. Returns 0, or -1 with a
 * message in err. */
int pt_reader_open(const char *path, struct pt_reader **out, char *err, size_t errlen);

/* Whether path would open: the same checks as pt_reader_open, nothing kept. 0, or -1 with err. */
int pt_reader_probe(const char *path, char *err, size_t errlen);

const struct pt_file_header *pt_reader_header(const struct pt_reader *r);

/* Next record: 1 with *rec pointing at it (valid until the next call), 0 at the end.
 * A damaged packed record ends the stream after the records of its frame before it.
 * A truncated or corrupt tail ends the stream; pt_reader_warning() then says where. */
int pt_reader_next(struct pt_reader *r, const struct pt_rec_hdr **rec);

/* A frame's records, whole and unpacked. data grows (realloc) as frames need; the caller frees
 * it. */
struct pt_records {
    char *data;
    size_t len, cap;
};

/* The records of the next frame, all at once, into *out (1.x frames as stored, 2.x and 3.x
 * unpacked, at most PT_FRAME_MAX_BYTES): 1 with out->len bytes of records that passed the same
 * checks as pt_reader_next's (records of kinds this reader does not know are left in:
 * pt_rec_min_size says 0 for them), 0 at the end. A damaged record ends the stream after the
 * frame's records before it. A reader is read either frame by frame or record by record. */
int pt_reader_next_frame(struct pt_reader *r, struct pt_records *out);

/* A description of why reading stopped early, or NULL. */
const char *pt_reader_warning(const struct pt_reader *r);

const struct pt_reader_stats *pt_reader_stats(const struct pt_reader *r);

void pt_reader_close(struct pt_reader *r);

/* Smallest valid size of a known record kind, 0 for unknown kinds. */
size_t pt_rec_min_size(uint16_t kind);

#endif
