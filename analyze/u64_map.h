/* A growable open-addressing map from nonzero 64-bit keys to 64-bit values (reader side). */
#ifndef PT_U64_MAP_H
#define PT_U64_MAP_H

#include <stddef.h>
#include <stdint.h>

struct pt_u64_map {
    uint64_t *keys, *values;
    size_t cap, used;
};

/* Returns 0, or -1 when out of memory (the map is then unchanged). key must not be 0. */
int pt_u64_map_put(struct pt_u64_map *m, uint64_t key, uint64_t value);
/* Returns 1 and sets *value when found. */
int pt_u64_map_get(const struct pt_u64_map *m, uint64_t key, uint64_t *value);
void pt_u64_map_free(struct pt_u64_map *m);

#endif
