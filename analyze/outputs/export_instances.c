#include "outputs/export_instances.h"

#include <stdlib.h>

#define PT_XINST_SLOTS 16384u /* instances in flight at once, far more than a run has */

uint64_t pt_xinst_key(struct pt_xinst *t, uint64_t id, size_t file, uint64_t graph_node)
{
    if (!graph_node)
        return id;
    /* The n-th replay of a captured collective is the same instance on every rank. */
    uint64_t node = pt_mix64(file + 1, graph_node), n = 0;
    pt_u64_map_get(&t->replays, node, &n);
    pt_u64_map_put(&t->replays, node, n + 1);
    return pt_mix64(id, n + 1);
}

static struct pt_xinst_slot *slot_of(const struct pt_xinst *t, uint64_t key)
{
    return &t->slots[pt_mix64(key, 0) % PT_XINST_SLOTS];
}

void pt_xinst_arrive(struct pt_xinst *t, uint64_t key, uint16_t op, uint64_t bytes, int32_t nranks,
                     uint64_t t_arrival)
{
    if (!t->slots && !(t->slots = calloc(PT_XINST_SLOTS, sizeof *t->slots)))
        return;
    struct pt_xinst_slot *s = slot_of(t, key);
    if (s->key != key)
        *s = (struct pt_xinst_slot){.key = key, .bytes = bytes, .nranks = nranks, .op = op};
    s->arrived++;
    s->last_arrival = t_arrival > s->last_arrival ? t_arrival : s->last_arrival;
}

const struct pt_xinst_slot *pt_xinst_complete(const struct pt_xinst *t, uint64_t key)
{
    const struct pt_xinst_slot *s = t->slots ? slot_of(t, key) : NULL;
    return s && s->key == key && s->nranks > 0 && s->arrived == s->nranks ? s : NULL;
}

void pt_xinst_free(struct pt_xinst *t)
{
    free(t->slots);
    pt_u64_map_free(&t->replays);
    t->slots = NULL;
}
