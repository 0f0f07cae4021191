/* The Prometheus text parser and histogram_quantile as PromQL computes it, and the serving
 * figures from metric records: increases across a restart, sums of label sets, gauges. */
#include <math.h>
#include <string.h>

#include "analyses/serving.h"
#include "check.h"
#include "format/prom_text.h"

#define NEAR(a, b) CHECK(fabs((a) - (b)) < 1e-9)

struct seen {
    int n;
    char names[8][64];
    char labels[8][128];
    double values[8];
    enum pt_prom_type types[8];
};

static int take(const struct pt_prom_sample *s, void *arg)
{
    struct seen *z = arg;
    if (z->n < 8) {
        snprintf(z->names[z->n], 64, "%.*s", (int)s->name_len, s->name);
        snprintf(z->labels[z->n], 128, "%.*s", (int)s->labels_len, s->labels);
        z->values[z->n] = s->value;
        z->types[z->n] = s->type;
    }
    z->n++;
    return 0;
}

static void parser(void)
{
    const char *text = "# HELP x_seconds A help line with \"quotes\".\n"
                       "# TYPE x_seconds histogram\n"
                       "x_seconds_bucket{le=\"0.5\",path=\"a\\\"b,c}\"} 3\n"
                       "x_seconds_bucket{le=\"+Inf\",path=\"a\\\"b,c}\"} 4 1700000000000\r\n"
                       "x_seconds_count 4\n"
                       "\n"
                       "# TYPE up gauge\n"
                       "up NaN\n"
                       "requests_total{code=\"200\"} 1.5e3\n";
    struct seen z = {0};
    char err[128];
    CHECK(pt_prom_parse(text, strlen(text), take, &z, err, sizeof err) == 0);
    CHECK(z.n == 5);
    CHECK(!strcmp(z.names[0], "x_seconds_bucket") && z.types[0] == PT_PROM_HISTOGRAM);
    CHECK(!strcmp(z.labels[1], "le=\"+Inf\",path=\"a\\\"b,c}\""));
    CHECK(z.values[1] == 4);
    CHECK(z.types[2] == PT_PROM_HISTOGRAM);
    CHECK(z.types[3] == PT_PROM_GAUGE && isnan(z.values[3]));
    CHECK(z.types[4] == PT_PROM_UNTYPED && z.values[4] == 1500);
    char v[32];
    CHECK(pt_prom_label(z.labels[1], strlen(z.labels[1]), "path", v, sizeof v) && !strcmp(v, "a\"b,c}"));
    CHECK(pt_prom_label(z.labels[1], strlen(z.labels[1]), "le", v, sizeof v) && !strcmp(v, "+Inf"));
    CHECK(!pt_prom_label(z.labels[1], strlen(z.labels[1]), "p", v, sizeof v));

    static const char *const bad[] = {"x{le=\"1\" 3\n", "x{le=1} 3\n", "x one\n", "9x 1\n",
                                      "ok 1\nx{a=\"b\"\n"};
    static const int line[] = {1, 1, 1, 1, 2};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct seen y = {0};
        char want[16];
        CHECK(pt_prom_parse(bad[i], strlen(bad[i]), take, &y, err, sizeof err) == -1);
        snprintf(want, sizeof want, "line %d:", line[i]);
        CHECK(!strncmp(err, want, strlen(want)));
    }
}

static void quantiles(void)
{
    /* PromQL: rank = q * count; the bucket it falls in, linear inside it; below the first
     * bound from 0; in +Inf, the highest finite bound. */
    const double le[] = {0.1, 0.5, 1.0, INFINITY}, cum[] = {40, 64, 80, 80};
    NEAR(pt_histogram_quantile(0.5, le, cum, 4), 0.1);
    NEAR(pt_histogram_quantile(0.25, le, cum, 4), 0.05);
    NEAR(pt_histogram_quantile(0.9, le, cum, 4), 0.75);
    NEAR(pt_histogram_quantile(0.99, le, cum, 4), 0.975);
    const double inf_cum[] = {10, 10, 10, 20};
    NEAR(pt_histogram_quantile(0.9, le, inf_cum, 4), 1.0);
    const double none[] = {0, 0, 0, 0};
    CHECK(isnan(pt_histogram_quantile(0.5, le, none, 4)));
    const double no_inf[] = {0.1, 0.5};
    CHECK(isnan(pt_histogram_quantile(0.5, no_inf, cum, 2)));
}

