/* CUPTI activity records, built here from cupti_activity.h's structs, become partrace records
 * with the right fields; names are interned once; kernels get their NCCL call through the
 * correlation id, and through graph nodes and their clones. */
#include <string.h>

#include <partrace/format.h>

#include "cupti/activity_convert.h"
#include "check.h"

static char out[1 << 16];
static size_t out_len;
static int out_records;

static void put(const void *rec, size_t bytes, void *arg)
{
    (void)arg;
    CHECK(bytes % 8 == 0 && out_len + bytes <= sizeof out);
    CHECK(((const struct pt_rec_hdr *)rec)->size == bytes);
    memcpy(out + out_len, rec, bytes);
    out_len += bytes;
    out_records++;
}

static const struct pt_rec_hdr *nth(int n)
{
    size_t off = 0;
    for (int i = 0; i < n; i++)
        off += ((const struct pt_rec_hdr *)(out + off))->size;
    return (const void *)(out + off);
}

static CUpti_ActivityKernel10 kernel(const char *name, uint32_t corr, uint64_t node)
{
    CUpti_ActivityKernel10 k;
    memset(&k, 0, sizeof k);
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.start = 1000;
    k.end = 3500;
    k.deviceId = 2;
    k.streamId = 13;
    k.correlationId = corr;
    k.gridX = 4, k.gridY = 2, k.gridZ = 1;
    k.blockX = 128, k.blockY = k.blockZ = 1;
    k.dynamicSharedMemory = 4096;
    k.registersPerThread = 40;
    k.graphNodeId = node;
    k.name = name;
    return k;
}

