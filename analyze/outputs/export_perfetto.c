/* `partrace export --perfetto`: a run as a Perfetto trace. One process track per rank (in rank
 * order, named with rank, coordinates, host:pid and GPU), a "GPU" group in it with one track
 * per CUDA stream (kernels, copies, memsets), its host threads (NCCL calls, NVTX ranges), a
 * device-memory counter per GPU; a flow from each NCCL call to its kernel, and the same
 * collective on every rank sharing one correlation id. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"
#include "util/demangle.h"
#include "outputs/export_common.h"
#include "outputs/exporter.h"
#include "format/names.h"
#include "analyses/outside_nccl.h"

/* Recent NCCL calls, to describe their kernels: 4-way sets, the oldest entry of a set replaced.
 * A kernel can start a thousand calls after its own (the host runs ahead of the GPU). The sets
 * start few and double when one would lose an entry, up to CALL_CACHE entries: a short run
 * does not pay for a long one's cache, and nothing is replaced earlier than at full size. */
#define CALL_WAYS 4u
#define CALL_CACHE 65536u
#define FIRST_CALL_SETS 64u

static void describe_process(struct exporter *x, size_t file, int32_t order)
{
    char name[256];
    pt_export_process_name(&x->rep, file, name, sizeof name);
    int fresh;
    uint64_t proc = pt_xp_new_track(x, file, TRACK_PROCESS, 0, &fresh);
    pt_pf_process_track(&x->out, proc, x->pid[file], name, order);
    pt_pf_track(&x->out, pt_xp_new_track(x, file, TRACK_GPU, 0, &fresh), proc, "GPU", 0);
}

/* The entry of (file, call), or NULL. */
static struct call_info *call_find(struct exporter *x, size_t file, uint64_t call)
{
    uint64_t key = pt_mix64(file + 1, call);
    if (!x->call_sets)
        return NULL;
    struct call_info *set = &x->calls[(key >> 1) % x->call_sets * CALL_WAYS];
    for (unsigned w = 0; w < CALL_WAYS; w++)
        if (set[w].key == key)
            return &set[w];
    return NULL;
}

/* Doubles the sets. An entry moves to set (key >> 1) % sets: a new set takes entries of one
 * old set only, so none is lost. Returns 0, -1 when out of memory. */
static int grow_calls(struct exporter *x)
{
    size_t sets = x->call_sets ? x->call_sets * 2 : FIRST_CALL_SETS;
    struct call_info *calls = calloc(sets * CALL_WAYS, sizeof *calls);
    if (!calls)
        return -1;
    for (size_t i = 0; i < x->call_sets * CALL_WAYS; i++) {
        if (!x->calls[i].key)
            continue;
        struct call_info *set = &calls[(x->calls[i].key >> 1) % sets * CALL_WAYS];
        unsigned w = 0;
        while (w + 1 < CALL_WAYS && set[w].key)
            w++;
        set[w] = x->calls[i];
    }
    free(x->calls);
    x->calls = calls, x->call_sets = sets;
    return 0;
}

/* A fresh entry for (file, call), in place of its set's oldest; NULL when out of memory. */
static struct call_info *call_store(struct exporter *x, size_t file, uint64_t call)
{
    uint64_t key = pt_mix64(file + 1, call);
    if (!x->call_sets && grow_calls(x))
        return NULL;
    struct call_info *set, *old;
    for (;;) {
        set = &x->calls[(key >> 1) % x->call_sets * CALL_WAYS], old = set;
        for (unsigned w = 1; w < CALL_WAYS; w++)
            if (set[w].stamp < old->stamp)
                old = &set[w];
        if (!old->key || x->call_sets * CALL_WAYS >= CALL_CACHE || grow_calls(x))
            break;
    }
    memset(old, 0, sizeof *old);
    old->key = key;
    old->stamp = ++x->call_stamp;
    return old;
}

/* Correlation id of one collective instance: the same on every rank that took part. Small
 * numbers (a varint of 3-5 bytes instead of a 10-byte hash): the communicator's index and the
 * op in the low bits, the sequence number above them. A communicator the report did not see
 * gets a hash, with the top bit set so it never meets a small one. */
static uint64_t instance_id(const struct exporter *x, uint64_t comm, uint16_t op, uint64_t seq)
{
    uint64_t slots = pt_collectives_count(x->rep.c) + 1;
    long at = pt_collectives_find(x->rep.c, comm);
    if (at >= 0 && seq < (1ull << 40))
        return 1 + (seq * slots + (uint64_t)at + 1) * 16 + (op & 15);
    return pt_mix64(pt_mix64(comm, op), seq) | 1ull << 63;
}

