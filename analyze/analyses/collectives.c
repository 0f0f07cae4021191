#include "analyses/collectives.h"

#include <stdlib.h>
#include <string.h>

#include "analyses/call_map.h"
#include "util/u64_map.h"

#define OPEN_TIMEOUT_NS 2000000000ull /* an instance still missing a rank or kernel is closed */
/* Observations held by open instances at most (48 bytes each): a rank that never comes (its file
 * missing) leaves every instance of its communicators open until the time-out, which a dense
 * run fills with millions; past this bound (24 MiB) the oldest are closed early instead. */
#define OPEN_OBS_MAX (1u << 19)
#define CALL_MAP 65536u               /* recent calls per file, to find a kernel's collective */

struct obs {
    int32_t rank;      /* global */
    int32_t member;    /* rank in the communicator */
    uint8_t is_send;   /* the send side of a send/recv pair */
    uint8_t wants_gpu; /* its process records kernels: wait for the NCCL kernel's times */
    uint8_t captured;  /* the call was captured into a CUDA graph: it runs only in replays */
    uint32_t file;     /* the call's file: with host_in, its place in the run's time order */
    uint64_t host_in, host_out, gpu_in, gpu_out; /* host_in: the call event's time too */
};

/* Whether x's call comes after y's in the run's order (run_key.h): the order the observations
 * would have come in, whatever order the files were read in. */
static int called_after(const struct obs *x, const struct obs *y)
{
    return pt_run_key_earlier((struct pt_run_key){y->host_in, y->file},
                              (struct pt_run_key){x->host_in, x->file});
}

#define NO_OP UINT16_MAX /* the op of an entry that holds no instance: no call has it */

struct open_coll {
    uint64_t comm, seq, bytes, touched;
    uint16_t op;
    int32_t n, seen;
    int32_t waiting; /* observations whose kernel is wanted and has not come */
    int used;
    struct obs *obs;
};

/* An entry of the open table let go: no lookup's key matches it any more. */
static void free_entry(struct open_coll *o)
{
    o->used = 0;
    o->op = NO_OP;
}

struct call_ref {
    uint64_t call_id, comm, seq, bytes;
    uint16_t op;
    int32_t obs;    /* the observation the call added to its instance; -1 none or not known */
    int32_t member; /* the caller's rank in the communicator */
};

/* The NCCL group a file's thread is in: NCCL launches one kernel for a whole group, tied to
 * the outermost GroupEnd, which names no communicator. Its first call tells which. */
struct group_track {
    uint64_t group_id;
    int members;
    struct call_ref first;
    struct group_memory *mem;      /* allocated at the file's first group of several calls */
};

/* A group of several calls (an all-to-all of grouped sends and receives) runs as one kernel,
 * tied to the group's GroupEnd: that kernel times each of the group's calls. A file keeps the
 * call ids of its last few groups until their kernels come (calls past GROUP_CALLS in a group
 * are not timed by it). */
#define GROUP_CALLS 32
#define GROUPS_KEPT 64
struct group_calls {
    uint64_t end_call;             /* the GroupEnd's call id; 0: free */
    int n;
    uint64_t call[GROUP_CALLS];
};
struct group_memory {
    struct group_calls open, kept[GROUPS_KEPT];
    int next;                      /* the kept entry to reuse next */
};

struct pt_collectives {
    struct pt_comm_stats **comms;              /* allocated as they appear */
    size_t n_comms, comms_cap;
    struct pt_u64_map comm_index;              /* id -> index + 1 in comms */
    struct pt_u64_map replays;                 /* (file, graph node) mixed -> replays seen */
    uint64_t cut;                              /* calls that could not be keyed or held */
    struct pt_comm_stats *last_comm;           /* the last one looked up: calls come in runs */
    struct open_coll *open;
    size_t open_cap, open_used;
    /* The instance found last: a collective's calls come in a run from its ranks, and then its
     * kernels. Checked by its key alone (entries move when others close; a free entry's op is
     * NO_OP), and `none`, whose key nothing has, when there is none (the table grew). */
    struct open_coll *open_hint, none;
    /* Per file of the run (made with it: no test per event): */
    struct pt_call_map *calls;     /* call id -> struct call_ref, up to CALL_MAP */
    struct group_track *groups;
    uint8_t *gpu;                  /* GPU side active */
    int32_t *rank;                 /* its global rank (RANK, else its index) */
    size_t n_files;
    uint64_t now, next_expiry;
    uint64_t open_obs;             /* observations held by open instances */
    /* Observation arrays of closed instances, kept for the next ones of the same size: a run
     * opens one instance per collective, and its ranks are the same every time. */
    struct spare_obs {
        struct spare_obs *next;
    } *spare;
    int32_t spare_n;
};

/* An array of n observations: a spare one when there is one of that size. Only the first
 * `seen` of an instance are read, each written whole when it is added. */
static struct obs *obs_new(struct pt_collectives *c, int32_t n)
{
    if (!c->spare || c->spare_n != n)
        return malloc((size_t)n * sizeof(struct obs));
    struct spare_obs *s = c->spare;
    c->spare = s->next;
    return (struct obs *)s;
}

