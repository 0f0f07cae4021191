/* A one-GPU server whose step costs are known exactly, for `partrace whatif`'s tests:
 *
 *   gen_serving DIR REQUESTS CONCURRENCY PROMPT OUTPUT
 *
 * A closed loop of CONCURRENCY requests at a time (REQUESTS a multiple of it), each a PROMPT-token
 * prompt and OUTPUT tokens (CONCURRENCY × PROMPT at most 2048, one step's budget), served in waves:
 * one prefill step of the wave's prompts, then OUTPUT − 1 decode steps. Each step is an NVTX range
 * ("prefill" or "decode") holding four kernels, one of each class docs/WHATIF.md names, whose
 * times follow the costs below exactly (T: the step's tokens; pairs: Σ of the positions its
 * tokens attend to; ctx: the longest of them):
 *
 *   GEMM        100 us + 500 ns·T          attention  20 us + 2 ns·pairs + 300 ns·ctx
 *   per-head      5 us +  50 ns·T          replicated  8 us + 20 ns·T
 *   between kernels (3 gaps)  3 us + 30 ns·T    host: 30 us + 5 ns·T before the kernels, 10 us after
 *
 * The leader marks "req ID arrive" at the wave's step start, "req ID prefix 0 PROMPT" and
 * "req ID token" after each step that sampled it (as a server marks its tokens once the step is
 * done). The file is gen-serving.ptrace. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partrace/format.h>

#include "format/trace_file.h"
#include "gen_records.h"

static struct pt_trace_file out;

static void put_string(uint32_t id, const char *text)
{
    _Alignas(8) char buf[GEN_REC_MAX];
    pt_trace_file_put(&out, buf, gen_string_rec(buf, id, text));
}

static void nvtx(uint64_t ts, uint16_t event, const char *text)
{
    _Alignas(8) char buf[GEN_REC_MAX];
    pt_trace_file_put(&out, buf, gen_nvtx_rec(buf, ts, event, text));
}

static void mark(uint64_t ts, unsigned id, const char *what)
{
    char text[64];
    snprintf(text, sizeof text, "req %u %s", id, what);
    nvtx(ts, PT_NVTX_MARK, text);
}

/* One step: returns when the next may start. */
static uint64_t step(uint64_t t, const char *name, double tokens, double pairs, double ctx)
{
    const double cost[4] = {100e3 + 500 * tokens, 20e3 + 2 * pairs + 300 * ctx, 5e3 + 50 * tokens,
                            8e3 + 20 * tokens};
    double gap = (3e3 + 30 * tokens) / 3;
    nvtx(t, PT_NVTX_PUSH, name);
    double at = (double)t + 30e3 + 5 * tokens;
    for (uint32_t k = 0; k < 4; k++) {
        struct pt_rec_kernel r = {.hdr = {PT_REC_KERNEL, sizeof r, 1}, .start_ns = (uint64_t)at,
                                  .end_ns = (uint64_t)(at + cost[k]), .name_id = k + 1, .correlation_id = k + 1};
        pt_trace_file_put(&out, &r, sizeof r);
        at += cost[k] + (k < 3 ? gap : 0);
    }
    uint64_t end = (uint64_t)at + 10000;
    nvtx(end, PT_NVTX_POP, "");
    return end;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: gen_serving DIR REQUESTS CONCURRENCY PROMPT OUTPUT\n");
        return 2;
    }
    unsigned n = (unsigned)atoi(argv[2]), c = (unsigned)atoi(argv[3]), prompt = (unsigned)atoi(argv[4]),
             output = (unsigned)atoi(argv[5]);
    if (!c || !prompt || !output || n % c || c * prompt > 2048) {
        fprintf(stderr, "gen_serving: REQUESTS a multiple of CONCURRENCY, CONCURRENCY × PROMPT at most 2048\n");
        return 2;
    }
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/gen-serving.ptrace", argv[1]);
    struct pt_file_header h;
    pt_file_header_init(&h);
    const uint64_t t0 = 1000000000ull;
    h.pid = 4242;
    h.start_monotonic_ns = t0 - 1000;
    snprintf(h.host, sizeof h.host, "gen-0");
    if (pt_trace_file_create(&out, path, &h, 0, 1 << 16, err, sizeof err) != 0) {
        fprintf(stderr, "gen_serving: %s\n", err);
        return 1;
    }
    put_string(1, "gen_gemm_kernel");
    put_string(2, "gen_paged_attention");
    put_string(3, "gen_rope");
    put_string(4, "gen_rmsnorm");
    struct pt_rec_cuda_status st = {.hdr = {PT_REC_CUDA_STATUS, sizeof st, 1}, .ts_ns = t0 - 500,
                                    .state = PT_CUDA_ACTIVE, .level = 1};
    pt_trace_file_put(&out, &st, sizeof st);
    uint64_t t = t0;
    char what[48];
    for (unsigned wave = 0; wave < n / c; wave++) {
        for (unsigned i = 0; i < c; i++)
            mark(t, wave * c + i, "arrive");
        t = step(t, "prefill", (double)c * prompt, c * (double)prompt * (prompt + 1) / 2, prompt);
        for (unsigned i = 0; i < c; i++) {
            snprintf(what, sizeof what, "prefix 0 %u", prompt);
            mark(t + 1, wave * c + i, what);
            mark(t + 1, wave * c + i, "token");
        }
        for (unsigned j = 1; j < output; j++) {
            t = step(t + 2, "decode", c, (double)c * (prompt + j), prompt + j);
            for (unsigned i = 0; i < c; i++)
                mark(t + 1, wave * c + i, "token");
        }
        t += 2;
    }
    struct pt_rec_end e = {.hdr = {PT_REC_END, sizeof e, 1}, .ts_ns = t + 1000, .how = PT_END_EXIT};
    pt_trace_file_put(&out, &e, sizeof e);
    return pt_trace_file_close(&out) ? 1 : 0;
}