/* The communicator as `partrace report` names it, in hex[17] (by hand: snprintf per slice
 * was a twelfth of the export's time). */
static const char *comm_hex(uint64_t comm, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, comm >>= 4)
        hex[i] = digits[comm & 15];
    hex[16] = 0;
    return hex;
}

static size_t call_args(struct exporter *x, const struct call_info *c, struct pt_pf_arg *a)
{
    long at = pt_collectives_find(x->rep.c, c->comm);
    int known = at >= 0;
    char hex[17];
    size_t n = 0;
    a[n++] = pt_xp_uint_arg(x, A_BYTES, c->bytes);
    a[n++] = pt_xp_string_arg(x, A_DTYPE, &x->ids.dtype[c->dtype], pt_dtype_name(c->dtype));
    a[n++] = pt_xp_string_arg(x, A_COMM, known ? &x->ids.comm_hex[at] : NULL, comm_hex(c->comm, hex));
    a[n++] = pt_xp_string_arg(x, A_ROLE, known ? &x->ids.role[at] : NULL,
                        known ? x->rep.roles[at].role : "unknown");
    a[n++] = pt_xp_uint_arg(x, A_SEQ, c->seq);
    if (c->peer >= 0) {
        uint64_t name = pt_xp_arg_name(x, A_PEER);
        a[n++] = (struct pt_pf_arg){.name = name, .kind = PT_PF_INT, .i = c->peer};
    }
    return n;
}

/* The nranks of a communicator the report saw, else what the call says. */
static int32_t comm_size(const struct exporter *x, uint64_t comm, int32_t said)
{
    long at = pt_collectives_find(x->rep.c, comm);
    return at >= 0 ? pt_collectives_comm(x->rep.c, (size_t)at)->nranks : said;
}

/* Every file's calls are remembered (a kernel finds its call; an instance counts every rank's
 * arrival, exported or not); the slice goes out for exported files only. */
static void on_call(struct exporter *x, size_t file, const struct pt_rec_nccl_call *r)
{
    if (r->op == PT_OP_GroupStart || r->op == PT_OP_GroupEnd || r->op == PT_OP_GroupSimulateEnd)
        return;
    struct call_info scratch = {0}, *c = call_store(x, file, r->call_id);
    if (!c) /* out of memory: the slice still goes out, its kernel will not find it */
        c = &scratch;
    c->comm = r->comm_id, c->seq = r->seq, c->bytes = r->bytes;
    c->op = r->op, c->dtype = r->dtype, c->peer = r->peer;
    c->nranks = comm_size(x, r->comm_id, r->nranks);
    int coll = pt_op_is_collective(r->op);
    uint64_t instance = coll && r->comm_id ? instance_id(x, r->comm_id, r->op, r->seq) : 0;
    /* Without GPU records the calls themselves are the instance's times (the report's rule). */
    uint64_t timed = instance && !x->rep.gpu ? instance : 0;
    if (timed)
        pt_xinst_arrive(&x->inst, timed, r->op, pt_total_bytes(r->op, r->bytes, c->nranks), c->nranks,
                        r->t_enter_ns);
    if (!x->keep[file])
        return;
    uint64_t name = pt_xp_interned(x, &x->ids.op[r->op < PT_OP_LIMIT ? r->op : PT_OP_LIMIT], PT_PF_EVENT_NAME,
                             pt_op_name(r->op));
    uint64_t cat = pt_xp_category(x, C_NCCL);
    struct pt_pf_arg a[12];
    size_t n = call_args(x, c, a);
    uint64_t flow = coll || r->op == PT_OP_Send || r->op == PT_OP_Recv ? pt_mix64(file + 1, r->call_id) : 0;
    struct slice_spec sp = {.track = pt_xp_file_track(x, file, TRACK_THREAD, r->hdr.tid),
                            .start = r->t_enter_ns,
                            .end = r->t_exit_ns, .category = cat, .name = name, .args = a, .n_args = n,
                            .flow_out = flow, .correlation = instance, .instance = timed};
    c->flowed = pt_xp_slice(x, &sp) && flow;
}

static uint64_t outside_key(size_t file, const char *cls) { return pt_mix64(file + 1, (uint64_t)(uintptr_t)cls); }