/* Keeps a finished instance's array for the next instance of its size (others are freed). */
static void obs_done(struct pt_collectives *c, struct obs *o, int32_t n)
{
    if (!o)
        return;
    if (c->spare && c->spare_n != n) {
        free(o);
        return;
    }
    struct spare_obs *s = (struct spare_obs *)o;
    s->next = c->spare;
    c->spare = s;
    c->spare_n = n;
}

/* A send and its receive are one pair: (communicator, sender, receiver, the per-peer sequence
 * number both sides count). Open pairs use the op PT_OP_Recv, which no collective uses.
 * Returns 0 when the ranks do not fit the key. */
static uint64_t pair_key(const struct pt_rec_nccl_call *r)
{
    int32_t from = r->op == PT_OP_Send ? r->rank : r->peer, to = r->op == PT_OP_Send ? r->peer : r->rank;
    if (from < 0 || to < 0 || from >= PT_MAX_RANKS || to >= PT_MAX_RANKS || r->seq >= (1ull << 31))
        return 0;
    return (r->seq << 32 | (uint64_t)from << 16 | (uint64_t)to) + 1;
}

struct pt_collectives *pt_collectives_new(const struct pt_run *run)
{
    size_t n = run->n ? run->n : 1;
    struct pt_collectives *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->calls = calloc(n, sizeof *c->calls);
    c->groups = calloc(n, sizeof *c->groups);
    c->gpu = calloc(n, 1);
    c->rank = calloc(n, sizeof *c->rank);
    if (!c->calls || !c->groups || !c->gpu || !c->rank) {
        pt_collectives_free(c);
        return NULL;
    }
    c->none.op = NO_OP;
    c->open_hint = &c->none;
    c->n_files = run->n;
    for (size_t i = 0; i < run->n; i++) {
        pt_call_map_init(&c->calls[i], CALL_MAP, sizeof(struct call_ref));
        c->rank[i] = run->rank[i] >= 0 ? run->rank[i] : (int32_t)i;
    }
    return c;
}

/* The stats of communicator id when it has some, else NULL (nothing made). */
static struct pt_comm_stats *comm_known(const struct pt_collectives *c, uint64_t id)
{
    uint64_t at;
    return pt_u64_map_get(&c->comm_index, id, &at) ? c->comms[at - 1] : NULL;
}

static struct pt_comm_stats *comm_stats_find(struct pt_collectives *c, uint64_t id, int32_t n)
{
    struct pt_comm_stats *known = comm_known(c, id);
    if (known)
        return c->last_comm = known;
    if (c->n_comms == c->comms_cap) {
        size_t cap = c->comms_cap ? 2 * c->comms_cap : 16;
        struct pt_comm_stats **more = realloc(c->comms, cap * sizeof *more);
        if (!more)
            return NULL;
        c->comms = more;
        c->comms_cap = cap;
    }
    struct pt_comm_stats *s = calloc(1, sizeof *s);
    if (!s || pt_u64_map_put(&c->comm_index, id, c->n_comms + 1) != 0) {
        free(s);
        return NULL;
    }
    s->id = id;
    s->nranks = n;
    s->first = (struct pt_run_key){UINT64_MAX, UINT32_MAX};
    c->comms[c->n_comms++] = s;
    return c->last_comm = s;
}

/* Makes room for member m in the per-member arrays (up to the communicator's size). Returns 0,
 * or -1 when out of the communicator or of memory. */
static int members_reserve(struct pt_comm_stats *s, int32_t m)
{
    if (m < 0 || m >= s->nranks)
        return -1;
    if (m < s->members_cap)
        return 0;
    int32_t cap = s->members_cap ? s->members_cap : 8;
    while (cap <= m)
        cap *= 2;
    if (cap > s->nranks)
        cap = s->nranks;
    int32_t *ranks = realloc(s->member_rank, (size_t)cap * sizeof *ranks);
    if (ranks)
        s->member_rank = ranks;
    uint64_t *last = ranks ? realloc(s->last_count, (size_t)cap * sizeof *last) : NULL;
    if (last)
        s->last_count = last;
    uint64_t *cost = last ? realloc(s->late_cost_ns, (size_t)cap * sizeof *cost) : NULL;
    if (!cost)
        return -1;
    s->late_cost_ns = cost;
    for (int32_t i = s->members_cap; i < cap; i++)
        ranks[i] = -1, last[i] = 0, cost[i] = 0;
    s->members_cap = cap;
    return 0;
}

/* The stats of communicator id (of n ranks), made when new; NULL when there is no room. */
static inline struct pt_comm_stats *comm_stats(struct pt_collectives *c, uint64_t id, int32_t n)
{
    return c->last_comm && c->last_comm->id == id ? c->last_comm : comm_stats_find(c, id, n);
}

/* floor(log2(bytes)), 0 for 0 and 1, at most the last bucket. */
static size_t bucket_of(uint64_t bytes)
{
    size_t b = bytes > 1 ? (size_t)(63 - __builtin_clzll(bytes)) : 0;
    return b < PT_SIZE_BUCKETS ? b : PT_SIZE_BUCKETS - 1;
}

