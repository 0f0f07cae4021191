#include "format/server_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/http_get.h"

static const char *const vllm_names[] = {
#define PT_X(field, type, vllm, sglang) vllm,
    PT_SERVER_METRICS(PT_X)
#undef PT_X
};
static const char *const sglang_names[] = {
#define PT_X(field, type, vllm, sglang) sglang,
    PT_SERVER_METRICS(PT_X)
#undef PT_X
};
static const int is_histogram[] = {
#define PT_X(field, type, vllm, sglang) PT_PROM_##type == PT_PROM_HISTOGRAM,
    PT_SERVER_METRICS(PT_X)
#undef PT_X
};
static const int is_gauge[] = {
#define PT_X(field, type, vllm, sglang) PT_PROM_##type == PT_PROM_GAUGE,
    PT_SERVER_METRICS(PT_X)
#undef PT_X
};

/* Whether name[0..len) is family (of len n) followed by suffix. */
static int named(const char *name, size_t len, const char *family, const char *suffix)
{
    size_t n = strlen(family), k = strlen(suffix);
    return n && len == n + k && !memcmp(name, family, n) && !memcmp(name + n, suffix, k);
}

int pt_server_metric_of(const char *name, size_t len, enum pt_metric_part *part)
{
    static const char *const suffixes[] = {"", "_bucket", "_sum", "_count"};
    for (int m = 0; m < PT_SERVER_METRIC_COUNT; m++)
        for (int k = 0; k < (is_histogram[m] ? 4 : 1); k++)
            if (named(name, len, vllm_names[m], suffixes[k]) ||
                named(name, len, sglang_names[m], suffixes[k])) {
                if (is_histogram[m] && k == 0)
                    continue; /* a histogram has no sample of its family's own name */
                if (part)
                    *part = (enum pt_metric_part)k;
                return m;
            }
    return -1;
}


int pt_server_metric_is_gauge(int metric) { return metric >= 0 && metric < PT_SERVER_METRIC_COUNT && is_gauge[metric]; }

size_t pt_server_series_text(const struct pt_prom_sample *p, char *out, size_t cap)
{
    if (pt_server_metric_of(p->name, p->name_len, NULL) < 0)
        return 0;
    int n = p->labels_len ? snprintf(out, cap, "%.*s{%.*s}", (int)p->name_len, p->name,
                                     (int)p->labels_len, p->labels)
                          : snprintf(out, cap, "%.*s", (int)p->name_len, p->name);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int check_only(const struct pt_prom_sample *p, void *arg)
{
    (void)p, (void)arg;
    return 0;
}

int pt_server_scrape(const char *url, int timeout_ms,
                     int (*take)(const struct pt_prom_sample *s, void *arg), void *arg, char *err,
                     size_t errlen)
{
    size_t len = 0;
    char *body = pt_http_get(url, timeout_ms, 16u << 20, &len, err, errlen);
    if (!body)
        return -1;
    int rc = pt_prom_parse(body, len, check_only, NULL, err, errlen) == 0 ? 0 : -2;
    if (!rc)
        pt_prom_parse(body, len, take, arg, err, errlen);
    free(body);
    return rc;
}
