#include "read/clock_align.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partrace/format.h>

#include "format/nccl_ops.h"

#include "read/trace_context.h"
#include "read/trace_reader.h"
#include "util/u64_map.h"

#define SAMPLES_PER_HOST 4096 /* collectives per host kept for the estimate */
#define CALLS 65536u

/* One file's view: the end of each collective (by a key of comm, op and seq), its kernel's end
 * when the kernel is tied to the call, else the call's exit. */
struct ends {
    struct pt_u64_map end_by_key;
};

static uint64_t key_of(uint64_t comm, uint16_t op, uint64_t seq)
{
    uint64_t k = comm * 0x9e3779b97f4a7c15ull ^ (seq << 8) ^ op;
    return k ? k : 1;
}

static void read_ends(const char *path, struct ends *e)
{
    struct pt_reader *r;
    char err[256];
    if (pt_reader_open(path, &r, err, sizeof err) != 0)
        return;
    struct pt_trace_ctx ctx = {0};
    struct { uint64_t call, key; } *calls = calloc(CALLS, sizeof *calls);
    const struct pt_rec_hdr *h;
    size_t kept = 0;
    while (calls && kept < SAMPLES_PER_HOST && pt_reader_next(r, &h) == 1) {
        pt_trace_ctx_learn(&ctx, h);
        if (h->kind == PT_REC_NCCL_CALL) {
            const struct pt_rec_nccl_call *c = (const void *)h;
            if (!c->comm_id || !pt_op_is_collective(c->op))
                continue;
            uint64_t k = key_of(c->comm_id, c->op, c->seq);
            calls[c->call_id % CALLS].call = c->call_id;
            calls[c->call_id % CALLS].key = k;
            uint64_t old;
            if (!pt_u64_map_get(&e->end_by_key, k, &old)) {
                pt_u64_map_put(&e->end_by_key, k, c->t_exit_ns);
                kept++;
            }
        } else if (h->kind == PT_REC_KERNEL) {
            const struct pt_rec_kernel *kn = (const void *)h;
            uint64_t call = pt_trace_ctx_kernel_call(&ctx, kn);
            if (call && calls[call % CALLS].call == call && !kn->graph_node_id)
                pt_u64_map_put(&e->end_by_key, calls[call % CALLS].key, kn->end_ns);
        }
    }
    free(calls);
    pt_trace_ctx_free(&ctx);
    pt_reader_close(r);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median of (ref end − other end) over the collectives both saw, and the residual. */
static void estimate(const struct ends *ref, const struct ends *other, struct pt_clock_host *h)
{
    int64_t *d = malloc((other->end_by_key.used + 1) * sizeof *d);
    size_t n = 0;
    for (size_t i = 0; d && i < other->end_by_key.cap; i++) {
        uint64_t k = other->end_by_key.keys[i], mine;
        if (k && pt_u64_map_get(&ref->end_by_key, k, &mine))
            d[n++] = (int64_t)mine - (int64_t)other->end_by_key.values[i];
    }
    h->samples = n;
    if (!n) {
        free(d);
        return;
    }
    qsort(d, n, sizeof *d, cmp_i64);
    h->offset_ns = d[n / 2];
    for (size_t i = 0; i < n; i++)
        d[i] = llabs(d[i] - h->offset_ns);
    qsort(d, n, sizeof *d, cmp_i64);
    h->residual_ns = (uint64_t)d[n / 2];
    free(d);
}

/* The host named in a file's header; "" when the file cannot be read (its ends are not used). */
static void read_host(const char *path, char *host, size_t host_len)
{
    struct pt_reader *r;
    char err[256];
    host[0] = '\0';
    if (pt_reader_open(path, &r, err, sizeof err) != 0)
        return;
    snprintf(host, host_len, "%s", pt_reader_header(r)->host);
    pt_reader_close(r);
}

static int add_host(struct pt_clock_align *a, const char *host)
{
    if (a->n_hosts == a->hosts_cap) {
        int cap = a->hosts_cap ? 2 * a->hosts_cap : 8;
        struct pt_clock_host *more = realloc(a->hosts, (size_t)cap * sizeof *more);
        if (!more)
            return -1;
        a->hosts = more;
        a->hosts_cap = cap;
    }
    struct pt_clock_host *x = &a->hosts[a->n_hosts++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", host);
    return 0;
}

int pt_clock_align_run(char **paths, size_t n, struct pt_clock_align *a)
{
    memset(a, 0, sizeof *a);
    a->host_of_file = malloc((n ? n : 1) * sizeof *a->host_of_file);
    if (!a->host_of_file)
        return -1;
    a->n_files = n;
    for (size_t i = 0; i < n; i++) {
        char host[64];
        read_host(paths[i], host, sizeof host);
        int h = 0;
        /* Files come sorted by name, which starts with the host: most are the last host's. */
        if (a->n_hosts && !strcmp(a->hosts[a->n_hosts - 1].name, host))
            h = a->n_hosts - 1;
        while (h < a->n_hosts && strcmp(a->hosts[h].name, host) != 0)
            h++;
        if (h == a->n_hosts && add_host(a, host) != 0)
            return -1;
        a->host_of_file[i] = h;
    }
    if (a->n_hosts < 2) /* one clock: nothing to align, the files are not read twice */
        return 0;
    struct ends *per_host = calloc((size_t)a->n_hosts, sizeof *per_host);
    if (!per_host)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int h = a->host_of_file[i];
        struct ends e = {{0}};
        read_ends(paths[i], &e);
        /* Files of one host share the clock: pool their ends. */
        for (size_t k = 0; h >= 0 && k < e.end_by_key.cap; k++)
            if (e.end_by_key.keys[k])
                pt_u64_map_put(&per_host[h].end_by_key, e.end_by_key.keys[k], e.end_by_key.values[k]);
        pt_u64_map_free(&e.end_by_key);
    }
    for (int h = 1; h < a->n_hosts; h++)
        estimate(&per_host[0], &per_host[h], &a->hosts[h]);
    for (int h = 0; h < a->n_hosts; h++)
        pt_u64_map_free(&per_host[h].end_by_key);
    free(per_host);
    return 0;
}

void pt_clock_align_free(struct pt_clock_align *a)
{
    free(a->host_of_file);
    free(a->hosts);
    memset(a, 0, sizeof *a);
}

