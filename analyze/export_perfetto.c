#include "export_perfetto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demangle.h"
#include "export_common.h"
#include "export_instances.h"
#include "names.h"
#include "perfetto_out.h"
#include "report_build.h"
#include "u64_map.h"

#define MAX_DEPTH 32       /* slices open at once on one track */
#define MAX_OPEN_RANGES 256 /* NVTX start/end ranges open at once, all files; more are left out */
/* Recent NCCL calls, to describe their kernels: 4-way sets, the oldest entry of a set replaced.
 * A kernel can start a thousand calls after its own (the host runs ahead of the GPU). The sets
 * start few and double when one would lose an entry, up to CALL_CACHE entries: a short run
 * does not pay for a long one's cache, and nothing is replaced earlier than at full size. */
#define CALL_WAYS 4u
#define CALL_CACHE 65536u
#define FIRST_CALL_SETS 64u

/* A track's open slices: their ends, innermost last (UINT64_MAX: an NVTX push not yet popped). */
struct track {
    uint64_t uuid;
    uint64_t ends[MAX_DEPTH];
    int depth;
};

/* An END waiting for its time; depth orders ENDs of one time on one track innermost first. */
struct pending_end {
    uint64_t ts;
    uint32_t track; /* index in exporter.tracks */
    int depth;
    uint64_t instance, arrival; /* a collective's instance key (0: none) and this rank's arrival */
};

/* A slice to write: where, when, what, and how it links to others. */
struct slice_spec {
    uint64_t track, start, end, category, name;
    struct pt_pf_arg *args;  /* room for one more (clipped) */
    size_t n_args;
    uint64_t flow_out, flow_in, correlation;
    uint64_t instance;       /* the collective instance it takes part in (0: none): its end
                              * carries this rank's wait and transfer */
};

struct call_info {
    uint64_t key;          /* (file, call id) mixed; 0: empty */
    uint64_t stamp;        /* when it was stored: the oldest of a set goes first */
    uint64_t comm, seq, bytes;
    uint16_t op;
    uint8_t dtype;
    uint8_t flowed;        /* its slice went out with a flow: its kernel may end it */
    int32_t peer, nranks;
};

/* Argument names and categories, interned once per export (ids in struct exporter). */
enum arg_name {
    A_BYTES, A_DTYPE, A_COMM, A_ROLE, A_SEQ, A_PEER, A_GRAPH_NODE, A_CLIPPED,
    A_WAIT, A_TRANSFER, A_ALGBW, A_BUSBW, N_ARG_NAMES
};
static const char *const arg_names[N_ARG_NAMES] = {
    "bytes", "dtype", "communicator", "role", "seq", "peer", "graph_node", "clipped",
    "wait_ns", "transfer_ns", "algbw_gbps", "busbw_gbps"};
enum category { C_NCCL, C_KERNEL, C_COMM_KERNEL, C_NCCL_KERNEL, C_MEMCPY, C_MEMSET, C_NVTX, C_SUMMARY, N_CATEGORIES };
static const char *const category_names[N_CATEGORIES] = {"nccl",   "kernel", "comm_kernel", "nccl_kernel",
                                                         "memcpy", "memset", "nvtx",        "summary"};

/* Interned ids of the names and values slices repeat, 0 until first used: a slice costs no
 * hashing of strings (and no demangling, no formatting) once its names are known. */
struct name_ids {
    uint64_t arg[N_ARG_NAMES], category[N_CATEGORIES];
    uint64_t op[PT_OP_LIMIT + 1], dtype[256], copy[256], memset;
    uint64_t *comm_hex, *role;      /* per communicator index (comm_index) */
    struct pt_u64_map kernel;       /* (file, name id) mixed → iid of the demangled name */
};

