#include "util/u64_map.h"

#include <stdlib.h>

static size_t slot(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static int grow(struct pt_u64_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys), *values = calloc(cap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = slot(m->keys[i], cap);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return 0;
}

int pt_u64_map_put(struct pt_u64_map *m, uint64_t key, uint64_t value)
{
    if ((m->used + 1) * 2 > m->cap && grow(m) != 0)
        return -1;
    size_t i = slot(key, m->cap);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->used++;
    m->keys[i] = key;
    m->values[i] = value;
    return 0;
}

int pt_u64_map_get(const struct pt_u64_map *m, uint64_t key, uint64_t *value)
{
    if (!m->cap || !key)
        return 0;
    for (size_t i = slot(key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key) {
            *value = m->values[i];
            return 1;
        }
    return 0;
}

void pt_u64_map_free(struct pt_u64_map *m)
{
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->cap = m->used = 0;
}
