/* One pass over a run for the report and the diff (report_build.h). */
#include "analyses/report_build.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "analyses/outside_nccl.h"
#include "util/diag.h"
#include "read/kernel_class.h"
#include "format/names.h"
#include "util/settings.h"

/* Set while re-reading a run already reported (the HTML page's phases): its warnings were said. */
static int silent;
#define WARN(...)                                                                                  \
    do {                                                                                           \
        if (!silent)                                                                               \
            pt_error(__VA_ARGS__);                                                                \
    } while (0)

const char *const pt_cat_names[PT_CATS] = {"compute", "tp_comm", "pp_bubble", "ep_comm",
                                           "other_comm", "memcpy", "idle"};

/* Communication kernels outside NCCL (kernel_class.h) have no communicator in the trace: they
 * stand in the attribution under one of these ids, by the role of their class. */
#define OUTSIDE_NCCL_TP 0xfffffffffffff001ull
#define OUTSIDE_NCCL_EP 0xfffffffffffff002ull
#define OUTSIDE_NCCL_OTHER 0xfffffffffffff003ull

static uint64_t outside_nccl_comm(const char *cls)
{
    const char *role = pt_comm_class_role(cls);
    return !role ? OUTSIDE_NCCL_OTHER : !strcmp(role, "TP") ? OUTSIDE_NCCL_TP : OUTSIDE_NCCL_EP;
}

static const char *role_of(const struct pt_report *r, uint64_t comm)
{
    if (comm == OUTSIDE_NCCL_TP)
        return "TP";
    if (comm == OUTSIDE_NCCL_EP)
        return "EP";
    long i = pt_collectives_find(r->c, comm);
    return i >= 0 ? r->roles[i].role : "other";
}

int pt_report_comm_category(const struct pt_report *r, uint64_t comm)
{
    const char *role = role_of(r, comm);
    return !strcmp(role, "TP") ? PT_CAT_TP : !strcmp(role, "PP") ? PT_CAT_PP
           : !strcmp(role, "EP") ? PT_CAT_EP : PT_CAT_OTHER;
}

void pt_report_categories(const struct pt_report *r, size_t i, uint64_t *cat, uint64_t *hidden)
{
    const struct pt_attr_rank *a = &r->attr[i];
    memset(cat, 0, PT_CATS * sizeof *cat);
    *hidden = 0;
    cat[PT_CAT_COMPUTE] = a->compute_ns;
    cat[PT_CAT_COPY] = a->copy_ns;
    cat[PT_CAT_IDLE] = a->idle_ns;
    for (int k = 0; k < a->n_comms; k++) {
        cat[pt_report_comm_category(r, a->comms[k].comm)] += a->comms[k].exposed_ns;
        *hidden += a->comms[k].hidden_ns;
    }
}

int pt_report_missing_ranks(const struct pt_comm_stats *s, char *out, size_t cap)
{
    int32_t seen = pt_comm_members_seen(s);
    if (seen >= s->nranks)
        return 0;
    char coll[64] = "", pairs[64] = "";
    if (s->instances)
        snprintf(coll, sizeof coll, "%" PRIu64 " of %" PRIu64 " collectives", s->incomplete,
                 s->instances);
    if (s->pairs)
        snprintf(pairs, sizeof pairs, "%" PRIu64 " of %" PRIu64 " send/recv pairs", s->unpaired,
                 s->pairs);
    snprintf(out, cap, "communicator %016" PRIx64 " has %d ranks, %d of them in this run: %s%s%s "
             "lack a rank, and its waits, transfers, bandwidths and straggler count only the ranks "
             "present (a trace file missing?)", s->id, s->nranks, seen, coll,
             *coll && *pairs ? " and " : "", *coll || *pairs ? pairs : "its calls");
    return 1;
}

int pt_report_is_rank(const struct pt_report *r, size_t file)
{
    return r->run.rank[file] >= 0 || r->totals[file].nccl_calls > 0;
}

int32_t pt_report_rank_of(const struct pt_report *r, size_t file)
{
    return pt_report_is_rank(r, file) ? r->totals[file].rank : -1;
}