static uint64_t hash_key(uint64_t comm, uint16_t op, uint64_t seq)
{
    uint64_t h = comm ^ (seq * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)op << 56);
    h ^= h >> 31;
    return h * 0xbf58476d1ce4e5b9ull;
}

/* A matched send/recv pair into its hop (sender → receiver). */
static void add_hop(struct pt_comm_stats *s, const struct open_coll *o, int gpu)
{
    if (o->seen != 2 || o->obs[0].is_send == o->obs[1].is_send)
        return;
    const struct obs *snd = o->obs[0].is_send ? &o->obs[0] : &o->obs[1];
    const struct obs *rcv = o->obs[0].is_send ? &o->obs[1] : &o->obs[0];
    if (!s->hops && !(s->hops = calloc(PT_MAX_HOPS, sizeof *s->hops)))
        return;
    int h = 0;
    while (h < s->n_hops && !(s->hops[h].from == snd->rank && s->hops[h].to == rcv->rank))
        h++;
    if (h == s->n_hops) {
        if (h == PT_MAX_HOPS)
            return;
        s->hops[s->n_hops++] = (struct pt_hop){.from = snd->rank, .to = rcv->rank};
    }
    struct pt_hop *hop = &s->hops[h];
    uint64_t a = gpu ? snd->gpu_in : snd->host_in, b = gpu ? rcv->gpu_in : rcv->host_in;
    hop->pairs++;
    hop->bytes += o->bytes;
    if (b < a)
        hop->recv_wait_ns += a - b;
    else
        hop->send_wait_ns += b - a;
}

/* When observation i arrived: its kernel's start when the instance is timed by kernels. */
static uint64_t arrival(const struct open_coll *o, int32_t i, int gpu)
{
    return gpu ? o->obs[i].gpu_in : o->obs[i].host_in;
}

/* Folds a finished instance into its communicator's totals and frees it. */
static void close_instance(struct pt_collectives *c, struct open_coll *o)
{
    struct pt_comm_stats *s = comm_stats(c, o->comm, o->n);
    int gpu = o->seen > 0, captured = o->seen > 0;
    for (int32_t i = 0; i < o->seen; i++) {
        gpu &= o->obs[i].gpu_out != 0;
        captured &= o->obs[i].captured && !o->obs[i].gpu_out;
    }
    /* A capture ran nothing: its replays are the instances (add_replay). */
    if (s && o->seen > 0 && !captured) {
        uint64_t last = 0, end = 0;
        int32_t last_i = 0;
        /* The last to arrive; of those arriving at once, the last to call. */
        for (int32_t i = 0; i < o->seen; i++) {
            uint64_t a = arrival(o, i, gpu);
            uint64_t e = gpu ? o->obs[i].gpu_out : o->obs[i].host_out;
            if (a > last || (a == last && called_after(&o->obs[i], &o->obs[last_i])))
                last = a, last_i = i;
            end = e > end ? e : end;
        }
        int32_t last_member = o->obs[last_i].member;
        uint64_t wait = 0;
        for (int32_t i = 0; i < o->seen; i++)
            wait += last - arrival(o, i, gpu);
        struct pt_coll_bucket *b = &s->ops[o->op][bucket_of(o->bytes)];
        if (o->op == PT_OP_Recv) { /* a send/recv pair: its calls are counted and timed apart */
            /* Each side's wait in its own row: a receiver waits for a late sender (upstream),
             * a sender for a receiver not yet ready (downstream). */
            for (int32_t i = 0; i < o->seen; i++) {
                struct pt_coll_bucket *side = &s->ops[o->obs[i].is_send ? PT_OP_Send : PT_OP_Recv]
                                                     [bucket_of(o->bytes)];
                side->wait_ns += last - arrival(o, i, gpu);
                side->gpu_timed += gpu;
            }
            s->pairs++;
            s->unpaired += o->seen < o->n;
            add_hop(s, o, gpu);
        } else {
            b->count++;
            b->bytes += o->bytes;
            b->transfer_ns += end > last ? end - last : 0;
            b->wait_ns += wait;
            b->gpu_timed += gpu;
            s->instances++;
            s->incomplete += o->seen < o->n;
        }
        s->gpu_times += gpu;
        if (o->seen > 1 && members_reserve(s, last_member) == 0) {
            s->last_count[last_member]++;
            s->late_cost_ns[last_member] += wait;
        }
    }
    if (o->obs)
        c->open_obs -= (uint64_t)o->n;
    obs_done(c, o->obs, o->n);
    o->obs = NULL;
    free_entry(o);
    c->open_used--;
}

/* The open instance of (comm, op, seq); made when missing if create. NULL when missing (or out
 * of memory). The hint is tried first; the table grows only on a lookup that misses it. */
