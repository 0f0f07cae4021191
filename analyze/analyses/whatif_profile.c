/* A run's profile for `partrace whatif` (whatif_profile.h). */
#include "analyses/whatif_profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/compare.h"
#include "analyses/report_build.h"
#include "analyses/whatif_fit.h"
#include "read/event_source.h"
#include "util/u64_map.h"

/* Links when the run has no collectives of that kind: NVLink between H100s, as our bundled
 * 4-GPU samples measured them (docs/WHATIF.md, "Communication"). */
static const struct pt_wi_link builtin_allreduce = {9.0, 200.0}, builtin_p2p = {10.0, 110.0},
                               builtin_alltoall = {20.0, 110.0};

/* A measured step: an NVTX range "prefill" or "decode" on the leader. */
struct mstep {
    uint64_t start, end, first_k, last_k;
    double cls_ns[PT_WI_CLASS_COUNT], comm_ns;
    uint32_t rows, kernels;
};

struct steps {
    struct mstep *v;
    size_t n, cap;
};

static int is_step_name(const char *t, size_t n)
{
    return (n == 7 && !memcmp(t, "prefill", 7)) || (n == 6 && !memcmp(t, "decode", 6));
}

/* The leader's steps, with their kernels by class and their sampled rows ("req ID token"). */
static int read_steps(const char *path, struct steps *out, char *err, size_t errlen)
{
    struct pt_source *src;
    if (pt_source_open(path, 0, &src, err, errlen) != 0)
        return -1;
    struct pt_u64_map cls; /* kernel name id + 1 → class + 1 (PT_WI_CLASS_COUNT + 1: comm) */
    memset(&cls, 0, sizeof cls);
    int depth = 0, step_depth = -1, rc = 0;
    struct pt_event ev;
    while (pt_source_next(src, &ev)) {
        const struct pt_rec_hdr *h = ev.rec;
        struct mstep *cur = step_depth >= 0 ? &out->v[out->n - 1] : NULL;
        struct mstep *last = out->n ? &out->v[out->n - 1] : NULL; /* open, or the latest closed */
        if (h->kind == PT_REC_NVTX) {
            const struct pt_rec_nvtx *x = (const void *)h;
            if (x->event == PT_NVTX_PUSH) {
                if (step_depth < 0 && is_step_name(x->text, x->text_bytes)) {
                    if (out->n == out->cap) {
                        size_t cap = out->cap ? 2 * out->cap : 1024;
                        struct mstep *more = realloc(out->v, cap * sizeof *more);
                        if (!more) {
                            rc = -1;
                            snprintf(err, errlen, "out of memory");
                            break;
                        }
                        out->v = more, out->cap = cap;
                    }
                    out->v[out->n++] = (struct mstep){.start = ev.ts_ns, .first_k = UINT64_MAX};
                    step_depth = depth;
                }
                depth++;
            } else if (x->event == PT_NVTX_POP && depth > 0) {
                depth--;
                if (cur && depth == step_depth) {
                    cur->end = ev.ts_ns;
                    step_depth = -1;
                }
            } else if (x->event == PT_NVTX_MARK && last && x->text_bytes > 10 &&
                       !memcmp(x->text + x->text_bytes - 6, " token", 6) && !memcmp(x->text, "req ", 4)) {
                last->rows++; /* a server marks its tokens once the step is done */
            }
        } else if (h->kind == PT_REC_KERNEL && cur) {
            const struct pt_rec_kernel *k = (const void *)h;
            uint64_t c;
            if (!pt_u64_map_get(&cls, (uint64_t)k->name_id + 1, &c)) {
                const struct pt_ctx_string *name = pt_trace_ctx_name(pt_source_ctx(src), k->name_id);
                c = name && name->comm_class ? PT_WI_CLASS_COUNT + 1
                                             : (uint64_t)pt_wi_kernel_class(name ? name->text : "") + 1;
                pt_u64_map_put(&cls, (uint64_t)k->name_id + 1, c);
            }
            double ns = k->end_ns > k->start_ns ? (double)(k->end_ns - k->start_ns) : 0.0;
            if (c == PT_WI_CLASS_COUNT + 1)
                cur->comm_ns += ns;
            else
                cur->cls_ns[c - 1] += ns;
            cur->kernels++;
            if (k->start_ns < cur->first_k)
                cur->first_k = k->start_ns;
            if (k->end_ns > cur->last_k)
                cur->last_k = k->end_ns;
        }
    }
    if (step_depth >= 0) /* a step still open at the end: not a whole step */
        out->n--;
    pt_u64_map_free(&cls);
    pt_source_close(src);
    return rc;
}

