/* Interned strings by id: the writer's ids (1, 2, 3, ...), a stray huge id and ids out of
 * order are all found, a later string of an id replaces the earlier, and unknown ids read "". */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "read/trace_context.h"

static void learn(struct pt_trace_ctx *c, uint32_t id, const char *text)
{
    union {
        struct pt_rec_string s;
        char bytes[256];
    } r;
    memset(&r, 0, sizeof r);
    r.s.hdr.kind = PT_REC_STRING;
    r.s.id = id;
    r.s.text_bytes = (uint32_t)strlen(text);
    memcpy(r.s.text, text, r.s.text_bytes);
    r.s.hdr.size = (uint16_t)PT_REC_BYTES(sizeof r.s, r.s.text_bytes);
    pt_trace_ctx_learn(c, &r.s.hdr);
}

int main(void)
{
    struct pt_trace_ctx c = {0};
    char name[32];
    for (uint32_t id = 1; id <= 5000; id++) {
        snprintf(name, sizeof name, "kernel%u", id);
        learn(&c, id, name);
    }
    learn(&c, 4000000000u, "far away");
    learn(&c, 70000, "beyond the dense ids");
    learn(&c, 7, "ncclDevKernel_AllReduce_Sum_f32_RING_LL");
    CHECK(strcmp(pt_trace_ctx_string(&c, 1), "kernel1") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 5000), "kernel5000") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 4000000000u), "far away") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 70000), "beyond the dense ids") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 7), "ncclDevKernel_AllReduce_Sum_f32_RING_LL") == 0);
    CHECK(pt_trace_ctx_comm_class(&c, 7) != NULL);
    CHECK(pt_trace_ctx_comm_class(&c, 8) == NULL);
    CHECK(strcmp(pt_trace_ctx_string(&c, 0), "") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 5001), "") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 3999999999u), "") == 0);
    /* A stray id does not make an array up to it. */
    CHECK(c.n_dense < 65536);
    /* The dense ids catch up with one first seen out of order: both places agree. */
    learn(&c, 9000, "early");
    for (uint32_t id = 5001; id < 12000; id++)
        if (id != 9000) {
            snprintf(name, sizeof name, "kernel%u", id);
            learn(&c, id, name);
        }
    CHECK(strcmp(pt_trace_ctx_string(&c, 9000), "early") == 0);
    learn(&c, 9000, "replaced");
    CHECK(strcmp(pt_trace_ctx_string(&c, 9000), "replaced") == 0);
    CHECK(strcmp(pt_trace_ctx_string(&c, 11999), "kernel11999") == 0);
    pt_trace_ctx_free(&c);
    puts("trace_context: ok");
    return 0;
}
