#include "read/trace_context.h"

#include "read/kernel_class.h"

#include <stdlib.h>
#include <string.h>

/* The entry of string id `id`, NULL when there is none. */
static const struct pt_ctx_string *find_string(const struct pt_trace_ctx *c, uint32_t id)
{
    uint64_t at;
    if (id < c->n_dense && c->dense[id].text)
        return &c->dense[id];
    return pt_u64_map_get(&c->far_index, id, &at) ? &c->far[at - 1] : NULL;
}

/* The entry of string id `id`, made when missing; NULL when out of memory. The dense array
 * grows only for ids that come about in order (the writer's: 1, 2, 3, ...): below twice
 * the strings known so far, plus some room. */
static struct pt_ctx_string *make_string(struct pt_trace_ctx *c, uint32_t id)
{
    uint64_t at;
    if (id < c->n_dense)
        return &c->dense[id];
    if (id < 2 * (uint64_t)(c->n_known + c->n_far) + 256) {
        uint32_t n = c->n_dense ? c->n_dense : 64;
        while (n <= id)
            n *= 2;
        struct pt_ctx_string *p = realloc(c->dense, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + c->n_dense, 0, (n - c->n_dense) * sizeof *p);
        c->dense = p, c->n_dense = n;
        return &c->dense[id];
    }
    if (pt_u64_map_get(&c->far_index, id, &at))
        return &c->far[at - 1];
    if ((c->n_far & (c->n_far - 1)) == 0) { /* at 0, 1, 2, 4, ...: double */
        struct pt_ctx_string *p = realloc(c->far, (c->n_far ? 2 * c->n_far : 1) * sizeof *p);
        if (!p)
            return NULL;
        c->far = p;
    }
    if (pt_u64_map_put(&c->far_index, id, c->n_far + 1))
        return NULL;
    c->far[c->n_far] = (struct pt_ctx_string){NULL, NULL, 0};
    return &c->far[c->n_far++];
}

static void learn_string(struct pt_trace_ctx *c, const struct pt_rec_string *s)
{
    struct pt_ctx_string *e = s->id ? make_string(c, s->id) : NULL;
    char *text = e ? malloc(s->text_bytes + 1) : NULL;
    if (!text)
        return;
    memcpy(text, s->text, s->text_bytes);
    text[s->text_bytes] = '\0';
    c->n_known += !e->text;
    free(e->text);
    e->text = text;
    e->comm_class = pt_kernel_comm_class(text);
    e->nccl = e->comm_class && !strcmp(e->comm_class, "nccl");
}

void pt_trace_ctx_learn_record(struct pt_trace_ctx *c, const struct pt_rec_hdr *h)
{
    switch (h->kind) {
    case PT_REC_STRING:
        learn_string(c, (const void *)h);
        break;
    case PT_REC_EXT_CORR: {
        const struct pt_rec_ext_corr *e = (const void *)h;
        if (e->correlation_id)
            pt_u64_map_put(&c->corr_to_call, e->correlation_id, e->nccl_call_id);
        break;
    }
    case PT_REC_MODULE:
        if (!c->symbols)
            c->symbols = pt_symbolizer_new();
        if (c->symbols)
            pt_symbolizer_add_module(c->symbols, (const void *)h);
        break;
    case PT_REC_GRAPH_NODE: {
        const struct pt_rec_graph_node *g = (const void *)h;
        if (g->cloned && g->node_id)
            pt_u64_map_put(&c->clone_to_node, g->node_id, g->original_node_id);
        else if (g->node_id)
            pt_u64_map_put(&c->node_to_call, g->node_id, g->nccl_call_id);
        break;
    }
    }
}

const char *pt_trace_ctx_string(const struct pt_trace_ctx *c, uint32_t id)
{
    const struct pt_ctx_string *e = find_string(c, id);
    return e && e->text ? e->text : "";
}

const char *pt_trace_ctx_comm_class(const struct pt_trace_ctx *c, uint32_t id)
{
    const struct pt_ctx_string *e = find_string(c, id);
    return e ? e->comm_class : NULL;
}

const struct pt_ctx_string *pt_trace_ctx_name(const struct pt_trace_ctx *c, uint32_t id)
{
    return find_string(c, id);
}

uint64_t pt_trace_ctx_kernel_call_joined(const struct pt_trace_ctx *c,
                                         const struct pt_rec_kernel *k)
{
    uint64_t call;
    if (pt_u64_map_get(&c->corr_to_call, k->correlation_id, &call))
        return call;
    uint64_t node = k->graph_node_id;
    /* Instantiation can clone more than once (graph of a graph): follow a few links. */
    for (int hop = 0; node && hop < 8; hop++) {
        if (pt_u64_map_get(&c->node_to_call, node, &call))
            return call;
        if (!pt_u64_map_get(&c->clone_to_node, node, &node))
            break;
    }
    return 0;
}

void pt_trace_ctx_free(struct pt_trace_ctx *c)
{
    for (uint32_t i = 0; i < c->n_dense; i++)
        free(c->dense[i].text);
    for (uint32_t i = 0; i < c->n_far; i++)
        free(c->far[i].text);
    free(c->dense);
    free(c->far);
    pt_u64_map_free(&c->far_index);
    pt_u64_map_free(&c->corr_to_call);
    pt_u64_map_free(&c->node_to_call);
    pt_u64_map_free(&c->clone_to_node);
    pt_symbolizer_free(c->symbols);
    memset(c, 0, sizeof *c);
}
