/* Unpacking a packed (2.x, 3.x) frame one record at a time, the reader's way when it is read
 * record by record (the frame-at-a-time form, which the format header declares and
 * pt_unpack_checked below extends, writes every record out; this one writes none): each
 * kind's last records are kept in buffers of their own (2.x: one, and a delta is applied to it
 * in place; 3.x: PT_PACK_REFS, and a delta is its base copied, then changed), so a record costs
 * its changed words and at most one copy. A record handed out stays valid until the next
 * record of its kind is unpacked. */
#ifndef PT_RECORD_UNPACK_H
#define PT_RECORD_UNPACK_H

#include <stdint.h>

#include <partrace/format.h>

struct pt_unpack_kinds {
    unsigned kind_mask, ref_mask, refs;                       /* the file format's lead byte */
    struct pt_rec_hdr *rec[PT_PACK_KIND_LIMIT][PT_PACK_REFS]; /* each kind's last records */
    uint32_t cap[PT_PACK_KIND_LIMIT];                         /* bytes allocated to each, alike */
    uint8_t newest[PT_PACK_KIND_LIMIT];                       /* which of them is the newest */
    uint8_t in_frame[PT_PACK_KIND_LIMIT];                     /* how many came in this frame */
};

/* Starts unpacking the frames of a file of format `major` (2 or 3). */
void pt_unpack_kinds_init(struct pt_unpack_kinds *k, unsigned major);
/* A new frame starts: deltas may refer only to records of this frame. */
void pt_unpack_kinds_frame(struct pt_unpack_kinds *k);
void pt_unpack_kinds_free(struct pt_unpack_kinds *k);

#define PT_UNPACK_DELTA 1 /* the record is one of its kind's last with some words changed */
#define PT_UNPACK_WHOLE 2 /* the record came whole: its size is new */

/* Unpacks the packed record at *pos (end: the frame's end, past *pos) into its kind's buffer and
 * moves *pos past it. Returns PT_UNPACK_DELTA or PT_UNPACK_WHOLE with *rec; -1 when it is
 * damaged and -2 when out of memory, with *why a static message and *pos left at the record. */
int pt_unpack_next(struct pt_unpack_kinds *k, const uint8_t **pos, const uint8_t *end,
                   const struct pt_rec_hdr **rec, const char **why);

/* What pt_unpack_checked counted: records of kinds this reader knows, and of others. */
struct pt_unpack_counts {
    uint64_t known, unknown;
};

/* pt_unpack_records (format.h), checking every record as the reader does (record_check.h) and
 * counting it: -3 when a record fails the checks; it lies at s->out_len in out, after the
 * records before it. */
int pt_unpack_checked(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                      size_t *bad_at, const char **why, struct pt_unpack_counts *counts);

#endif
