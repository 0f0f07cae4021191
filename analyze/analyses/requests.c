/* Serving metrics from NVTX marks (requests.h). */
#include "analyses/requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pt_requests_init(struct pt_requests *q)
{
    memset(q, 0, sizeof *q);
}

/* Request id's entry for a mark of `source` at ts; NULL when another file owns it. The owner is
 * the file with the earliest mark of the request (ties: the lower file), whatever order the
 * files' marks are read in: a file whose mark is earlier than the owner's first takes the entry
 * over, afresh (its own marks cannot have come before: a file's marks come in time order). */
static struct pt_request *slot(struct pt_requests *q, uint64_t id, uint32_t source, uint64_t ts)
{
    struct pt_run_key mark = {ts, source};
    uint64_t at;
    if (pt_u64_map_get(&q->index, id + 1, &at)) {
        struct pt_request *r = &q->all[at];
        if (r->owner.source == source)
            return r;
        if (!pt_run_key_earlier(mark, r->owner))
            return NULL;
        *r = (struct pt_request){.owner = mark};
        return r;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        struct pt_request *more = realloc(q->all, cap * sizeof *more);
        if (!more)
            return NULL;
        q->all = more;
        q->cap = cap;
    }
    if (pt_u64_map_put(&q->index, id + 1, q->n) != 0)
        return NULL;
    q->all[q->n] = (struct pt_request){.owner = mark};
    return &q->all[q->n++];
}

void pt_requests_mark(struct pt_requests *q, uint32_t source, const char *text, size_t len, uint64_t ts)
{
    if (len < 4 || memcmp(text, "req ", 4) != 0)
        return;
    char buf[128];
    if (len >= sizeof buf) {
        q->bad_marks++;
        return;
    }
    memcpy(buf, text, len);
    buf[len] = 0;
    char *end;
    unsigned long long id = strtoull(buf + 4, &end, 10);
    if (end == buf + 4 || *end != ' ' || id == UINT64_MAX) {
        q->bad_marks++;
        return;
    }
    struct pt_request *r = slot(q, id, source, ts);
    if (!r)
        return;
    if (!strcmp(end + 1, "arrive")) {
        r->arrive_ns = ts;
    } else if (!strcmp(end + 1, "token")) {
        if (!r->tokens++)
            r->first_ns = ts;
        r->last_ns = ts;
    } else if (!strncmp(end + 1, "prefix ", 7)) {
        unsigned hit, prompt;
        char tail;
        if (sscanf(end + 8, "%u %u%c", &hit, &prompt, &tail) != 2 || hit > prompt) {
            q->bad_marks++;
            return;
        }
        r->prefix_hit = hit, r->prefix_prompt = prompt, r->has_prefix = 1;
    } else {
        q->bad_marks++;
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void pt_percentiles(double *v, size_t n, double out[3])
{
    static const double ps[3] = {0.50, 0.90, 0.99};
    qsort(v, n, sizeof *v, by_value);
    for (int i = 0; i < 3; i++) {
        size_t rank = (size_t)(ps[i] * (double)n + 0.999999);
        out[i] = n ? v[(rank ? rank : 1) - 1] : 0.0;
    }
}

int pt_requests_stats(const struct pt_requests *q, struct pt_request_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!q->n)
        return 0;
    double *ttft = malloc(q->n * sizeof *ttft), *tpot = malloc(q->n * sizeof *tpot);
    if (!ttft || !tpot) {
        free(ttft);
        free(tpot);
        return 0;
    }
    uint64_t first_arrive = UINT64_MAX, last_token = 0, hit = 0, prompt = 0;
    for (size_t i = 0; i < q->n; i++) {
        const struct pt_request *r = &q->all[i];
        s->tokens += r->tokens;
        if (r->arrive_ns && r->arrive_ns < first_arrive)
            first_arrive = r->arrive_ns;
        if (r->tokens && r->last_ns > last_token)
            last_token = r->last_ns;
        if (r->arrive_ns && r->tokens && r->first_ns >= r->arrive_ns)
            ttft[s->with_ttft++] = (double)(r->first_ns - r->arrive_ns) / 1e6;
        if (r->tokens >= 2)
            tpot[s->with_tpot++] = (double)(r->last_ns - r->first_ns) / 1e6 / (r->tokens - 1);
        if (r->has_prefix)
            s->with_prefix++, hit += r->prefix_hit, prompt += r->prefix_prompt;
    }
    s->kv_hit_rate = prompt ? (double)hit / (double)prompt : 0.0;
    s->requests = q->n;
    pt_percentiles(ttft, s->with_ttft, s->ttft_ms);
    pt_percentiles(tpot, s->with_tpot, s->tpot_ms);
    if (first_arrive != UINT64_MAX && last_token > first_arrive)
        s->tokens_per_s = (double)s->tokens / ((double)(last_token - first_arrive) / 1e9);
    free(ttft);
    free(tpot);
    return 1;
}

void pt_requests_free(struct pt_requests *q)
{
    pt_u64_map_free(&q->index);
    free(q->all);
    memset(q, 0, sizeof *q);
}