static struct open_coll *find_open(struct pt_collectives *c, uint64_t comm, uint16_t op,
                                   uint64_t seq, int create)
{
    struct open_coll *h = c->open_hint;
    if (h->seq == seq && h->comm == comm && h->op == op)
        return h;
    if (c->open_cap == 0 || (create && (c->open_used + 1) * 2 > c->open_cap)) {
        size_t cap = c->open_cap ? c->open_cap * 2 : 1024;
        struct open_coll *fresh = calloc(cap, sizeof *fresh);
        if (!fresh)
            return NULL;
        for (size_t i = 0; i < c->open_cap; i++) {
            if (!c->open[i].used)
                continue;
            size_t j = hash_key(c->open[i].comm, c->open[i].op, c->open[i].seq) & (cap - 1);
            while (fresh[j].used)
                j = (j + 1) & (cap - 1);
            fresh[j] = c->open[i];
        }
        free(c->open);
        c->open = fresh;
        c->open_cap = cap;
        c->open_hint = &c->none;
    }
    size_t i = hash_key(comm, op, seq) & (c->open_cap - 1);
    for (; c->open[i].used; i = (i + 1) & (c->open_cap - 1))
        if (c->open[i].comm == comm && c->open[i].op == op && c->open[i].seq == seq)
            return c->open_hint = &c->open[i];
    if (!create)
        return NULL;
    struct open_coll *o = &c->open[i];
    memset(o, 0, sizeof *o);
    o->used = 1;
    o->comm = comm, o->op = op, o->seq = seq;
    c->open_used++;
    return c->open_hint = o;
}

/* Removes entries from an open-addressing table and re-inserts the run after them. */
static void close_and_compact(struct pt_collectives *c, struct open_coll *o)
{
    close_instance(c, o);
    size_t i = (size_t)(o - c->open);
    for (size_t j = (i + 1) & (c->open_cap - 1); c->open[j].used; j = (j + 1) & (c->open_cap - 1)) {
        struct open_coll moved = c->open[j];
        free_entry(&c->open[j]);
        c->open[j].obs = NULL; /* owned by `moved` now */
        c->open_used--;
        struct open_coll *dst = find_open(c, moved.comm, moved.op, moved.seq, 1);
        if (dst)
            *dst = moved;
    }
}

/* All ranks are in, with their kernels where the GPU side was recorded. */
static int complete(const struct open_coll *o)
{
    return o->seen >= o->n && !o->waiting;
}

/* An instance was given something at time ts: closed when that made it complete. */
static void touch(struct pt_collectives *c, struct open_coll *o, uint64_t ts)
{
    o->touched = ts;
    if (complete(o))
        close_and_compact(c, o);
}

/* Who talks to whom over send/recv (the role) and who member r->rank is. Returns 0, or -1 when
 * the call cannot be placed (rank out of the communicator, out of memory). */
static int note_peer(struct pt_comm_stats *s, const struct pt_rec_nccl_call *r)
{
    if (r->rank < 0 || r->rank >= s->nranks || r->peer < 0)
        return -1;
    if (!s->peer_bits) {
        s->peer_bits = calloc((size_t)s->nranks, sizeof *s->peer_bits);
        s->recv_bytes = calloc((size_t)s->nranks, sizeof *s->recv_bytes);
        if (!s->peer_bits || !s->recv_bytes) {
            free(s->peer_bits), free(s->recv_bytes);
            s->peer_bits = s->recv_bytes = NULL;
            return -1;
        }
    }
    s->peer_bits[r->rank] |= 1ull << (r->peer % 64);
    return 0;
}

int pt_comm_max_peers(const struct pt_comm_stats *s)
{
    int most = 0;
    for (int32_t i = 0; s->peer_bits && i < s->nranks; i++)
        if (__builtin_popcountll(s->peer_bits[i]) > most)
            most = __builtin_popcountll(s->peer_bits[i]);
    return most;
}

int32_t pt_comm_hot_member(const struct pt_comm_stats *s, double *ratio)
{
    uint64_t total = 0;
    int32_t hot = -1;
    *ratio = 1.0;
    for (int32_t i = 0; s->recv_bytes && i < s->nranks; i++) {
        total += s->recv_bytes[i];
        if (s->recv_bytes[i] && (hot < 0 || s->recv_bytes[i] > s->recv_bytes[hot]))
            hot = i;
    }
    if (hot >= 0)
        *ratio = (double)s->recv_bytes[hot] * (double)s->nranks / (double)total;
    return hot;
}

/* What every call tells, inside the report's window or not: the communicator its kernels
 * belong to, and the communicator's members, mix of calls and send/recv peers (a role is a
 * property of the whole run). Returns the communicator's stats, NULL for a malformed call or
 * no room; *placed: a send/recv call's member and peer were recorded. */
