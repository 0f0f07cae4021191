/* The engine's host-side helpers: the load generator (deterministic, shared prefixes, Poisson
 * arrivals), the serving statistics (percentiles, TTFT, TPOT, throughput, KV hit rate), model
 * presets and the parallel layout (parsing, checks with their messages, rank coordinates). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "layout.h"
#include "loadgen.h"
#include "model_config.h"
#include "serving_stats.h"

static void test_loadgen(void)
{
    struct pt_load_config c = {.n_requests = 2000, .input_len = 100, .output_len = 5,
                               .shared_prefix = 0.5, .rate_per_s = 20, .vocab = 1000, .seed = 3};
    CHECK(pt_load_check(&c) == NULL);
    struct pt_request *a = pt_load_make(&c), *b = pt_load_make(&c);
    CHECK(a && b);
    for (uint32_t i = 0; i < c.n_requests; i++) {
        CHECK(memcmp(a[i].prompt, b[i].prompt, 100 * sizeof(int32_t)) == 0); /* same seed, same load */
        CHECK(memcmp(a[i].prompt, a[0].prompt, 50 * sizeof(int32_t)) == 0);  /* the shared half */
        for (uint32_t t = 0; t < 100; t++)
            CHECK(a[i].prompt[t] >= 1 && a[i].prompt[t] < 1000);
        CHECK(i == 0 || a[i].arrive_s >= a[i - 1].arrive_s);
    }
    CHECK(memcmp(a[0].prompt + 50, a[1].prompt + 50, 50 * sizeof(int32_t)) != 0);
    /* Poisson at 20/s: 2000 arrivals take about 100 s. */
    CHECK(fabs(a[c.n_requests - 1].arrive_s - 100) < 10);
    pt_load_free(a, c.n_requests);
    pt_load_free(b, c.n_requests);
    struct pt_load_config bad = c;
    bad.rate_per_s = 0;
    CHECK(pt_load_check(&bad) != NULL && pt_load_make(&bad) == NULL);
    bad = c, bad.shared_prefix = 1.5;
    CHECK(pt_load_check(&bad) != NULL);
    bad = c, bad.input_len = 0;
    CHECK(pt_load_check(&bad) != NULL);
}

static void test_stats(void)
{
    double v[] = {5, 1, 4, 2, 3};
    CHECK(pt_percentile(v, 5, 50) == 3 && pt_percentile(v, 5, 0) == 1 && pt_percentile(v, 5, 100) == 5);
    CHECK(fabs(pt_percentile(v, 5, 90) - 4.6) < 1e-9);
    CHECK(pt_percentile(v, 0, 50) == 0);
    struct pt_request_times t[2] = {
        {.arrive_s = 0, .first_s = 0.1, .end_s = 1.1, .out_tokens = 11, .prompt_tokens = 100, .cached_tokens = 0},
        {.arrive_s = 1, .first_s = 1.3, .end_s = 2.0, .out_tokens = 8, .prompt_tokens = 100, .cached_tokens = 50},
    };
    struct pt_serving_summary s;
    CHECK(pt_serving_summarise(t, 2, &s) == 0);
    CHECK(fabs(s.ttft_mean_s - 0.2) < 1e-9 && fabs(s.ttft_p50_s - 0.2) < 1e-9);
    CHECK(fabs(s.tpot_mean_s - 0.1) < 1e-9);                 /* 1.0/10 and 0.7/7 */
    CHECK(fabs(s.span_s - 2.0) < 1e-9 && fabs(s.output_tokens_per_s - 9.5) < 1e-9);
    CHECK(fabs(s.kv_hit_rate - 0.25) < 1e-9);
}

