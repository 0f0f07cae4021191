#include "cupti/activity_convert.h"

#include <string.h>
#include <sys/mman.h>

#include <partrace/format.h>

#define ARENA_BYTES (4u << 20)
#define NAME_MAX_BYTES 4000u

int pt_convert_init(struct pt_convert *c)
{
    memset(c, 0, sizeof *c);
    size_t slots = PT_STRINGS_CAP * sizeof *c->slots, corr = PT_CORR_CAP * sizeof *c->corr,
           nodes = PT_NODES_CAP * sizeof *c->nodes;
    char *m = mmap(NULL, slots + corr + nodes + ARENA_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    c->slots = (void *)m;
    c->corr = (void *)(m + slots);
    c->nodes = (void *)(m + slots + corr);
    c->arena = m + slots + corr + nodes;
    c->arena_cap = ARENA_BYTES;
    c->next_string_id = 1;
    return 0;
}

void pt_convert_reset_strings(struct pt_convert *c)
{
    memset(c->slots, 0, PT_STRINGS_CAP * sizeof *c->slots);
    c->arena_used = 0;
}

static uint64_t hash_text(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h | 1; /* 0 marks an empty slot */
}

static void put_string(uint32_t id, const char *text, size_t n, pt_put_fn put, void *arg)
{
    _Alignas(8) char buf[sizeof(struct pt_rec_string) + NAME_MAX_BYTES + 8];
    size_t size = PT_REC_BYTES(sizeof(struct pt_rec_string), n);
    struct pt_rec_string *r = (void *)buf;
    memset(buf, 0, size);
    r->hdr.kind = PT_REC_STRING;
    r->hdr.size = (uint16_t)size;
    r->id = id;
    r->text_bytes = (uint32_t)n;
    memcpy(r->text, text, n);
    put(r, size, arg);
}

uint32_t pt_convert_intern(struct pt_convert *c, const char *text, size_t max_len, pt_put_fn put,
                           void *arg)
{
    if (!text)
        return 0;
    size_t n = strnlen(text, max_len < NAME_MAX_BYTES ? max_len : NAME_MAX_BYTES);
    uint64_t h = hash_text(text, n);
    size_t i = (size_t)(h % PT_STRINGS_CAP);
    for (size_t probes = 0; probes < PT_STRINGS_CAP; probes++, i = (i + 1) % PT_STRINGS_CAP) {
        struct pt_string_slot *s = &c->slots[i];
        if (s->hash == h && s->len == n && memcmp(s->text, text, n) == 0)
            return s->id;
        if (s->hash == 0)
            break;
    }
    uint32_t id = c->next_string_id++;
    struct pt_string_slot *s = &c->slots[i];
    /* Remember it while there is room; past that the string is simply sent again each time. */
    if (s->hash == 0 && c->arena_used + n <= c->arena_cap) {
        memcpy(c->arena + c->arena_used, text, n);
        *s = (struct pt_string_slot){h, id, (uint32_t)n, c->arena + c->arena_used};
        c->arena_used += n;
    }
    put_string(id, text, n, put, arg);
    return id;
}

static void remember_correlation(struct pt_convert *c, uint32_t corr, uint64_t call)
{
    c->corr[corr % PT_CORR_CAP].correlation_id = corr;
    c->corr[corr % PT_CORR_CAP].nccl_call_id = call;
}

static uint64_t call_of(const struct pt_convert *c, uint32_t corr)
{
    return c->corr[corr % PT_CORR_CAP].correlation_id == corr && corr
               ? c->corr[corr % PT_CORR_CAP].nccl_call_id
               : 0;
}

/* What kind of NCCL kernel a call launches, and what kind a kernel name says it is. Calls that
 * NCCL runs as point-to-point (AlltoAll, Gather, Scatter, Send, Recv) share the SendRecv kernel;
 * "Generic" kernels match any. */
enum { KIND_ANY, KIND_ALLREDUCE, KIND_ALLGATHER, KIND_REDUCESCATTER, KIND_BROADCAST, KIND_REDUCE,
       KIND_P2P, KIND_NONE };

static uint8_t kind_of_op(uint16_t op)
{
    switch (op) {
    case PT_OP_AllReduce: return KIND_ALLREDUCE;
    case PT_OP_AllGather: return KIND_ALLGATHER;
    case PT_OP_ReduceScatter: return KIND_REDUCESCATTER;
    case PT_OP_Broadcast:
    case PT_OP_Bcast: return KIND_BROADCAST;
    case PT_OP_Reduce: return KIND_REDUCE;
    case PT_OP_AlltoAll:
    case PT_OP_Gather:
    case PT_OP_Scatter:
    case PT_OP_Send:
    case PT_OP_Recv: return KIND_P2P;
    }
    return KIND_NONE;
}

static uint8_t kind_of_kernel(const char *name)
{
    if (!name || (!strstr(name, "ncclDevKernel") && !strstr(name, "ncclKernel")))
        return KIND_NONE;
    if (strstr(name, "SendRecv")) return KIND_P2P;
    if (strstr(name, "AllReduce")) return KIND_ALLREDUCE;
    if (strstr(name, "AllGather")) return KIND_ALLGATHER;
    if (strstr(name, "ReduceScatter")) return KIND_REDUCESCATTER;
    if (strstr(name, "Broadcast")) return KIND_BROADCAST;
    if (strstr(name, "_Reduce_")) return KIND_REDUCE;
    return KIND_ANY;
}

/* Element types, as far as telling kernels apart goes: NCCL names a reduction's kernel after
 * its type (…_AllReduce_Sum_bf16_RING_LL), so a kernel and a call of different types cannot
 * belong together. Signed and unsigned integers of one width count as one. 0: unknown (data
 * movement kernels carry no type). */
static uint8_t dtype_class_of_nccl(uint8_t dtype)
{
    static const uint8_t classes[] = {1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9}; /* ncclInt8 … ncclFloat8e5m2 */
    return dtype < sizeof classes ? classes[dtype] : 0;
}

static uint8_t dtype_class_of_kernel(const char *name)
{
    static const struct {
        const char *token;
        uint8_t class;
    } types[] = {{"_i8_", 1},  {"_u8_", 1},  {"_i32_", 2}, {"_u32_", 2},     {"_i64_", 3},
                 {"_u64_", 3}, {"_f16_", 4}, {"_f32_", 5}, {"_f64_", 6},     {"_bf16_", 7},
                 {"_f8e4m3_", 8}, {"_f8e5m2_", 9}};
    for (size_t i = 0; name && i < sizeof types / sizeof *types; i++)
        if (strstr(name, types[i].token))
            return types[i].class;
    return 0;
}

void pt_convert_stream(struct pt_convert *c, const struct pt_rec_stream *s)
{
    __typeof__(c->streams[0]) *slot = &c->streams[s->handle % 1024];
    slot->handle = s->handle;
    slot->stream_id = s->stream_id;
    slot->known = 1;
}

/* The CUPTI id of a stream handle, or UINT32_MAX when not known. */
static uint32_t stream_id_of(const struct pt_convert *c, uint64_t handle)
{
    const __typeof__(c->streams[0]) *slot = &c->streams[handle % 1024];
    return slot->known && slot->handle == handle ? slot->stream_id : UINT32_MAX;
}

void pt_convert_comm(struct pt_convert *c, const struct pt_rec_comm_init *r)
{
    if ((r->flags & PT_COMM_NONBLOCKING) && c->n_nonblocking < PT_NONBLOCKING_CAP)
        c->nonblocking[c->n_nonblocking++] = r->comm_id;
}

static void pop_done(struct pt_convert *c);

void pt_convert_call(struct pt_convert *c, const struct pt_rec_nccl_call *r)
{
    if (r->op == PT_OP_GroupEnd && r->group_depth == 0) {
        c->group_ends[r->call_id % 256].call_id = r->call_id;
        c->group_ends[r->call_id % 256].group_id = r->group_id;
        return;
    }
    uint8_t kind = kind_of_op(r->op);
    if (kind == KIND_NONE || !r->comm_id)
        return;
    uint32_t i = 0;
    while (i < c->n_nonblocking && c->nonblocking[i] != r->comm_id)
        i++;
    if (i == c->n_nonblocking)
        return;
    if (c->pending_len == PT_PENDING_CAP) { /* the oldest never got a kernel: forget it */
        c->pending_head = (c->pending_head + 1) % PT_PENDING_CAP;
        c->pending_len--;
        pop_done(c);
    }
    c->pending[(c->pending_head + c->pending_len++) % PT_PENDING_CAP] = (struct pt_pending_call){
        r->call_id, r->group_id, r->t_enter_ns, r->stream, (uint32_t)r->device, kind, 0,
        dtype_class_of_nccl(r->dtype)};
}

static struct pt_pending_call *pending_at(struct pt_convert *c, uint32_t n)
{
    return &c->pending[(c->pending_head + n) % PT_PENDING_CAP];
}

/* Frees the calls at the head of the queue whose kernels came. */
static void pop_done(struct pt_convert *c)
{
    while (c->pending_len && pending_at(c, 0)->done) {
        c->pending_head = (c->pending_head + 1) % PT_PENDING_CAP;
        c->pending_len--;
    }
}

/* Marks the call at position n, and the calls of its group recorded just after it (one kernel
 * serves a whole group), as served. Marking instead of removing keeps each kernel's work small
 * while thousands of calls wait. */
#define GROUP_LOOKAHEAD 64
#define STALE_CALL_NS 10000000000ull
/* Calls are stamped with the TSC and converted later; CUPTI stamps kernels with clock_gettime.
 * The two can disagree by microseconds, so "the kernel started after its call entered" is
 * checked with this much slack (else a kernel launched at once skips its call, and every later
 * kernel of the kind ties to the call before its own). */
#define CLOCK_SLACK_NS 50000ull
static void serve_pending(struct pt_convert *c, uint32_t n)
{
    struct pt_pending_call *p = pending_at(c, n);
    p->done = 1;
    for (uint32_t m = n + 1; p->group_id && m < c->pending_len && m <= n + GROUP_LOOKAHEAD; m++)
        if (pending_at(c, m)->group_id == p->group_id)
            pending_at(c, m)->done = 1;
    pop_done(c);
}

/* Serves a call (or the first waiting call of its group) that was tied otherwise. Returns the
 * call served, 0 when none waits. */
static uint64_t drop_pending(struct pt_convert *c, uint64_t call, uint64_t group)
{
    for (uint32_t m = 0; m < c->pending_len; m++) {
        struct pt_pending_call *q = pending_at(c, m);
        if (!q->done && (q->call_id == call || (group && q->group_id == group))) {
            uint64_t served = q->call_id;
            serve_pending(c, m);
            return served;
        }
    }
    return 0;
}

/* A kernel tied through its launch: its call (or, for a GroupEnd, its group) no longer waits. */
static void retire_tied(struct pt_convert *c, uint64_t call)
{
    if (!c->pending_len)
        return;
    uint64_t group = c->group_ends[call % 256].call_id == call ? c->group_ends[call % 256].group_id : 0;
    drop_pending(c, call, group);
}

uint8_t pt_nccl_kernel_kind(const char *name)
{
    uint8_t kind = kind_of_kernel(name);
    return kind == KIND_NONE ? 0 : (uint8_t)(kind + 1);
}

/* Takes the oldest pending call that a kernel (or graph node) of this kind and element type class
 * (0: unknown), started at `ts` on `device` and CUPTI stream `stream` (UINT32_MAX: unknown), can
 * belong to, with the calls of its group (one kernel serves a whole group). Returns its call id
 * or 0. */
static uint64_t match_by_order(struct pt_convert *c, uint8_t kind, uint8_t dtype, uint32_t device,
                               uint32_t stream, uint64_t ts)
{
    if (kind == KIND_NONE || !c->pending_len)
        return 0;
    /* A call whose kernel has not come 10 s after the call never launched one (it failed, or
     * moved no data): forget it, so that it does not hold the queue. */
    while (c->pending_len && !pending_at(c, 0)->done &&
           pending_at(c, 0)->t_enter_ns + STALE_CALL_NS < ts) {
        pending_at(c, 0)->done = 1;
        pop_done(c);
    }
    for (uint32_t n = 0; n < c->pending_len; n++) {
        struct pt_pending_call *p = pending_at(c, n);
        if (p->done)
            continue;
        /* A non-blocking communicator may not tell its device until long after creation. */
        uint32_t call_stream = stream_id_of(c, p->stream);
        if ((p->device != UINT32_MAX && device != UINT32_MAX && p->device != device) ||
            (call_stream != UINT32_MAX && stream != UINT32_MAX && call_stream != stream) ||
            p->t_enter_ns > ts + CLOCK_SLACK_NS || (kind != KIND_ANY && p->kind != kind) ||
            (dtype && p->dtype && p->dtype != dtype))
            continue;
        uint64_t call = p->call_id;
        serve_pending(c, n);
        c->matched_by_order++;
        return call;
    }
    return 0;
}

void pt_convert_correlation(struct pt_convert *c, const struct pt_rec_ext_corr *e)
{
    remember_correlation(c, e->correlation_id, e->nccl_call_id);
}

/* CUPTI numbers graph nodes graph id << 32 | index, so the nodes of a graph and of its clone
 * differ only in the high half: the slot comes from a hash of the whole id, and a node looks a
 * few slots on (a direct map on the low bits made every clone evict its original, and no
 * replayed kernel found its call: 2 x H200, 2026-11-28). */
#define NODE_PROBE 8u

static uint32_t node_home(uint64_t node)
{
    return (uint32_t)((node * 0x9e3779b97f4a7c15ull) >> 40) % PT_NODES_CAP;
}

static __typeof__(*((struct pt_convert *)0)->nodes) *node_slot(const struct pt_convert *c,
                                                                 uint64_t node, int for_insert)
{
    uint32_t home = node_home(node);
    for (uint32_t i = 0; i < NODE_PROBE; i++) {
        __typeof__(*c->nodes) *slot = &c->nodes[(home + i) % PT_NODES_CAP];
        if (slot->node_id == node || (for_insert && !slot->node_id))
            return slot;
    }
    /* Full neighbourhood: the home slot's node is forgotten (its replays go untied). */
    return for_insert ? &c->nodes[home] : NULL;
}

/* The call of a NCCL node captured on NCCL's own thread (a non-blocking communicator). The
 * hint (the call entered last when the node was made) decides when that call waits here;
 * else the newest waiting call of the node's kind that entered before it. Not the oldest, as
 * for kernels: kernel records come back a whole buffer late, so the calls of the eager steps
 * before the capture still wait for theirs, and a captured call never gets an eager kernel
 * (taking the oldest left every later eager kernel on the call before its own: 2 x H200,
 * 2026-11-28). wait: only the hint will do (its record may come in a later pass). */
static uint64_t match_captured(struct pt_convert *c, uint8_t kind, uint64_t ts, uint64_t hint, int wait)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t n = 0; n < c->pending_len; n++) {
        struct pt_pending_call *p = pending_at(c, n);
        if (p->done)
            continue;
        if (hint && p->call_id == hint && (kind == KIND_ANY || p->kind == kind)) {
            best = n;
            break;
        }
        if (wait || p->t_enter_ns > ts + CLOCK_SLACK_NS || (kind != KIND_ANY && p->kind != kind))
            continue;
        if (best == UINT32_MAX || p->t_enter_ns >= pending_at(c, best)->t_enter_ns)
            best = n;
    }
    if (best == UINT32_MAX)
        return 0;
    /* A call of a group: the group's kernel (or node) goes to its first call, as for kernels. */
    c->matched_by_order++;
    return drop_pending(c, pending_at(c, best)->call_id, pending_at(c, best)->group_id);
}