static void metric(struct pt_serving *s, uint32_t file, uint32_t id, uint64_t ts, double v, const char *series)
{
    struct pt_rec_metric m = {.hdr = {PT_REC_METRIC, sizeof m, 1}, .ts_ns = ts, .value = v, .series_id = id};
    pt_serving_add(s, file, &m, series);
}

static void figures(void)
{
    struct pt_serving s;
    pt_serving_init(&s);
    struct pt_serving_stats st;
    CHECK(!pt_serving_stats(&s, &st));
    /* Two engines (label sets) of one histogram, summed by bound; one restarts. */
    const char *a0 = "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.2\"}";
    const char *ai = "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\"}";
    const char *b0 = "vllm:time_to_first_token_seconds_bucket{engine=\"1\",le=\"0.2\"}";
    const char *bi = "vllm:time_to_first_token_seconds_bucket{engine=\"1\",le=\"+Inf\"}";
    const char *tok = "vllm:generation_tokens_total{engine=\"0\"}";
    const char *run0 = "vllm:num_requests_running{engine=\"0\"}";
    const char *run1 = "vllm:num_requests_running{engine=\"1\"}";
    const double a_fast[] = {0, 10, 20}, a_all[] = {0, 10, 20};  /* engine 0: all under 0.2 s */
    const double b_fast[] = {5, 5, 0}, b_all[] = {5, 15, 10};     /* engine 1: restarted at 3 */
    for (int k = 0; k < 3; k++) {
        uint64_t ts = 1000000000ull * (uint64_t)(k + 1);
        metric(&s, 0, 1, ts, a_fast[k], a0);
        metric(&s, 0, 2, ts, a_all[k], ai);
        metric(&s, 0, 3, ts, b_fast[k], b0);
        metric(&s, 0, 4, ts, b_all[k], bi);
        metric(&s, 0, 5, ts, 100.0 * k, tok);
        metric(&s, 0, 6, ts, k == 1 ? 3 : 1, run0);
        metric(&s, 0, 7, ts, k == 1 ? 4 : 9, run1);
        metric(&s, 0, 8, ts, 7, "vllm:unknown_family{engine=\"0\"}");
    }
    CHECK(pt_serving_stats(&s, &st));
    /* increases: a 20 fast of 20; b fast 0 then a drop to 0 (+0), all 10 then 10 after the
     * restart: 20 in all, none fast. 40 requests, 20 under 0.2 s. */
    NEAR(st.requests, 40);
    NEAR(st.ttft_ms[0], 200.0);  /* rank 20 of 40: the top of the first bucket */
    NEAR(st.ttft_ms[1], 200.0);  /* in +Inf: the highest finite bound */
    NEAR(st.output_tokens_per_s, 100.0); /* 200 tokens over 2 s */
    NEAR(st.running_max, 10);    /* the sum of a scrape: 1 + 9 */
    CHECK(isnan(st.kv_hit_rate) && isnan(st.kv_usage_max) && isnan(st.tpot_ms[0]));
    CHECK(st.samples == 21);     /* the unknown family does not count */
    pt_serving_free(&s);
    /* A server idle before and after its load: the rate is over the time the counter rose,
     * from the sample before its first increase (2 s) to its last increase (4 s). */
    pt_serving_init(&s);
    const double idle_around[] = {0, 0, 100, 200, 200, 200};
    for (int k = 0; k < 6; k++)
        metric(&s, 0, 1, 1000000000ull * (uint64_t)(k + 1), idle_around[k], tok);
    CHECK(pt_serving_stats(&s, &st));
    NEAR(st.output_tokens_per_s, 100.0);
    pt_serving_free(&s);
    CHECK(pt_server_metric_of("sglang:num_queue_reqs", 21, NULL) == PT_SM_waiting);
    CHECK(pt_server_metric_of("vllm:time_to_first_token_seconds", 32, NULL) == -1); /* no such sample */
    CHECK(pt_server_metric_of("vllm:time_to_first_token_seconds_sum", 36, NULL) == PT_SM_ttft);
}

int main(void)
{
    parser();
    quantiles();
    figures();
    return 0;
}