static struct pt_comm_stats *register_call(struct pt_collectives *c, const struct pt_event *ev,
                                           uint64_t key, int *placed, struct call_ref **added)
{
    const struct pt_rec_nccl_call *r = (const void *)ev->rec;
    *placed = 0;
    *added = NULL;
    if (r->op == PT_OP_GroupEnd && r->group_depth == 0) {
        /* The group's kernel is tied to this call: it stands for the group's one call, or for
         * its communicator when the group holds several (the kernel serves them all). */
        struct group_track *gt = &c->groups[ev->source];
        if (gt->group_id == r->group_id && gt->members) {
            struct call_ref ref = gt->first;
            ref.call_id = r->call_id;
            if (gt->members > 1) {
                ref.op = PT_OP_GroupEnd, ref.seq = 0;
                if (gt->mem) { /* kept for the group's kernel */
                    struct group_calls *kept = &gt->mem->kept[gt->mem->next++ % GROUPS_KEPT];
                    *kept = gt->mem->open;
                    kept->end_call = r->call_id;
                }
            }
            struct call_ref *slot = pt_call_map_slot(&c->calls[ev->source], r->call_id);
            if (slot)
                *slot = ref;
        }
        gt->group_id = 0, gt->members = 0;
        return NULL;
    }
    if (!r->comm_id || r->nranks <= 0 || r->op >= PT_OP_LIMIT)
        return NULL;
    if (r->nranks > PT_MAX_RANKS) {
        c->cut++;
        return NULL;
    }
    struct call_ref ref = {r->call_id, r->comm_id, key, r->bytes, r->op, -1, r->rank};
    struct call_ref *slot = pt_call_map_slot(&c->calls[ev->source], r->call_id);
    if (slot)
        *slot = ref;
    *added = slot;
    struct group_track *gt = &c->groups[ev->source];
    if (r->group_id && gt->group_id != r->group_id) {
        struct group_memory *mem = gt->mem;
        *gt = (struct group_track){r->group_id, 0, ref, mem};
        if (mem)
            mem->open.n = 0;
    }
    gt->members += r->group_id != 0;
    /* Several calls in one group: the file keeps groups from now on, this one's first call too. */
    if (gt->members > 1 && !gt->mem && (gt->mem = calloc(1, sizeof *gt->mem)))
        gt->mem->open.call[gt->mem->open.n++] = gt->first.call_id;
    if (r->group_id && gt->mem && gt->mem->open.n < GROUP_CALLS)
        gt->mem->open.call[gt->mem->open.n++] = r->call_id;
    struct pt_comm_stats *s = comm_stats(c, r->comm_id, r->nranks);
    if (!s) {
        c->cut++;
        return NULL;
    }
    s->calls[r->op]++;
    struct pt_run_key at = {ev->ts_ns, ev->source};
    if (pt_run_key_earlier(at, s->first))
        s->first = at;
    int32_t g = c->rank[ev->source];
    if (members_reserve(s, r->rank) == 0 && s->member_rank[r->rank] != g)
        s->member_rank[r->rank] = g;
    *placed = pt_op_is_p2p(r->op) && note_peer(s, r) == 0;
    return s;
}

/* The op an instance is opened under: its own, or PT_OP_Recv for a send/recv pair. */
static uint16_t open_op(uint16_t op) { return pt_op_is_p2p(op) ? PT_OP_Recv : op; }

/* The key that matches a call across ranks: its sequence number, or its send/recv pair. */
static uint64_t call_key(const struct pt_rec_nccl_call *r) { return pt_op_is_p2p(r->op) ? pair_key(r) : r->seq; }

/* Gives a new instance, of n ranks and bytes (S), its observations. Returns 0, or -1 when out
 * of memory (the instance is dropped). */
static int instance_obs(struct pt_collectives *c, struct open_coll *o, int32_t n, uint64_t bytes)
{
    if (o->obs)
        return 0;
    o->n = n;
    o->bytes = bytes;
    if (!(o->obs = obs_new(c, n))) {
        free_entry(o);
        c->open_used--;
        return -1;
    }
    c->open_obs += (uint64_t)n;
    return 0;
}

/* A send or receive's kernel times its call in the send/recv row, when the call was counted
 * (inside the report's window). */
static void time_p2p_call(struct pt_collectives *c, const struct call_ref *ref,
                          const struct pt_rec_kernel *k)
{
    struct pt_comm_stats *s = pt_op_is_p2p(ref->op) ? comm_known(c, ref->comm) : NULL;
    struct pt_coll_bucket *b = s ? &s->ops[ref->op][bucket_of(ref->bytes)] : NULL;
    if (b && b->count)
        b->transfer_ns += k->end_ns - k->start_ns;
}

