/* The per-thread ring: records survive wrap-around intact and in order; a full ring drops and
 * counts; the writer side drains only whole records. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <partrace/format.h>

#include "check.h"
#include "preload/ring.h"

static struct pt_rec_nccl_call make(uint64_t i)
{
    struct pt_rec_nccl_call r;
    memset(&r, 0, sizeof r);
    r.hdr.kind = PT_REC_NCCL_CALL;
    r.hdr.size = sizeof r;
    r.seq = i;
    r.count = i * 3;
    return r;
}

int main(void)
{
    struct pt_ring ring;
    memset(&ring, 0, sizeof ring);
    ring.size = 4096;
    ring.data = malloc(ring.size);
    char out[1 << 16];
    uint64_t pushed = 0, drained = 0;
    /* Many cycles of push-until-full then partial drains: the boundary moves over every offset. */
    for (int round = 0; round < 500; round++) {
        int n = 0;
        while (n < 100) {
            struct pt_rec_nccl_call r = make(pushed);
            if (pt_ring_push(&ring, &r, sizeof r) != 0)
                break;
            pushed++;
            n++;
        }
        CHECK(n > 0);
        uint64_t records = 0;
        size_t cap = (size_t)(round % 7 + 1) * sizeof(struct pt_rec_nccl_call) + 5;
        size_t got = pt_ring_drain(&ring, out, cap, &records);
        CHECK_EQ_U64(got, records * sizeof(struct pt_rec_nccl_call));
        for (uint64_t k = 0; k < records; k++) {
            struct pt_rec_nccl_call r;
            memcpy(&r, out + k * sizeof r, sizeof r);
            CHECK_EQ_U64(r.hdr.kind, PT_REC_NCCL_CALL);
            CHECK_EQ_U64(r.seq, drained);
            CHECK_EQ_U64(r.count, drained * 3);
            drained++;
        }
    }
    /* A full ring drops and counts, and never overwrites. */
    uint64_t before = atomic_load(&ring.dropped);
    struct pt_rec_nccl_call r = make(0);
    while (pt_ring_push(&ring, &r, sizeof r) == 0)
        pushed++;
    CHECK_EQ_U64(atomic_load(&ring.dropped), before + 1);
    CHECK(pt_ring_pending(&ring) <= ring.size);
    uint64_t records = 0;
    pt_ring_drain(&ring, out, sizeof out, &records);
    CHECK_EQ_U64(drained + records, pushed);
    CHECK_EQ_U64(pt_ring_pending(&ring), 0);
    free(ring.data);
    printf("ring: %llu records through a 4 KiB ring, in order\n", (unsigned long long)pushed);
    return 0;
}
