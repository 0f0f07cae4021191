/* Writes synthetic runs in the real trace format, with exactly known truth, for the report's
 * tests. Scenario "tp": R ranks of one TP communicator; each of K steps is a compute kernel of
 * C ns, then an all-reduce of B bytes that rank r enters and whose kernel starts SKEW_r ns after
 * the step's base time; every rank's kernel ends T ns after the last arrival. So per instance:
 * wait_r = max(skew) − skew_r, transfer = T, and the straggler is the rank of the largest skew.
 * GEN_HOST_OFFSETS="o_0,...,o_{R-1}" puts rank r on a host whose clock reads o_r ns ahead
 * (ranks with equal offsets share a host). GEN_PHASE="A,B" wraps steps A..B-1 in an NVTX
 * push/pop range "decode" (pushed at step A's base time, popped at step B's).
 * GEN_CUSTOM_AR=1: the all-reduces are vLLM's custom ones instead (no NCCL call; a kernel
 * cross_device_reduce_1stage of the same times).
 * GEN_REQUESTS="N,T" makes rank 0 mark N requests (docs/METRICS.md): request i arrives at
 * step i's base + (i % 4) us and gets token j at the base of step i + 1 + 2j, j < T;
 * "N,T,split": rank i % R marks request i (data-parallel replicas); "N,T,all": every rank marks
 * every request (as if each TP rank did).
 *   gen_trace DIR tp R K C T B SKEW_0 ... SKEW_{R-1}      (times in ns)
 * Scenario "pp": P stages (ranks) of one PP communicator (Send/Recv), M micro-batches of F ns
 * of compute per stage and step, K steps, in the ideal schedule: stage s computes micro-batch
 * j of step k during [kL + (s+j)F, +F), L = (M+P-1)F; the last stage hands each step's result
 * back to stage 0. Every stage waits in a receive kernel whenever it does not compute, so over
 * any whole number of periods L after the first, its PP bubble is exactly (P-1)/(M+P-1).
 *   gen_trace DIR pp P M F K
 * Scenario "mixed": TP x PP x DP ranks, rank = (dp * PP + pp) * TP + tp (TP fastest). Per step
 * each rank computes, all-reduces in its TP group, sends to the next stage and receives from the
 * previous one in its pipeline group; every 4th step it all-reduces in its DP group too.
 * GEN_CUSTOM_AR=1: the TP all-reduces are custom ones (a kernel, no NCCL call; the TP
 * communicator is still made): TP rank t's starts t x 500 ns after the others', replica d's
 * all 3 us after replica 0's, every kernel of a replica's instance ending at once.
 *   gen_trace DIR mixed TP PP DP STEPS      (GEN_HOSTS=H: over H hosts)
 * Scenario "ep": E ranks of one EP group; each step computes C ns, then dispatches tokens by
 * grouped send/recv to every other rank: B bytes each, H x B to the hot expert's rank; every
 * rank's send/recv kernel runs D ns (the others wait for the hot rank). The hot rank receives
 * H x E / (H + E - 1) times the mean. GEN_EP_COUNTS=1: each step first all-gathers 64 bytes
 * (the counts of an all-to-all of uneven sizes), 1 call in 7 of the communicator's at E = 4.
 * GEN_EP_GROUPED=1: the sends and receives in one NCCL group (GroupStart ... GroupEnd), its
 * kernel tied to the GroupEnd, as NCCL launches one kernel for a group.
 *   gen_trace DIR ep E STEPS C D B HOT H
 * Scenario "graph": R ranks of one TP communicator capture K all-reduces of B bytes into a CUDA
 * graph (each call makes a graph node; instantiation clones it), then replay the graph N times,
 * one replay per period of P ns: all-reduce j of replay i is a kernel of the clone of node j,
 * starting SKEW_r ns after its base on rank r and ending T ns after the last start. So per
 * replayed instance: wait_r = max(skew) - skew_r, transfer = T; the straggler is the rank of the
 * largest skew, last in all N x K.
 * GEN_CUSTOM_AR=1: the captured all-reduces are custom ones (kernels of their own, no NCCL call).
 *   gen_trace DIR graph R K N P T B SKEW_0 ... SKEW_{R-1}      (times in ns)
 *   gen_trace DIR metrics S INTERVAL     a server's scraped metrics, S scrapes (generate_metrics)
 * Files are in the format the recorder writes (3.x, packed frames); GEN_FORMAT=1 writes 1.x
 * (the records as they are), which readers still read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <partrace/format.h>

#include "format/trace_file.h"
#include "gen_records.h"

static char frame[1 << 20];
/* Records staged before a frame is written: the recorder's half-megabyte by default;
 * GEN_FRAME_BYTES (4 KiB to 512 KiB) for runs of smaller frames. */