struct exporter {
    struct pt_pf_out out;
    struct name_ids ids;
    struct pt_report rep;
    struct pt_run run;
    struct track *tracks;
    size_t n_tracks, cap_tracks;
    struct pt_u64_map track_index;  /* uuid → index + 1 */
    struct pt_u64_map uuids;        /* (file, kind, id) mixed → uuid */
    uint64_t last_uuid;
    struct pending_end *heap;
    size_t n_heap, cap_heap;
    struct call_info *calls;        /* call_sets × CALL_WAYS */
    size_t call_sets;
    uint64_t call_stamp;
    struct pt_u64_map comm_index;   /* comm id → communicator index + 1 */
    uint8_t *keep;                  /* per file: exported (--ranks) */
    int32_t *pid;                   /* per file: the synthetic pid of its process track */
    double *mem_in_use;             /* per file × 64 devices */
    struct pt_rank_window *rw;
    struct pt_attr_rank *attr_dummy;
    uint64_t from_ns, to_ns;
    struct pt_xinst inst;           /* collective instances: arrivals, for wait and transfer */
    /* NVTX start/end ranges (not bound to a thread, free to overlap): each open one holds a lane,
     * a track of its process on which slices never overlap. */
    struct open_range {
        size_t file;
        uint64_t id;
        int lane;
    } ranges[MAX_OPEN_RANGES];
    size_t n_ranges;
    uint32_t *lanes_busy;           /* per file: bit per lane in use */
    size_t tl_next;                 /* the report's timeline: next bucket to write */
    int16_t *tl_last;               /* per file × series: the value written last (-1: none) */
    struct pt_export_stats *st;
};

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t h = (a ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
    h ^= b + 0x94d049bb133111ebull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 31)) * 0xd6e8feb96a8a2b35ull;
    return (h ^ (h >> 29)) | 1; /* never 0 */
}

enum { TRACK_PROCESS = 1, TRACK_GPU, TRACK_STREAM, TRACK_THREAD, TRACK_MEMORY, TRACK_SUMMARY, TRACK_TIMELINE,
       TRACK_RANGES };

/* The iid in *slot, interned from s on first use. */
static uint64_t interned(struct exporter *x, uint64_t *slot, enum pt_pf_space space, const char *s)
{
    if (!*slot)
        *slot = pt_pf_intern(&x->out, space, s);
    return *slot;
}

static uint64_t arg_name(struct exporter *x, enum arg_name a)
{
    return interned(x, &x->ids.arg[a], PT_PF_ARG_NAME, arg_names[a]);
}

static uint64_t category(struct exporter *x, enum category c)
{
    return interned(x, &x->ids.category[c], PT_PF_CATEGORY, category_names[c]);
}

/* Arguments; the name is interned before a string value, as Perfetto readers see them. */
static struct pt_pf_arg uint_arg(struct exporter *x, enum arg_name a, uint64_t v)
{
    return (struct pt_pf_arg){.name = arg_name(x, a), .kind = PT_PF_UINT, .u = v};
}

static struct pt_pf_arg string_arg(struct exporter *x, enum arg_name a, uint64_t *slot, const char *v)
{
    uint64_t name = arg_name(x, a), none = 0;
    return (struct pt_pf_arg){.name = name, .kind = PT_PF_STRING,
                              .u = interned(x, slot ? slot : &none, PT_PF_ARG_VALUE, v)};
}

/* Tracks get small uuids in order of first use (1, 2, ...): every event names its track, and a
 * small number takes one or two bytes where a hash would take ten. */
static uint64_t track_uuid(struct exporter *x, size_t file, int kind, uint64_t id)
{
    uint64_t key = mix(mix(file + 1, (uint64_t)kind), id), uuid;
    if (!pt_u64_map_get(&x->uuids, key, &uuid)) {
        uuid = ++x->last_uuid;
        pt_u64_map_put(&x->uuids, key, uuid);
    }
    return uuid;
}

/* The track of uuid, made (and its descriptor written) by describe when new. */
static struct track *track_get(struct exporter *x, uint64_t uuid, int *fresh)
{
    uint64_t at;
    *fresh = 0;
    if (pt_u64_map_get(&x->track_index, uuid, &at))
        return &x->tracks[at - 1];
    if (x->n_tracks == x->cap_tracks) {
        size_t cap = x->cap_tracks ? 2 * x->cap_tracks : 64;
        struct track *t = realloc(x->tracks, cap * sizeof *t);
        if (!t)
            return NULL;
        x->tracks = t, x->cap_tracks = cap;
    }
    struct track *t = &x->tracks[x->n_tracks++];
    memset(t, 0, sizeof *t);
    t->uuid = uuid;
    pt_u64_map_put(&x->track_index, uuid, x->n_tracks);
    *fresh = 1;
    return t;
}

static int end_before(const struct pending_end *a, const struct pending_end *b)
{
    return a->ts != b->ts ? a->ts < b->ts : a->depth > b->depth;
}