/* The groups of kernels outside NCCL the report found, by (file, class) of their members. */
static void map_outside_groups(struct exporter *x)
{
    for (size_t i = 0; i < pt_collectives_count(x->rep.c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(x->rep.c, i);
        for (int32_t m = 0; s->outside_class && m < s->members_cap; m++)
            for (size_t f = 0; s->member_rank[m] >= 0 && f < x->rep.n; f++)
                if (pt_report_rank_of(&x->rep, f) == s->member_rank[m])
                    pt_u64_map_put(&x->outside_group, outside_key(f, s->outside_class), i + 1);
    }
}

/* A kernel of a class outside NCCL: the n-th of its file and class is instance n of its group
 * (the report's order matching). Returns the instance's key, 0 when in no group. */
static uint64_t outside_arrive(struct exporter *x, size_t file, const char *cls, const struct pt_rec_kernel *k)
{
    uint64_t key = outside_key(file, cls), at, n = 0;
    if (!pt_u64_map_get(&x->outside_group, key, &at))
        return 0;
    pt_u64_map_get(&x->outside_seen, key, &n);
    pt_u64_map_put(&x->outside_seen, key, n + 1);
    const struct pt_comm_stats *s = pt_collectives_comm(x->rep.c, at - 1);
    uint64_t instance = pt_mix64(s->id, n + 1);
    pt_xinst_arrive(&x->inst, instance, pt_outside_op(cls), 0, s->nranks, k->start_ns);
    return instance;
}

static void on_kernel(struct exporter *x, size_t file, const struct pt_rec_kernel *k)
{
    const struct pt_trace_ctx *ctx = pt_source_ctx(x->run.sources[file]);
    uint64_t call = pt_trace_ctx_kernel_call(ctx, k);
    struct call_info *c = call ? call_find(x, file, call) : NULL;
    uint64_t correlation = c && pt_op_is_collective(c->op) && c->comm ? instance_id(x, c->comm, c->op, c->seq) : 0;
    uint64_t timed = 0;
    if (correlation) { /* with GPU records, the kernels are the instance's times */
        timed = pt_xinst_key(&x->inst, correlation, file, k->graph_node_id);
        pt_xinst_arrive(&x->inst, timed, c->op, pt_total_bytes(c->op, c->bytes, c->nranks), c->nranks,
                        k->start_ns);
    }
    const char *cls = call ? NULL : pt_trace_ctx_comm_class(ctx, k->name_id);
    if (cls && !correlation)
        correlation = timed = outside_arrive(x, file, cls, k);
    if (!x->keep[file])
        return;
    struct pt_pf_arg a[12];
    size_t n = 0;
    uint64_t flow_in = 0, key = pt_mix64(file + 1, k->name_id), name;
    if (!pt_u64_map_get(&x->ids.kernel, key, &name)) {
        char text[256];
        pt_demangle_name(pt_trace_ctx_string(ctx, k->name_id), text, sizeof text);
        name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
        pt_u64_map_put(&x->ids.kernel, key, name);
    }
    uint64_t cat = pt_xp_category(x, call ? C_NCCL_KERNEL : cls ? C_COMM_KERNEL : C_KERNEL);
    if (c) {
        n = call_args(x, c, a);
        /* A flow is "this call launched this kernel": eager kernels only (a graph replays the
         * captured call's node many times), and only when the call is in the export. */
        flow_in = c->flowed && !k->graph_node_id ? pt_mix64(file + 1, call) : 0;
    }
    /* No "device" argument: the stream's track sits in its rank's GPU group, which names it. */
    if (k->graph_node_id)
        a[n++] = pt_xp_uint_arg(x, A_GRAPH_NODE, k->graph_node_id);
    struct slice_spec sp = {.track = pt_xp_file_track(x, file, TRACK_STREAM, k->stream),
                            .start = k->start_ns, .end = k->end_ns,
                            .category = cat, .name = name, .args = a, .n_args = n, .flow_in = flow_in,
                            .correlation = correlation, .instance = timed};
    pt_xp_slice(x, &sp);
}

static void on_copy(struct exporter *x, size_t file, const struct pt_rec_hdr *h)
{
    struct pt_pf_arg a[4];
    if (h->kind == PT_REC_MEMCPY) {
        const struct pt_rec_memcpy *m = (const void *)h;
        uint64_t *slot = &x->ids.copy[m->copy_kind];
        if (!*slot) {
            char name[48];
            snprintf(name, sizeof name, "Memcpy %s", pt_copy_kind_name(m->copy_kind));
            *slot = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, name);
        }
        uint64_t cat = pt_xp_category(x, C_MEMCPY);
        a[0] = pt_xp_uint_arg(x, A_BYTES, m->bytes);
        struct slice_spec sp = {.track = pt_xp_file_track(x, file, TRACK_STREAM, m->stream), .start = m->start_ns,
                                .end = m->end_ns, .category = cat, .name = *slot, .args = a, .n_args = 1};
        pt_xp_slice(x, &sp);
    } else {
        const struct pt_rec_memset *m = (const void *)h;
        uint64_t name = pt_xp_interned(x, &x->ids.memset, PT_PF_EVENT_NAME, "Memset");
        uint64_t cat = pt_xp_category(x, C_MEMSET);
        a[0] = pt_xp_uint_arg(x, A_BYTES, m->bytes);
        struct slice_spec sp = {.track = pt_xp_file_track(x, file, TRACK_STREAM, m->stream), .start = m->start_ns,
                                .end = m->end_ns, .category = cat, .name = name, .args = a, .n_args = 1};
        pt_xp_slice(x, &sp);
    }
}