static void test_layout(void)
{
    struct pt_model_config m, moe;
    CHECK(pt_model_preset("tiny", &m) == 0 && pt_model_preset("moe-tiny", &moe) == 0);
    CHECK(pt_model_preset("huge", &m) == -1);
    CHECK(pt_model_preset("8b", &m) == 0);
    CHECK(pt_model_params(&m) > 7500000000ull && pt_model_params(&m) < 8500000000ull); /* 8.0 B */
    CHECK(pt_model_preset("tiny", &m) == 0);
    struct pt_layout l;
    char err[256];
    CHECK(pt_layout_parse("tp=2,pp=2", &l, err, sizeof err) == 0);
    CHECK(l.tp == 2 && l.pp == 2 && l.dp == 1 && l.ep == 1 && pt_layout_world(&l) == 4);
    CHECK(pt_layout_check(&l, 4, &m, err, sizeof err) == 0);
    CHECK(pt_layout_check(&l, 8, &m, err, sizeof err) == -1 && strstr(err, "needs 4 ranks"));
    CHECK(pt_layout_parse("tp=0", &l, err, sizeof err) == -1);
    CHECK(pt_layout_parse("xp=2", &l, err, sizeof err) == -1 && strstr(err, "expected tp=N"));
    CHECK(pt_layout_parse("tp=2x", &l, err, sizeof err) == -1);
    CHECK(pt_layout_parse("tp=8", &l, err, sizeof err) == 0);
    CHECK(pt_layout_check(&l, 8, &m, err, sizeof err) == -1 && strstr(err, "key/value heads"));
    CHECK(pt_layout_parse("pp=5", &l, err, sizeof err) == 0);
    CHECK(pt_layout_check(&l, 5, &m, err, sizeof err) == -1 && strstr(err, "4 layers"));
    CHECK(pt_layout_parse("ep=4", &l, err, sizeof err) == 0);
    CHECK(pt_layout_check(&l, 1, &moe, err, sizeof err) == -1); /* ep=4 needs dp=4 */
    CHECK(pt_layout_parse("dp=4,ep=4", &l, err, sizeof err) == 0);
    CHECK(pt_layout_check(&l, 4, &m, err, sizeof err) == -1 && strstr(err, "MoE"));
    CHECK(pt_layout_check(&l, 4, &moe, err, sizeof err) == 0);
    struct pt_coords c;
    pt_layout_coords(&l, &moe, 3, &c);
    CHECK(c.dp == 3 && c.ep == 3 && c.first_expert == 6 && c.n_experts == 2 && c.n_layers == 4);
    /* TP innermost: rank 5 of tp=2,pp=2,dp=2 is tp 1, stage 0, replica 1. */
    CHECK(pt_layout_parse("tp=2,pp=2,dp=2", &l, err, sizeof err) == 0);
    CHECK(pt_layout_check(&l, 8, &m, err, sizeof err) == 0);
    pt_layout_coords(&l, &m, 5, &c);
    CHECK(c.tp == 1 && c.stage == 0 && c.dp == 1 && c.first_layer == 0 && c.n_layers == 2);
    pt_layout_coords(&l, &m, 6, &c);
    CHECK(c.tp == 0 && c.stage == 1 && c.first_layer == 2 && c.n_layers == 2);
    /* The 8-GPU matrix of tests/gpu/engine.sh (NGPU=8) fits its models. */
    struct pt_model_config small, moe_small;
    CHECK(pt_model_preset("small", &small) == 0 && pt_model_preset("moe-small", &moe_small) == 0);
    static const char *const dense8[] = {"tp=8", "tp=4,pp=2", "tp=2,pp=2,dp=2", "dp=8"};
    for (size_t i = 0; i < sizeof dense8 / sizeof *dense8; i++) {
        CHECK(pt_layout_parse(dense8[i], &l, err, sizeof err) == 0);
        CHECK(pt_layout_check(&l, 8, &small, err, sizeof err) == 0);
    }
    static const char *const moe8[] = {"dp=8,ep=8", "tp=8"};
    for (size_t i = 0; i < sizeof moe8 / sizeof *moe8; i++) {
        CHECK(pt_layout_parse(moe8[i], &l, err, sizeof err) == 0);
        CHECK(pt_layout_check(&l, 8, &moe_small, err, sizeof err) == 0);
    }
    /* Uneven stages: 4 layers over 3 stages are 2, 1, 1. */
    CHECK(pt_layout_parse("pp=3", &l, err, sizeof err) == 0);
    pt_layout_coords(&l, &m, 0, &c);
    CHECK(c.first_layer == 0 && c.n_layers == 2);
    pt_layout_coords(&l, &m, 2, &c);
    CHECK(c.first_layer == 3 && c.n_layers == 1);
}

int main(void)
{
    test_loadgen();
    test_stats();
    test_layout();
    puts("engine host: ok");
    return 0;
}
