/* The paged KV cache's block manager: taking and releasing blocks, prefix caching by chained
 * block hashes, eviction of the least recently released cached block, and the hit counters. */
#include <stdint.h>

#include "check.h"
#include "kv_blocks.h"

#define BT 4

/* Takes blocks for tokens[0, n) after `hit` cached ones and names the full ones, as the
 * scheduler does after computing them. */
static uint32_t fill(struct pt_kv_blocks *kv, const int32_t *tokens, uint32_t n, uint32_t *table)
{
    uint64_t h;
    uint32_t hit = pt_kv_match_prefix(kv, tokens, n, table, &h);
    uint32_t blocks = (n + BT - 1) / BT;
    for (uint32_t b = hit; b < blocks; b++)
        CHECK(pt_kv_take(kv, &table[b]) == 0);
    for (uint32_t b = hit; b < n / BT; b++)
        pt_kv_name(kv, table[b], h = pt_kv_chain_hash(h, tokens + b * BT, BT));
    return hit;
}

int main(void)
{
    struct pt_kv_blocks *kv = pt_kv_new(8, BT);
    CHECK(kv && pt_kv_n_blocks(kv) == 8 && pt_kv_block_tokens(kv) == BT);
    CHECK(pt_kv_new(0, 4) == NULL && pt_kv_new(4, 0) == NULL);

    int32_t a[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint32_t ta[3], tb[3], tc[3];
    CHECK(fill(kv, a, 10, ta) == 0);                 /* 3 blocks, 2 named */
    CHECK_EQ_U64(pt_kv_stats(kv).free_blocks, 5);

    /* The same 8 first tokens: both full blocks reused, shared (two references). */
    int32_t b[9] = {1, 2, 3, 4, 5, 6, 7, 8, 42};
    CHECK(fill(kv, b, 9, tb) == 2);
    CHECK(tb[0] == ta[0] && tb[1] == ta[1] && tb[2] != ta[2]);
    CHECK_EQ_U64(pt_kv_stats(kv).free_blocks, 4);

    /* A prompt of exactly two blocks reuses only one: its last token is always computed. */
    uint32_t t2[2];
    uint64_t h;
    CHECK(pt_kv_match_prefix(kv, a, 8, t2, &h) == 1);
    pt_kv_release(kv, t2, 1);
    /* A different first block: nothing, even though the second block's tokens match. */
    int32_t c[9] = {9, 2, 3, 4, 5, 6, 7, 8, 1};
    CHECK(fill(kv, c, 9, tc) == 0);
    CHECK_EQ_U64(pt_kv_stats(kv).free_blocks, 1);

    /* Releasing keeps the contents cached: a third prompt still finds them. */
    pt_kv_release(kv, ta, 3);
    pt_kv_release(kv, tb, 3);
    struct pt_kv_stats st = pt_kv_stats(kv);
    CHECK_EQ_U64(st.free_blocks, 5);
    CHECK_EQ_U64(st.cached_blocks, 2);
    uint32_t td[3];
    CHECK(fill(kv, a, 10, td) == 2 && td[0] == ta[0] && td[1] == ta[1]);
    pt_kv_release(kv, td, 3);

    /* Eviction: taking every free block reuses cached ones, the least recently released
     * last blocks first, and forgets their names. */
    uint32_t all[5];
    for (int i = 0; i < 5; i++)
        CHECK(pt_kv_take(kv, &all[i]) == 0);
    uint32_t none;
    CHECK(pt_kv_take(kv, &none) == -1);
    CHECK_EQ_U64(pt_kv_stats(kv).cached_blocks, 0);
    pt_kv_release(kv, all, 5);
    pt_kv_release(kv, tc, 3);
    CHECK(pt_kv_match_prefix(kv, a, 10, td, &h) == 0);
    CHECK_EQ_U64(pt_kv_stats(kv).free_blocks, 8);

    /* Hit rate counters: full prompt blocks looked up and found. */
    st = pt_kv_stats(kv);
    CHECK(st.lookup_blocks > 0 && st.hit_blocks == 5);

    /* Names stay unique: a block with the same tokens as a cached one keeps no name, and
     * releasing twice does not free a block twice. */
    uint32_t x, y;
    CHECK(pt_kv_take(kv, &x) == 0 && pt_kv_take(kv, &y) == 0);
    uint64_t name = pt_kv_chain_hash(0, a, BT);
    pt_kv_name(kv, x, name);
    pt_kv_name(kv, y, name);
    pt_kv_release(kv, &y, 1);
    pt_kv_release(kv, &y, 1);
    CHECK_EQ_U64(pt_kv_stats(kv).free_blocks, 7);
    CHECK(pt_kv_match_prefix(kv, a, 9, td, &h) == 1 && td[0] == x);
    pt_kv_free(kv);
    puts("kv_blocks: ok");
    return 0;
}