static void add_call(struct pt_collectives *c, const struct pt_event *ev)
{
    const struct pt_rec_nccl_call *r = (const void *)ev->rec;
    uint64_t key = call_key(r);
    int placed;
    struct call_ref *ref;
    struct pt_comm_stats *s = register_call(c, ev, key, &placed, &ref);
    if (!s)
        return;
    if (placed && r->op == PT_OP_Recv)
        s->recv_bytes[r->rank] += r->bytes;
    if (pt_op_is_p2p(r->op)) {
        /* Send/recv rows: counted per call; timed by the kernel (wait included) when the GPU
         * side is recorded, else by the host call. */
        struct pt_coll_bucket *b = &s->ops[r->op][bucket_of(r->bytes)];
        b->count++;
        b->bytes += r->bytes;
        if (!c->gpu[ev->source])
            b->transfer_ns += r->t_exit_ns - r->t_enter_ns;
    }
    if (pt_op_is_p2p(r->op) && !key)
        c->cut++;
    if (!pt_op_is_collective(r->op) && !(pt_op_is_p2p(r->op) && key))
        return;
    struct open_coll *o = find_open(c, r->comm_id, open_op(r->op), key, 1);
    if (!o || instance_obs(c, o, pt_op_is_p2p(r->op) ? 2 : r->nranks,
                           pt_total_bytes(r->op, r->bytes, r->nranks)) != 0)
        return;
    if (o->seen < o->n) {
        if (ref)
            ref->obs = o->seen;
        struct obs *b = &o->obs[o->seen++];
        *b = (struct obs){.rank = c->rank[ev->source], .member = r->rank,
                          .is_send = r->op == PT_OP_Send,
                          .wants_gpu = c->gpu[ev->source], .file = ev->source,
                          .host_in = r->t_enter_ns, .host_out = r->t_exit_ns};
        o->waiting += b->wants_gpu;
    }
    touch(c, o, ev->ts_ns);
}

/* The kernel's times for observation b of instance o. */
static inline void take_kernel(struct open_coll *o, struct obs *b, const struct pt_rec_kernel *k)
{
    b->gpu_in = k->start_ns;
    b->gpu_out = k->end_ns;
    o->waiting -= b->wants_gpu && k->end_ns;
}

/* A kernel replayed from a CUDA graph: the n-th replay of a captured collective is the same
 * instance on every rank of its communicator, keyed by the capture's sequence number and n. Its
 * kernel is its arrival and its end. Opened by a replay inside the report's window only. */
static uint64_t add_replay(struct pt_collectives *c, const struct pt_event *ev,
                           const struct pt_rec_kernel *k, const struct call_ref *ref, int in_window)
{
    uint64_t node = pt_mix64(ev->source + 1, k->graph_node_id), n = 0;
    pt_u64_map_get(&c->replays, node, &n);
    pt_u64_map_put(&c->replays, node, n + 1);
    const struct pt_comm_stats *s = comm_known(c, ref->comm);
    if (!s)
        return ref->comm;
    struct open_coll *o = find_open(c, ref->comm, ref->op, pt_mix64(ref->seq + 1, n + 1), in_window);
    if (!o || instance_obs(c, o, s->nranks, pt_total_bytes(ref->op, ref->bytes, s->nranks)) != 0)
        return ref->comm;
    if (o->seen < o->n)
        o->obs[o->seen++] = (struct obs){.rank = c->rank[ev->source], .member = ref->member,
                                         .file = ev->source, .host_in = k->start_ns,
                                         .host_out = k->end_ns, .gpu_in = k->start_ns,
                                         .gpu_out = k->end_ns};
    touch(c, o, ev->ts_ns);
    return ref->comm;
}

/* The kernel's times for each call of the group it ran (found by its GroupEnd's call id): the
 * send/recv rows' time, and each call's observation in its instance. */
static void time_group(struct pt_collectives *c, const struct pt_event *ev,
                       const struct pt_rec_kernel *k, uint64_t end_call)
{
    struct group_memory *mem = c->groups[ev->source].mem;
    struct group_calls *gc = NULL;
    for (int i = 0; i < GROUPS_KEPT && !gc; i++)
        if (mem->kept[i].end_call == end_call)
            gc = &mem->kept[i];
    if (!gc)
        return;
    int32_t g = c->rank[ev->source];
    for (int m = 0; m < gc->n; m++) {
        const struct call_ref *ref = pt_call_map_get(&c->calls[ev->source], gc->call[m]);
        if (!ref)
            continue;
        time_p2p_call(c, ref, k);
        struct open_coll *o = find_open(c, ref->comm, open_op(ref->op), ref->seq, 0);
        if (!o || ref->obs < 0 || ref->obs >= o->seen || o->obs[ref->obs].rank != g ||
            o->obs[ref->obs].gpu_out)
            continue;
        take_kernel(o, &o->obs[ref->obs], k);
        touch(c, o, ev->ts_ns);
    }
    gc->end_call = 0;
}

/* A graph node made inside a NCCL call: that call was captured, and runs only in replays. */
static void note_capture(struct pt_collectives *c, const struct pt_event *ev)
{
    const struct pt_rec_graph_node *g = (const void *)ev->rec;
    const struct call_ref *ref = g->nccl_call_id && !g->cloned
                                     ? pt_call_map_get(&c->calls[ev->source], g->nccl_call_id)
                                     : NULL;
    struct open_coll *o = ref && ref->obs >= 0 ? find_open(c, ref->comm, open_op(ref->op), ref->seq, 0)
                                               : NULL;
    if (o && ref->obs < o->seen)
        o->obs[ref->obs].captured = 1;
}

