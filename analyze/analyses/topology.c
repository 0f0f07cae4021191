#include "analyses/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read/kernel_class.h"

static uint64_t data_calls(const struct pt_comm_stats *s)
{
    uint64_t n = 0;
    for (int op = 1; op < PT_OP_LIMIT; op++)
        if (pt_op_moves_data((uint16_t)op))
            n += s->calls[op];
    return n;
}

/* Bytes of one op on the communicator (nccl-tests' total bytes, every size bucket). */
static uint64_t op_bytes(const struct pt_comm_stats *s, int op)
{
    uint64_t n = 0;
    for (int b = 0; b < PT_SIZE_BUCKETS; b++)
        n += s->ops[op][b].bytes;
    return n;
}

static uint64_t data_bytes(const struct pt_comm_stats *s)
{
    uint64_t n = 0;
    for (int op = 1; op < PT_OP_LIMIT; op++)
        if (pt_op_moves_data((uint16_t)op))
            n += op_bytes(s, op);
    return n;
}

static int32_t find(int32_t *parent, int32_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* One past the highest global rank among the communicators' members. */
static int32_t rank_space(const struct pt_collectives *c)
{
    int32_t top = 0;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        for (int32_t m = 0; m < s->members_cap; m++)
            if (s->member_rank[m] >= top)
                top = s->member_rank[m] + 1;
    }
    return top;
}

/* Ranks joined by PP communicators (vLLM's pipeline group of all stages, or one 2-rank
 * communicator per hop) form chains: parent[] is a union-find over the n global ranks, member[]
 * marks the ranks in any PP communicator. Returns 0 when there is none. */
static int pipeline_chains(const struct pt_collectives *c, const struct pt_role *roles, int32_t n,
                           int32_t *parent, unsigned char *member)
{
    for (int32_t g = 0; g < n; g++)
        parent[g] = g, member[g] = 0;
    int any = 0;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        if (strcmp(roles[i].role, "PP"))
            continue;
        int32_t first = -1;
        for (int32_t m = 0; m < s->members_cap; m++) {
            int32_t g = s->member_rank[m];
            if (g < 0)
                continue;
            any = member[g] = 1;
            if (first < 0)
                first = g;
            else
                parent[find(parent, g)] = find(parent, first);
        }
    }
    return any;
}

/* The chains' arrays for the run's ranks; NULL when out of memory (freed with free(parent)). */
static int32_t *chains_new(int32_t n, unsigned char **member)
{
    int32_t *parent = malloc((size_t)(n ? n : 1) * (sizeof *parent + 1));
    *member = parent ? (unsigned char *)(parent + (n ? n : 1)) : NULL;
    return parent;
}

/* The pipeline's depth: the longest chain. With data parallel replicas or TP groups beside it,
 * each replica is a chain of its own. */
static int pipeline_stages(const struct pt_collectives *c, const struct pt_role *roles)
{
    int32_t n = rank_space(c);
    unsigned char *member;
    int32_t *parent = chains_new(n, &member), *size = calloc(n ? (size_t)n : 1, sizeof *size);
    int deepest = 0;
    if (parent && size && pipeline_chains(c, roles, n, parent, member)) {
        for (int32_t g = 0; g < n; g++)
            if (member[g])
                size[find(parent, g)]++;
        for (int32_t g = 0; g < n; g++)
            if (parent[g] == g && size[g] > deepest)
                deepest = size[g];
    }
    free(parent);
    free(size);
    return deepest;
}

/* A group of kernels outside NCCL: its class's role, and how its ranks were found. */
static void outside_role(const struct pt_collectives *c, const struct pt_comm_stats *s, struct pt_role *r)
{
    const char *role = pt_comm_class_role(s->outside_class);
    r->role = role ? role : "other";
    char ranks[96];
    /* a communicator only made, with no call, is not in the table: say so */
    int listed = pt_collectives_find(c, s->follows) >= 0;
    if (s->follows)
        snprintf(ranks, sizeof ranks, "the ranks of %016llx%s", (unsigned long long)s->follows,
                 listed ? "" : " (made, no calls)");
    else
        snprintf(ranks, sizeof ranks, "every rank running them");
    snprintf(r->evidence, sizeof r->evidence,
             "%s kernels outside NCCL, matched in order over %s (ends %.1f us apart, median)",
             s->outside_class, ranks, (double)s->end_spread_ns / 1e3);
}

