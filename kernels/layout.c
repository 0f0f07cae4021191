#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t pt_layout_world(const struct pt_layout *l) { return l->tp * l->pp * l->dp; }

int pt_layout_parse(const char *s, struct pt_layout *l, char *err, size_t errlen)
{
    *l = (struct pt_layout){1, 1, 1, 1};
    const char *p = s;
    while (*p) {
        const char *eq = strchr(p, '=');
        size_t key = eq ? (size_t)(eq - p) : 0;
        uint32_t *slot = NULL;
        if (key == 2 && !strncmp(p, "tp", 2))
            slot = &l->tp;
        else if (key == 2 && !strncmp(p, "pp", 2))
            slot = &l->pp;
        else if (key == 2 && !strncmp(p, "dp", 2))
            slot = &l->dp;
        else if (key == 2 && !strncmp(p, "ep", 2))
            slot = &l->ep;
        if (!slot) {
            snprintf(err, errlen, "layout '%s': expected tp=N, pp=N, dp=N or ep=N at '%s'", s, p);
            return -1;
        }
        char *end;
        unsigned long v = strtoul(eq + 1, &end, 10);
        if (end == eq + 1 || v < 1 || v > 4096 || (*end && *end != ',')) {
            snprintf(err, errlen, "layout '%s': %.2s takes a whole number from 1 to 4096", s, p);
            return -1;
        }
        *slot = (uint32_t)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int pt_layout_check(const struct pt_layout *l, uint32_t world, const struct pt_model_config *m,
                    char *err, size_t errlen)
{
    if (pt_layout_world(l) != world) {
        snprintf(err, errlen, "layout tp=%u × pp=%u × dp=%u needs %u ranks, not %u", l->tp, l->pp,
                 l->dp, pt_layout_world(l), world);
        return -1;
    }
    if (m->n_heads % l->tp || m->n_kv_heads % l->tp) {
        snprintf(err, errlen, "tp=%u must divide the %u query and %u key/value heads of model %s",
                 l->tp, m->n_heads, m->n_kv_heads, m->name);
        return -1;
    }
    if ((m->d_ff && m->d_ff % l->tp) || (m->expert_d_ff && m->expert_d_ff % l->tp)) {
        snprintf(err, errlen, "tp=%u must divide the MLP width of model %s", l->tp, m->name);
        return -1;
    }
    if (l->pp > m->n_layers) {
        snprintf(err, errlen, "pp=%u stages for %u layers", l->pp, m->n_layers);
        return -1;
    }
    if (l->ep > 1) {
        if (!m->n_experts) {
            snprintf(err, errlen, "ep=%u needs an MoE model (%s has no experts)", l->ep, m->name);
            return -1;
        }
        if (l->tp != 1 || l->ep != l->dp) {
            snprintf(err, errlen, "ep=%u runs attention data-parallel: it takes tp=1 and dp=%u", l->ep, l->ep);
            return -1;
        }
        if (m->n_experts % l->ep) {
            snprintf(err, errlen, "ep=%u must divide the %u experts of model %s", l->ep, m->n_experts, m->name);
            return -1;
        }
    }
    return 0;
}

void pt_layout_coords(const struct pt_layout *l, const struct pt_model_config *m, uint32_t rank,
                      struct pt_coords *c)
{
    memset(c, 0, sizeof *c);
    c->rank = rank;
    c->tp = rank % l->tp;
    c->stage = rank / l->tp % l->pp;
    c->dp = rank / (l->tp * l->pp);
    c->ep = l->ep > 1 ? c->dp : 0;
    /* Layers as even as they go, the first stages taking one more. */
    uint32_t base = m->n_layers / l->pp, extra = m->n_layers % l->pp;
    c->first_layer = c->stage * base + (c->stage < extra ? c->stage : extra);
    c->n_layers = base + (c->stage < extra);
    uint32_t per = m->n_experts / (l->ep ? l->ep : 1);
    c->first_expert = c->ep * per;
    c->n_experts = per;
}