static size_t frame_bytes = 1 << 19;
static size_t frame_len;

static void put(const void *rec, size_t n)
{
    if (n > sizeof frame - frame_len) { /* a scenario that does not flush often enough */
        fprintf(stderr, "gen_trace: frame buffer full\n");
        exit(1);
    }
    memcpy(frame + frame_len, rec, n);
    frame_len += n;
}

static int plain_format(void)
{
    const char *v = getenv("GEN_FORMAT");
    return v && !strcmp(v, "1");
}

static void flush_frame(FILE *f)
{
    static char out[ZSTD_COMPRESSBOUND(1 << 20)], packed[(1 << 20) + PT_PACK_SLACK];
    const char *content = frame;
    size_t len = frame_len;
    if (!plain_format() && frame_len) {
        len = pt_pack_records(frame, frame_len, packed);
        content = packed;
        if (!len) {
            fprintf(stderr, "gen_trace: a record kind cannot be packed\n");
            exit(1);
        }
    }
    size_t z = ZSTD_compress(out, sizeof out, content, len, 1);
    if (ZSTD_isError(z) || fwrite(out, 1, z, f) != z) {
        fprintf(stderr, "gen_trace: write failed\n");
        exit(1);
    }
    frame_len = 0;
}

/* Whether the switch `name` is set to 1 in the environment. */
static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && !strcmp(v, "1");
}

static void put_string(uint32_t id, const char *text)
{
    _Alignas(8) char buf[GEN_REC_MAX];
    put(buf, gen_string_rec(buf, id, text));
}

static void put_env(const char *kv)
{
    _Alignas(8) char buf[128];
    size_t n = strlen(kv), size = PT_REC_BYTES(sizeof(struct pt_rec_attr), n);
    struct pt_rec_attr *a = (void *)buf;
    memset(buf, 0, size);
    a->hdr = (struct pt_rec_hdr){PT_REC_ATTR, (uint16_t)size, 1};
    a->attr = PT_ATTR_ENV;
    a->value_bytes = (uint32_t)n;
    memcpy(a->value, kv, n);
    put(a, size);
}

static void put_nvtx(uint64_t ts, uint16_t event, const char *text)
{
    _Alignas(8) char buf[GEN_REC_MAX];
    put(buf, gen_nvtx_rec(buf, ts, event, text));
}

static const uint64_t t00 = 1000000000ull; /* the runs' time origin, ns */

/* Opens rank r's file and writes what precedes its events: header, RANK, kernel names, CUDA
 * status, and its membership of communicator comm (nranks ranks). */
static FILE *open_rank(const char *dir, int r, uint64_t t0, uint64_t host_offset, uint64_t comm,
                       int nranks)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/gen-%d.ptrace", dir, 100 + r);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    struct pt_file_header h;
    pt_file_header_init(&h);
    if (plain_format())
        h.version_major = PT_VERSION_MAJOR_PLAIN;
    h.pid = (uint32_t)(100 + r);
    h.start_monotonic_ns = t0 - 1000;
    snprintf(h.host, sizeof h.host, "gen-%llu", (unsigned long long)host_offset);
    fwrite(&h, sizeof h, 1, f);
    char kv[32];
    snprintf(kv, sizeof kv, "RANK=%d", r);
    put_env(kv);
    put_string(1, "gemm_kernel");
    put_string(2, "ncclDevKernel_AllReduce_Sum_bf16_RING_LL");
    put_string(3, "ncclDevKernel_SendRecv");
    put_string(4, "void vllm::cross_device_reduce_1stage<__nv_bfloat16, 4>(vllm::RankData*, "
                  "vllm::RankSignals, vllm::Signal*, __nv_bfloat16*, int, int)");
    struct pt_rec_cuda_status st = {.hdr = {PT_REC_CUDA_STATUS, sizeof st, 1}, .ts_ns = t0 - 500,
                                    .state = PT_CUDA_ACTIVE, .level = 1};
    put(&st, sizeof st);
    /* GEN_INIT_NRANKS=N: the init record says N ranks (a forged or damaged size). */
    const char *forged = getenv("GEN_INIT_NRANKS");
    struct pt_rec_comm_init ci = {.hdr = {PT_REC_COMM_INIT, sizeof ci, 1}, .t_enter_ns = t0 - 400,
                                  .t_exit_ns = t0 - 300, .comm_id = comm, .rank = r,
                                  .nranks = forged ? (int32_t)strtol(forged, NULL, 10) : nranks,
                                  .how = PT_COMM_InitRank};
    put(&ci, sizeof ci);
    return f;
}

