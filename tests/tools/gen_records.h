/* Records the test tools write (gen_trace.c, gen_serving.c), built in a caller's buffer of
 * GEN_REC_MAX bytes: each returns the record's size, its header set. */
#ifndef PT_GEN_RECORDS_H
#define PT_GEN_RECORDS_H

#include <stdint.h>
#include <string.h>

#include <partrace/format.h>

#define GEN_REC_MAX 512
#define GEN_TEXT_MAX 256 /* longer texts are cut: the tools write none */

/* A STRING record: id → text. */
static inline size_t gen_string_rec(void *buf, uint32_t id, const char *text)
{
    size_t n = strnlen(text, GEN_TEXT_MAX), size = PT_REC_BYTES(sizeof(struct pt_rec_string), n);
    struct pt_rec_string *r = buf;
    memset(buf, 0, size);
    r->hdr = (struct pt_rec_hdr){PT_REC_STRING, (uint16_t)size, 1};
    r->id = id;
    r->text_bytes = (uint32_t)n;
    memcpy(r->text, text, n);
    return size;
}

/* An NVTX record of the default domain: a push, pop or mark at ts with its text. */
static inline size_t gen_nvtx_rec(void *buf, uint64_t ts, uint16_t event, const char *text)
{
    size_t n = strnlen(text, GEN_TEXT_MAX), size = PT_REC_BYTES(sizeof(struct pt_rec_nvtx), n);
    struct pt_rec_nvtx *r = buf;
    memset(buf, 0, size);
    r->hdr = (struct pt_rec_hdr){PT_REC_NVTX, (uint16_t)size, 1};
    r->ts_ns = ts;
    r->event = event;
    r->text_bytes = (uint16_t)n;
    memcpy(r->text, text, n);
    return size;
}

#endif
