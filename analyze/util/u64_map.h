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

/* Two 64-bit values mixed into a key for these maps (never 0). */
static inline uint64_t pt_mix64(uint64_t a, uint64_t b)
{
    uint64_t h = (a ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
    h ^= b + 0x94d049bb133111ebull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 31)) * 0xd6e8feb96a8a2b35ull;
    return (h ^ (h >> 29)) | 1;
}

/* A key for these maps from text (FNV-1a; never 0). */
static inline uint64_t pt_text_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ? h : 1;
}

#endif
