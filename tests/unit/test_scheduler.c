/* Continuous batching, driven to the end as the engine drives it, with a stand-in model whose
 * next token is a function of the sequence so far: every request gets exactly its tokens,
 * whatever the batching, chunking and preemption; each step keeps its token budget; shared prompt prefixes are served from the cache; a cache too small for everyone at
 * once preempts and still finishes every request with the same tokens. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "loadgen.h"
#include "scheduler.h"

/* The stand-in model: the next token of a sequence, from all of its tokens. */
static int32_t next_token(const struct pt_seq *s)
{
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < s->n_tokens; i++)
        h = (h ^ (uint32_t)s->tokens[i]) * 1099511628211ull;
    return (int32_t)(1 + h % 500);
}

struct outcome {
    uint64_t steps, preemptions, hit_blocks;
    int32_t tokens[64][8]; /* generated tokens per request */
};

static void serve(uint32_t n_blocks, uint32_t max_seqs, uint32_t budget, double shared, struct outcome *o)
{
    struct pt_load_config lc = {.n_requests = 24, .input_len = 37, .output_len = 8,
                                .shared_prefix = shared, .concurrency = 4, .vocab = 500, .seed = 7};
    struct pt_request *req = pt_load_make(&lc);
    CHECK(req != NULL);
    struct pt_kv_blocks *kv = pt_kv_new(n_blocks, 16);
    struct pt_sched_config sc = {.max_seqs = max_seqs, .max_batch_tokens = budget};
    struct pt_sched *s = pt_sched_new(&sc, kv);
    CHECK(kv && s);
    struct pt_seq seqs[24];
    for (uint32_t i = 0; i < 24; i++) {
        CHECK(pt_seq_init(&seqs[i], i, req[i].prompt, req[i].n_prompt, req[i].max_new) == 0);
        CHECK(pt_sched_add(s, &seqs[i]) == 0);
    }
    memset(o, 0, sizeof *o);
    uint32_t finished = 0;
    struct pt_sched_batch b;
    int32_t sampled[64];
    while (pt_sched_step(s, &b)) {
        o->steps++;
        CHECK(b.n_tokens <= budget && b.n_items <= max_seqs);
        CHECK(b.prefill_tokens + b.decode_tokens == b.n_tokens);
        uint32_t k = 0;
        for (uint32_t i = 0; i < b.n_items; i++) {
            const struct pt_sched_item *it = &b.items[i];
            /* Blocks cover what is computed; decodes come before new prompts. */
            CHECK(it->seq->n_blocks * 16 >= it->start + it->n);
            CHECK(it->start == it->seq->n_computed);
            int decode = it->start >= it->seq->n_prompt;
            if (decode)
                CHECK(it->n == 1);
            if (it->sample) {
                CHECK(it->start + it->n == it->seq->n_tokens);
                sampled[k++] = next_token(it->seq);
            }
        }
        CHECK(k == b.n_sample);
        pt_sched_finish_step(s, &b, sampled);
        struct pt_seq *done[24];
        uint32_t n = pt_sched_take_done(s, done, 24);
        for (uint32_t i = 0; i < n; i++) {
            CHECK(done[i]->state == PT_SEQ_DONE);
            CHECK_EQ_U64(done[i]->n_tokens, 37 + 8);
            memcpy(o->tokens[done[i]->id], done[i]->tokens + 37, 8 * sizeof(int32_t));
            finished++;
        }
        CHECK(o->steps < 100000);
    }
    CHECK_EQ_U64(finished, 24);
    CHECK_EQ_U64(pt_sched_running(s) + pt_sched_waiting(s), 0);
    CHECK_EQ_U64(pt_kv_stats(kv).free_blocks, n_blocks); /* every block came back */
    o->preemptions = pt_sched_preemptions(s);
    o->hit_blocks = pt_kv_stats(kv).hit_blocks;
    for (uint32_t i = 0; i < 24; i++)
        pt_seq_free(&seqs[i]);
    pt_sched_free(s);
    pt_kv_free(kv);
    pt_load_free(req, 24);
}

int main(void)
{
    struct outcome plenty, chunked, tight, cached;
    serve(256, 8, 512, 0, &plenty);      /* room for everything */
    serve(256, 8, 20, 0, &chunked);      /* prompts of 37 in chunks of at most 20 */
    serve(7, 8, 20, 0, &tight);          /* 7 blocks, chunks admitted early: preemption */
    serve(256, 8, 512, 0.9, &cached);    /* 33 of 37 prompt tokens shared by all */
    /* The same tokens whatever the schedule. */
    CHECK(memcmp(plenty.tokens, chunked.tokens, sizeof plenty.tokens) == 0);
    CHECK(memcmp(plenty.tokens, tight.tokens, sizeof plenty.tokens) == 0);
    CHECK(chunked.steps > plenty.steps);
    CHECK(tight.preemptions > 0 && plenty.preemptions == 0);
    /* Shared prefixes: two full blocks (32 tokens) of every later prompt come from the cache. */
    CHECK(cached.hit_blocks >= 2 * 16);
    CHECK_EQ_U64(plenty.hit_blocks, 0);

    /* A request longer than the whole cache is refused at once, not left waiting forever. */
    struct pt_kv_blocks *kv = pt_kv_new(2, 16);
    struct pt_sched_config sc = {.max_seqs = 2, .max_batch_tokens = 64};
    struct pt_sched *s = pt_sched_new(&sc, kv);
    int32_t prompt[40] = {1};
    struct pt_seq big;
    CHECK(pt_seq_init(&big, 0, prompt, 40, 1) == 0);
    CHECK(pt_sched_add(s, &big) == -1);
    pt_seq_free(&big);
    CHECK(pt_seq_init(&big, 0, prompt, 0, 1) == -1);
    pt_sched_free(s);
    pt_kv_free(kv);
    puts("scheduler: ok");
    return 0;
}