int32_t pt_report_straggler(const struct pt_comm_stats *s, uint64_t *total)
{
    int32_t worst = -1;
    *total = 0;
    for (int32_t m = 0; m < s->members_cap; m++) {
        uint64_t cost = s->late_cost_ns[m];
        *total += cost;
        if (cost && (worst < 0 || cost > s->late_cost_ns[worst] ||
                     (cost == s->late_cost_ns[worst] && s->member_rank[m] < s->member_rank[worst])))
            worst = m;
    }
    return worst;
}

int pt_report_shares(const struct pt_report *r, size_t i, uint64_t *cat, double *pct, uint64_t *hidden,
                     uint64_t *span)
{
    if (!r->attr[i].first_ns)
        return 0;
    *span = r->attr[i].counted_ns;
    pt_report_categories(r, i, cat, hidden);
    for (int k = 0; k < PT_CATS; k++)
        pct[k] = *span ? 100.0 * (double)cat[k] / (double)*span : 0.0;
    return 1;
}

int pt_report_mean_shares(const struct pt_report *r, double *pct, uint64_t *ns, uint64_t *span_total)
{
    int ranks = 0;
    memset(pct, 0, PT_CATS * sizeof *pct);
    memset(ns, 0, PT_CATS * sizeof *ns);
    if (span_total)
        *span_total = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint64_t cat[PT_CATS], hidden, span;
        double share[PT_CATS];
        if (!pt_report_shares(r, i, cat, share, &hidden, &span) || !span)
            continue;
        for (int k = 0; k < PT_CATS; k++) {
            pct[k] += share[k];
            ns[k] += cat[k];
        }
        if (span_total)
            *span_total += span;
        ranks++;
    }
    for (int k = 0; ranks && k < PT_CATS; k++)
        pct[k] /= ranks;
    return ranks;
}

int pt_report_next_row(const struct pt_report *r, struct pt_report_row *row)
{
    const size_t per_comm = (size_t)PT_OP_LIMIT * PT_SIZE_BUCKETS;
    for (size_t at = row->next; at < pt_collectives_count(r->c) * per_comm; at++) {
        const struct pt_comm_stats *s = pt_collectives_comm(r->c, at / per_comm);
        uint16_t op = (uint16_t)(at % per_comm / PT_SIZE_BUCKETS);
        const struct pt_coll_bucket *k = &s->ops[op][at % PT_SIZE_BUCKETS];
        if (!k->count)
            continue;
        row->next = at + 1;
        row->comm = at / per_comm;
        row->s = s;
        row->op = op;
        row->k = k;
        row->bytes = k->bytes / k->count;
        row->algbw = k->transfer_ns ? (double)k->bytes / (double)k->transfer_ns : 0.0; /* B/ns = GB/s */
        row->busbw = row->algbw * pt_busbw_factor(op, s->nranks);
        return 1;
    }
    row->next = pt_collectives_count(r->c) * per_comm;
    return 0;
}

void pt_report_describe_window(const struct pt_window *w, char *out, size_t cap)
{
    int n = snprintf(out, cap, "from %g s", w->from_s);
    if (n > 0 && (size_t)n < cap && w->to_s >= 0)
        n += snprintf(out + n, cap - (size_t)n, " to %g s", w->to_s);
    if (n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " after the run's first event");
    if (n > 0 && (size_t)n < cap && w->phase)
        snprintf(out + n, cap - (size_t)n, ", in NVTX ranges '%s'", w->phase);
}

/* A communicator whose ranks did not all show up: files missing from the run, or processes
 * that recorded nothing. The report goes on with what is there. */
static void warn_missing_ranks_from(const struct pt_collectives *c, size_t first)
{
    for (size_t i = first; i < pt_collectives_count(c); i++) {
        char note[512];
        if (pt_report_missing_ranks(pt_collectives_comm(c, i), note, sizeof note))
            WARN("warning: %s", note);
    }
}

