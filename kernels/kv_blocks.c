#include "kv_blocks.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct pt_kv_blocks {
    uint32_t n_blocks, block_tokens;
    uint32_t *refs;
    uint64_t *hash;              /* per block: its name, 0 when unnamed */
    uint32_t *prev, *next;       /* the free list (refs == 0), least recently released first */
    uint32_t head, tail;
    uint64_t *index_keys;        /* open addressing: hash → block */
    uint32_t *index_blocks;
    uint32_t index_cap;          /* a power of two, at least twice n_blocks */
    struct pt_kv_stats stats;
};

uint64_t pt_kv_chain_hash(uint64_t prev, const int32_t *tokens, uint32_t n)
{
    uint64_t h = prev ^ 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < n; i++) {
        h ^= (uint32_t)tokens[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h ? h : 1; /* 0 means unnamed */
}

static void list_remove(struct pt_kv_blocks *kv, uint32_t b)
{
    if (kv->prev[b] != NONE)
        kv->next[kv->prev[b]] = kv->next[b];
    else
        kv->head = kv->next[b];
    if (kv->next[b] != NONE)
        kv->prev[kv->next[b]] = kv->prev[b];
    else
        kv->tail = kv->prev[b];
    kv->prev[b] = kv->next[b] = NONE;
}

static void list_append(struct pt_kv_blocks *kv, uint32_t b)
{
    kv->prev[b] = kv->tail;
    kv->next[b] = NONE;
    if (kv->tail != NONE)
        kv->next[kv->tail] = b;
    else
        kv->head = b;
    kv->tail = b;
}

/* The slot of hash h in the index: where it is, or the empty slot where it would go. */
static uint32_t index_slot(const struct pt_kv_blocks *kv, uint64_t h)
{
    uint32_t i = (uint32_t)(h * 0x9e3779b97f4a7c15ull >> 32) & (kv->index_cap - 1);
    while (kv->index_keys[i] && kv->index_keys[i] != h)
        i = (i + 1) & (kv->index_cap - 1);
    return i;
}

/* Removes hash h from the index (backward-shift deletion keeps the probe chains whole). */
static void index_remove(struct pt_kv_blocks *kv, uint64_t h)
{
    uint32_t i = index_slot(kv, h), mask = kv->index_cap - 1;
    if (!kv->index_keys[i])
        return;
    for (uint32_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (!kv->index_keys[j])
            break;
        uint32_t home = (uint32_t)(kv->index_keys[j] * 0x9e3779b97f4a7c15ull >> 32) & mask;
        /* j's entry may move to i when its home is not within (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            kv->index_keys[i] = kv->index_keys[j];
            kv->index_blocks[i] = kv->index_blocks[j];
            i = j;
        }
    }
    kv->index_keys[i] = 0;
}

struct pt_kv_blocks *pt_kv_new(uint32_t n_blocks, uint32_t block_tokens)
{
    if (!n_blocks || !block_tokens || n_blocks >= (1u << 30))
        return NULL;
    struct pt_kv_blocks *kv = calloc(1, sizeof *kv);
    if (!kv)
        return NULL;
    kv->n_blocks = n_blocks;
    kv->block_tokens = block_tokens;
    kv->index_cap = 4;
    while (kv->index_cap < 2 * n_blocks)
        kv->index_cap *= 2;
    kv->refs = calloc(n_blocks, sizeof *kv->refs);
    kv->hash = calloc(n_blocks, sizeof *kv->hash);
    kv->prev = malloc(n_blocks * sizeof *kv->prev);
    kv->next = malloc(n_blocks * sizeof *kv->next);
    kv->index_keys = calloc(kv->index_cap, sizeof *kv->index_keys);
    kv->index_blocks = calloc(kv->index_cap, sizeof *kv->index_blocks);
    if (!kv->refs || !kv->hash || !kv->prev || !kv->next || !kv->index_keys || !kv->index_blocks) {
        pt_kv_free(kv);
        return NULL;
    }
    kv->head = kv->tail = NONE;
    for (uint32_t b = 0; b < n_blocks; b++)
        list_append(kv, b);
    kv->stats.free_blocks = n_blocks;
    return kv;
}

void pt_kv_free(struct pt_kv_blocks *kv)
{
    if (!kv)
        return;
    free(kv->refs);
    free(kv->hash);
    free(kv->prev);
    free(kv->next);
    free(kv->index_keys);
    free(kv->index_blocks);
    free(kv);
}

uint32_t pt_kv_block_tokens(const struct pt_kv_blocks *kv) { return kv->block_tokens; }
uint32_t pt_kv_n_blocks(const struct pt_kv_blocks *kv) { return kv->n_blocks; }

/* One more reference to block b, taking it off the free list when it was free. */
static void hold(struct pt_kv_blocks *kv, uint32_t b)
{
    if (kv->refs[b]++ == 0) {
        list_remove(kv, b);
        kv->stats.free_blocks--;
        if (kv->hash[b])
            kv->stats.cached_blocks--;
    }
}

uint32_t pt_kv_match_prefix(struct pt_kv_blocks *kv, const int32_t *tokens, uint32_t n,
                            uint32_t *table, uint64_t *hash_out)
{
    uint32_t most = n ? (n - 1) / kv->block_tokens : 0, found = 0;
    uint64_t h = 0;
    kv->stats.lookup_blocks += n / kv->block_tokens;
    while (found < most) {
        uint64_t next = pt_kv_chain_hash(h, tokens + (size_t)found * kv->block_tokens, kv->block_tokens);
        uint32_t i = index_slot(kv, next);
        if (!kv->index_keys[i])
            break;
        uint32_t b = kv->index_blocks[i];
        hold(kv, b);
        table[found++] = b;
        h = next;
    }
    kv->stats.hit_blocks += found;
    *hash_out = h;
    return found;
}

int pt_kv_take(struct pt_kv_blocks *kv, uint32_t *block)
{
    uint32_t b = kv->head;
    if (b == NONE)
        return -1;
    if (kv->hash[b]) { /* the oldest cached content goes */
        index_remove(kv, kv->hash[b]);
        kv->hash[b] = 0;
        kv->stats.cached_blocks--;
    }
    list_remove(kv, b);
    kv->refs[b] = 1;
    kv->stats.free_blocks--;
    *block = b;
    return 0;
}

void pt_kv_name(struct pt_kv_blocks *kv, uint32_t block, uint64_t hash)
{
    if (block >= kv->n_blocks || !hash || kv->hash[block])
        return;
    uint32_t i = index_slot(kv, hash);
    if (kv->index_keys[i])
        return; /* the same tokens are cached in another block already */
    kv->index_keys[i] = hash;
    kv->index_blocks[i] = block;
    kv->hash[block] = hash;
}

void pt_kv_release(struct pt_kv_blocks *kv, const uint32_t *blocks, uint32_t n)
{
    /* Last block first: a prefix's first blocks, the most shared, are the last to be reused. */
    for (uint32_t i = n; i-- > 0;) {
        uint32_t b = blocks[i];
        if (b >= kv->n_blocks || kv->refs[b] == 0)
            continue;
        if (--kv->refs[b] == 0) {
            list_append(kv, b);
            kv->stats.free_blocks++;
            if (kv->hash[b])
                kv->stats.cached_blocks++;
        }
    }
}

struct pt_kv_stats pt_kv_stats(const struct pt_kv_blocks *kv) { return kv->stats; }
