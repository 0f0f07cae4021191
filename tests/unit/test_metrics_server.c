/* The engine's /metrics endpoint read back as partrace reads a server's: fetched over HTTP,
 * parsed as Prometheus text, turned into serving figures. Known observations give the TTFT
 * percentiles within the buckets' 3 %, the exact KV hit rate and token counts. */
#include <math.h>
#include <string.h>

#include "analyses/serving.h"
#include "check.h"
#include "metrics_server.h"
#include "format/http_get.h"
#include "format/prom_text.h"

struct feed {
    struct pt_serving *s;
    uint64_t ts;
    uint32_t next_id;
    char names[4096][160];
    int n_names;
};

/* Each sample as a metric record, its series text interned as the scraper does. */
static int take(const struct pt_prom_sample *p, void *arg)
{
    struct feed *f = arg;
    char text[160];
    snprintf(text, sizeof text, "%.*s{%.*s}", (int)p->name_len, p->name, (int)p->labels_len, p->labels);
    int id = 0;
    while (id < f->n_names && strcmp(f->names[id], text))
        id++;
    if (id == f->n_names) {
        CHECK(f->n_names < 4096);
        strcpy(f->names[f->n_names++], text);
    }
    struct pt_rec_metric m = {.hdr = {PT_REC_METRIC, sizeof m, 1}, .ts_ns = f->ts, .value = p->value,
                              .series_id = (uint32_t)id + 1, .type = (uint8_t)p->type};
    pt_serving_add(f->s, 0, &m, text);
    return 0;
}

static void scrape(struct pt_metrics *m, struct feed *f, uint64_t ts)
{
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", m->port);
    size_t len = 0;
    char *body = pt_http_get(url, 2000, 1 << 24, &len, err, sizeof err);
    if (!body)
        fprintf(stderr, "%s\n", err);
    CHECK(body);
    f->ts = ts;
    CHECK(pt_prom_parse(body, len, take, f, err, sizeof err) == 0);
    free(body);
}

int main(void)
{
    static struct pt_metrics m;
    char err[256];
    CHECK(pt_metrics_start(&m, 0, "tiny", err, sizeof err) == 0);
    CHECK(m.port > 0);
    static struct feed f;
    struct pt_serving s;
    pt_serving_init(&s);
    f.s = &s;
    scrape(&m, &f, 1000000000ull); /* before any request: the baseline */
    /* 100 requests: TTFT 10, 20, ..., 1000 ms; 40 prompt tokens each, 10 of them cached;
     * 4 more tokens 5 ms apart. */
    for (int i = 1; i <= 100; i++) {
        pt_metrics_arrive(&m);
        pt_metrics_first_token(&m, 0.010 * i, 40, 10);
        for (int k = 0; k < 4; k++)
            pt_metrics_token(&m, 0.005);
        pt_metrics_finish(&m, 0.010 * i + 0.020);
    }
    pt_metrics_kv_usage(&m, 0.25);
    scrape(&m, &f, 3000000000ull);
    pt_metrics_stop(&m);
    struct pt_serving_stats st;
    CHECK(pt_serving_stats(&s, &st));
    CHECK(st.requests == 100);
    /* nearest-rank truths 500, 900, 990 ms; the histogram's within 3 % */
    CHECK(fabs(st.ttft_ms[0] - 500) / 500 < 0.03);
    CHECK(fabs(st.ttft_ms[1] - 900) / 900 < 0.03);
    CHECK(fabs(st.ttft_ms[2] - 990) / 990 < 0.03);
    CHECK(fabs(st.tpot_ms[0] - 5) / 5 < 0.03);
    CHECK(fabs(st.kv_hit_rate - 0.25) < 1e-12);
    CHECK(fabs(st.output_tokens_per_s - 250) < 1e-9); /* 500 tokens over the 2 s between scrapes */
    CHECK(st.kv_usage_max == 0.25);
    CHECK(st.running_max == 0 && st.waiting_max == 0);
    pt_serving_free(&s);
    return 0;
}