static void heap_push(struct exporter *x, struct pending_end e)
{
    if (x->n_heap == x->cap_heap) {
        size_t cap = x->cap_heap ? 2 * x->cap_heap : 256;
        struct pending_end *h = realloc(x->heap, cap * sizeof *h);
        if (!h)
            return;
        x->heap = h, x->cap_heap = cap;
    }
    size_t i = x->n_heap++;
    while (i && end_before(&e, &x->heap[(i - 1) / 2])) {
        x->heap[i] = x->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    x->heap[i] = e;
}

static struct pending_end heap_pop(struct exporter *x)
{
    struct pending_end top = x->heap[0], last = x->heap[--x->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= x->n_heap)
            break;
        if (c + 1 < x->n_heap && end_before(&x->heap[c + 1], &x->heap[c]))
            c++;
        if (!end_before(&x->heap[c], &last))
            break;
        x->heap[i] = x->heap[c];
        i = c;
    }
    if (x->n_heap)
        x->heap[i] = last;
    return top;
}

/* Writes every END due at or before t: packets must go out in time order. */
static void flush_ends(struct exporter *x, uint64_t t)
{
    while (x->n_heap && x->heap[0].ts <= t) {
        struct pending_end e = heap_pop(x);
        struct track *tr = &x->tracks[e.track];
        if (tr->depth)
            tr->depth--;
        const struct pt_xinst_slot *in = e.instance ? pt_xinst_complete(&x->inst, e.instance) : NULL;
        if (!in) {
            pt_pf_end(&x->out, e.ts, tr->uuid);
            continue;
        }
        /* This rank's part: waiting for the last to arrive, then moving the bytes (nccl-tests'
         * bandwidths over its transfer). */
        uint64_t wait = in->last_arrival > e.arrival ? in->last_arrival - e.arrival : 0;
        uint64_t transfer = e.ts > in->last_arrival ? e.ts - in->last_arrival : 0;
        double algbw = transfer ? (double)in->bytes / (double)transfer : 0.0; /* B/ns = GB/s */
        struct pt_pf_arg a[4];
        a[0] = uint_arg(x, A_WAIT, wait);
        a[1] = uint_arg(x, A_TRANSFER, transfer);
        a[2] = (struct pt_pf_arg){.name = arg_name(x, A_ALGBW), .kind = PT_PF_DOUBLE, .d = algbw};
        a[3] = (struct pt_pf_arg){.name = arg_name(x, A_BUSBW), .kind = PT_PF_DOUBLE,
                                  .d = algbw * pt_busbw_factor(in->op, in->nranks)};
        pt_pf_end_args(&x->out, e.ts, tr->uuid, a, 4);
        x->st->timed++;
    }
}

/* A slice [start, end) on a track. A slice that would end after the one it starts inside is cut
 * at that one's end (BEGIN/END must nest on a track); cut ones carry clipped=true. */
static int slice(struct exporter *x, const struct slice_spec *sp)
{
    uint64_t track = sp->track, start = sp->start, end = sp->end, instance = sp->instance;
    size_t n_args = sp->n_args;
    if (x->to_ns && start >= x->to_ns)
        return 0;
    if (end < start)
        end = start;
    if (end < x->from_ns)
        return 0;
    start = start < x->from_ns ? x->from_ns : start;
    end = x->to_ns && end > x->to_ns ? x->to_ns : end;
    instance = end == sp->end ? instance : 0; /* cut by the window: its end is not the transfer's */
    flush_ends(x, start);
    int fresh;
    struct track *t = track_get(x, track, &fresh);
    if (!t || t->depth == MAX_DEPTH)
        return 0;
    if (t->depth && end > t->ends[t->depth - 1]) {
        end = t->ends[t->depth - 1];
        instance = 0;
        sp->args[n_args++] = (struct pt_pf_arg){.name = arg_name(x, A_CLIPPED), .kind = PT_PF_BOOL, .u = 1};
        x->st->clipped++;
    }
    pt_pf_begin(&x->out, start, track, sp->category, sp->name, sp->args, n_args, sp->flow_out, sp->flow_in,
                sp->correlation);
    t->ends[t->depth++] = end;
    heap_push(x, (struct pending_end){end, (uint32_t)(t - x->tracks), t->depth, instance, sp->start});
    x->st->slices++;
    x->st->flows += (sp->flow_out != 0);
    return 1;
}