static void remember_node(struct pt_convert *c, uint64_t node, uint64_t call, uint64_t original)
{
    __typeof__(*c->nodes) *slot = node_slot(c, node, 1);
    if (slot->node_id != node)
        *slot = (__typeof__(*slot)){.node_id = node};
    /* Instantiation reports a node twice, created then cloned: keep what each one says. */
    if (original)
        slot->original_node_id = original;
    if (call)
        slot->nccl_call_id = call;
}

/* Writer passes a captured node waits for its hinted call before it takes the newest one. */
#define HINT_PASSES 8

/* Binds a captured node, or leaves it waiting for its hinted call. Returns 1 when bound. */
static int bind_captured(struct pt_convert *c, const __typeof__(c->captured[0]) *n, int final)
{
    int wait = n->hint && !final && n->passes < HINT_PASSES;
    uint64_t call = match_captured(c, n->kind, n->ts, n->hint, wait);
    if (!call && wait)
        return 0;
    remember_node(c, n->node_id, call, 0);
    return 1;
}

void pt_convert_graph_flush(struct pt_convert *c, int final)
{
    /* Oldest first: nodes made in the order of their calls take them in that order. A node is
     * bound one pass after it came at the soonest, once every thread's records up to it were
     * learned (the rings are drained one after another, while the threads go on writing). */
    for (uint32_t i = 1; i < c->n_captured; i++)
        for (uint32_t j = i; j > 0 && c->captured[j].ts < c->captured[j - 1].ts; j--) {
            __typeof__(c->captured[0]) t = c->captured[j];
            c->captured[j] = c->captured[j - 1];
            c->captured[j - 1] = t;
        }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < c->n_captured; i++) {
        __typeof__(c->captured[0]) n = c->captured[i];
        if ((final || n.passes) && bind_captured(c, &n, final))
            continue;
        n.passes += n.passes < 255;
        c->captured[kept++] = n;
    }
    c->n_captured = kept;
}

