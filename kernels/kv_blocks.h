/* The engine's paged KV cache, host side: which fixed-size blocks of the GPU's KV memory each
 * sequence holds (its block table), reference counts, and prefix caching. A full block is
 * named by a hash of all the tokens up to its end (its own and every earlier block's), so a
 * new prompt that starts with the same tokens reuses the blocks already computed. Blocks no
 * sequence holds stay cached, the least recently released reused first.
 * Single-threaded (the scheduler's); no GPU memory is touched here. */
#ifndef PT_KV_BLOCKS_H
#define PT_KV_BLOCKS_H

#include <stdint.h>

struct pt_kv_blocks;

struct pt_kv_stats {
    uint64_t lookup_blocks; /* full prompt blocks looked up in the prefix cache */
    uint64_t hit_blocks;    /* of those, found */
    uint32_t free_blocks;   /* held by no sequence (cached ones included) */
    uint32_t cached_blocks; /* held by no sequence but still named by a hash */
};

/* n_blocks blocks of block_tokens tokens each. NULL when out of memory or a size is 0. */
struct pt_kv_blocks *pt_kv_new(uint32_t n_blocks, uint32_t block_tokens);
void pt_kv_free(struct pt_kv_blocks *kv);
uint32_t pt_kv_block_tokens(const struct pt_kv_blocks *kv);
uint32_t pt_kv_n_blocks(const struct pt_kv_blocks *kv);

/* Hash of a full block: chained from the previous block's hash (0 for the first). */
uint64_t pt_kv_chain_hash(uint64_t prev, const int32_t *tokens, uint32_t n);

/* Prefix caching: the longest run of full blocks of tokens[0, n) already cached, at most
 * (n - 1) / block_tokens blocks (the last token is always computed, for its logits). Each
 * block found gets a reference and goes into table; *hash_out gets the chain hash after the
 * last one. Returns the number of blocks. */
uint32_t pt_kv_match_prefix(struct pt_kv_blocks *kv, const int32_t *tokens, uint32_t n,
                            uint32_t *table, uint64_t *hash_out);

/* A block for new tokens (one reference), the least recently released first. Returns 0 and
 * sets *block, or -1 when every block is held. */
int pt_kv_take(struct pt_kv_blocks *kv, uint32_t *block);
/* Names a block that just became full by its chain hash, so later prompts can reuse it. When
 * another block already has that name, the name stays with it. */
void pt_kv_name(struct pt_kv_blocks *kv, uint32_t block, uint64_t hash);
/* Drops one reference to each of n blocks (a finished or preempted sequence). */
void pt_kv_release(struct pt_kv_blocks *kv, const uint32_t *blocks, uint32_t n);

struct pt_kv_stats pt_kv_stats(const struct pt_kv_blocks *kv);

#endif
