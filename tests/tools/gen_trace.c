/* Writes synthetic runs in the real trace format, with exactly known truth, for the report's
 * tests. Scenario "tp": R ranks of one TP communicator; each of K steps is a compute kernel of
 * C ns, then an all-reduce of B bytes that rank r enters and whose kernel starts SKEW_r ns after
 * the step's base time; every rank's kernel ends T ns after the last arrival. So per instance:
 * wait_r = max(skew) − skew_r, transfer = T, and the straggler is the rank of the largest skew.
 * GEN_HOST_OFFSETS="o_0,...,o_{R-1}" puts rank r on a host whose clock reads o_r ns ahead
 * (ranks with equal offsets share a host). GEN_PHASE="A,B" wraps steps A..B-1 in an NVTX
 * push/pop range "decode" (pushed at step A's base time, popped at step B's).
 *   gen_trace DIR tp R K C T B SKEW_0 ... SKEW_{R-1}      (times in ns) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <partrace/format.h>

static char frame[1 << 20];
static size_t frame_len;

static void put(const void *rec, size_t n)
{
    memcpy(frame + frame_len, rec, n);
    frame_len += n;
}

static void flush_frame(FILE *f)
{
    static char out[ZSTD_COMPRESSBOUND(1 << 20)];
    size_t z = ZSTD_compress(out, sizeof out, frame, frame_len, 1);
    if (ZSTD_isError(z) || fwrite(out, 1, z, f) != z) {
        fprintf(stderr, "gen_trace: write failed\n");
        exit(1);
    }
    frame_len = 0;
}

static void put_string(uint32_t id, const char *text)
{
    _Alignas(8) char buf[256];
    size_t n = strlen(text), size = (sizeof(struct pt_rec_string) + n + 7) & ~(size_t)7;
    struct pt_rec_string *r = (void *)buf;
    memset(buf, 0, size);
    r->hdr = (struct pt_rec_hdr){PT_REC_STRING, (uint16_t)size, 1};
    r->id = id;
    r->text_bytes = (uint32_t)n;
    memcpy(r->text, text, n);
    put(r, size);
}

static void put_env(const char *kv)
{
    _Alignas(8) char buf[128];
    size_t n = strlen(kv), size = (sizeof(struct pt_rec_attr) + n + 7) & ~(size_t)7;
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
    _Alignas(8) char buf[128];
    size_t n = strlen(text), size = (sizeof(struct pt_rec_nvtx) + n + 7) & ~(size_t)7;
    struct pt_rec_nvtx *r = (void *)buf;
    memset(buf, 0, size);
    r->hdr = (struct pt_rec_hdr){PT_REC_NVTX, (uint16_t)size, 1};
    r->ts_ns = ts;
    r->event = event;
    r->text_bytes = (uint16_t)n;
    memcpy(r->text, text, n);
    put(r, size);
}

int main(int argc, char **argv)
{
    if (argc < 9 || strcmp(argv[2], "tp") != 0) {
        fprintf(stderr, "usage: gen_trace DIR tp RANKS STEPS COMPUTE_NS TRANSFER_NS BYTES SKEW_0..\n");
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
    const uint64_t comm = 0x7e57c0ffee, t00 = 1000000000ull;
    const uint64_t period = compute + max_skew + transfer + 1000;
    for (int r = 0; r < ranks; r++) {
        const uint64_t t0 = t00 + host_offset[r];
        char path[4096];
        snprintf(path, sizeof path, "%s/gen-%d.ptrace", argv[1], 100 + r);
        FILE *f = fopen(path, "wb");
        if (!f) {
            perror(path);
            return 1;
        }
        struct pt_file_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, PT_MAGIC, PT_MAGIC_LEN);
        h.version_major = PT_VERSION_MAJOR;
        h.version_minor = PT_VERSION_MINOR;
        h.header_bytes = sizeof h;
        h.pid = (uint32_t)(100 + r);
        h.start_monotonic_ns = t0 - 1000;
        snprintf(h.host, sizeof h.host, "gen-%llu", (unsigned long long)host_offset[r]);
        fwrite(&h, sizeof h, 1, f);
        char kv[32];
        snprintf(kv, sizeof kv, "RANK=%d", r);
        put_env(kv);
        put_string(1, "gemm_kernel");
        put_string(2, "ncclDevKernel_AllReduce_Sum_bf16_RING_LL");
        struct pt_rec_cuda_status st = {.hdr = {PT_REC_CUDA_STATUS, sizeof st, 1}, .ts_ns = t0 - 500,
                                        .state = PT_CUDA_ACTIVE, .level = 1};
        put(&st, sizeof st);
        struct pt_rec_comm_init ci = {.hdr = {PT_REC_COMM_INIT, sizeof ci, 1}, .t_enter_ns = t0 - 400,
                                      .t_exit_ns = t0 - 300, .comm_id = comm, .rank = r,
                                      .nranks = ranks, .how = PT_COMM_InitRank};
        put(&ci, sizeof ci);
        for (int k = 0; k < steps; k++) {
            uint64_t base = t0 + (uint64_t)k * period;
            uint64_t arrive = base + compute + skew[r], end = base + compute + max_skew + transfer;
            uint64_t call_id = (1ull << 40) | (uint64_t)(k + 1);
            if (k == phase_from)
                put_nvtx(base, PT_NVTX_PUSH, "decode");
            if (k == phase_to)
                put_nvtx(base, PT_NVTX_POP, "");
            struct pt_rec_kernel gemm = {.hdr = {PT_REC_KERNEL, sizeof gemm, 1}, .start_ns = base,
                                         .end_ns = base + compute, .name_id = 1};
            struct pt_rec_nccl_call call = {.hdr = {PT_REC_NCCL_CALL, sizeof call, 1},
                                            .t_enter_ns = arrive - 100, .t_exit_ns = arrive - 50,
                                            .comm_id = comm, .call_id = call_id, .seq = (uint64_t)k,
                                            .count = bytes / 2, .bytes = bytes, .peer = -1,
                                            .rank = r, .nranks = ranks, .op = PT_OP_AllReduce,
                                            .dtype = 9, .redop = 0};
            struct pt_rec_kernel ar = {.hdr = {PT_REC_KERNEL, sizeof ar, 1}, .start_ns = arrive,
                                       .end_ns = end, .name_id = 2, .nccl_call_id = call_id};
            put(&gemm, sizeof gemm);
            put(&call, sizeof call);
            put(&ar, sizeof ar);
            if (frame_len > (1 << 19))
                flush_frame(f);
        }
        struct pt_rec_end e = {.hdr = {PT_REC_END, sizeof e, 1}, .ts_ns = t0 + (uint64_t)steps * period,
                               .how = PT_END_EXIT};
        put(&e, sizeof e);
        flush_frame(f);
        fclose(f);
    }
    return 0;
}
