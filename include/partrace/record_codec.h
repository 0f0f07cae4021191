/* Packed frames (format 2.x): how a frame's records are stored before zstd compresses them.
 * docs/FORMAT.md ("Packed records") gives the layout; this header is its one definition.
 *
 * Why: records are fixed structs, and consecutive records of one kind differ in a few of their
 * 32-bit words (timestamps, a sequence number, a correlation id). Writing only the words that
 * changed, as small deltas, makes a frame about a third of its size before compression and
 * leaves zstd a tenth of the sequences to decode, which was a third of a report's time.
 *
 * Each frame is packed on its own (the state below starts empty at every frame), so frames stay
 * independent. The writer packs (preload/record_pack.c); readers unpack
 * (analyze/record_unpack.c) back into the same records a 1.x frame holds. */
#ifndef PARTRACE_RECORD_CODEC_H
#define PARTRACE_RECORD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define PT_PACK_KIND_LIMIT 128u   /* kinds a packed frame can hold: 1..127 */
#define PT_PACK_RAW 0x80u         /* lead byte: the record follows whole */
#define PT_PACK_DELTA_MAX_BYTES 256u /* larger records are always written whole */

/* Bytes a packed frame may need beyond the records it packs (the encoder's scratch for one
 * record it then writes whole instead). */
#define PT_PACK_SLACK 512u

/* Packs the records in [recs, recs + len) (whole records, sizes checked by the caller) into out,
 * which holds at least len + PT_PACK_SLACK bytes. Returns the packed length (never more than
 * len), or 0 when a record's kind cannot be packed (0 or ≥ PT_PACK_KIND_LIMIT). */
size_t pt_pack_records(const void *recs, size_t len, void *out);

/* Where unpacking a frame stands, so that a call that ran out of room can go on after the
 * caller gave it more (out may move: the state holds offsets, not pointers). */
struct pt_unpack_state {
    size_t in_pos;                      /* packed bytes consumed */
    size_t out_len;                     /* record bytes produced */
    uint32_t last[PT_PACK_KIND_LIMIT];  /* offset + 1 in out of the last record of each kind */
};

/* Starts unpacking a frame. */
void pt_unpack_begin(struct pt_unpack_state *s);

/* Unpacks the packed frame [in, in + len) into out (cap bytes), from where s stands. Returns 0
 * when the frame is done (s->out_len bytes of records); 1 when the next record needs more
 * than cap bytes (call again with a larger out holding the same s->out_len bytes); -1 when the
 * input is damaged, with *bad_at its offset in the packed frame and *why a static message. */
int pt_unpack_records(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                      size_t *bad_at, const char **why);

#endif