/* --layout: the given axes replace the inferred ones; a disagreement is said, not hidden. */
static void apply_layout(struct pt_layout *l, const struct pt_layout *given, int *layout_given)
{
    int *have[] = {&l->tp, &l->pp, &l->dp, &l->ep};
    const int want[] = {given->tp, given->pp, given->dp, given->ep};
    static const char *const axes[] = {"TP", "PP", "DP", "EP"};
    for (int k = 0; k < 4; k++) {
        if (!want[k])
            continue;
        if (*have[k] != want[k])
            WARN("warning: --layout sets %s=%d; the run's communicators suggest %s=%d",
                      axes[k], want[k], axes[k], *have[k]);
        *have[k] = want[k];
        *layout_given = 1;
    }
    if (*layout_given && l->world > 0 && l->tp * l->pp * l->dp != l->world)
        WARN("warning: layout TP=%d x PP=%d x DP=%d is %d ranks; the run has %d", l->tp, l->pp,
                  l->dp, l->tp * l->pp * l->dp, l->world);
}

static void warn_file(const char *msg, void *arg)
{
    (void)arg;
    WARN("warning: %s", msg);
}

static void track(struct pt_rank_totals *t, uint64_t start, uint64_t end)
{
    if (!t->first_ns || start < t->first_ns)
        t->first_ns = start;
    if (end > t->last_ns)
        t->last_ns = end;
}

static void per_rank(struct pt_rank_totals *t, const struct pt_event *ev, uint16_t kind,
                     const struct pt_ctx_string *name)
{
    if (kind == PT_REC_NCCL_CALL) {
        const struct pt_rec_nccl_call *c = (const void *)ev->rec;
        t->nccl_host_ns += c->t_exit_ns - c->t_enter_ns;
        t->nccl_calls++;
        track(t, c->t_enter_ns, c->t_exit_ns);
    } else if (kind == PT_REC_KERNEL) {
        const struct pt_rec_kernel *k = (const void *)ev->rec;
        uint64_t d = k->end_ns - k->start_ns;
        if (name && name->nccl)
            t->comm_kernel_ns += d;
        else
            t->other_kernel_ns += d;
        t->kernels++;
        track(t, k->start_ns, k->end_ns);
    }
}

/* Other hosts' clocks: estimated from the ends of the same collectives, unless trusted. */
static int align_clocks(struct pt_report *r, const struct pt_report_opts *o)
{
    r->shift = calloc(r->set.count ? r->set.count : 1, sizeof *r->shift);
    if (!r->shift || pt_clock_align_run(r->set.paths, r->set.count, &r->clocks) != 0)
        return -1;
    for (size_t i = 0; !o->trust_clocks && i < r->set.count; i++)
        if (r->clocks.host_of_file[i] > 0)
            r->shift[i] = r->clocks.hosts[r->clocks.host_of_file[i]].offset_ns;
    int alone = 0, first_alone = 0;
    for (int h = 1; !o->trust_clocks && h < r->clocks.n_hosts; h++) {
        const struct pt_clock_host *x = &r->clocks.hosts[h];
        if (!x->samples)
            first_alone = alone++ ? first_alone : h;
        else if (!o->quiet && r->clocks.n_hosts <= 8) /* one line per host, for a few hosts */
            pt_error("clock of host %s: %+.3f us against %s (residual %.3f us, %" PRIu64
                      " collectives)",
                    x->name, (double)x->offset_ns / 1e3, r->clocks.hosts[0].name,
                    (double)x->residual_ns / 1e3, x->samples);
    }
    if (!o->quiet && !o->trust_clocks && r->clocks.n_hosts > 8) {
        uint64_t worst = 0;
        for (int h = 1; h < r->clocks.n_hosts; h++)
            worst = r->clocks.hosts[h].residual_ns > worst ? r->clocks.hosts[h].residual_ns : worst;
        pt_error("clocks of %d hosts aligned to %s (largest residual %.3f us)",
                  r->clocks.n_hosts - alone, r->clocks.hosts[0].name, (double)worst / 1e3);
    }
    if (alone == 1)
        WARN("warning: host %s shares no collective with host %s: its clock is taken as is",
             r->clocks.hosts[first_alone].name, r->clocks.hosts[0].name);
    else if (alone)
        WARN("warning: %d of %d hosts (the first: %s) share no collective with host %s: their "
             "clocks are taken as is", alone, r->clocks.n_hosts, r->clocks.hosts[first_alone].name,
             r->clocks.hosts[0].name);
    return 0;
}

