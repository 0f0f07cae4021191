/* Kernels of communication classes outside NCCL, grouped and matched by order (outside_nccl.h). */
#include "analyses/outside_nccl.h"

#include <stdlib.h>
#include <string.h>

#include "format/nccl_ops.h"
#include "read/kernel_class.h"
#include "util/u64_map.h"

/* Kernels kept per file and class (16 bytes each: 32 MiB): hours of a server's decode steps. */
#define PER_FILE_MAX (1u << 21)
#define MAX_CLASSES 16
/* Instances sampled for a candidate group's end spread. */
#define SPREAD_SAMPLES 512
#define MAX_MADE 4096 /* communicator inits kept (a few per rank) */

struct kernel_time {
    uint64_t start;
    uint32_t dur; /* ns, at most 4.3 s (a longer one is cut there) */
    uint32_t in_window;
};

struct kernel_list {
    struct kernel_time *k;
    size_t n, cap;
};

struct pt_outside {
    size_t n_files;
    struct {
        const char *cls;
        struct kernel_list *files; /* [n_files] */
    } classes[MAX_CLASSES];
    int n_classes;
    uint64_t dropped;
    /* NCCL communicators as made (their inits), for those with no call in the trace: a TP
     * communicator that custom all-reduce left idle still tells its ranks. */
    struct made {
        uint64_t comm;
        int32_t nranks;
        uint32_t file;
    } made[MAX_MADE];
    int n_made;
};

struct pt_outside *pt_outside_new(size_t n_files)
{
    struct pt_outside *o = calloc(1, sizeof *o);
    if (o)
        o->n_files = n_files;
    return o;
}

static struct kernel_list *class_files(struct pt_outside *o, const char *cls)
{
    for (int i = 0; i < o->n_classes; i++)
        if (o->classes[i].cls == cls || !strcmp(o->classes[i].cls, cls))
            return o->classes[i].files;
    if (o->n_classes == MAX_CLASSES)
        return NULL;
    struct kernel_list *files = calloc(o->n_files ? o->n_files : 1, sizeof *files);
    if (files) {
        o->classes[o->n_classes].cls = cls;
        o->classes[o->n_classes++].files = files;
    }
    return files;
}

void pt_outside_add(struct pt_outside *o, uint32_t file, const char *cls, uint64_t start_ns, uint64_t end_ns,
                    int in_window)
{
    struct kernel_list *files = file < o->n_files ? class_files(o, cls) : NULL;
    struct kernel_list *l = files ? &files[file] : NULL;
    if (l && l->n == l->cap && l->cap < PER_FILE_MAX) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        struct kernel_time *more = realloc(l->k, cap * sizeof *more);
        if (more)
            l->k = more, l->cap = cap;
    }
    if (!l || l->n == l->cap) {
        o->dropped++;
        return;
    }
    uint64_t dur = end_ns > start_ns ? end_ns - start_ns : 0;
    l->k[l->n++] = (struct kernel_time){start_ns, dur > UINT32_MAX ? UINT32_MAX : (uint32_t)dur,
                                        (uint32_t)(in_window != 0)};
}

void pt_outside_note_comm(struct pt_outside *o, uint32_t file, uint64_t comm, int32_t nranks)
{
    if (o->n_made < MAX_MADE && file < o->n_files && nranks > 0)
        o->made[o->n_made++] = (struct made){comm, nranks, file};
}

uint16_t pt_outside_op(const char *cls)
{
    const char *role = pt_comm_class_role(cls);
    return role && !strcmp(role, "EP") ? PT_OP_AlltoAll : PT_OP_AllReduce;
}

uint64_t pt_outside_dropped(const struct pt_outside *o) { return o->dropped; }

void pt_outside_free(struct pt_outside *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n_classes; i++) {
        for (size_t f = 0; f < o->n_files; f++)
            free(o->classes[i].files[f].k);
        free(o->classes[i].files);
    }
    free(o);
}