void pt_convert_graph_node(struct pt_convert *c, struct pt_rec_graph_node *g)
{
    if (!g->node_id)
        return;
    if (g->cloned) {
        /* cuGraphInstantiate reports each new node created (outside any call, as if NCCL had
         * captured it on its thread) and at once cloned: such a node takes no call. */
        for (uint32_t i = 0; i < c->n_captured; i++)
            if (c->captured[i].node_id == g->node_id) {
                c->captured[i] = c->captured[--c->n_captured];
                break;
            }
        remember_node(c, g->node_id, 0, g->original_node_id);
    } else if (!g->nccl_call_id && g->nccl_kind) {
        uint64_t hint = g->original_node_id;
        g->original_node_id = 0; /* the hint travels only from the callback to here */
        if (c->n_captured == sizeof c->captured / sizeof *c->captured) {
            bind_captured(c, &c->captured[0], 1); /* a capture bigger than the window */
            c->captured[0] = c->captured[--c->n_captured];
        }
        c->captured[c->n_captured++] = (__typeof__(c->captured[0])){
            g->node_id, g->ts_ns, hint, (uint8_t)(g->nccl_kind - 1), 0};
    } else {
        remember_node(c, g->node_id, g->nccl_call_id, 0);
    }
}

/* The NCCL call behind a graph node, following clones (a graph of a graph) a few steps. */
static uint64_t call_of_node(const struct pt_convert *c, uint64_t node)
{
    for (int hop = 0; node && hop < 8; hop++) {
        const __typeof__(*c->nodes) *slot = node_slot(c, node, 0);
        if (!slot)
            return 0;
        if (slot->nccl_call_id)
            return slot->nccl_call_id;
        node = slot->original_node_id;
    }
    return 0;
}