/* "rank 3 · TP1 PP0 · node1:4711 · GPU3" */
void pt_export_process_name(const struct pt_report *r, size_t file, char *out, size_t cap)
{
    static const char *const axes[] = {"TP", "PP", "DP", "EP"};
    const struct pt_rank_totals *t = &r->totals[file];
    const struct pt_file_header *h = pt_source_header(r->run.sources[file]);
    int ranked = r->run.rank[file] >= 0;
    size_t n = ranked ? (size_t)snprintf(out, cap, "rank %d ·", t->rank) : (size_t)snprintf(out, cap, "no NCCL ·");
    int any = 0;
    for (int k = 0; k < 4 && ranked && n < cap; k++) {
        int at = pt_topology_coord(r->c, r->roles, axes[k], t->rank);
        int size = k == 0 ? r->layout.tp : k == 1 ? r->layout.pp : k == 2 ? r->layout.dp : r->layout.ep;
        if (at >= 0 && size > 1) {
            n += (size_t)snprintf(out + n, cap - n, " %s%d", axes[k], at);
            any = 1;
        }
    }
    if (n < cap && any)
        n += (size_t)snprintf(out + n, cap - n, " ·");
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, " %s:%" PRIu32, t->host, h->pid);
    if (n < cap && t->gpu >= 0)
        snprintf(out + n, cap - n, " · GPU%d", t->gpu);
}

static void describe_process(struct exporter *x, size_t file, int32_t order)
{
    char name[256];
    pt_export_process_name(&x->rep, file, name, sizeof name);
    uint64_t proc = track_uuid(x, file, TRACK_PROCESS, 0);
    int fresh;
    track_get(x, proc, &fresh);
    pt_pf_process_track(&x->out, proc, x->pid[file], name, order);
    track_get(x, track_uuid(x, file, TRACK_GPU, 0), &fresh);
    pt_pf_track(&x->out, track_uuid(x, file, TRACK_GPU, 0), proc, "GPU", 0);
}

/* The track of a CUDA stream, a host thread or a GPU's memory counter, described when new. */
static uint64_t stream_track(struct exporter *x, size_t file, uint32_t stream)
{
    uint64_t uuid = track_uuid(x, file, TRACK_STREAM, stream);
    int fresh;
    track_get(x, uuid, &fresh);
    if (fresh) {
        char name[32];
        snprintf(name, sizeof name, "stream %" PRIu32, stream);
        pt_pf_track(&x->out, uuid, track_uuid(x, file, TRACK_GPU, 0), name, (int32_t)stream);
    }
    return uuid;
}

static uint64_t thread_track(struct exporter *x, size_t file, uint32_t tid)
{
    uint64_t uuid = track_uuid(x, file, TRACK_THREAD, tid);
    int fresh;
    track_get(x, uuid, &fresh);
    if (fresh) {
        char name[32];
        snprintf(name, sizeof name, "thread %" PRIu32, tid);
        pt_pf_thread_track(&x->out, uuid, x->pid[file], (int32_t)tid, name);
    }
    return uuid;
}

static uint64_t memory_track(struct exporter *x, size_t file, uint32_t device)
{
    uint64_t uuid = track_uuid(x, file, TRACK_MEMORY, device);
    int fresh;
    track_get(x, uuid, &fresh);
    if (fresh) {
        char name[64];
        snprintf(name, sizeof name, "device memory in use, GPU%" PRIu32 " (bytes)", device);
        pt_pf_counter_track(&x->out, uuid, track_uuid(x, file, TRACK_PROCESS, 0), name, 3);
    }
    return uuid;
}