static void on_memory(struct exporter *x, size_t file, const struct pt_rec_memory *m)
{
    if (m->device >= 64 || m->ts_ns < x->from_ns || (x->to_ns && m->ts_ns >= x->to_ns))
        return;
    double *in_use = &x->mem_in_use[file * 64 + m->device];
    *in_use += m->operation == 1 ? (double)m->bytes : -(double)m->bytes;
    if (*in_use < 0)
        *in_use = 0; /* freed what was allocated before the trace began */
    uint64_t track = pt_xp_file_track(x, file, TRACK_MEMORY, m->device);
    pt_xp_flush_ends(x, m->ts_ns);
    pt_pf_counter_int(&x->out, m->ts_ns, track, (int64_t)*in_use);
    x->st->counters++;
}

/* The report's summary as one slice over the run on a top track: layout and mean shares. */
static void summary_slice(struct exporter *x, uint64_t first, uint64_t last)
{
    double pct[PT_CATS];
    uint64_t ns[PT_CATS];
    int ranks = pt_report_mean_shares(&x->rep, pct, ns, NULL);
    struct pt_pf_arg a[16];
    size_t n = 0;
    const struct pt_layout *l = &x->rep.layout;
    uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, "run"), cat = pt_xp_category(x, C_SUMMARY);
    const char *axes[] = {"tp", "pp", "dp", "ep", "world"};
    const int sizes[] = {l->tp, l->pp, l->dp, l->ep, l->world};
    for (int k = 0; k < 5; k++)
        a[n++] = (struct pt_pf_arg){.name = pt_pf_intern(&x->out, PT_PF_ARG_NAME, axes[k]), .kind = PT_PF_INT,
                                    .i = sizes[k]};
    for (int k = 0; ranks && k < PT_CATS; k++)
        a[n++] = (struct pt_pf_arg){.name = pt_pf_intern(&x->out, PT_PF_ARG_NAME, pt_cat_names[k]),
                                    .kind = PT_PF_DOUBLE, .d = pct[k]};
    uint64_t track = pt_xp_track_uuid(x, 0, TRACK_SUMMARY, 0);
    int fresh;
    pt_xp_track_get(x, track, &fresh);
    pt_pf_track(&x->out, track, 0, "partrace report (mean % of GPU time)", -1);
    struct slice_spec sp = {.track = track, .start = first, .end = last, .category = cat, .name = name,
                            .args = a, .n_args = n};
    pt_xp_slice(x, &sp);
}

static void free_exporter(struct exporter *x)
{
    pt_run_close(&x->run);
    pt_report_free(&x->rep);
    free(x->tracks);
    free(x->heap);
    free(x->calls);
    free(x->keep);
    free(x->pid);
    free(x->mem_in_use);
    free(x->rw);
    pt_attr_free(x->attr_dummy, x->rep.n);
    free(x->attr_dummy);
    pt_u64_map_free(&x->track_index);
    pt_u64_map_free(&x->uuids);
    pt_u64_map_free(&x->outside_group);
    pt_u64_map_free(&x->outside_seen);
    pt_u64_map_free(&x->ids.kernel);
    pt_xinst_free(&x->inst);
    free(x->tl.last);
    free(x->tl.shown);
    free(x->tl.comm_cat);
    free(x->lanes_busy);
    free(x->ids.comm_hex);
    free(x->ids.role);
}

