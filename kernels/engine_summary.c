/* `pt_engine summarise`: the serving results of a finished run, from the replicas' request
 * times (requests-*.tsv) and the ranks' GPU memory (rank-*.mem). */
#include "engine.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>

#include "serving_stats.h"

int pt_engine_summarise(const char *out_dir, const char *label, FILE *json_out)
{
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/requests-*.tsv", out_dir);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0) {
        fprintf(stderr, "pt_engine: no results in %s\n", out_dir);
        return -1;
    }
    struct pt_request_times *t = NULL;
    uint32_t n = 0, cap = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        char line[512];
        if (!f)
            continue;
        if (!fgets(line, sizeof line, f)) { /* the header */
            fclose(f);
            continue;
        }
        struct pt_request_times r;
        unsigned id;
        while (fscanf(f, "%u %lf %lf %lf %u %u %u", &id, &r.arrive_s, &r.first_s, &r.end_s, &r.out_tokens,
                      &r.prompt_tokens, &r.cached_tokens) == 7) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                struct pt_request_times *p = realloc(t, cap * sizeof *p);
                if (!p)
                    break;
                t = p;
            }
            t[n++] = r;
        }
        fclose(f);
    }
    globfree(&g);
    /* The most GPU memory a rank held (weights, KV cache, buffers). */
    unsigned long long most = 0;
    snprintf(pattern, sizeof pattern, "%s/rank-*.mem", out_dir);
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            FILE *f = fopen(g.gl_pathv[i], "r");
            unsigned long long bytes = 0;
            if (f && fscanf(f, "%llu", &bytes) == 1 && bytes > most)
                most = bytes;
            if (f)
                fclose(f);
        }
        globfree(&g);
    }
    struct pt_serving_summary s;
    if (!n || pt_serving_summarise(t, n, &s)) {
        free(t);
        fprintf(stderr, "pt_engine: no requests in %s\n", out_dir);
        return -1;
    }
    free(t);
    if (!json_out) {
        printf("%s: %u requests, TTFT p50 %.2f ms p99 %.2f ms, TPOT p50 %.2f ms p99 %.2f ms, "
               "%.0f output tokens/s, %.0f tokens/s in all, KV hit rate %.1f %%, GPU memory %.2f GiB\n",
               label, s.requests, s.ttft_p50_s * 1e3, s.ttft_p99_s * 1e3, s.tpot_p50_s * 1e3, s.tpot_p99_s * 1e3,
               s.output_tokens_per_s, s.total_tokens_per_s, 100 * s.kv_hit_rate, most / 1073741824.0);
        return 0;
    }
    fprintf(json_out, "{\"label\": \"");
    for (const unsigned char *c = (const unsigned char *)label; *c; c++) /* a JSON string */
        fprintf(json_out, *c == '"' || *c == '\\' ? "\\%c" : *c < 0x20 ? "\\u%04x" : "%c", *c);
    fprintf(json_out, "\", \"requests\": %u, \"ttft_p50_ms\": %.3f, \"ttft_p99_ms\": %.3f, "
                      "\"ttft_mean_ms\": %.3f, \"tpot_p50_ms\": %.3f, \"tpot_p99_ms\": %.3f, \"output_tokens_per_s\": %.1f, "
                      "\"total_tokens_per_s\": %.1f, \"kv_hit_rate\": %.4f, \"span_s\": %.3f, \"gpu_bytes_max\": %llu}\n",
            s.requests, s.ttft_p50_s * 1e3, s.ttft_p99_s * 1e3, s.ttft_mean_s * 1e3, s.tpot_p50_s * 1e3,
            s.tpot_p99_s * 1e3, s.output_tokens_per_s, s.total_tokens_per_s, s.kv_hit_rate, s.span_s, most);
    if (ferror(json_out)) {
        fprintf(stderr, "pt_engine: writing the summary failed\n");
        return -1;
    }
    return 0;
}