static int by_arrival(const void *a, const void *b)
{
    const struct pt_request *x = *(const struct pt_request *const *)a, *y = *(const struct pt_request *const *)b;
    return (x->arrive_ns > y->arrive_ns) - (x->arrive_ns < y->arrive_ns);
}

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The load of sorted requests q[0..n): concurrency when arrivals follow completions (closed
 * loop), else 0 and each arrival's time. */
static uint32_t closed_loop_concurrency(struct pt_request **q, size_t n)
{
    uint64_t *finish = malloc((n ? n : 1) * sizeof *finish);
    if (!finish)
        return 0;
    for (size_t i = 0; i < n; i++)
        finish[i] = q[i]->last_ns;
    qsort(finish, n, sizeof *finish, by_u64);
    /* In flight at most: arrivals before the k-th completion. */
    size_t c = 0, done = 0, most = 0;
    for (size_t i = 0; i < n; i++) {
        while (done < n && finish[done] <= q[i]->arrive_ns)
            done++;
        c = i + 1 - done;
        most = c > most ? c : most;
    }
    /* Closed: every arrival past the first `most` comes within 5 ms of the completion that
     * freed its place (90 % of them, for the ends of replicas that finish unevenly). */
    size_t near = 0, later = n > most ? n - most : 0;
    for (size_t k = most; k < n; k++) {
        uint64_t f = finish[k - most], a = q[k]->arrive_ns;
        near += a >= f ? a - f <= 5000000 : f - a <= 5000000;
    }
    free(finish);
    int starts_together = n && most && q[most - 1]->arrive_ns - q[0]->arrive_ns <= 5000000;
    return starts_together && (!later || near * 10 >= later * 9) ? (uint32_t)most : 0;
}

/* The replay: the leader's load through the serving loop, each step taking its measured time. */
struct replay {
    const struct steps *s;
    struct pt_wi_step *work;   /* [s->n]: what each measured step computed */
    double mean_period_s;
};

static double period_s(const struct steps *s, size_t k)
{
    const struct mstep *m = &s->v[k];
    uint64_t next = k + 1 < s->n ? s->v[k + 1].start : m->end;
    return (double)(next > m->start ? next - m->start : 0) / 1e9;
}

static double replayed_step(const struct pt_wi_step *st, size_t step, void *arg)
{
    struct replay *r = arg;
    if (step >= r->s->n)
        return r->mean_period_s;
    r->work[step] = *st;
    return period_s(r->s, step);
}

static void fit_links(const struct pt_report *r, struct pt_wi_profile *p)
{
    struct pt_fit f;
    pt_fit_init(&f, 2);
    struct pt_report_row row = {0};
    while (pt_report_next_row(r, &row)) {
        if (row.op != 1 /* AllReduce */ || !row.k->count || row.s->nranks < 2)
            continue;
        double n = row.s->nranks, factor = 2.0 * (n - 1) / n;
        double us = (double)row.k->transfer_ns / row.k->count / 1e3, x[2] = {1.0, row.bytes * factor / 1e3};
        for (uint64_t i = 0; i < row.k->count && i < 64; i++)
            pt_fit_add(&f, x, us);
    }
    double c[2];
    if (f.count >= 2) {
        pt_fit_solve(&f, c);
        if (c[1] > 0) {
            p->allreduce = (struct pt_wi_link){c[0], 1.0 / c[1]};
            p->links_from = "the run's all-reduces (others: the built-in table)";
        }
    }
}

/* The measured row's shares of GPU time over the serving steps alone (first step's start to the
 * last one's end), as the predictions' are: a whole run's include its start-up. Its serving
 * figures stay the whole run's (the first requests arrive before the first step). */
static void serving_window_shares(const char *run, uint64_t run_start, uint64_t from, uint64_t to,
                                  struct pt_compare_run *row)
{
    struct pt_report_opts o = {.window = {.from_s = (double)(from - run_start) / 1e9,
                                          .to_s = (double)(to - run_start) / 1e9},
                               .quiet = 1, .again = 1};
    struct pt_report r;
    if (from < run_start || to <= from || pt_report_build(run, &o, &r) != 0)
        return;
    struct pt_compare_run w;
    pt_compare_run_of(&r, run, 0, &w);
    for (int m = PT_RM_gpu_busy_pct; m <= PT_RM_idle_pct; m++)
        row->v[m] = w.v[m];
    pt_report_free(&r);
}

