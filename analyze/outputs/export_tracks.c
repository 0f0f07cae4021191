/* The Perfetto exporter's names, tracks and slices (exporter.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/exporter.h"
#include "util/min_heap.h"

static const char *const arg_names[N_ARG_NAMES] = {
    "bytes", "dtype", "communicator", "role", "seq", "peer", "graph_node", "clipped",
    "wait_ns", "transfer_ns", "algbw_gbps", "busbw_gbps"};
static const char *const category_names[N_CATEGORIES] = {"nccl",   "kernel", "comm_kernel", "nccl_kernel",
                                                         "memcpy", "memset", "nvtx",        "summary"};

/* The iid in *slot, interned from s on first use. */
uint64_t pt_xp_interned(struct exporter *x, uint64_t *slot, enum pt_pf_space space, const char *s)
{
    if (!*slot)
        *slot = pt_pf_intern(&x->out, space, s);
    return *slot;
}

uint64_t pt_xp_arg_name(struct exporter *x, enum arg_name a)
{
    return pt_xp_interned(x, &x->ids.arg[a], PT_PF_ARG_NAME, arg_names[a]);
}

uint64_t pt_xp_category(struct exporter *x, enum category c)
{
    return pt_xp_interned(x, &x->ids.category[c], PT_PF_CATEGORY, category_names[c]);
}

/* Arguments; the name is interned before a string value, as Perfetto readers see them. */
struct pt_pf_arg pt_xp_uint_arg(struct exporter *x, enum arg_name a, uint64_t v)
{
    return (struct pt_pf_arg){.name = pt_xp_arg_name(x, a), .kind = PT_PF_UINT, .u = v};
}

struct pt_pf_arg pt_xp_string_arg(struct exporter *x, enum arg_name a, uint64_t *slot, const char *v)
{
    uint64_t name = pt_xp_arg_name(x, a), none = 0;
    return (struct pt_pf_arg){.name = name, .kind = PT_PF_STRING,
                              .u = pt_xp_interned(x, slot ? slot : &none, PT_PF_ARG_VALUE, v)};
}

/* Tracks get small uuids in order of first use (1, 2, ...): every event names its track, and a
 * small number takes one or two bytes where a hash would take ten. */
uint64_t pt_xp_track_uuid(struct exporter *x, size_t file, int kind, uint64_t id)
{
    uint64_t key = pt_mix64(pt_mix64(file + 1, (uint64_t)kind), id), uuid;
    if (!pt_u64_map_get(&x->uuids, key, &uuid)) {
        uuid = ++x->last_uuid;
        pt_u64_map_put(&x->uuids, key, uuid);
    }
    return uuid;
}

/* The track of uuid; *fresh when it was made just now (its descriptor is the caller's to write). */
struct track *pt_xp_track_get(struct exporter *x, uint64_t uuid, int *fresh)
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

PT_MIN_HEAP(end_heap, struct pending_end, end_before)

static void heap_push(struct exporter *x, struct pending_end e)
{
    if (x->n_heap == x->cap_heap) {
        size_t cap = x->cap_heap ? 2 * x->cap_heap : 256;
        struct pending_end *h = realloc(x->heap, cap * sizeof *h);
        if (!h)
            return;
        x->heap = h, x->cap_heap = cap;
    }
    end_heap_push(x->heap, &x->n_heap, e);
}

/* Writes every END due at or before t: packets must go out in time order. */
void pt_xp_flush_ends(struct exporter *x, uint64_t t)
{
    while (x->n_heap && x->heap[0].ts <= t) {
        struct pending_end e = end_heap_pop(x->heap, &x->n_heap);
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
        a[0] = pt_xp_uint_arg(x, A_WAIT, wait);
        a[1] = pt_xp_uint_arg(x, A_TRANSFER, transfer);
        a[2] = (struct pt_pf_arg){.name = pt_xp_arg_name(x, A_ALGBW), .kind = PT_PF_DOUBLE, .d = algbw};
        a[3] = (struct pt_pf_arg){.name = pt_xp_arg_name(x, A_BUSBW), .kind = PT_PF_DOUBLE,
                                  .d = algbw * pt_busbw_factor(in->op, in->nranks)};
        pt_pf_end_args(&x->out, e.ts, tr->uuid, a, 4);
        x->st->timed++;
    }
}

/* A slice [start, end) on a track. A slice that would end after the one it starts inside is cut
 * at that one's end (BEGIN/END must nest on a track); cut ones carry clipped=true. */
int pt_xp_slice(struct exporter *x, const struct slice_spec *sp)
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
    pt_xp_flush_ends(x, start);
    int fresh;
    struct track *t = pt_xp_track_get(x, track, &fresh);
    if (!t || t->depth == MAX_DEPTH)
        return 0;
    if (t->depth && end > t->ends[t->depth - 1]) {
        end = t->ends[t->depth - 1];
        instance = 0;
        sp->args[n_args++] = (struct pt_pf_arg){.name = pt_xp_arg_name(x, A_CLIPPED), .kind = PT_PF_BOOL, .u = 1};
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

uint64_t pt_xp_new_track(struct exporter *x, size_t file, int kind, uint64_t id, int *fresh)
{
    uint64_t uuid = pt_xp_track_uuid(x, file, kind, id);
    pt_xp_track_get(x, uuid, fresh);
    return uuid;
}

/* The track of a CUDA stream, a host thread or a GPU's memory counter, described when new. */
uint64_t pt_xp_file_track(struct exporter *x, size_t file, int kind, uint32_t id)
{
    int fresh;
    uint64_t uuid = pt_xp_new_track(x, file, kind, id, &fresh);
    if (!fresh)
        return uuid;
    char name[64];
    if (kind == TRACK_STREAM) {
        snprintf(name, sizeof name, "stream %" PRIu32, id);
        pt_pf_track(&x->out, uuid, pt_xp_track_uuid(x, file, TRACK_GPU, 0), name, (int32_t)id);
    } else if (kind == TRACK_THREAD) {
        snprintf(name, sizeof name, "thread %" PRIu32, id);
        pt_pf_thread_track(&x->out, uuid, x->pid[file], (int32_t)id, name);
    } else {
        snprintf(name, sizeof name, "device memory in use, GPU%" PRIu32 " (bytes)", id);
        pt_pf_counter_track(&x->out, uuid, pt_xp_track_uuid(x, file, TRACK_PROCESS, 0), name, 3);
    }
    return uuid;
}

/* Closes what is still open: pending ENDs, then NVTX pushes never popped, at the last time. */
void pt_xp_finish(struct exporter *x, uint64_t last)
{
    while (x->n_heap) {
        uint64_t t = x->heap[0].ts;
        last = t > last ? t : last;
        pt_xp_flush_ends(x, t);
    }
    for (size_t i = 0; i < x->n_tracks; i++)
        while (x->tracks[i].depth) {
            pt_pf_end(&x->out, last, x->tracks[i].uuid);
            x->tracks[i].depth--;
        }
}