/* The entry of (file, call), or NULL. */
static struct call_info *call_find(struct exporter *x, size_t file, uint64_t call)
{
    uint64_t key = mix(file + 1, call);
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
    uint64_t key = mix(file + 1, call);
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

static int is_collective_op(uint16_t op) { return op >= PT_OP_AllReduce && op <= PT_OP_Scatter; }

/* Correlation id of one collective instance: the same on every rank that took part. Small
 * numbers (a varint of 3-5 bytes instead of a 10-byte hash): the communicator's index and the
 * op in the low bits, the sequence number above them. A communicator the report did not see
 * gets a hash, with the top bit set so it never meets a small one. */
static uint64_t instance_id(const struct exporter *x, uint64_t comm, uint16_t op, uint64_t seq)
{
    uint64_t at, slots = pt_collectives_count(x->rep.c) + 1;
    if (pt_u64_map_get(&x->comm_index, comm, &at) && seq < (1ull << 40))
        return 1 + (seq * slots + at) * 16 + (op & 15);
    return mix(mix(comm, op), seq) | 1ull << 63;
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
    uint64_t at;
    int known = pt_u64_map_get(&x->comm_index, c->comm, &at);
    char hex[17];
    size_t n = 0;
    a[n++] = uint_arg(x, A_BYTES, c->bytes);
    a[n++] = string_arg(x, A_DTYPE, &x->ids.dtype[c->dtype], pt_dtype_name(c->dtype));
    a[n++] = string_arg(x, A_COMM, known ? &x->ids.comm_hex[at - 1] : NULL, comm_hex(c->comm, hex));
    a[n++] = string_arg(x, A_ROLE, known ? &x->ids.role[at - 1] : NULL,
                        known ? x->rep.roles[at - 1].role : "unknown");
    a[n++] = uint_arg(x, A_SEQ, c->seq);
    if (c->peer >= 0) {
        uint64_t name = arg_name(x, A_PEER);
        a[n++] = (struct pt_pf_arg){.name = name, .kind = PT_PF_INT, .i = c->peer};
    }
    return n;
}

/* The nranks of a communicator the report saw, else what the call says. */
static int32_t comm_size(const struct exporter *x, uint64_t comm, int32_t said)
{
    uint64_t at;
    return pt_u64_map_get(&x->comm_index, comm, &at) ? pt_collectives_comm(x->rep.c, at - 1)->nranks : said;
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
    int coll = is_collective_op(r->op);
    uint64_t instance = coll && r->comm_id ? instance_id(x, r->comm_id, r->op, r->seq) : 0;
    /* Without GPU records the calls themselves are the instance's times (the report's rule). */
    uint64_t timed = instance && !x->rep.gpu ? instance : 0;
    if (timed)
        pt_xinst_arrive(&x->inst, timed, r->op, pt_total_bytes(r->op, r->bytes, c->nranks), c->nranks,
                        r->t_enter_ns);
    if (!x->keep[file])
        return;
    uint64_t name = interned(x, &x->ids.op[r->op < PT_OP_LIMIT ? r->op : PT_OP_LIMIT], PT_PF_EVENT_NAME,
                             pt_op_name(r->op));
    uint64_t cat = category(x, C_NCCL);
    struct pt_pf_arg a[12];
    size_t n = call_args(x, c, a);
    uint64_t flow = coll || r->op == PT_OP_Send || r->op == PT_OP_Recv ? mix(file + 1, r->call_id) : 0;
    struct slice_spec sp = {.track = thread_track(x, file, r->hdr.tid), .start = r->t_enter_ns,
                            .end = r->t_exit_ns, .category = cat, .name = name, .args = a, .n_args = n,
                            .flow_out = flow, .correlation = instance, .instance = timed};
    c->flowed = slice(x, &sp) && flow;
}

static void on_kernel(struct exporter *x, size_t file, const struct pt_rec_kernel *k)
{
    const struct pt_trace_ctx *ctx = pt_source_ctx(x->run.sources[file]);
    uint64_t call = pt_trace_ctx_kernel_call(ctx, k);
    struct call_info *c = call ? call_find(x, file, call) : NULL;
    uint64_t correlation = c && is_collective_op(c->op) && c->comm ? instance_id(x, c->comm, c->op, c->seq) : 0;
    uint64_t timed = 0;
    if (correlation) { /* with GPU records, the kernels are the instance's times */
        timed = pt_xinst_key(&x->inst, correlation, file, k->graph_node_id);
        pt_xinst_arrive(&x->inst, timed, c->op, pt_total_bytes(c->op, c->bytes, c->nranks), c->nranks,
                        k->start_ns);
    }
    if (!x->keep[file])
        return;
    struct pt_pf_arg a[12];
    size_t n = 0;
    uint64_t flow_in = 0, key = mix(file + 1, k->name_id), name;
    if (!pt_u64_map_get(&x->ids.kernel, key, &name)) {
        char text[256];
        pt_demangle_name(pt_trace_ctx_string(ctx, k->name_id), text, sizeof text);
        name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
        pt_u64_map_put(&x->ids.kernel, key, name);
    }
    uint64_t cat = category(x, call ? C_NCCL_KERNEL
                                    : pt_trace_ctx_comm_class(ctx, k->name_id) ? C_COMM_KERNEL : C_KERNEL);
    if (c) {
        n = call_args(x, c, a);
        /* A flow is "this call launched this kernel": eager kernels only (a graph replays the
         * captured call's node many times), and only when the call is in the export. */
        flow_in = c->flowed && !k->graph_node_id ? mix(file + 1, call) : 0;
    }
    /* No "device" argument: the stream's track sits in its rank's GPU group, which names it. */
    if (k->graph_node_id)
        a[n++] = uint_arg(x, A_GRAPH_NODE, k->graph_node_id);
    struct slice_spec sp = {.track = stream_track(x, file, k->stream), .start = k->start_ns, .end = k->end_ns,
                            .category = cat, .name = name, .args = a, .n_args = n, .flow_in = flow_in,
                            .correlation = correlation, .instance = timed};
    slice(x, &sp);
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
        uint64_t cat = category(x, C_MEMCPY);
        a[0] = uint_arg(x, A_BYTES, m->bytes);
        struct slice_spec sp = {.track = stream_track(x, file, m->stream), .start = m->start_ns,
                                .end = m->end_ns, .category = cat, .name = *slot, .args = a, .n_args = 1};
        slice(x, &sp);
    } else {
        const struct pt_rec_memset *m = (const void *)h;
        uint64_t name = interned(x, &x->ids.memset, PT_PF_EVENT_NAME, "Memset");
        uint64_t cat = category(x, C_MEMSET);
        a[0] = uint_arg(x, A_BYTES, m->bytes);
        struct slice_spec sp = {.track = stream_track(x, file, m->stream), .start = m->start_ns,
                                .end = m->end_ns, .category = cat, .name = name, .args = a, .n_args = 1};
        slice(x, &sp);
    }
}