/* Names of NVTX ranges, for the HTML page's per-phase view (the first few distinct ones),
 * each with its first range in the run's time order (time, then file), which orders them at
 * the end of the pass (files may come in turns). */
static void note_phase(struct pt_report *r, const struct pt_event *ev)
{
    const struct pt_rec_nvtx *n = (const void *)ev->rec;
    struct pt_run_key at = {ev->ts_ns, ev->source};
    if ((n->event != PT_NVTX_PUSH && n->event != PT_NVTX_START) || !n->text_bytes ||
        n->text_bytes >= sizeof r->phase_names[0])
        return;
    for (int i = 0; i < r->n_phase_names; i++)
        if (strlen(r->phase_names[i]) == n->text_bytes && !memcmp(r->phase_names[i], n->text, n->text_bytes)) {
            if (pt_run_key_earlier(at, r->phase_first[i]))
                r->phase_first[i] = at;
            return;
        }
    if (r->n_phase_names == PT_REPORT_PHASES)
        return;
    r->phase_first[r->n_phase_names] = at;
    memcpy(r->phase_names[r->n_phase_names], n->text, n->text_bytes);
    r->phase_names[r->n_phase_names++][n->text_bytes] = 0;
}

/* The phase names in the order of their first ranges (stable: in time order already when the
 * files came in time order). */
static void order_phases(struct pt_report *r)
{
    for (int i = 1; i < r->n_phase_names; i++) {
        struct pt_run_key f = r->phase_first[i];
        char name[sizeof r->phase_names[0]];
        memcpy(name, r->phase_names[i], sizeof name);
        int j = i;
        for (; j > 0 && pt_run_key_earlier(f, r->phase_first[j - 1]); j--) {
            r->phase_first[j] = r->phase_first[j - 1];
            memcpy(r->phase_names[j], r->phase_names[j - 1], sizeof name);
        }
        r->phase_first[j] = f;
        memcpy(r->phase_names[j], name, sizeof name);
    }
}

/* The report's pass takes the files in turns of this much trace time (pt_run_take_turns):
 * a file's events of a turn come together, which keeps its records and state in cache. No
 * result depends on the order of different files' events (docs/METRICS.md, "Order"); 1 ms
 * was as fast as any length from 100 us to 5 ms, and faster than 10 ms. */
#define REPORT_TURN_NS 1000000ull

/* What the pass does with one event whose record is of kind `kind`: inlined once for each kind
 * that is most of a run (kernels, NCCL calls) with the kind a constant, so that none of the
 * analyses tests it again, and once for the others. */