/* Returns the communicator of the kernel's call, 0 when unknown. */
static uint64_t add_kernel(struct pt_collectives *c, const struct pt_run *run, const struct pt_event *ev,
                           int in_window)
{
    const struct pt_rec_kernel *k = (const void *)ev->rec;
    uint64_t call = pt_trace_ctx_kernel_call(pt_source_ctx(run->sources[ev->source]), k);
    const struct call_ref *ref = pt_call_map_get(&c->calls[ev->source], call);
    if (!ref)
        return 0;
    if (k->graph_node_id && pt_op_is_collective(ref->op))
        return add_replay(c, ev, k, ref, in_window);
    if (ref->op == PT_OP_GroupEnd && c->groups[ev->source].mem) {
        time_group(c, ev, k, call);
        return ref->comm;
    }
    time_p2p_call(c, ref, k);
    struct open_coll *o = find_open(c, ref->comm, open_op(ref->op), ref->seq, 0);
    if (!o)
        return ref->comm;
    int32_t g = c->rank[ev->source];
    /* The kernel's times go to its call's observation. A group's kernel, tied to the group's
     * first call (register_call), gives them to every observation of its rank still without. */
    int32_t i = ref->obs;
    if (i >= 0 && i < o->seen && o->obs[i].rank == g) {
        if (!o->obs[i].gpu_out)
            take_kernel(o, &o->obs[i], k);
    } else {
        for (i = 0; i < o->seen; i++)
            if (o->obs[i].rank == g && !o->obs[i].gpu_out)
                take_kernel(o, &o->obs[i], k);
    }
    touch(c, o, ev->ts_ns);
    return ref->comm;
}

/* Closes instances nobody has touched for longer than age_ns: a rank or a kernel never came. */
static void expire(struct pt_collectives *c, uint64_t age_ns)
{
    for (size_t i = 0; i < c->open_cap; i++)
        if (c->open[i].used && c->now > c->open[i].touched + age_ns)
            close_and_compact(c, &c->open[i]);
}

/* Open instances hold too many observations: closes the oldest half or more, the time-out
 * halved until they go (each round frees at least what it scans, over time). */
static void shed(struct pt_collectives *c)
{
    uint64_t age = OPEN_TIMEOUT_NS;
    while (c->open_obs > OPEN_OBS_MAX / 2 && age) {
        age /= 2;
        expire(c, age);
    }
    if (c->open_obs > OPEN_OBS_MAX / 2) /* all touched just now: close them all */
        for (size_t i = 0; i < c->open_cap; i++)
            if (c->open[i].used)
                close_and_compact(c, &c->open[i]);
}

uint64_t pt_collectives_add(struct pt_collectives *c, const struct pt_run *run,
                            const struct pt_event *ev, uint16_t kind, int in_window)
{
    if (ev->ts_ns > c->now) {
        c->now = ev->ts_ns;
        if (c->now >= c->next_expiry) { /* a sweep every quarter of the time-out */
            if (c->next_expiry)
                expire(c, OPEN_TIMEOUT_NS);
            c->next_expiry = c->now + OPEN_TIMEOUT_NS / 4;
        }
    }
    if (c->open_obs > OPEN_OBS_MAX)
        shed(c);
    switch (kind) {
    case PT_REC_NCCL_CALL:
        add_call(c, ev);
        break;
    case PT_REC_KERNEL:
        return add_kernel(c, run, ev, in_window);
    case PT_REC_GRAPH_NODE:
        note_capture(c, ev);
        break;
    case PT_REC_CUDA_STATUS:
        c->gpu[ev->source] = ((const struct pt_rec_cuda_status *)ev->rec)->state == PT_CUDA_ACTIVE;
        break;
    }
    return 0;
}

void pt_collectives_note_call(struct pt_collectives *c, const struct pt_event *ev)
{
    int placed;
    struct call_ref *ref;
    if (ev->rec->kind == PT_REC_NCCL_CALL)
        register_call(c, ev, call_key((const void *)ev->rec), &placed, &ref);
}

static int hop_after(const struct pt_hop *x, const struct pt_hop *y)
{
    return x->from > y->from || (x->from == y->from && x->to > y->to);
}

void pt_collectives_finish(struct pt_collectives *c)
{
    for (size_t i = 0; i < c->open_cap; i++)
        if (c->open[i].used)
            close_instance(c, &c->open[i]);
    /* Insertion sorts: stable (read in time order, the communicators are in order already),
     * and the lists are short (a communicator or a few per rank, at most PT_MAX_HOPS). */
    for (size_t i = 1; i < c->n_comms; i++) {
        struct pt_comm_stats *s = c->comms[i];
        size_t j = i;
        for (; j > 0 && pt_run_key_earlier(s->first, c->comms[j - 1]->first); j--)
            c->comms[j] = c->comms[j - 1];
        c->comms[j] = s;
    }
    for (size_t i = 0; i < c->n_comms; i++)
        pt_u64_map_put(&c->comm_index, c->comms[i]->id, i + 1); /* their new places */
    for (size_t k = 0; k < c->n_comms; k++) {
        struct pt_hop *h = c->comms[k]->hops;
        for (int i = 1; i < c->comms[k]->n_hops; i++) {
            struct pt_hop x = h[i];
            int j = i;
            for (; j > 0 && hop_after(&h[j - 1], &x); j--)
                h[j] = h[j - 1];
            h[j] = x;
        }
    }
}