static int export_perfetto(const struct pt_output_opts *o, struct pt_export_stats *st)
{
    static struct exporter zero;
    struct exporter *x = calloc(1, sizeof *x);
    if (!x)
        return 1;
    *x = zero;
    memset(st, 0, sizeof *st);
    x->st = st;
    /* Pass 1: the report, for ranks, roles, layout, coordinates and clocks. */
    struct pt_report_opts ro = {.window = {.from_s = 0, .to_s = -1}, .quiet = 1, .timeline = 1};
    if (pt_report_build(o->run, &ro, &x->rep) != 0) {
        free(x);
        return 1;
    }
    size_t n = x->rep.n;
    x->keep = calloc(n, 1);
    x->pid = calloc(n, sizeof *x->pid);
    x->mem_in_use = calloc(n * 64, sizeof *x->mem_in_use);
    x->rw = calloc(n, sizeof *x->rw);
    x->attr_dummy = calloc(n, sizeof *x->attr_dummy);
    x->ids.comm_hex = calloc(pt_collectives_count(x->rep.c) + 1, sizeof *x->ids.comm_hex);
    x->ids.role = calloc(pt_collectives_count(x->rep.c) + 1, sizeof *x->ids.role);
    x->lanes_busy = calloc(n, sizeof *x->lanes_busy);
    int status = 1;
    if (!x->keep || !x->pid || !x->mem_in_use || !x->rw || !x->attr_dummy || !x->ids.comm_hex || !x->ids.role ||
        !x->lanes_busy || pt_xp_timeline_start(x) != 0)
        goto out;
    if (pt_export_keep(&x->rep, o->ranks, x->keep) != 0) {
        status = 2;
        goto out;
    }
    map_outside_groups(x);
    char err[600];
    if (pt_run_open(x->rep.set.paths, x->rep.set.count, x->rep.shift, &x->run, NULL, NULL) != 0) {
        pt_error("%s: no trace file could be read", o->run);
        goto out;
    }
    if (pt_pf_open(&x->out, o->out, o->gz, o->force, err, sizeof err) != 0) {
        pt_error("%s", err);
        goto out;
    }
    /* Ranks in order, then processes that made no NCCL call (a launcher, say). */
    size_t order = 0;
    for (int ranked = 1; ranked >= 0; ranked--)
        for (size_t k = 0; k < n; k++) {
            size_t i = x->rep.by_rank[k];
            if (pt_report_is_rank(&x->rep, i) != ranked)
                continue;
            x->pid[i] = (int32_t)++order;
            if (x->keep[i])
                describe_process(x, i, (int32_t)order);
        }
    struct pt_window w = o->window;
    struct pt_event ev;
    uint64_t first = 0, last = 0;
    while (pt_run_next(&x->run, &ev)) {
        st->events_in++;
        if (!first) {
            first = ev.ts_ns;
            x->from_ns = first + (uint64_t)(w.from_s * 1e9);
            x->to_ns = w.to_s >= 0 ? first + (uint64_t)(w.to_s * 1e9) : 0;
            uint64_t end = first;
            for (size_t i = 0; i < n; i++)
                end = x->rep.totals[i].last_ns > end ? x->rep.totals[i].last_ns : end;
            summary_slice(x, first, end);
        }
        last = ev.ts_ns > last ? ev.ts_ns : last;
        pt_xp_timeline_until(x, ev.ts_ns);
        size_t f = ev.source;
        if (w.phase && !pt_window_step(&w, &x->rw[f], &x->attr_dummy[f], &ev))
            continue;
        const struct pt_rec_hdr *h = ev.rec;
        if (h->kind == PT_REC_NCCL_CALL)
            on_call(x, f, (const void *)h);
        else if (h->kind == PT_REC_KERNEL)
            on_kernel(x, f, (const void *)h);
        if (!x->keep[f])
            continue;
        switch (h->kind) {
        case PT_REC_MEMCPY:
        case PT_REC_MEMSET: on_copy(x, f, h); break;
        case PT_REC_NVTX: pt_xp_on_nvtx(x, f, (const void *)h); break;
        case PT_REC_MEMORY: on_memory(x, f, (const void *)h); break;
        default: break;
        }
    }
    pt_xp_timeline_until(x, UINT64_MAX);
    pt_xp_finish(x, last);
    st->packets = x->out.packets;
    st->bytes = x->out.bytes;
    if (pt_pf_close(&x->out) != 0)
        pt_error("%s: writing failed (disk full?)", o->out);
    else
        status = 0;
out:
    free_exporter(x);
    free(x);
    return status;
}

const struct pt_output pt_output_perfetto = {.name = "perfetto", .trace = export_perfetto};