static void close_rank(FILE *f, uint64_t end_ns)
{
    struct pt_rec_end e = {.hdr = {PT_REC_END, sizeof e, 1}, .ts_ns = end_ns, .how = PT_END_EXIT};
    put(&e, sizeof e);
    flush_frame(f);
    fclose(f);
}

static void put_kernel(uint64_t start, uint64_t end, uint32_t name_id, uint64_t call_id)
{
    struct pt_rec_kernel k = {.hdr = {PT_REC_KERNEL, sizeof k, 1}, .start_ns = start, .end_ns = end,
                              .name_id = name_id, .nccl_call_id = call_id};
    put(&k, sizeof k);
}

static int generate_graph(const char *dir, int ranks, int k_calls, int replays, uint64_t period,
                          uint64_t transfer, uint64_t bytes, const uint64_t *skew)
{
    const uint64_t comm = 0x96a9;
    const int custom_ar = env_on("GEN_CUSTOM_AR");
    uint64_t most = 0;
    for (int r = 0; r < ranks; r++)
        most = skew[r] > most ? skew[r] : most;
    for (int r = 0; r < ranks; r++) {
        FILE *f = open_rank(dir, r, t00, 0, comm, ranks);
        /* The capture: calls that launch nothing, each making a node; then the clones. */
        for (int j = 0; j < k_calls; j++) {
            uint64_t t = t00 + (uint64_t)j * 1000, call_id = (3ull << 40) | (uint64_t)(j + 1);
            struct pt_rec_nccl_call call = {.hdr = {PT_REC_NCCL_CALL, sizeof call, 1},
                                            .t_enter_ns = t, .t_exit_ns = t + 100, .comm_id = comm,
                                            .call_id = call_id, .seq = (uint64_t)j,
                                            .count = bytes / 2, .bytes = bytes, .peer = -1,
                                            .rank = r, .nranks = ranks, .op = PT_OP_AllReduce,
                                            .dtype = 9};
            if (!custom_ar)
                put(&call, sizeof call);
            struct pt_rec_graph_node node = {.hdr = {PT_REC_GRAPH_NODE, sizeof node, 1},
                                             .ts_ns = t + 50, .node_id = 1000 + (uint64_t)j,
                                             .nccl_call_id = custom_ar ? 0 : call_id, .graph_id = 1};
            put(&node, sizeof node);
        }
        for (int j = 0; j < k_calls; j++) {
            struct pt_rec_graph_node clone = {.hdr = {PT_REC_GRAPH_NODE, sizeof clone, 1},
                                              .ts_ns = t00 + 100000 + (uint64_t)j,
                                              .node_id = 5000 + (uint64_t)j,
                                              .original_node_id = 1000 + (uint64_t)j,
                                              .graph_id = 2, .cloned = 1};
            put(&clone, sizeof clone);
        }
        for (int i = 0; i < replays; i++) {
            for (int j = 0; j < k_calls; j++) {
                uint64_t base = t00 + 1000000 + (uint64_t)i * period + (uint64_t)j * (most + transfer + 1000);
                struct pt_rec_kernel kr = {.hdr = {PT_REC_KERNEL, sizeof kr, 1},
                                           .start_ns = base + skew[r],
                                           .end_ns = base + most + transfer, .name_id = custom_ar ? 4 : 2,
                                           .graph_id = 2, .graph_node_id = 5000 + (uint64_t)j};
                put(&kr, sizeof kr);
            }
            if (frame_len > frame_bytes)
                flush_frame(f);
        }
        close_rank(f, t00 + 1000000 + (uint64_t)replays * period);
    }
    return 0;
}