static inline __attribute__((always_inline)) void take_event(struct pt_report *r, struct pt_report_opts *o,
                                                             struct pt_rank_window *rw, uint8_t *inside,
                                                             const struct pt_event *ev, uint16_t kind)
{
    if (kind == PT_REC_NVTX) {
        note_phase(r, ev);
        r->capture_ranges += pt_nvtx_is_capture_start((const struct pt_rec_nvtx *)ev->rec);
    }
    if (kind == PT_REC_COMM_INIT) {
        const struct pt_rec_comm_init *ci = (const void *)ev->rec;
        if (ci->device >= 0)
            r->totals[ev->source].gpu = ci->device;
        if (!ci->result)
            pt_outside_note_comm(r->outside, ev->source, ci->comm_id, ci->nranks);
    }
    const struct pt_ctx_string *name = NULL;
    if (kind == PT_REC_KERNEL)
        name = pt_trace_ctx_name(pt_source_ctx(r->run.sources[ev->source]),
                                 ((const struct pt_rec_kernel *)ev->rec)->name_id);
    /* inside[f]: pt_window_settled for file f, a flag of its own rather than the large
     * window state read at every event. */
    int in = inside[ev->source];
    if (!in) {
        in = pt_window_step(&o->window, &rw[ev->source], &r->attr[ev->source], ev);
        inside[ev->source] = (uint8_t)pt_window_settled(&o->window, &rw[ev->source]);
    }
    /* Every event feeds the painter (paused outside the window, so edges clip exactly); only
     * those inside count as collectives. */
    uint64_t comm = 0;
    if (!in && kind == PT_REC_NCCL_CALL)
        pt_collectives_note_call(r->c, ev);
    else
        comm = pt_collectives_add(r->c, &r->run, ev, kind, in);
    if (!comm && name && name->comm_class && !name->nccl) {
        const struct pt_rec_kernel *k = (const void *)ev->rec;
        comm = outside_nccl_comm(name->comm_class);
        pt_outside_add(r->outside, ev->source, name->comm_class, k->start_ns, k->end_ns, in);
    }
    pt_attr_add(r->attr, ev, kind, name, comm);
    if (!in)
        return;
    per_rank(&r->totals[ev->source], ev, kind, name);
    if (kind == PT_REC_NVTX && ((const struct pt_rec_nvtx *)ev->rec)->event == PT_NVTX_MARK) {
        const struct pt_rec_nvtx *mark = (const void *)ev->rec;
        pt_requests_mark(&r->requests, ev->source, mark->text, mark->text_bytes, mark->ts_ns);
    }
    if (kind == PT_REC_METRIC) {
        const struct pt_rec_metric *m = (const void *)ev->rec;
        pt_serving_add(&r->serving, ev->source, m,
                       pt_trace_ctx_string(pt_source_ctx(r->run.sources[ev->source]), m->series_id));
    }
    r->gpu |= kind == PT_REC_KERNEL;
}

/* The loop of the pass over the merged events, compiled twice: with the export's timeline and
 * without it (the report), whose loop then has no test for it at every event. Returns the last
 * event's time. Flattened (read_run): every analysis an event goes through (and the merge under
 * them) is compiled into this loop, which spares the calls and returns between them. */
static inline __attribute__((always_inline)) uint64_t pass(struct pt_report *r, struct pt_report_opts *o,
                                                           struct pt_rank_window *rw, uint8_t *inside,
                                                           const int timeline)
{
    struct pt_event ev;
    uint64_t last_ts = 0;
    while (pt_run_next(&r->run, &ev)) {
        if (timeline && o->timeline) {
            if (!last_ts && pt_timeline_init(&r->timeline, r->run.n, ev.ts_ns) != 0)
                o->timeline = 0; /* out of memory: the export goes without these counters */
            else
                pt_timeline_step(&r->timeline, r->attr, ev.ts_ns);
        }
        last_ts = ev.ts_ns > last_ts ? ev.ts_ns : last_ts;
        switch (ev.rec->kind) {
        case PT_REC_KERNEL:
            take_event(r, o, rw, inside, &ev, PT_REC_KERNEL);
            break;
        case PT_REC_NCCL_CALL:
            take_event(r, o, rw, inside, &ev, PT_REC_NCCL_CALL);
            break;
        default:
            take_event(r, o, rw, inside, &ev, ev.rec->kind);
            break;
        }
    }
    return last_ts;
}

/* The pass over the merged events. Returns the last event's time. */
__attribute__((flatten)) static uint64_t read_run(struct pt_report *r, struct pt_report_opts *o,
                                                  struct pt_rank_window *rw, uint8_t *inside)
{
    uint64_t last_ts = o->timeline ? pass(r, o, rw, inside, 1) : pass(r, o, rw, inside, 0);
    pt_collectives_finish(r->c);
    order_phases(r);
    pt_attr_finish(r->attr, r->run.n);
    if (o->timeline)
        pt_timeline_finish(&r->timeline, r->attr, last_ts);
    return last_ts;
}

/* The kernels outside NCCL, grouped by the NCCL communicators' roles and matched; then the
 * roles and layout again, with their groups. */