/* The track of lane `lane` of file's NVTX start/end ranges, described when new. */
static uint64_t lane_track(struct exporter *x, size_t file, int lane)
{
    uint64_t uuid = track_uuid(x, file, TRACK_RANGES, (uint64_t)lane);
    int fresh;
    track_get(x, uuid, &fresh);
    if (fresh) {
        char name[32];
        snprintf(name, sizeof name, "NVTX ranges %d", lane + 1);
        pt_pf_track(&x->out, uuid, track_uuid(x, file, TRACK_PROCESS, 0), name, 500 + lane);
    }
    return uuid;
}

/* A start/end range: its start takes the process's first free lane, its end frees it. */
static void on_range(struct exporter *x, size_t file, const struct pt_rec_nvtx *r, const char *text)
{
    if (r->event == PT_NVTX_START) {
        uint32_t busy = x->lanes_busy[file];
        if (busy == UINT32_MAX || x->n_ranges == MAX_OPEN_RANGES) {
            x->st->ranges_left_out++;
            return;
        }
        int lane = __builtin_ctz(~busy);
        uint64_t track = lane_track(x, file, lane);
        int fresh;
        struct track *t = track_get(x, track, &fresh);
        if (!t)
            return;
        uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
        pt_pf_begin(&x->out, r->ts_ns, track, category(x, C_NVTX), name, NULL, 0, 0, 0, 0);
        t->ends[t->depth++] = UINT64_MAX;
        x->lanes_busy[file] |= 1u << lane;
        x->ranges[x->n_ranges++] = (struct open_range){file, r->range_id, lane};
        x->st->slices++;
        return;
    }
    for (size_t i = 0; i < x->n_ranges; i++) {
        struct open_range *o = &x->ranges[i];
        if (o->file != file || o->id != r->range_id)
            continue;
        uint64_t track = lane_track(x, file, o->lane);
        int fresh;
        struct track *t = track_get(x, track, &fresh);
        if (t && t->depth) {
            pt_pf_end(&x->out, r->ts_ns, track);
            t->depth--;
        }
        x->lanes_busy[file] &= ~(1u << o->lane);
        *o = x->ranges[--x->n_ranges];
        return;
    }
}

