#include "analyses/call_map.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_SLOTS 256u

void pt_call_map_init(struct pt_call_map *m, size_t max, size_t entry_bytes)
{
    *m = (struct pt_call_map){NULL, 0, max, entry_bytes};
}

static uint64_t id_at(const struct pt_call_map *m, size_t i)
{
    uint64_t id;
    memcpy(&id, m->slots + i * m->entry_bytes, sizeof id);
    return id;
}

/* Doubles the table (the first: FIRST_SLOTS). Entries keep their slot modulo the larger size:
 * two of them cannot meet, they differed modulo the smaller one. */
static int grow(struct pt_call_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : (FIRST_SLOTS < m->max ? FIRST_SLOTS : m->max);
    unsigned char *slots = calloc(cap, m->entry_bytes);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        uint64_t id = id_at(m, i);
        if (id)
            memcpy(slots + (id & (cap - 1)) * m->entry_bytes, m->slots + i * m->entry_bytes, m->entry_bytes);
    }
    free(m->slots);
    m->slots = slots, m->cap = cap;
    return 0;
}

void *pt_call_map_slot(struct pt_call_map *m, uint64_t call_id)
{
    if (!call_id || (!m->slots && grow(m)))
        return NULL;
    for (;;) {
        size_t i = call_id & (m->cap - 1);
        uint64_t old = id_at(m, i);
        /* Replaced as the full-size table would: empty, the same call, or the same slot there
         * (or no memory to grow: the newest call wins, as always). */
        if (!old || old == call_id || ((old ^ call_id) & (m->max - 1)) == 0 || m->cap >= m->max ||
            grow(m))
            return m->slots + i * m->entry_bytes;
    }
}

const void *pt_call_map_get(const struct pt_call_map *m, uint64_t call_id)
{
    if (!call_id || !m->slots || id_at(m, call_id & (m->cap - 1)) != call_id)
        return NULL;
    return m->slots + (call_id & (m->cap - 1)) * m->entry_bytes;
}

void pt_call_map_free(struct pt_call_map *m)
{
    free(m->slots);
    m->slots = NULL, m->cap = 0;
}