static void kernel(struct pt_convert *c, const CUpti_ActivityKernel10 *k, pt_put_fn put, void *arg)
{
    struct pt_rec_kernel r;
    memset(&r, 0, sizeof r);
    r.name_id = pt_convert_intern(c, k->name, NAME_MAX_BYTES, put, arg);
    r.hdr.kind = PT_REC_KERNEL;
    r.hdr.size = sizeof r;
    r.start_ns = k->start;
    r.end_ns = k->end;
    r.graph_node_id = k->graphNodeId;
    r.correlation_id = k->correlationId;
    r.nccl_call_id = call_of(c, k->correlationId);
    if (r.nccl_call_id)
        retire_tied(c, r.nccl_call_id);
    if (!r.nccl_call_id && k->graphNodeId)
        r.nccl_call_id = call_of_node(c, k->graphNodeId);
    if (!r.nccl_call_id && !k->graphNodeId)
        r.nccl_call_id =
            match_by_order(c, kind_of_kernel(k->name), dtype_class_of_kernel(k->name), k->deviceId,
                           k->streamId, k->start);
    r.device = k->deviceId;
    r.context = k->contextId;
    r.stream = k->streamId;
    r.graph_id = k->graphId;
    r.grid[0] = k->gridX, r.grid[1] = k->gridY, r.grid[2] = k->gridZ;
    r.block[0] = k->blockX, r.block[1] = k->blockY, r.block[2] = k->blockZ;
    r.smem_static = k->staticSharedMemory;
    r.smem_dynamic = k->dynamicSharedMemory;
    r.registers = k->registersPerThread;
    r.launch_type = k->launchType;
    uint8_t kind = kind_of_kernel(k->name);
    if (!r.nccl_call_id && !k->graphNodeId && kind != KIND_NONE && c->n_nonblocking &&
        !c->no_hold && c->n_held < PT_HELD_CAP) {
        c->held[c->n_held].rec = r;
        c->held[c->n_held].dtype = dtype_class_of_kernel(k->name);
        c->held[c->n_held++].kind = kind;
        return;
    }
    put(&r, sizeof r, arg);
}