static void on_nvtx(struct exporter *x, size_t file, const struct pt_rec_nvtx *r)
{
    char text[256];
    snprintf(text, sizeof text, "%.*s", (int)r->text_bytes, r->text);
    uint64_t track = thread_track(x, file, r->hdr.tid);
    int fresh;
    struct track *t = track_get(x, track, &fresh);
    if (!t || r->ts_ns < x->from_ns || (x->to_ns && r->ts_ns >= x->to_ns))
        return;
    flush_ends(x, r->ts_ns);
    if (r->event == PT_NVTX_START || r->event == PT_NVTX_END)
        on_range(x, file, r, text);
    else if (r->event == PT_NVTX_PUSH && t->depth < MAX_DEPTH) {
        uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
        pt_pf_begin(&x->out, r->ts_ns, track, category(x, C_NVTX), name, NULL, 0, 0, 0, 0);
        t->ends[t->depth++] = UINT64_MAX;
        x->st->slices++;
    } else if (r->event == PT_NVTX_POP && t->depth && t->ends[t->depth - 1] == UINT64_MAX) {
        pt_pf_end(&x->out, r->ts_ns, track);
        t->depth--;
    } else if (r->event == PT_NVTX_MARK) {
        uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, text);
        pt_pf_instant(&x->out, r->ts_ns, track, category(x, C_NVTX), name, NULL, 0);
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
    uint64_t track = memory_track(x, file, m->device);
    flush_ends(x, m->ts_ns);
    pt_pf_counter_int(&x->out, m->ts_ns, track, (int64_t)*in_use);
    x->st->counters++;
}

/* Closes what is still open: pending ENDs, then NVTX pushes never popped, at the last time. */
static void finish(struct exporter *x, uint64_t last)
{
    while (x->n_heap) {
        uint64_t t = x->heap[0].ts;
        last = t > last ? t : last;
        flush_ends(x, t);
    }
    for (size_t i = 0; i < x->n_tracks; i++)
        while (x->tracks[i].depth) {
            pt_pf_end(&x->out, last, x->tracks[i].uuid);
            x->tracks[i].depth--;
        }
}

/* Counter tracks of the attribution over time, per rank: GPU busy (not idle), then each
 * category but idle that the rank has any time in. */
enum { TL_BUSY, TL_SERIES = 1 + PT_CAT_IDLE };

static uint64_t timeline_track(struct exporter *x, size_t file, int series)
{
    uint64_t uuid = track_uuid(x, file, TRACK_TIMELINE, (uint64_t)series);
    int fresh;
    track_get(x, uuid, &fresh);
    if (fresh) {
        char name[64];
        if (series == TL_BUSY)
            snprintf(name, sizeof name, "GPU busy (%%)");
        else
            snprintf(name, sizeof name, "%s (%% of GPU time)", pt_cat_names[series - 1]);
        pt_pf_counter_track(&x->out, uuid, track_uuid(x, file, TRACK_PROCESS, 0), name, 0);
    }
    return uuid;
}

/* Writes bucket i of every exported rank: a value where it changed. */
static void timeline_bucket(struct exporter *x, size_t i, uint64_t start)
{
    const struct pt_timeline *tl = &x->rep.timeline;
    for (size_t f = 0; f < x->rep.n; f++) {
        const struct pt_attr_rank *a = &x->rep.attr[f];
        if (!x->keep[f] || !a->first_ns)
            continue;
        uint64_t ns[PT_TL_VALUES], cat[PT_CATS] = {0}, total[PT_CATS], hidden, busy = 0;
        uint64_t span = pt_timeline_span(tl, i);
        pt_timeline_bucket(tl, f, i, ns);
        cat[PT_CAT_COMPUTE] = ns[PT_TL_COMPUTE], cat[PT_CAT_COPY] = ns[PT_TL_COPY];
        for (int k = 0; k < a->n_comms; k++)
            cat[pt_report_comm_category(&x->rep, a->comms[k].comm)] += ns[PT_TL_COMM + k];
        pt_report_categories(&x->rep, f, total, &hidden);
        for (int c = 0; c < PT_CAT_IDLE; c++)
            busy += cat[c];
        for (int series = 0; series < TL_SERIES; series++) {
            if (series != TL_BUSY && !total[series - 1])
                continue;
            uint64_t v = series == TL_BUSY ? busy : cat[series - 1];
            int16_t pct = (int16_t)(v >= span ? 100 : (200 * v + span) / (2 * span));
            int16_t *last = &x->tl_last[f * TL_SERIES + (size_t)series];
            if (*last == pct)
                continue;
            *last = pct;
            pt_pf_counter_int(&x->out, start, timeline_track(x, f, series), pct);
            x->st->counters++;
        }
    }
}