/* A Send or Recv of stage r to/from peer at time t; returns its call id. */
static uint64_t put_p2p(int r, int stages, uint64_t comm, uint16_t op, int peer, uint64_t seq,
                        uint64_t t)
{
    static uint64_t next_id;
    uint64_t call_id = (1ull << 40) | ++next_id;
    struct pt_rec_nccl_call call = {.hdr = {PT_REC_NCCL_CALL, sizeof call, 1}, .t_enter_ns = t,
                                    .t_exit_ns = t + 50, .comm_id = comm, .call_id = call_id,
                                    .seq = seq, .count = 1 << 19, .bytes = 1 << 20, .peer = peer,
                                    .rank = r, .nranks = stages, .op = op, .dtype = 9};
    put(&call, sizeof call);
    return call_id;
}

/* Scenario "pp" (see the head of this file). */
static int generate_pp(const char *dir, int stages, int micro, uint64_t f_ns, int steps)
{
    const uint64_t comm = 0x9909c0ffee, period = (uint64_t)(micro + stages - 1) * f_ns;
    for (int s = 0; s < stages; s++) {
        FILE *file = open_rank(dir, s, t00, 0, comm, stages);
        int up = (s + stages - 1) % stages, down = (s + 1) % stages;
        uint64_t busy_until = t00, recv_seq = 0, send_seq = 0;
        for (int k = 0; k < steps; k++)
            for (int j = 0; j < micro; j++) {
                uint64_t start = t00 + (uint64_t)k * period + (uint64_t)(s + j) * f_ns;
                /* Stage 0 receives only each step's first micro-batch, and only from step 1. */
                if (s > 0 || (j == 0 && k > 0)) {
                    uint64_t call = put_p2p(s, stages, comm, PT_OP_Recv, up, recv_seq++,
                                            busy_until > t00 ? busy_until - 100 : t00 - 100);
                    if (start > busy_until) /* the wait for the upstream stage */
                        put_kernel(busy_until, start, 3, call);
                }
                put_kernel(start, start + f_ns, 1, 0);
                busy_until = start + f_ns;
                if (s < stages - 1 || j == micro - 1)
                    put_p2p(s, stages, comm, PT_OP_Send, down, send_seq++, start + 100);
                if (frame_len > frame_bytes)
                    flush_frame(file);
            }
        close_rank(file, busy_until + 1000);
    }
    return 0;
}

/* A collective call of rank r and its kernel [start, end). */
static void put_collective(int r, int nranks, uint64_t comm, uint64_t seq, uint64_t start, uint64_t end)
{
    static uint64_t next_id;
    uint64_t call_id = (2ull << 40) | ++next_id;
    struct pt_rec_nccl_call call = {.hdr = {PT_REC_NCCL_CALL, sizeof call, 1}, .t_enter_ns = start - 100,
                                    .t_exit_ns = start - 50, .comm_id = comm, .call_id = call_id,
                                    .seq = seq, .count = 512, .bytes = 1024, .peer = -1, .rank = r,
                                    .nranks = nranks, .op = PT_OP_AllReduce, .dtype = 9};
    put(&call, sizeof call);
    put_kernel(start, end, 2, call_id);
}