void pt_convert_release_held(struct pt_convert *c, pt_put_fn put, void *arg)
{
    for (uint32_t i = 0; i < c->n_held; i++) {
        struct pt_rec_kernel *r = &c->held[i].rec;
        r->nccl_call_id = match_by_order(c, c->held[i].kind, c->held[i].dtype, r->device, r->stream,
                                         r->start_ns);
        put(r, sizeof *r, arg);
    }
    c->n_held = 0;
}

int pt_convert_activity(struct pt_convert *c, const CUpti_Activity *a, pt_put_fn put, void *arg)
{
    switch (a->kind) {
    case CUPTI_ACTIVITY_KIND_KERNEL:
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        kernel(c, (const CUpti_ActivityKernel10 *)a, put, arg);
        break;
    case CUPTI_ACTIVITY_KIND_MEMCPY: {
        const CUpti_ActivityMemcpy6 *m = (const void *)a;
        struct pt_rec_memcpy r = {.hdr = {PT_REC_MEMCPY, sizeof r, 0},
                                  .start_ns = m->start, .end_ns = m->end, .bytes = m->bytes,
                                  .graph_node_id = m->graphNodeId,
                                  .correlation_id = m->correlationId, .device = m->deviceId,
                                  .context = m->contextId, .stream = m->streamId,
                                  .copy_kind = m->copyKind, .src_kind = m->srcKind,
                                  .dst_kind = m->dstKind, .flags = m->flags,
                                  .graph_id = m->graphId};
        put(&r, sizeof r, arg);
        break;
    }
    case CUPTI_ACTIVITY_KIND_MEMSET: {
        const CUpti_ActivityMemset4 *m = (const void *)a;
        struct pt_rec_memset r = {.hdr = {PT_REC_MEMSET, sizeof r, 0},
                                  .start_ns = m->start, .end_ns = m->end, .bytes = m->bytes,
                                  .graph_node_id = m->graphNodeId,
                                  .correlation_id = m->correlationId, .device = m->deviceId,
                                  .context = m->contextId, .stream = m->streamId,
                                  .value = m->value, .memory_kind = m->memoryKind,
                                  .flags = m->flags};
        put(&r, sizeof r, arg);
        break;
    }
    case CUPTI_ACTIVITY_KIND_MEMORY2: {
        const CUpti_ActivityMemory4 *m = (const void *)a;
        struct pt_rec_memory r = {.hdr = {PT_REC_MEMORY, sizeof r, 0},
                                  .ts_ns = m->timestamp, .address = m->address, .bytes = m->bytes,
                                  .pool_address = m->memoryPoolConfig.address,
                                  .correlation_id = m->correlationId, .device = m->deviceId,
                                  .context = m->contextId, .stream = m->streamId,
                                  .operation = (uint8_t)m->memoryOperationType,
                                  .memory_kind = (uint8_t)m->memoryKind,
                                  .pool_type = (uint8_t)m->memoryPoolConfig.memoryPoolType,
                                  .is_async = (uint8_t)m->isAsync};
        put(&r, sizeof r, arg);
        break;
    }
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
        const CUpti_ActivitySynchronization2 *s = (const void *)a;
        struct pt_rec_sync r = {.hdr = {PT_REC_SYNC, sizeof r, 0},
                                .start_ns = s->start, .end_ns = s->end,
                                .correlation_id = s->correlationId, .context = s->contextId,
                                .stream = s->streamId, .event_id = s->cudaEventId,
                                .type = (uint32_t)s->type};
        put(&r, sizeof r, arg);
        break;
    }
    case CUPTI_ACTIVITY_KIND_RUNTIME:
    case CUPTI_ACTIVITY_KIND_DRIVER: {
        const CUpti_ActivityAPI *api = (const void *)a;
        int domain = a->kind == CUPTI_ACTIVITY_KIND_RUNTIME ? 1 : 2;
        const char *name = c->api_name ? c->api_name(domain, api->cbid) : NULL;
        struct pt_rec_cuda_api r = {.hdr = {PT_REC_CUDA_API, sizeof r, 0},
                                    .start_ns = api->start, .end_ns = api->end,
                                    .correlation_id = api->correlationId,
                                    .name_id = name ? pt_convert_intern(c, name, 256, put, arg) : 0,
                                    .thread_id = api->threadId, .result = api->returnValue,
                                    .domain = (uint32_t)domain, .cbid = api->cbid};
        put(&r, sizeof r, arg);
        break;
    }
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
        const CUpti_ActivityExternalCorrelation *e = (const void *)a;
        if (e->externalKind != CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0) {
            c->skipped++;
            return 0;
        }
        remember_correlation(c, e->correlationId, e->externalId);
        struct pt_rec_ext_corr r = {.hdr = {PT_REC_EXT_CORR, sizeof r, 0},
                                    .nccl_call_id = e->externalId,
                                    .correlation_id = e->correlationId,
                                    .external_kind = (uint32_t)e->externalKind};
        put(&r, sizeof r, arg);
        break;
    }
    default:
        c->skipped++;
        return 0;
    }
    c->converted++;
    return 1;
}
