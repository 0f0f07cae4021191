#include "trace_context.h"

#include "kernel_class.h"

#include <stdlib.h>
#include <string.h>

static void learn_string(struct pt_trace_ctx *c, const struct pt_rec_string *s)
{
    if (s->id == 0 || s->id > (1u << 24))
        return;
    if (s->id >= c->n_strings) {
        uint32_t n = s->id + 1 > c->n_strings * 2 ? s->id + 1 : c->n_strings * 2;
        char **p = realloc(c->strings, n * sizeof *p);
        if (!p)
            return;
        memset(p + c->n_strings, 0, (n - c->n_strings) * sizeof *p);
        c->strings = p;
        const char **q = realloc(c->comm_class, n * sizeof *q);
        if (!q)
            return;
        memset(q + c->n_strings, 0, (n - c->n_strings) * sizeof *q);
        c->comm_class = q;
        c->n_strings = n;
    }
    char *text = malloc(s->text_bytes + 1);
    if (!text)
        return;
    memcpy(text, s->text, s->text_bytes);
    text[s->text_bytes] = '\0';
    free(c->strings[s->id]);
    c->strings[s->id] = text;
    c->comm_class[s->id] = pt_kernel_comm_class(text);
}

void pt_trace_ctx_learn(struct pt_trace_ctx *c, const struct pt_rec_hdr *h)
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
    return id < c->n_strings && c->strings[id] ? c->strings[id] : "";
}

const char *pt_trace_ctx_comm_class(const struct pt_trace_ctx *c, uint32_t id)
{
    return id < c->n_strings ? c->comm_class[id] : NULL;
}

uint64_t pt_trace_ctx_kernel_call(const struct pt_trace_ctx *c, const struct pt_rec_kernel *k)
{
    uint64_t call = k->nccl_call_id;
    if (call)
        return call;
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
    for (uint32_t i = 0; i < c->n_strings; i++)
        free(c->strings[i]);
    free(c->strings);
    free(c->comm_class);
    pt_u64_map_free(&c->corr_to_call);
    pt_u64_map_free(&c->node_to_call);
    pt_u64_map_free(&c->clone_to_node);
    pt_symbolizer_free(c->symbols);
    memset(c, 0, sizeof *c);
}