/* Scenario "mixed" (see the head of this file). */
static int generate_mixed(const char *dir, int tp, int pp, int dp, int steps)
{
    const uint64_t compute = 50000, ar = 10000, period = 100000;
    const int custom_ar = env_on("GEN_CUSTOM_AR");
    for (int r = 0; r < tp * pp * dp; r++) {
        int t = r % tp, s = (r / tp) % pp, d = r / (tp * pp);
        uint64_t tp_comm = 0x7100 + (uint64_t)(d * pp + s), pp_comm = 0x9900 + (uint64_t)(d * tp + t);
        uint64_t dp_comm = 0xd700 + (uint64_t)(s * tp + t);
        /* GEN_HOSTS=H: the ranks spread over H hosts in order (clocks 1 ns apart). */
        const char *hosts_v = getenv("GEN_HOSTS");
        int hosts = hosts_v ? atoi(hosts_v) : 1, world = tp * pp * dp;
        uint64_t host = hosts > 1 ? (uint64_t)((int64_t)r * hosts / world) : 0;
        FILE *f = open_rank(dir, r, t00, host, tp > 1 ? tp_comm : pp_comm, tp > 1 ? tp : pp);
        for (int k = 0; k < steps; k++) {
            uint64_t base = t00 + (uint64_t)k * period;
            put_kernel(base, base + compute, 1, 0);
            if (tp > 1 && custom_ar) /* TP rank t arrives t x 500 ns late; replica d 3 us late */
                put_kernel(base + compute + (uint64_t)d * 3000 + (uint64_t)t * 500,
                           base + compute + ar + (uint64_t)d * 3000, 4, 0);
            else if (tp > 1)
                put_collective(t, tp, tp_comm, (uint64_t)k, base + compute, base + compute + ar);
            /* ranks in the calls are ranks in each communicator, as NCCL numbers them */
            if (pp > 1 && s < pp - 1)
                put_p2p(s, pp, pp_comm, PT_OP_Send, s + 1, (uint64_t)k, base + compute + ar + 100);
            if (pp > 1 && s > 0)
                put_p2p(s, pp, pp_comm, PT_OP_Recv, s - 1, (uint64_t)k, base + compute + ar + 200);
            if (dp > 1 && k % 4 == 0)
                put_collective(d, dp, dp_comm, (uint64_t)k / 4, base + compute + ar + 1000,
                               base + compute + 2 * ar + 1000);
        }
        close_rank(f, t00 + (uint64_t)steps * period);
    }
    return 0;
}

/* Scenario "ep" (see the head of this file). */
static int generate_ep(const char *dir, int experts, int steps, uint64_t compute, uint64_t d_ns,
                       uint64_t bytes, int hot, uint64_t factor)
{
    const uint64_t comm = 0xe9c0ffee, period = compute + d_ns + 1000;
    int counts = env_on("GEN_EP_COUNTS"), grouped = env_on("GEN_EP_GROUPED");
    for (int r = 0; r < experts; r++) {
        FILE *f = open_rank(dir, r, t00, 0, comm, experts);
        uint64_t seq[64] = {0};
        for (int k = 0; k < steps; k++) {
            uint64_t base = t00 + (uint64_t)k * period, last = 0;
            put_kernel(base, base + compute, 1, 0);
            if (counts) {
                uint64_t t = base + compute - 800;
                struct pt_rec_nccl_call gather = {
                    .hdr = {PT_REC_NCCL_CALL, sizeof gather, 1}, .t_enter_ns = t, .t_exit_ns = t + 10,
                    .comm_id = comm, .call_id = (4ull << 40) | (uint64_t)k, .seq = (uint64_t)k, .count = 16,
                    .bytes = 64, .peer = -1, .rank = r, .nranks = experts, .op = PT_OP_AllGather, .dtype = 2};
                put(&gather, sizeof gather);
            }
            /* GEN_EP_GROUPED=1: the sends and receives in one NCCL group, whose one kernel is
             * tied to its GroupEnd, as NCCL launches it. */
            uint64_t group = grouped ? (5ull << 40) | ((uint64_t)k << 16) : 0;
            struct pt_rec_nccl_call mark = {
                .hdr = {PT_REC_NCCL_CALL, sizeof mark, 1}, .t_enter_ns = base + compute - 600,
                .t_exit_ns = base + compute - 590, .call_id = group, .peer = -1, .rank = -1,
                .nranks = -1, .op = PT_OP_GroupStart, .group_id = group};
            if (grouped)
                put(&mark, sizeof mark);
            for (int peer = 0; peer < experts; peer++) {
                if (peer == r)
                    continue;
                uint64_t t = base + compute - 500;
                struct pt_rec_nccl_call send = {
                    .hdr = {PT_REC_NCCL_CALL, sizeof send, 1}, .t_enter_ns = t, .t_exit_ns = t + 10,
                    .comm_id = comm, .call_id = (3ull << 40) | ((uint64_t)k << 16) | (uint64_t)(2 * peer),
                    .seq = seq[peer], .bytes = peer == hot ? factor * bytes : bytes, .peer = peer,
                    .rank = r, .nranks = experts, .op = PT_OP_Send, .dtype = 9, .group_id = group,
                    .group_depth = grouped};
                struct pt_rec_nccl_call recv = send;
                recv.call_id = last = send.call_id + 1;
                recv.bytes = r == hot ? factor * bytes : bytes;
                recv.op = PT_OP_Recv;
                seq[peer]++;
                put(&send, sizeof send);
                put(&recv, sizeof recv);
            }
            if (grouped) {
                mark.op = PT_OP_GroupEnd;
                mark.call_id = last = group | 0xffff;
                mark.t_enter_ns = base + compute - 400;
                mark.t_exit_ns = base + compute - 390;
                put(&mark, sizeof mark);
            }
            put_kernel(base + compute, base + compute + d_ns, 3, last);
            if (frame_len > frame_bytes)
                flush_frame(f);
        }
        close_rank(f, t00 + (uint64_t)steps * period);
    }
    return 0;
}