int main(void)
{
    struct pt_convert c;
    CHECK(pt_convert_init(&c) == 0);

    CUpti_ActivityExternalCorrelation e = {.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION,
                                           .externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0,
                                           .externalId = 77, .correlationId = 5};
    CHECK(pt_convert_activity(&c, (CUpti_Activity *)&e, put, NULL) == 1);
    CUpti_ActivityKernel10 k1 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 5, 0);
    CHECK(pt_convert_activity(&c, (CUpti_Activity *)&k1, put, NULL) == 1);
    CHECK_EQ_U64(out_records, 3); /* ext_corr, string, kernel */
    const struct pt_rec_ext_corr *ec = (const void *)nth(0);
    CHECK(ec->hdr.kind == PT_REC_EXT_CORR && ec->nccl_call_id == 77 && ec->correlation_id == 5);
    const struct pt_rec_string *s = (const void *)nth(1);
    CHECK(s->hdr.kind == PT_REC_STRING && s->text_bytes == strlen(k1.name));
    CHECK(memcmp(s->text, k1.name, s->text_bytes) == 0);
    const struct pt_rec_kernel *k = (const void *)nth(2);
    CHECK(k->hdr.kind == PT_REC_KERNEL && k->name_id == s->id);
    CHECK(k->start_ns == 1000 && k->end_ns == 3500 && k->device == 2 && k->stream == 13);
    CHECK(k->grid[0] == 4 && k->grid[1] == 2 && k->block[0] == 128 && k->smem_dynamic == 4096);
    CHECK(k->registers == 40 && k->nccl_call_id == 77 && k->correlation_id == 5);

    /* The same name again: no second string; another correlation id: no call. */
    const uint32_t name_id = s->id;
    out_len = 0, out_records = 0;
    CUpti_ActivityKernel10 k2 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 6, 0);
    pt_convert_activity(&c, (CUpti_Activity *)&k2, put, NULL);
    CHECK_EQ_U64(out_records, 1);
    CHECK(((const struct pt_rec_kernel *)nth(0))->name_id == name_id);
    CHECK(((const struct pt_rec_kernel *)nth(0))->nccl_call_id == 0);

    /* Graph: node 10 captured inside call 91, cloned to 20 then 30; a replay of 30 maps to 91. */
    struct pt_rec_graph_node captured = {.node_id = 10, .nccl_call_id = 91};
    struct pt_rec_graph_node clone1 = {.node_id = 20, .original_node_id = 10, .cloned = 1};
    struct pt_rec_graph_node clone2 = {.node_id = 30, .original_node_id = 20, .cloned = 1};
    pt_convert_graph_node(&c, &captured);
    pt_convert_graph_node(&c, &clone1);
    pt_convert_graph_node(&c, &clone2);
    out_len = 0, out_records = 0;
    CUpti_ActivityKernel10 k3 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 99, 30);
    pt_convert_activity(&c, (CUpti_Activity *)&k3, put, NULL);
    CHECK(((const struct pt_rec_kernel *)nth(0))->nccl_call_id == 91);
    CHECK(((const struct pt_rec_kernel *)nth(0))->graph_node_id == 30);

    /* As CUPTI numbers them (graph id << 32 | index): the instantiated graph's node has the
     * index of the captured one; instantiation reports it created (NCCL kernel, no call), then
     * cloned. Many graphs of the same shape must not evict each other. */
    for (uint64_t graph = 1; graph <= 40; graph += 2) {
        struct pt_rec_graph_node cap = {.node_id = graph << 32 | 2, .nccl_call_id = 1000 + graph};
        struct pt_rec_graph_node made = {.node_id = (graph + 1) << 32 | 2,
                                         .nccl_kind = pt_nccl_kernel_kind(k3.name)};
        struct pt_rec_graph_node copy = {.node_id = (graph + 1) << 32 | 2,
                                         .original_node_id = graph << 32 | 2, .cloned = 1};
        pt_convert_graph_node(&c, &cap);
        pt_convert_graph_node(&c, &made);
        pt_convert_graph_node(&c, &copy);
    }
    for (uint64_t graph = 1; graph <= 40; graph += 2) {
        out_len = 0, out_records = 0;
        CUpti_ActivityKernel10 rk =
            kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 98, (graph + 1) << 32 | 2);
        pt_convert_activity(&c, (CUpti_Activity *)&rk, put, NULL);
        CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(0))->nccl_call_id, 1000 + graph);
    }

    /* A non-blocking communicator: its calls wait for kernels (and graph nodes) by order. */
    struct pt_rec_comm_init nb = {.comm_id = 0xabc, .flags = PT_COMM_NONBLOCKING};
    pt_convert_comm(&c, &nb);
    struct pt_rec_nccl_call ar = {.op = PT_OP_AllReduce, .comm_id = 0xabc, .call_id = 500,
                                  .t_enter_ns = 50, .device = -1, .dtype = 9 /* ncclBfloat16 */};
    struct pt_rec_nccl_call ar2 = ar;
    ar2.call_id = 501;
    ar2.t_enter_ns = 60;
    pt_convert_call(&c, &ar);
    pt_convert_call(&c, &ar2);
    /* As on the GPU: calls 500 and 501 ran eagerly and wait for their kernels (which come back a
     * buffer late); then 502 is captured, and NCCL's thread makes its node (no call, only the
     * kind of its kernel) just after it entered; instantiation reports the new graph's node
     * created (looking just as unbound) and at once cloned. The node takes 502, the newest call
     * before it, one batch later; the instantiated node takes none; the eager kernels keep 500
     * and 501; the replay leads to 502. */
    struct pt_rec_nccl_call in_capture = ar;
    in_capture.call_id = 502, in_capture.t_enter_ns = 65;
    pt_convert_call(&c, &in_capture);
    struct pt_rec_graph_node unbound = {.node_id = 40, .ts_ns = 70,
                                        .nccl_kind = pt_nccl_kernel_kind(k1.name)};
    CHECK(unbound.nccl_kind != 0);
    CHECK(pt_nccl_kernel_kind("gemm_kernel") == 0);
    pt_convert_graph_node(&c, &unbound);
    pt_convert_graph_flush(&c, 0);
    CHECK_EQ_U64(c.matched_by_order, 0); /* bound one batch later */
    struct pt_rec_graph_node made = unbound, clone = {.node_id = 41, .original_node_id = 40, .cloned = 1};
    made.node_id = 41, made.ts_ns = 75;
    pt_convert_graph_node(&c, &made);
    pt_convert_graph_node(&c, &clone);
    pt_convert_graph_flush(&c, 0);
    CHECK_EQ_U64(c.matched_by_order, 1);
    out_len = 0, out_records = 0;
    CUpti_ActivityKernel10 k4 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 700, 0);
    k4.start = 80;
    pt_convert_activity(&c, (CUpti_Activity *)&k4, put, NULL);
    CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(0))->nccl_call_id, 500);
    k4.correlationId = 704, k4.start = 85;
    out_len = 0, out_records = 0;
    pt_convert_activity(&c, (CUpti_Activity *)&k4, put, NULL);
    CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(0))->nccl_call_id, 501);
    CUpti_ActivityKernel10 k5 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 701, 41);
    out_len = 0, out_records = 0;
    pt_convert_activity(&c, (CUpti_Activity *)&k5, put, NULL);
    CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(0))->nccl_call_id, 502); /* replay of node 41 */
    CHECK_EQ_U64(c.matched_by_order, 3);

    /* With the hint (the call entered last when the node was made): the node takes that call,
     * though the next one (504) entered before the node came, and waits for the hinted call
     * when its record comes a batch after the node (505); the hint is cleared in the record. */
    struct pt_rec_nccl_call cap1 = ar, cap2 = ar;
    cap1.call_id = 503, cap1.t_enter_ns = 86, cap2.call_id = 504, cap2.t_enter_ns = 87;
    pt_convert_call(&c, &cap1);
    pt_convert_call(&c, &cap2);
    struct pt_rec_graph_node hinted = unbound;
    hinted.node_id = 50, hinted.ts_ns = 88, hinted.original_node_id = 503;
    pt_convert_graph_node(&c, &hinted);
    CHECK_EQ_U64(hinted.original_node_id, 0);
    struct pt_rec_graph_node early = unbound;
    early.node_id = 51, early.ts_ns = 89, early.original_node_id = 505;
    pt_convert_graph_node(&c, &early);
    pt_convert_graph_flush(&c, 0);
    pt_convert_graph_flush(&c, 0); /* 505 not learned yet: node 51 waits */
    struct pt_rec_nccl_call cap3 = ar;
    cap3.call_id = 505, cap3.t_enter_ns = 88;
    pt_convert_call(&c, &cap3);
    pt_convert_graph_flush(&c, 0);
    const uint64_t replay_node[] = {50, 51}, replay_call[] = {503, 505};
    for (int i = 0; i < 2; i++) {
        CUpti_ActivityKernel10 kr = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 710 + (uint32_t)i,
                                           replay_node[i]);
        out_len = 0, out_records = 0;
        pt_convert_activity(&c, (CUpti_Activity *)&kr, put, NULL);
        CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(0))->nccl_call_id, replay_call[i]);
    }
    /* 504 still waits for its eager kernel. */
    CUpti_ActivityKernel10 k504 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 712, 0);
    k504.start = 95;
    out_len = 0, out_records = 0;
    pt_convert_activity(&c, (CUpti_Activity *)&k504, put, NULL);
    CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(0))->nccl_call_id, 504);

    /* Two streams: a kernel takes the oldest pending call of its own stream, not the oldest. */
    struct pt_rec_stream s1 = {.handle = 0x10, .stream_id = 21}, s2 = {.handle = 0x20, .stream_id = 22};
    pt_convert_stream(&c, &s1);
    pt_convert_stream(&c, &s2);
    struct pt_rec_nccl_call on1 = ar, on2 = ar;
    on1.call_id = 600, on1.stream = 0x10, on1.t_enter_ns = 90;
    on2.call_id = 601, on2.stream = 0x20, on2.t_enter_ns = 91;
    pt_convert_call(&c, &on1);
    pt_convert_call(&c, &on2);
    CUpti_ActivityKernel10 k6 = kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", 702, 0);
    k6.start = 100, k6.streamId = 22;
    out_len = 0, out_records = 0;
    pt_convert_activity(&c, (CUpti_Activity *)&k6, put, NULL);
    CHECK(((const struct pt_rec_kernel *)nth(0))->nccl_call_id == 601);
    k6.correlationId = 703, k6.streamId = 21;
    out_len = 0, out_records = 0;
    pt_convert_activity(&c, (CUpti_Activity *)&k6, put, NULL);
    CHECK(((const struct pt_rec_kernel *)nth(0))->nccl_call_id == 600);

    /* Kernels name their element type: an f32 kernel skips the bf16 call waiting before its
     * own (a float32 barrier all-reduce between bf16 ones), and an unsigned 8-bit kernel serves
     * an int8 call; a kernel without a type in its name takes the oldest call of its kind. */
    struct pt_rec_nccl_call half = ar, single = ar, bytes8 = ar;
    half.call_id = 610, half.t_enter_ns = 120;
    single.call_id = 611, single.t_enter_ns = 121, single.dtype = 7;  /* ncclFloat32 */
    bytes8.call_id = 612, bytes8.t_enter_ns = 122, bytes8.dtype = 0; /* ncclInt8 */
    pt_convert_call(&c, &half);
    pt_convert_call(&c, &single);
    pt_convert_call(&c, &bytes8);
    const char *order[] = {"ncclDevKernel_AllReduce_Sum_f32_RING_LL", "ncclDevKernel_AllReduce_Sum_u8_RING_LL",
                           "ncclDevKernel_AllReduce_Generic"};
    const uint64_t want[] = {611, 612, 610};
    for (int i = 0; i < 3; i++) {
        CUpti_ActivityKernel10 kt = kernel(order[i], 720 + (uint32_t)i, 0);
        kt.start = 130 + (uint64_t)i, kt.streamId = 21;
        out_len = 0, out_records = 0;
        pt_convert_activity(&c, (CUpti_Activity *)&kt, put, NULL);
        /* (a new name comes first as a string record) */
        CHECK_EQ_U64(((const struct pt_rec_kernel *)nth(out_records - 1))->nccl_call_id, want[i]);
    }

    /* Copies, memsets, memory, synchronization. */
    out_len = 0, out_records = 0;
    CUpti_ActivityMemcpy6 m = {.kind = CUPTI_ACTIVITY_KIND_MEMCPY, .copyKind = 10, .srcKind = 3,
                               .dstKind = 3, .bytes = 123456, .start = 10, .end = 20, .deviceId = 1,
                               .streamId = 4, .correlationId = 8};
    CUpti_ActivityMemory4 mem = {.kind = CUPTI_ACTIVITY_KIND_MEMORY2,
                                 .memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE,
                                 .memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, .address = 0xabc000,
                                 .bytes = 2 << 20, .timestamp = 30, .isAsync = 1};
    mem.memoryPoolConfig.memoryPoolType = CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL;
    mem.memoryPoolConfig.address = 0xabc000;
    CUpti_ActivitySynchronization2 y = {.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION,
                                        .type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE,
                                        .start = 40, .end = 90, .cudaEventId = 3};
    CUpti_ActivityMemset4 ms = {.kind = CUPTI_ACTIVITY_KIND_MEMSET, .value = 7, .bytes = 64,
                                .start = 100, .end = 110, .memoryKind = 3};
    pt_convert_activity(&c, (CUpti_Activity *)&m, put, NULL);
    pt_convert_activity(&c, (CUpti_Activity *)&mem, put, NULL);
    pt_convert_activity(&c, (CUpti_Activity *)&y, put, NULL);
    pt_convert_activity(&c, (CUpti_Activity *)&ms, put, NULL);
    const struct pt_rec_memcpy *cp = (const void *)nth(0);
    CHECK(cp->hdr.kind == PT_REC_MEMCPY && cp->bytes == 123456 && cp->copy_kind == 10);
    CHECK(cp->start_ns == 10 && cp->end_ns == 20 && cp->device == 1 && cp->stream == 4);
    const struct pt_rec_memory *mr = (const void *)nth(1);
    CHECK(mr->operation == 2 && mr->memory_kind == 3 && mr->bytes == (2u << 20));
    CHECK(mr->pool_type == 1 && mr->pool_address == 0xabc000 && mr->is_async == 1);
    const struct pt_rec_sync *sy = (const void *)nth(2);
    CHECK(sy->type == 1 && sy->start_ns == 40 && sy->end_ns == 90 && sy->event_id == 3);
    const struct pt_rec_memset *st = (const void *)nth(3);
    CHECK(st->hdr.kind == PT_REC_MEMSET && st->value == 7 && st->bytes == 64);

    /* Kinds we do not keep, and other tools' external ids, are skipped. */
    CUpti_Activity other = {.kind = CUPTI_ACTIVITY_KIND_DEVICE};
    CHECK(pt_convert_activity(&c, &other, put, NULL) == 0);
    CUpti_ActivityExternalCorrelation foreign = e;
    foreign.externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_OPENACC;
    CHECK(pt_convert_activity(&c, (CUpti_Activity *)&foreign, put, NULL) == 0);
    CHECK_EQ_U64(c.skipped, 2);
    printf("activity conversion: kernels, copies, memory, sync, correlation and graphs ok\n");
    return 0;
}