/* Whether s may be a TP communicator given the groups of TP kernels outside NCCL: when there
 * are some (custom all-reduce carries the layers), only a communicator of the same ranks as
 * one of them is TP; a reduction group across them is DP. */
static int beside_outside_tp(const struct pt_collectives *c, const struct pt_role *roles,
                             const struct pt_comm_stats *s)
{
    int any = 0;
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *o = pt_collectives_comm(c, i);
        if (!o->outside_class || strcmp(roles[i].role, "TP"))
            continue;
        any = 1;
        if (o->nranks != s->nranks)
            continue;
        int same = 1;
        for (int32_t m = 0; m < o->members_cap && same; m++)
            same = o->member_rank[m] < 0 || pt_comm_place_of(s, o->member_rank[m]) >= 0;
        if (same)
            return 1;
    }
    return !any;
}

void pt_topology_infer(const struct pt_collectives *c, int world, struct pt_role *roles,
                       struct pt_layout *layout)
{
    size_t n = pt_collectives_count(c);
    memset(layout, 0, sizeof *layout);
    layout->world = world;
    size_t busiest = n;
    double busiest_rate = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        uint64_t all = data_calls(s);
        uint64_t reduce = s->calls[PT_OP_AllReduce] + s->calls[PT_OP_ReduceScatter] +
                          s->calls[PT_OP_AllGather];
        uint64_t p2p = s->calls[PT_OP_Send] + s->calls[PT_OP_Recv];
        uint64_t p2p_bytes = op_bytes(s, PT_OP_Send) + op_bytes(s, PT_OP_Recv), all_bytes = data_bytes(s);
        /* Send/recv communicators also carry small collectives: the odd barrier (an all-reduce
         * of one value), the counts of an all-to-all of uneven sizes (an all-gather per layer).
         * 90 % of the data calls, or of the bytes, make it a send/recv communicator. */
        int by_calls = p2p && p2p * 10 >= all * 9;
        int mostly_p2p = by_calls || (p2p && p2p_bytes * 10 >= all_bytes * 9);
        char p2p_text[96];
        if (p2p == all)
            snprintf(p2p_text, sizeof p2p_text, "only send/recv (%llu calls)", (unsigned long long)p2p);
        else if (by_calls || !all_bytes)
            snprintf(p2p_text, sizeof p2p_text, "send/recv %llu of %llu calls", (unsigned long long)p2p,
                     (unsigned long long)all);
        else
            snprintf(p2p_text, sizeof p2p_text, "send/recv %llu of %llu calls, %.0f%% of the bytes",
                     (unsigned long long)p2p, (unsigned long long)all, 100.0 * (double)p2p_bytes / (double)all_bytes);
        roles[i].role = "other";
        if (s->outside_class) {
            outside_role(c, s, &roles[i]);
        } else if (!all) {
            snprintf(roles[i].evidence, sizeof roles[i].evidence, "no data calls");
        } else if (s->calls[PT_OP_AlltoAll] * 2 > all) {
            roles[i].role = "EP";
            snprintf(roles[i].evidence, sizeof roles[i].evidence, "all-to-all %llu of %llu calls",
                     (unsigned long long)s->calls[PT_OP_AlltoAll], (unsigned long long)all);
        } else if (mostly_p2p && pt_comm_max_peers(s) > 2) {
            /* Each member exchanges with many peers: an all-to-all made of send/recv (MoE
             * dispatch and combine), not a pipeline, where a stage talks to its neighbours. */
            roles[i].role = "EP";
            snprintf(roles[i].evidence, sizeof roles[i].evidence, "%s, up to %d peers per rank",
                     p2p_text, pt_comm_max_peers(s));
        } else if (mostly_p2p) {
            roles[i].role = "PP";
            snprintf(roles[i].evidence, sizeof roles[i].evidence, "%s, to neighbours", p2p_text);
        } else if (reduce * 2 > all && s->nranks > 1) {
            roles[i].role = "DP";
            snprintf(roles[i].evidence, sizeof roles[i].evidence,
                     "reductions %llu of %llu calls", (unsigned long long)reduce,
                     (unsigned long long)all);
            double rate = (double)reduce / (double)s->nranks;
            if (rate > busiest_rate)
                busiest_rate = rate, busiest = i;
        } else {
            snprintf(roles[i].evidence, sizeof roles[i].evidence, "mixed traffic (%llu calls)",
                     (unsigned long long)all);
        }
    }
    /* The all-reduce communicator used most per rank carries the layers: tensor parallelism;
     * so do its siblings (other stages' or replicas' TP groups): same size, similar rate. */
    for (size_t i = 0; busiest < n && i < n; i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        const struct pt_comm_stats *top = pt_collectives_comm(c, busiest);
        double rate = (double)(s->calls[PT_OP_AllReduce] + s->calls[PT_OP_ReduceScatter] +
                               s->calls[PT_OP_AllGather]) / (double)(s->nranks > 0 ? s->nranks : 1);
        if (strcmp(roles[i].role, "DP") || s->nranks != top->nranks || rate * 2 < busiest_rate ||
            !beside_outside_tp(c, roles, s))
            continue;
        roles[i].role = "TP";
        size_t len = strlen(roles[i].evidence);
        snprintf(roles[i].evidence + len, sizeof roles[i].evidence - len,
                 i == busiest ? "; busiest reduction group"
                              : "; as busy as the busiest");
    }
    /* One family of reduction groups only: TP or DP, the traffic alone cannot tell. Say so. */
    int dp_groups = 0;
    for (size_t i = 0; i < n; i++)
        dp_groups += !strcmp(roles[i].role, "DP");
    for (size_t i = 0; !dp_groups && i < n; i++)
        if (!strcmp(roles[i].role, "TP") && !pt_collectives_comm(c, i)->outside_class) {
            size_t len = strlen(roles[i].evidence);
            snprintf(roles[i].evidence + len, sizeof roles[i].evidence - len,
                     "; or DP (alone: --layout decides)");
        }
    layout->pp = pipeline_stages(c, roles);
    for (size_t i = 0; i < n; i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        if (!strcmp(roles[i].role, "TP") && s->nranks > layout->tp)
            layout->tp = s->nranks;
        if (!strcmp(roles[i].role, "EP") && s->nranks > layout->ep)
            layout->ep = s->nranks;
    }
    if (!layout->tp)
        layout->tp = 1;
    if (!layout->pp)
        layout->pp = 1;
    if (!layout->ep)
        layout->ep = 1;
    int per_replica = layout->tp * layout->pp;
    layout->dp = world > 0 && per_replica > 0 && world % per_replica == 0 ? world / per_replica : 1;
}