static int match_outside_nccl(struct pt_report *r)
{
    int32_t *rank = malloc((r->n ? r->n : 1) * sizeof *rank);
    if (!rank)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        rank[i] = r->totals[i].rank;
    int added = pt_outside_match(r->outside, r->c, r->roles, rank);
    free(rank);
    if (pt_outside_dropped(r->outside))
        WARN("warning: %" PRIu64 " communication kernels outside NCCL were left out of the matching "
             "(more than a rank's kernels the report keeps per class); instances after them are not matched",
             pt_outside_dropped(r->outside));
    pt_outside_free(r->outside);
    r->outside = NULL;
    if (added <= 0)
        return added;
    struct pt_role *roles = realloc(r->roles, (pt_collectives_count(r->c) + 1) * sizeof *roles);
    if (!roles)
        return -1;
    r->roles = roles;
    pt_topology_infer(r->c, r->world, r->roles, &r->layout);
    warn_missing_ranks_from(r->c, pt_collectives_count(r->c) - (size_t)added);
    return 0;
}

static int build(const char *path, struct pt_report_opts *o, struct pt_report *r)
{
    memset(r, 0, sizeof *r);
    pt_requests_init(&r->requests);
    pt_serving_init(&r->serving);
    silent = o->again;
    char err[1024];
    if (pt_trace_set_open(path, &r->set, err, sizeof err) != 0) {
        pt_error("%s", err);
        return 1;
    }
    if (r->set.warning[0])
        WARN("warning: %s", r->set.warning);
    if (align_clocks(r, o) != 0) {
        pt_error("out of memory");
        return 1;
    }
    if (pt_run_open(r->set.paths, r->set.count, r->shift, &r->run, warn_file, NULL) != 0) {
        pt_error("%s: no trace could be read", path);
        return 1;
    }
    /* Files in turns (run_merge.h), unless the pass also paints the attribution over time,
     * which steps the whole run's clock. PARTRACE_REPORT_TURNS=0: strict time order. */
    if (!o->timeline && pt_settings()->report_turns)
        pt_run_take_turns(&r->run, REPORT_TURN_NS);
    size_t n = r->n = r->run.n;
    r->c = pt_collectives_new(&r->run);
    r->outside = pt_outside_new(n);
    r->totals = calloc(n, sizeof *r->totals);
    r->attr = calloc(n, sizeof *r->attr);
    r->by_rank = malloc(n * sizeof *r->by_rank);
    struct pt_rank_window *rw = calloc(n, sizeof *rw);
    uint8_t *inside = calloc(n, 1);
    if (!r->c || !r->outside || !r->totals || !r->attr || !r->by_rank || !rw || !inside) {
        free(rw);
        free(inside);
        pt_error("out of memory");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        r->totals[i].rank = r->run.rank[i] >= 0 ? r->run.rank[i] : (int32_t)i;
        r->totals[i].gpu = -1;
        r->totals[i].host = pt_source_header(r->run.sources[i])->host;
    }
    uint64_t last_ts = read_run(r, o, rw, inside);
    free(rw);
    free(inside);
    for (size_t i = 0; i < n; i++)
        r->world += r->totals[i].first_ns != 0;
    for (size_t i = 0; i < n; i++) {
        const char *w = pt_source_warning(r->run.sources[i]);
        if (w)
            WARN("warning: %s", w);
        if (pt_source_late(r->run.sources[i]))
            WARN("warning: %s: %" PRIu64 " records came later than the reorder window; "
                      "they were counted out of order", r->set.paths[i], pt_source_late(r->run.sources[i]));
    }
    warn_missing_ranks_from(r->c, 0);
    if (pt_collectives_cut(r->c))
        WARN("warning: %" PRIu64 " NCCL calls were left out of the matching across ranks (a "
             "communicator of more than %d ranks, a rank or sequence number too large to key, or "
             "out of memory)", pt_collectives_cut(r->c), PT_MAX_RANKS);
    if (r->capture_ranges && !o->window.phase)
        WARN("note: the GPU was recorded only inside %" PRIu64 " capture ranges, all ranks (cudaProfilerStart/Stop, "
             "PARTRACE_CUDA_CAPTURE=profiler): time between them counts as idle; --phase %s reports "
             "the ranges alone", r->capture_ranges, PT_CAPTURE_RANGE_NAME);
    const struct pt_window *win = &o->window;
    r->windowed = win->from_s > 0 || win->to_s >= 0 || win->phase;
    if (r->windowed && !r->world) {
        char w[512];
        pt_report_describe_window(win, w, sizeof w);
        char names[400] = "";
        size_t at = 0;
        for (int k = 0; win->phase && k < r->n_phase_names && at < sizeof names; k++)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s'%s'", k ? ", " : "; its NVTX ranges: ",
                                   r->phase_names[k]);
        if (win->phase && !r->n_phase_names)
            snprintf(names, sizeof names, "; it has no NVTX ranges");
        WARN("%s: nothing of the run falls inside the window (%s); the run spans %.3f s%s", path,
                  w, (double)(last_ts - win->run_start) / 1e9, names);
        return 1;
    }
    for (size_t i = 0; i < n; i++) { /* insertion sort: ranks are few */
        size_t j = i;
        while (j > 0 && r->totals[r->by_rank[j - 1]].rank > r->totals[i].rank) {
            r->by_rank[j] = r->by_rank[j - 1];
            j--;
        }
        r->by_rank[j] = i;
    }
    r->roles = calloc(pt_collectives_count(r->c) + 1, sizeof *r->roles);
    if (!r->roles) {
        pt_error("out of memory");
        return 1;
    }
    pt_topology_infer(r->c, r->world, r->roles, &r->layout);
    if (match_outside_nccl(r) != 0) {
        pt_error("out of memory");
        return 1;
    }
    apply_layout(&r->layout, &o->given, &r->layout_given);
    return 0;
}