/* Writes the buckets that start at or before t (and inside the window). */
static void timeline_until(struct exporter *x, uint64_t t)
{
    const struct pt_timeline *tl = &x->rep.timeline;
    for (; x->tl_next < tl->n; x->tl_next++) {
        uint64_t start = tl->origin + x->tl_next * tl->width;
        if (start > t)
            break;
        if (start < x->from_ns || (x->to_ns && start >= x->to_ns))
            continue;
        flush_ends(x, start);
        timeline_bucket(x, x->tl_next, start);
    }
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
    uint64_t name = pt_pf_intern(&x->out, PT_PF_EVENT_NAME, "run"), cat = category(x, C_SUMMARY);
    const char *axes[] = {"tp", "pp", "dp", "ep", "world"};
    const int sizes[] = {l->tp, l->pp, l->dp, l->ep, l->world};
    for (int k = 0; k < 5; k++)
        a[n++] = (struct pt_pf_arg){.name = pt_pf_intern(&x->out, PT_PF_ARG_NAME, axes[k]), .kind = PT_PF_INT,
                                    .i = sizes[k]};
    for (int k = 0; ranks && k < PT_CATS; k++)
        a[n++] = (struct pt_pf_arg){.name = pt_pf_intern(&x->out, PT_PF_ARG_NAME, pt_cat_names[k]),
                                    .kind = PT_PF_DOUBLE, .d = pct[k]};
    uint64_t track = track_uuid(x, 0, TRACK_SUMMARY, 0);
    int fresh;
    track_get(x, track, &fresh);
    pt_pf_track(&x->out, track, 0, "partrace report (mean % of GPU time)", -1);
    struct slice_spec sp = {.track = track, .start = first, .end = last, .category = cat, .name = name,
                            .args = a, .n_args = n};
    slice(x, &sp);
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
    pt_u64_map_free(&x->comm_index);
    pt_u64_map_free(&x->ids.kernel);
    pt_xinst_free(&x->inst);
    free(x->tl_last);
    free(x->lanes_busy);
    free(x->ids.comm_hex);
    free(x->ids.role);
}

int pt_export_perfetto(const struct pt_export_opts *o, struct pt_export_stats *st)
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
    x->tl_last = malloc(n * TL_SERIES * sizeof *x->tl_last);
    if (x->tl_last)
        memset(x->tl_last, 0xff, n * TL_SERIES * sizeof *x->tl_last); /* -1: nothing written */
    int status = 1;
    if (!x->keep || !x->pid || !x->mem_in_use || !x->rw || !x->attr_dummy || !x->ids.comm_hex || !x->ids.role ||
        !x->tl_last || !x->lanes_busy)
        goto out;
    if (pt_export_keep(&x->rep, o->ranks, x->keep) != 0) {
        status = 2;
        goto out;
    }
    for (size_t i = 0; i < pt_collectives_count(x->rep.c); i++)
        pt_u64_map_put(&x->comm_index, pt_collectives_comm(x->rep.c, i)->id, i + 1);
    char err[600];
    if (pt_run_open(x->rep.set.paths, x->rep.set.count, x->rep.shift, &x->run, NULL, NULL) != 0) {
        cli_error("%s: no trace file could be read", o->run);
        goto out;
    }
    if (pt_pf_open(&x->out, o->out, o->gz, o->force, err, sizeof err) != 0) {
        cli_error("%s", err);
        goto out;
    }
    /* Ranks in order, then processes that made no NCCL call (a launcher, say). */
    size_t order = 0;
    for (int ranked = 1; ranked >= 0; ranked--)
        for (size_t k = 0; k < n; k++) {
            size_t i = x->rep.by_rank[k];
            if ((x->rep.run.rank[i] >= 0) != ranked)
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
        timeline_until(x, ev.ts_ns);
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
        case PT_REC_NVTX: on_nvtx(x, f, (const void *)h); break;
        case PT_REC_MEMORY: on_memory(x, f, (const void *)h); break;
        default: break;
        }
    }
    timeline_until(x, UINT64_MAX);
    finish(x, last);
    st->packets = x->out.packets;
    st->bytes = x->out.bytes;
    if (pt_pf_close(&x->out) != 0)
        cli_error("%s: writing failed (disk full?)", o->out);
    else
        status = 0;
out:
    free_exporter(x);
    free(x);
    return status;
}