/* A server's scraped metrics (docs/FORMAT.md, "metric"), as `partrace record --metrics` writes
 * them: S scrapes INTERVAL ns apart from t00, each adding 10 first-token times (5 up to 0.1 s,
 * 3 in (0.1, 0.5], 2 in (0.5, 1.0]), 100 generated tokens and 40 prefix-cache queries with 10
 * hits; running requests k % 7 at scrape k. */
static int generate_metrics(const char *dir, int scrapes, uint64_t interval)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/gen-metrics.ptrace", dir);
    struct pt_file_header h;
    pt_file_header_init(&h);
    h.pid = 99;
    h.start_monotonic_ns = t00 - 1000;
    snprintf(h.host, sizeof h.host, "gen-0");
    struct pt_trace_file f;
    if (pt_trace_file_create(&f, path, &h, 0, 1 << 16, err, sizeof err) != 0) {
        fprintf(stderr, "gen_trace: %s\n", err);
        return 1;
    }
    static const char *const series[] = {
        "vllm:time_to_first_token_seconds_bucket{le=\"0.1\",model_name=\"m\"}",
        "vllm:time_to_first_token_seconds_bucket{le=\"0.5\",model_name=\"m\"}",
        "vllm:time_to_first_token_seconds_bucket{le=\"1.0\",model_name=\"m\"}",
        "vllm:time_to_first_token_seconds_bucket{le=\"+Inf\",model_name=\"m\"}",
        "vllm:generation_tokens_total{model_name=\"m\"}",
        "vllm:prefix_cache_queries_total{model_name=\"m\"}",
        "vllm:prefix_cache_hits_total{model_name=\"m\"}",
        "vllm:num_requests_running{model_name=\"m\"}"};
    static const uint8_t types[] = {3, 3, 3, 3, 1, 1, 1, 2};
    for (uint32_t i = 0; i < 8; i++) {
        _Alignas(8) char buf[GEN_REC_MAX];
        pt_trace_file_put(&f, buf, gen_string_rec(buf, i + 1, series[i]));
    }
    for (int k = 1; k <= scrapes; k++) {
        const double v[8] = {5.0 * k, 8.0 * k, 10.0 * k, 10.0 * k, 100.0 * k, 40.0 * k, 10.0 * k, k % 7};
        for (uint32_t i = 0; i < 8; i++) {
            struct pt_rec_metric m = {.hdr = {PT_REC_METRIC, sizeof m, 1}, .ts_ns = t00 + (uint64_t)(k - 1) * interval,
                                      .value = v[i], .series_id = i + 1, .type = types[i]};
            pt_trace_file_put(&f, &m, sizeof m);
        }
    }
    return pt_trace_file_close(&f) ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *fb = getenv("GEN_FRAME_BYTES");
    if (fb && *fb) {
        char *end;
        unsigned long long v = strtoull(fb, &end, 10);
        if (*end || v < 4096 || v > (1 << 19)) {
            fprintf(stderr, "gen_trace: GEN_FRAME_BYTES='%s' is not a number from 4096 to 524288\n", fb);
            return 2;
        }
        frame_bytes = (size_t)v;
    }
    if (argc >= 9 && strcmp(argv[2], "graph") == 0) {
        int ranks = atoi(argv[3]), k_calls = atoi(argv[4]), replays = atoi(argv[5]);
        if (ranks < 1 || ranks > 64 || argc != 9 + ranks || k_calls < 1 || k_calls > 1000 ||
            replays < 1) {
            fprintf(stderr, "gen_trace: graph R K N P T B SKEW_0 ... SKEW_{R-1} (R <= 64)\n");
            return 2;
        }
        uint64_t skew[64];
        for (int r = 0; r < ranks; r++)
            skew[r] = strtoull(argv[9 + r], NULL, 10);
        return generate_graph(argv[1], ranks, k_calls, replays, strtoull(argv[6], NULL, 10),
                              strtoull(argv[7], NULL, 10), strtoull(argv[8], NULL, 10), skew);
    }
    if (argc == 5 && strcmp(argv[2], "metrics") == 0) {
        int scrapes = atoi(argv[3]);
        uint64_t interval = strtoull(argv[4], NULL, 10);
        if (scrapes < 1 || scrapes > 100000 || interval < 1) {
            fprintf(stderr, "gen_trace: metrics needs 1..100000 scrapes, an interval >= 1 ns\n");
            return 2;
        }
        return generate_metrics(argv[1], scrapes, interval);
    }
    if (argc == 10 && strcmp(argv[2], "ep") == 0) {
        int experts = atoi(argv[3]), steps = atoi(argv[4]), hot = atoi(argv[8]);
        if (experts < 3 || experts > 64 || steps < 1 || hot < 0 || hot >= experts) {
            fprintf(stderr, "gen_trace: ep needs 3..64 ranks, steps >= 1, 0 <= HOT < E\n");
            return 2;
        }
        return generate_ep(argv[1], experts, steps, strtoull(argv[5], NULL, 10),
                           strtoull(argv[6], NULL, 10), strtoull(argv[7], NULL, 10), hot,
                           strtoull(argv[9], NULL, 10));
    }
    if (argc == 7 && strcmp(argv[2], "mixed") == 0) {
        int tp = atoi(argv[3]), pp = atoi(argv[4]), dp = atoi(argv[5]), steps = atoi(argv[6]);
        if (tp < 1 || pp < 1 || dp < 1 || tp * pp * dp > 16384 || steps < 4) {
            fprintf(stderr, "gen_trace: mixed needs TP, PP, DP >= 1 (at most 16384 ranks), 4 steps or more\n");
            return 2;
        }
        return generate_mixed(argv[1], tp, pp, dp, steps);
    }
    if (argc == 7 && strcmp(argv[2], "pp") == 0) {
        int stages = atoi(argv[3]), micro = atoi(argv[4]), steps = atoi(argv[6]);
        uint64_t f_ns = strtoull(argv[5], NULL, 10);
        if (stages < 2 || stages > 64 || micro < 1 || steps < 1 || f_ns < 1000) {
            fprintf(stderr, "gen_trace: pp needs 2..64 stages, micro-batches and steps >= 1, "
                            "F >= 1000 ns\n");
            return 2;
        }
        return generate_pp(argv[1], stages, micro, f_ns, steps);
    }
    if (argc < 9 || strcmp(argv[2], "tp") != 0) {
        fprintf(stderr, "usage: gen_trace DIR tp RANKS STEPS COMPUTE_NS TRANSFER_NS BYTES SKEW_0..\n"
                        "       gen_trace DIR pp STAGES MICRO_BATCHES F_NS STEPS\n"
                        "       gen_trace DIR mixed TP PP DP STEPS\n"
                        "       gen_trace DIR ep E STEPS C_NS D_NS BYTES HOT H\n"
                        "       gen_trace DIR metrics SCRAPES INTERVAL_NS\n");
        return 2;
    }
    int ranks = atoi(argv[3]), steps = atoi(argv[4]);
    uint64_t compute = strtoull(argv[5], NULL, 10), transfer = strtoull(argv[6], NULL, 10);
    uint64_t bytes = strtoull(argv[7], NULL, 10);
    if (ranks < 1 || ranks > 64 || argc != 8 + ranks) {
        fprintf(stderr, "gen_trace: give one skew per rank\n");
        return 2;
    }
    uint64_t skew[64], max_skew = 0;
    for (int r = 0; r < ranks; r++) {
        skew[r] = strtoull(argv[8 + r], NULL, 10);
        max_skew = skew[r] > max_skew ? skew[r] : max_skew;
    }
    uint64_t host_offset[64] = {0};
    const char *offsets = getenv("GEN_HOST_OFFSETS");
    for (int r = 0; offsets && *offsets && r < ranks; r++) {
        host_offset[r] = strtoull(offsets, (char **)&offsets, 10);
        if (*offsets == ',')
            offsets++;
    }
    int phase_from = -1, phase_to = -1;
    const char *phase = getenv("GEN_PHASE");
    if (phase && sscanf(phase, "%d,%d", &phase_from, &phase_to) != 2) {
        fprintf(stderr, "gen_trace: GEN_PHASE is \"FROM,TO\" (steps)\n");
        return 2;
    }
    int n_requests = 0, tokens = 0;
    char who[8] = "rank0";
    const char *requests = getenv("GEN_REQUESTS");
    if (requests && (sscanf(requests, "%d,%d,%7s", &n_requests, &tokens, who) < 2 ||
                     (strcmp(who, "rank0") && strcmp(who, "split") && strcmp(who, "all")))) {
        fprintf(stderr, "gen_trace: GEN_REQUESTS is \"N,TOKENS[,split|all]\"\n");
        return 2;
    }
    const uint64_t comm = 0x7e57c0ffee;
    const uint64_t period = compute + max_skew + transfer + 1000;
    const int custom_ar = env_on("GEN_CUSTOM_AR");
    for (int r = 0; r < ranks; r++) {
        const uint64_t t0 = t00 + host_offset[r];
        FILE *f = open_rank(argv[1], r, t0, host_offset[r], comm, ranks);
        for (int k = 0; k < steps; k++) {
            uint64_t base = t0 + (uint64_t)k * period;
            uint64_t arrive = base + compute + skew[r], end = base + compute + max_skew + transfer;
            uint64_t call_id = (1ull << 40) | (uint64_t)(k + 1);
            if (k == phase_from)
                put_nvtx(base, PT_NVTX_PUSH, "decode");
            if (k == phase_to)
                put_nvtx(base, PT_NVTX_POP, "");
            for (int i = 0; i < n_requests; i++) {
                if (!(who[0] == 'a' || (who[0] == 's' ? i % ranks == r : r == 0)))
                    continue;
                char text[64];
                if (k == i) {
                    snprintf(text, sizeof text, "req %d arrive", i);
                    put_nvtx(base + (uint64_t)(i % 4) * 1000, PT_NVTX_MARK, text);
                }
                if (k > i && (k - i - 1) % 2 == 0 && (k - i - 1) / 2 < tokens) {
                    snprintf(text, sizeof text, "req %d token", i);
                    put_nvtx(base, PT_NVTX_MARK, text);
                }
            }
            struct pt_rec_nccl_call call = {.hdr = {PT_REC_NCCL_CALL, sizeof call, 1},
                                            .t_enter_ns = arrive - 100, .t_exit_ns = arrive - 50,
                                            .comm_id = comm, .call_id = call_id, .seq = (uint64_t)k,
                                            .count = bytes / 2, .bytes = bytes, .peer = -1,
                                            .rank = r, .nranks = ranks, .op = PT_OP_AllReduce,
                                            .dtype = 9, .redop = 0};
            put_kernel(base, base + compute, 1, 0);
            if (custom_ar) { /* vLLM's own all-reduce: no NCCL call, a kernel of its own */
                put_kernel(arrive, end, 4, 0);
            } else {
                put(&call, sizeof call);
                put_kernel(arrive, end, 2, call_id);
            }
            if (frame_len > frame_bytes)
                flush_frame(f);
        }
        close_rank(f, t0 + (uint64_t)steps * period);
    }
    return 0;
}