void pt_report_seed(const struct pt_report *r, double *gpu_busy_pct, double *exposed_comm_pct)
{
    double pct[PT_CATS];
    uint64_t ns[PT_CATS];
    int ranks = pt_report_mean_shares(r, pct, ns, NULL);
    *gpu_busy_pct = ranks ? 100.0 - pct[PT_CAT_IDLE] : 0.0;
    *exposed_comm_pct = pct[PT_CAT_TP] + pct[PT_CAT_PP] + pct[PT_CAT_EP] + pct[PT_CAT_OTHER];
}

int pt_report_build(const char *path, struct pt_report_opts *o, struct pt_report *r)
{
    int status = build(path, o, r);
    if (status != 0)
        pt_report_free(r); /* what a failed build had opened (found by fuzzing) */
    return status;
}

void pt_report_free(struct pt_report *r)
{
    pt_requests_free(&r->requests);
    pt_serving_free(&r->serving);
    pt_timeline_free(&r->timeline);
    if (r->attr)
        pt_attr_free(r->attr, r->n);
    free(r->attr);
    free(r->by_rank);
    free(r->roles);
    free(r->totals);
    pt_collectives_free(r->c);
    pt_outside_free(r->outside);
    if (r->run.sources)
        pt_run_close(&r->run);
    if (r->shift)
        pt_clock_align_free(&r->clocks);
    free(r->shift);
    pt_trace_set_free(&r->set);
    memset(r, 0, sizeof *r);
}

int pt_report_serving(const struct pt_report *r, struct pt_report_serving *out)
{
    struct pt_request_stats q;
    int scraped = pt_serving_stats(&r->serving, &out->s);
    if (pt_requests_stats(&r->requests, &q)) {
        out->source = "nvtx";
        out->s.requests = (double)q.requests;
        memcpy(out->s.ttft_ms, q.ttft_ms, sizeof q.ttft_ms);
        memcpy(out->s.tpot_ms, q.tpot_ms, sizeof q.tpot_ms);
        out->s.output_tokens_per_s = q.tokens_per_s;
        if (!scraped) {
            out->s.kv_hit_rate = out->s.kv_usage_max = NAN;
            out->s.running_max = out->s.waiting_max = NAN;
        }
        if (q.with_prefix)
            out->s.kv_hit_rate = q.kv_hit_rate;
        return 1;
    }
    out->source = "prometheus";
    return scraped;
}