int pt_wi_profile_build(const char *run, const char *config, struct pt_wi_profile *p,
                        struct pt_compare_run *measured, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->allreduce = builtin_allreduce, p->p2p = builtin_p2p, p->alltoall = builtin_alltoall;
    p->links_from = "the built-in table";
    p->sched = (struct pt_wi_sched_cfg){2048, 256, 1};
    p->mem_peak_gib = NAN;
    if (config) {
        if (pt_hf_config_read(config, &p->shape, err, errlen) != 0)
            return 2;
        p->shape_from = config;
    }
    struct pt_report_opts o = {.window = {.from_s = 0, .to_s = -1}, .quiet = 1};
    struct pt_report r;
    if (pt_report_build(run, &o, &r) != 0) {
        pt_report_free(&r);
        snprintf(err, errlen, "%s: cannot be read (said above)", run);
        return 1;
    }
    int rc = 1;
    struct pt_request **q = NULL;
    struct steps steps = {0};
    struct replay rep = {0};
    struct pt_wi_load lead = {0};
    if (r.layout.pp > 1 || r.layout.ep > 1) {
        snprintf(err, errlen, "%s: whatif predicts from a run without PP or EP; this one has PP=%d EP=%d", run,
                 r.layout.pp, r.layout.ep);
        goto out;
    }
    if (!config) {
        snprintf(err, errlen, "whatif needs the model's shapes: give --model-config config.json");
        rc = 2;
        goto out;
    }
    p->tp_measured = r.layout.tp > 0 ? r.layout.tp : 1;
    p->gpus_measured = r.layout.world > 0 ? r.layout.world : 1;
    struct pt_compare_run row;
    pt_compare_run_of(&r, run, 1, &row);
    p->mem_peak_gib = row.v[PT_RM_mem_peak_gib];
    if (measured)
        *measured = row;
    /* The load: every request with a prompt length and a token, in arrival order. */
    q = malloc((r.requests.n ? r.requests.n : 1) * sizeof *q);
    p->load.req = calloc(r.requests.n ? r.requests.n : 1, sizeof *p->load.req);
    lead.req = calloc(r.requests.n ? r.requests.n : 1, sizeof *lead.req);
    if (!q || !p->load.req || !lead.req) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t n = 0, no_prompt = 0;
    for (size_t i = 0; i < r.requests.n; i++) {
        struct pt_request *x = &r.requests.all[i];
        if (!x->tokens || !x->arrive_ns)
            continue;
        if (!x->has_prefix) {
            no_prompt++;
            continue;
        }
        q[n++] = x;
    }
    if (!n) {
        snprintf(err, errlen, "%s: no request marks with prompt lengths (\"req ID arrive\", \"req ID token\", "
                              "\"req ID prefix HIT PROMPT\"): whatif replays the run's requests", run);
        goto out;
    }
    qsort(q, n, sizeof *q, by_arrival);
    p->load.concurrency = closed_loop_concurrency(q, n);
    for (size_t i = 0; i < n; i++)
        p->load.req[i] = (struct pt_wi_request){(double)(q[i]->arrive_ns - q[0]->arrive_ns) / 1e9,
                                                q[i]->prefix_prompt, q[i]->prefix_hit, q[i]->tokens};
    p->load.n = n;
    /* The first replica's leader: the file that marked the earliest request. */
    uint32_t leader = q[0]->owner.source;
    size_t n_mine = 0;
    for (size_t i = 0; i < n; i++)
        if (q[i]->owner.source == leader)
            lead.req[n_mine++] = p->load.req[i];
    lead.n = n_mine;
    uint32_t replicas = (uint32_t)((n + n_mine - 1) / n_mine);
    lead.concurrency = p->load.concurrency ? (p->load.concurrency + replicas - 1) / replicas : 0;
    if (read_steps(r.set.paths[leader], &steps, err, errlen) != 0)
        goto out;
    size_t with_kernels = 0;
    for (size_t i = 0; i < steps.n; i++)
        with_kernels += steps.v[i].kernels > 0;
    if (steps.n < 2 || with_kernels < 2) {
        snprintf(err, errlen, "%s: %s", r.set.paths[leader],
                 steps.n < 2 ? "fewer than 2 steps (NVTX ranges \"prefill\" or \"decode\"): whatif fits the "
                               "server's steps"
                             : "no kernels inside its steps: record with PARTRACE_CUDA=kernels");
        goto out;
    }
    if (measured)
        serving_window_shares(run, o.window.run_start, steps.v[0].start, steps.v[steps.n - 1].end, measured);
    /* Replay: which tokens each measured step computed. */
    rep.s = &steps;
    rep.work = calloc(steps.n, sizeof *rep.work);
    double total = 0;
    for (size_t i = 0; i < steps.n; i++)
        total += period_s(&steps, i);
    rep.mean_period_s = total / steps.n;
    struct pt_wi_result res;
    if (!rep.work || pt_wi_simulate(&lead, &p->sched, replayed_step, &rep, &res) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    p->steps_measured = steps.n;
    p->steps_replayed = res.steps;
    size_t both = steps.n < res.steps ? steps.n : res.steps;
    for (size_t i = 0; i < both; i++)
        p->rows_matched += rep.work[i].rows == steps.v[i].rows;
    /* Fits over the steps both have: each class, the launch gaps, the host's part. */
    struct pt_fit f[PT_WI_CLASS_COUNT], gaps, host;
    for (int c = 0; c < PT_WI_CLASS_COUNT; c++)
        pt_fit_init(&f[c], c == PT_WI_ATTENTION ? 3 : 2);
    pt_fit_init(&gaps, 2);
    pt_fit_init(&host, 2);
    for (size_t i = 0; i < both; i++) {
        const struct mstep *m = &steps.v[i];
        const struct pt_wi_step *w = &rep.work[i];
        if (!m->kernels)
            continue;
        double x[2] = {1.0, w->tokens}, xa[3] = {1.0, w->pairs, w->max_ctx}, sum = m->comm_ns;
        for (int c = 0; c < PT_WI_CLASS_COUNT; c++) {
            pt_fit_add(&f[c], c == PT_WI_ATTENTION ? xa : x, m->cls_ns[c]);
            sum += m->cls_ns[c];
        }
        double span = (double)(m->last_k - m->first_k), period = period_s(&steps, i) * 1e9;
        pt_fit_add(&gaps, x, span > sum ? span - sum : 0.0);
        pt_fit_add(&host, x, period > span ? period - span : 0.0);
    }
    for (int c = 0; c < PT_WI_CLASS_COUNT; c++) {
        double k[3];
        pt_fit_solve(&f[c], k);
        double shard = c == PT_WI_REPLICATED ? 1.0 : p->tp_measured; /* to one GPU's */
        p->cls[c] = c == PT_WI_ATTENTION ? (struct pt_wi_cost){k[0], 0, k[1] * shard, k[2]}
                                         : (struct pt_wi_cost){k[0], k[1] * shard, 0, 0};
    }
    double k[2];
    pt_fit_solve(&gaps, k);
    p->gaps = (struct pt_wi_cost){k[0], k[1], 0, 0};
    pt_fit_solve(&host, k);
    p->host = (struct pt_wi_cost){k[0], k[1], 0, 0};
    if (p->tp_measured > 1)
        fit_links(&r, p);
    /* How well the fitted costs give back the measured steps, under the run's own layout. */
    struct pt_wi_layout own = {p->tp_measured, 1, 1, 1};
    double se = 0, sp = 0;
    size_t counted = 0;
    for (size_t i = 0; i < both; i++) {
        if (!steps.v[i].kernels)
            continue;
        double pred = pt_wi_step_ns(p, &own, &rep.work[i]), meas = period_s(&steps, i) * 1e9;
        se += (pred - meas) * (pred - meas);
        sp += meas;
        counted++;
    }
    p->fit_error_pct = counted && sp > 0 ? 100.0 * sqrt(se / counted) / (sp / counted) : 0;
    rc = 0;
out:
    free(q);
    free(lead.req);
    free(steps.v);
    free(rep.work);
    pt_report_free(&r);
    return rc;
}

void pt_wi_profile_free(struct pt_wi_profile *p)
{
    free(p->load.req);
    memset(p, 0, sizeof *p);
}