int pt_layout_parse(const char *text, struct pt_layout *out, char *err, size_t cap)
{
    const char *p = text;
    while (*p) {
        int *field = NULL;
        if (!strncmp(p, "tp=", 3))
            field = &out->tp;
        else if (!strncmp(p, "pp=", 3))
            field = &out->pp;
        else if (!strncmp(p, "dp=", 3))
            field = &out->dp;
        else if (!strncmp(p, "ep=", 3))
            field = &out->ep;
        if (!field) {
            snprintf(err, cap, "at offset %d: expected tp=, pp=, dp= or ep=", (int)(p - text));
            return -1;
        }
        char *end;
        long v = strtol(p + 3, &end, 10);
        if (end == p + 3 || v < 1 || v > PT_MAX_RANKS || (*end && *end != ',')) {
            snprintf(err, cap, "at offset %d: %.2s takes a number of ranks from 1 to %d",
                     (int)(p + 3 - text), p, PT_MAX_RANKS);
            return -1;
        }
        *field = (int)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int pt_topology_coord(const struct pt_collectives *c, const struct pt_role *roles, const char *role,
                      int32_t rank)
{
    if (rank < 0)
        return -1;
    if (!strcmp(role, "PP")) { /* the stage: its place in rank order along its chain */
        int32_t n = rank_space(c), place = -1;
        unsigned char *member;
        int32_t *parent = rank < n ? chains_new(n, &member) : NULL;
        if (parent && pipeline_chains(c, roles, n, parent, member) && member[rank]) {
            int32_t chain = find(parent, rank);
            place = 0;
            for (int32_t g = 0; g < rank; g++)
                place += member[g] && find(parent, g) == chain;
        }
        free(parent);
        return place;
    }
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        int32_t place = strcmp(roles[i].role, role) ? -1 : pt_comm_place_of(s, rank);
        if (place >= 0)
            return place;
    }
    return -1;
}