static int by_start(const void *a, const void *b)
{
    const struct kernel_time *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int by_u64(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

static uint64_t end_of(const struct kernel_time *k) { return k->start + k->dur; }

/* A candidate group: files (ascending rank), the NCCL communicator it comes from (0: every file
 * running the class), its score. */
struct candidate {
    uint32_t *files;       /* those running the class */
    int32_t n;
    int32_t *ranks;        /* the global ranks of the members seen, ascending */
    int32_t known;
    int32_t nranks;        /* its size (members unseen: known..nranks-1), at most PT_MAX_RANKS */
    uint64_t follows, spread;
    int role_match;
};

/* The median over sampled instances of (last end − first end) among the candidate's files. */
static uint64_t end_spread(const struct kernel_list *files, const struct candidate *g, uint64_t *scratch)
{
    size_t common = SIZE_MAX;
    for (int32_t i = 0; i < g->n; i++)
        common = files[g->files[i]].n < common ? files[g->files[i]].n : common;
    if (!common || common == SIZE_MAX)
        return UINT64_MAX;
    size_t step = common > SPREAD_SAMPLES ? common / SPREAD_SAMPLES : 1, n = 0;
    for (size_t at = 0; at < common && n < SPREAD_SAMPLES; at += step) {
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int32_t i = 0; i < g->n; i++) {
            uint64_t e = end_of(&files[g->files[i]].k[at]);
            lo = e < lo ? e : lo;
            hi = e > hi ? e : hi;
        }
        scratch[n++] = hi - lo;
    }
    qsort(scratch, n, sizeof *scratch, by_u64);
    return scratch[n / 2];
}

/* Better first: ends closer together (to the microsecond), then a communicator of the class's
 * role, then more ranks, then a NCCL communicator's ranks over the bare set of ranks. */
static int candidate_order(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    uint64_t sx = x->spread / 1000, sy = y->spread / 1000;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    if (x->role_match != y->role_match)
        return y->role_match - x->role_match;
    if (x->n != y->n)
        return y->n - x->n;
    return (y->follows != 0) - (x->follows != 0);
}

/* One group's communicator and its instances. */
static int add_group(struct pt_collectives *c, const char *cls, const struct kernel_list *files,
                     const struct candidate *g, const int32_t *rank)
{
    int32_t *ranks = malloc((size_t)g->nranks * sizeof *ranks), *file_of = malloc((size_t)g->known * sizeof *file_of);
    struct pt_outside_obs *obs = calloc((size_t)g->known, sizeof *obs);
    struct pt_comm_stats *s = NULL;
    if (ranks && file_of && obs) {
        /* A member running none of the class's kernels stays a member, missing (-1), as do
         * the members never seen (known..nranks-1). */
        for (int32_t m = 0; m < g->known; m++) {
            file_of[m] = -1;
            for (int32_t i = 0; i < g->n; i++)
                if (rank[g->files[i]] == g->ranks[m])
                    file_of[m] = (int32_t)g->files[i];
            ranks[m] = file_of[m] >= 0 ? g->ranks[m] : -1;
        }
        for (int32_t m = g->known; m < g->nranks; m++)
            ranks[m] = -1;
        uint64_t id = pt_mix64(pt_text_hash(cls, strlen(cls)), g->follows ? g->follows : (uint64_t)rank[g->files[0]] + 1);
        s = pt_collectives_add_outside(c, id, ranks, g->nranks, cls, g->follows);
    }
    if (s) {
        uint16_t op = pt_outside_op(cls);
        size_t most = 0;
        for (int32_t i = 0; i < g->n; i++)
            most = files[g->files[i]].n > most ? files[g->files[i]].n : most;
        s->end_spread_ns = g->spread;
        s->first = (struct pt_run_key){files[g->files[0]].k[0].start, g->files[0]};
        for (size_t at = 0; at < most; at++) {
            int inside = 0;
            int32_t n = 0;
            for (int32_t m = 0; m < g->known; m++) {
                const struct kernel_list *l = file_of[m] >= 0 ? &files[file_of[m]] : NULL;
                if (!l || at >= l->n)
                    continue;
                obs[n++] = (struct pt_outside_obs){l->k[at].start, end_of(&l->k[at]), m};
                inside |= (int)l->k[at].in_window;
            }
            if (inside)
                pt_comm_add_instance(s, op, obs, n);
        }
    }
    free(ranks), free(file_of), free(obs);
    return s ? 0 : -1;
}

static int by_rank(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* The files of a candidate: those running the class whose rank is a member. */
static void candidate_files(struct candidate *g, const struct kernel_list *files, size_t n_files, const int32_t *rank)
{
    g->n = 0;
    for (size_t f = 0; f < n_files; f++)
        for (int32_t m = 0; files[f].n && m < g->known; m++)
            if (g->ranks[m] == rank[f]) {
                g->files[g->n++] = (uint32_t)f;
                break;
            }
}

/* Candidate members from a NCCL communicator with calls; 0 when it cannot be one. */
static int from_comm(struct candidate *g, const struct pt_comm_stats *s)
{
    if (s->outside_class || s->nranks > PT_MAX_RANKS)
        return 0;
    for (int32_t m = 0; m < s->members_cap; m++)
        if (s->member_rank[m] >= 0)
            g->ranks[g->known++] = s->member_rank[m];
    g->nranks = s->nranks > g->known ? s->nranks : g->known;
    g->follows = s->id;
    return 1;
}

/* Candidate members from the at-th communicator init, when it is that communicator's first and
 * the communicator made no call (else it is a candidate of its own already); its inits give its
 * ranks. 0 when it is none. */
static int from_made(struct candidate *g, const struct pt_outside *o, int at, const struct pt_collectives *c,
                     size_t n_nccl, const int32_t *rank)
{
    const struct made *mk = &o->made[at];
    for (int j = 0; j < at; j++)
        if (o->made[j].comm == mk->comm)
            return 0;
    long called = pt_collectives_find(c, mk->comm);
    if (called >= 0 && (size_t)called < n_nccl)
        return 0;
    if (mk->nranks > PT_MAX_RANKS)
        return 0;
    for (int j = at; j < o->n_made; j++)
        if (o->made[j].comm == mk->comm)
            g->ranks[g->known++] = rank[o->made[j].file];
    g->nranks = mk->nranks > g->known ? mk->nranks : g->known;
    g->follows = mk->comm;
    return 1;
}

/* Candidate members: the ranks of the files running the class that none has taken (taken NULL:
 * all of them), and nothing more. */
static void from_files(struct candidate *g, const struct kernel_list *files, size_t n_files, const int32_t *rank,
                       const uint8_t *taken)
{
    for (size_t f = 0; f < n_files; f++)
        if (files[f].n && !(taken && taken[f]))
            g->ranks[g->known++] = rank[f];
    g->nranks = g->known;
    g->follows = 0;
}

/* A candidate's members in rank order, its files, and how closely their kernels end. */
static void settle(struct candidate *g, const struct kernel_list *files, size_t n_files, const int32_t *rank,
                   uint64_t *scratch)
{
    qsort(g->ranks, (size_t)g->known, sizeof *g->ranks, by_rank);
    candidate_files(g, files, n_files, rank);
    g->spread = end_spread(files, g, scratch);
}

/* Groups one class's files and adds their communicators. Returns how many, -1 out of memory. */
static int match_class(struct pt_outside *o, struct pt_collectives *c, size_t n_nccl, const struct pt_role *roles,
                       int ci, const int32_t *rank)
{
    const char *cls = o->classes[ci].cls, *role = pt_comm_class_role(cls);
    struct kernel_list *files = o->classes[ci].files;
    size_t n_files = o->n_files, with = 0;
    for (size_t f = 0; f < n_files; f++)
        if (files[f].n) {
            qsort(files[f].k, files[f].n, sizeof *files[f].k, by_start);
            with++;
        }
    if (!with)
        return 0;
    /* Candidates: the ranks of each NCCL communicator that calls (those with two files running
     * the class at least), of each only made (the same), and every rank running the class. */
    size_t most = n_nccl + (size_t)o->n_made + 1, room = 0;
    for (size_t i = 0; i < n_nccl; i++) /* the members seen: never more than the run has */
        room += (size_t)pt_collectives_comm(c, i)->members_cap;
    room += (size_t)o->n_made + with;
    struct candidate *cand = calloc(most, sizeof *cand);
    uint32_t *file_pool = malloc(most * with * sizeof *file_pool);
    int32_t *rank_pool = malloc(room * sizeof *rank_pool);
    uint64_t *scratch = malloc(SPREAD_SAMPLES * sizeof *scratch);
    uint8_t *taken = calloc(n_files, 1);
    int added = 0;
    if (!cand || !file_pool || !rank_pool || !scratch || !taken) {
        added = -1;
        goto out;
    }
    size_t n_cand = 0, used = 0;
    for (size_t i = 0; i < most; i++) {
        struct candidate *g = &cand[n_cand];
        *g = (struct candidate){.files = file_pool + n_cand * with, .ranks = rank_pool + used};
        int all = i == most - 1;
        if (i < n_nccl) {
            if (!from_comm(g, pt_collectives_comm(c, i)))
                continue;
            g->role_match = role && !strcmp(roles[i].role, role);
        } else if (!all) {
            if (!from_made(g, o, (int)(i - n_nccl), c, n_nccl, rank))
                continue;
        } else {
            from_files(g, files, n_files, rank, NULL);
        }
        settle(g, files, n_files, rank, scratch);
        if (g->n < 2 && !all)
            continue;
        used += (size_t)g->known;
        n_cand++;
    }
    qsort(cand, n_cand, sizeof *cand, candidate_order);
    for (size_t i = 0; i < n_cand; i++) {
        int free_all = 1;
        for (int32_t j = 0; j < cand[i].n; j++)
            free_all &= !taken[cand[i].files[j]];
        if (!free_all || !cand[i].n)
            continue;
        if (add_group(c, cls, files, &cand[i], rank) != 0) {
            added = -1;
            goto out;
        }
        added++;
        for (int32_t j = 0; j < cand[i].n; j++)
            taken[cand[i].files[j]] = 1;
    }
    /* Files no whole candidate took (others of theirs were taken): a group of their own. The
     * candidates are placed already, so the pools serve it from their start. */
    struct candidate rest = {.files = file_pool, .ranks = rank_pool};
    from_files(&rest, files, n_files, rank, taken);
    if (rest.known) {
        settle(&rest, files, n_files, rank, scratch);
        if (add_group(c, cls, files, &rest, rank) != 0)
            added = -1;
        else
            added++;
    }
out:
    free(cand), free(file_pool), free(rank_pool), free(scratch), free(taken);
    return added;
}

int pt_outside_match(struct pt_outside *o, struct pt_collectives *c, const struct pt_role *roles,
                     const int32_t *rank)
{
    size_t n_nccl = pt_collectives_count(c);
    int added = 0;
    for (int i = 0; i < o->n_classes; i++) {
        int n = match_class(o, c, n_nccl, roles, i, rank);
        if (n < 0)
            return -1;
        added += n;
    }
    return added;
}