struct pt_comm_stats *pt_collectives_add_outside(struct pt_collectives *c, uint64_t id, const int32_t *ranks,
                                                 int32_t n, const char *cls, uint64_t follows)
{
    for (int tries = 0; comm_known(c, id) && tries < 64; tries++)
        id++; /* ids are hashes: one taken already moves on */
    if (n < 1 || comm_known(c, id))
        return NULL;
    struct pt_comm_stats *s = comm_stats_find(c, id, n);
    if (!s || members_reserve(s, n - 1) != 0)
        return NULL;
    memcpy(s->member_rank, ranks, (size_t)n * sizeof *ranks);
    s->outside_class = cls;
    s->follows = follows;
    return s;
}

void pt_comm_add_instance(struct pt_comm_stats *s, uint16_t op, const struct pt_outside_obs *obs, int32_t n)
{
    uint64_t last = 0, end = 0, wait = 0;
    int32_t last_i = -1;
    for (int32_t i = 0; i < n; i++) {
        if (last_i < 0 || obs[i].start > last) /* of equal arrivals, the first listed */
            last = obs[i].start, last_i = i;
        end = obs[i].end > end ? obs[i].end : end;
    }
    if (last_i < 0)
        return;
    for (int32_t i = 0; i < n; i++)
        wait += last - obs[i].start;
    struct pt_coll_bucket *b = &s->ops[op][0];
    b->count++;
    b->transfer_ns += end > last ? end - last : 0;
    b->wait_ns += wait;
    b->gpu_timed++;
    s->instances++;
    s->incomplete += n < s->nranks;
    s->gpu_times++;
    int32_t m = obs[last_i].member;
    if (n > 1 && m >= 0 && m < s->members_cap) {
        s->last_count[m]++;
        s->late_cost_ns[m] += wait;
    }
}

size_t pt_collectives_count(const struct pt_collectives *c) { return c->n_comms; }
uint64_t pt_collectives_cut(const struct pt_collectives *c) { return c->cut; }

int32_t pt_comm_members_seen(const struct pt_comm_stats *s)
{
    int32_t n = 0;
    for (int32_t m = 0; m < s->members_cap; m++)
        n += s->member_rank[m] >= 0;
    return n;
}

int32_t pt_comm_place_of(const struct pt_comm_stats *s, int32_t global)
{
    int32_t below = 0, member = 0;
    for (int32_t m = 0; m < s->members_cap; m++) {
        below += s->member_rank[m] >= 0 && s->member_rank[m] < global;
        member |= s->member_rank[m] == global;
    }
    return member && global >= 0 ? below : -1;
}

static int by_global(const void *a, const void *b)
{
    const int32_t *x = a, *y = b; /* {global rank, member} */
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

int32_t pt_comm_members_by_rank(const struct pt_comm_stats *s, int32_t *order)
{
    int32_t n = 0;
    int32_t (*pairs)[2] = malloc((size_t)(s->members_cap ? s->members_cap : 1) * sizeof *pairs);
    if (!pairs)
        return 0;
    for (int32_t m = 0; m < s->members_cap; m++)
        if (s->member_rank[m] >= 0)
            pairs[n][0] = s->member_rank[m], pairs[n++][1] = m;
    qsort(pairs, (size_t)n, sizeof *pairs, by_global);
    for (int32_t i = 0; i < n; i++)
        order[i] = pairs[i][1];
    free(pairs);
    return n;
}
const struct pt_comm_stats *pt_collectives_comm(const struct pt_collectives *c, size_t i) { return c->comms[i]; }

long pt_collectives_find(const struct pt_collectives *c, uint64_t id)
{
    uint64_t at;
    return pt_u64_map_get(&c->comm_index, id, &at) ? (long)at - 1 : -1;
}

void pt_collectives_free(struct pt_collectives *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_comms; i++) {
        free(c->comms[i]->last_count);
        free(c->comms[i]->late_cost_ns);
        free(c->comms[i]->peer_bits);
        free(c->comms[i]->recv_bytes);
        free(c->comms[i]->member_rank);
        free(c->comms[i]->hops);
        free(c->comms[i]);
    }
    free(c->comms);
    pt_u64_map_free(&c->comm_index);
    pt_u64_map_free(&c->replays);
    for (size_t i = 0; i < c->open_cap; i++)
        if (c->open[i].used)
            free(c->open[i].obs);
    while (c->spare) {
        struct spare_obs *next = c->spare->next;
        free(c->spare);
        c->spare = next;
    }
    for (size_t i = 0; i < c->n_files; i++) /* 0 until the per-file arrays are made */
        pt_call_map_free(&c->calls[i]);
    free(c->calls);
    free(c->gpu);
    for (size_t i = 0; c->groups && i < c->n_files; i++)
        free(c->groups[i].mem);
    free(c->groups);
    free(c->rank);
    free(c->open);
    free(c);
}
